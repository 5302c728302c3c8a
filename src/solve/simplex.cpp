#include "solve/simplex.hpp"

#include <utility>

namespace lorasplit::detail {

BoxLp::BoxLp(const std::vector<std::vector<Integer>>& a, const std::vector<Integer>& h, std::vector<Rational> lo,
             std::vector<Rational> up)
    : n_(lo.size()), m_(h.size()), lo_(std::move(lo)), up_(std::move(up)) {
  for (auto& x : lo_) x.canonicalize();
  for (auto& x : up_) x.canonicalize();
  a_.resize(m_);
  h_.resize(m_);
  for (std::size_t i = 0; i < m_; ++i) {
    a_[i].resize(n_);
    for (std::size_t j = 0; j < n_; ++j) a_[i][j] = a[i][j];
    h_[i] = h[i];
  }
  set_objective(std::vector<Integer>(n_, 0));
}

void BoxLp::set_objective(const std::vector<Integer>& c) {
  // Every vector keeps its storage from the call before (the constructor's): values are
  // assigned in place, so a second call allocates nothing.
  const std::size_t w = n_ + m_;
  c_.resize(n_);
  for (std::size_t j = 0; j < n_; ++j) c_[j] = c[j];
  t_.resize(m_);
  basis_.resize(m_);
  row_of_.assign(w, -1);
  at_upper_.assign(w, 0);
  d_.resize(w);
  for (std::size_t k = 0; k < w; ++k) d_[k] = 0;
  for (std::size_t j = 0; j < n_; ++j) {
    d_[j] = c_[j];
    at_upper_[j] = c_[j] > 0 ? 1 : 0;  // dual feasible: the bound the cost pulls towards
  }
  val_.resize(m_);
  Rational term;
  for (std::size_t i = 0; i < m_; ++i) {
    std::vector<Rational>& row = t_[i];
    row.resize(w);
    for (std::size_t k = 0; k < w; ++k) row[k] = 0;
    for (std::size_t j = 0; j < n_; ++j) row[j] = a_[i][j];
    row[n_ + i] = 1;
    basis_[i] = n_ + i;
    row_of_[n_ + i] = static_cast<int>(i);
    Rational& v = val_[i];
    v = h_[i];
    for (std::size_t j = 0; j < n_; ++j) {
      if (a_[i][j] == 0) continue;
      mpq_mul(term.get_mpq_t(), a_[i][j].get_mpq_t(), nonbasic_value(j).get_mpq_t());
      mpq_sub(v.get_mpq_t(), v.get_mpq_t(), term.get_mpq_t());
    }
  }
}

const Rational& BoxLp::nonbasic_value(std::size_t v) const {
  if (v >= n_) return zero_;  // a slack leaves the basis at its bound 0
  return at_upper_[v] != 0 ? up_[v] : lo_[v];
}

void BoxLp::set_bounds(std::size_t j, const Rational& lo, const Rational& up) {
  if (row_of_[j] >= 0) {
    lo_[j] = lo;
    up_[j] = up;
    return;
  }
  const Rational old = nonbasic_value(j);
  lo_[j] = lo;
  up_[j] = up;
  const Rational delta = nonbasic_value(j) - old;
  if (delta == 0) return;
  for (std::size_t i = 0; i < m_; ++i) {
    if (t_[i][j] != 0) val_[i] -= t_[i][j] * delta;
  }
}

void BoxLp::pivot(std::size_t r, std::size_t q, const Rational& target) {
  ++pivots_;
  const std::size_t w = n_ + m_;
  const std::size_t leaving = basis_[r];
  // x_q moves by theta so that the leaving variable reaches `target`.
  const Rational theta = (val_[r] - target) / t_[r][q];
  const Rational entering_value = nonbasic_value(q) + theta;
  for (std::size_t i = 0; i < m_; ++i) {
    if (i != r && t_[i][q] != 0) val_[i] -= t_[i][q] * theta;
  }
  val_[r] = entering_value;
  // Row r divided by the pivot, then eliminated from every other row and from d.
  const Rational p = t_[r][q];
  std::vector<Rational>& row = t_[r];
  for (std::size_t k = 0; k < w; ++k) {
    if (row[k] != 0) mpq_div(row[k].get_mpq_t(), row[k].get_mpq_t(), p.get_mpq_t());
  }
  Rational f, tmp;
  const auto eliminate = [&](std::vector<Rational>& other) {
    if (other[q] == 0) return;
    f = other[q];
    for (std::size_t k = 0; k < w; ++k) {
      if (row[k] == 0) continue;
      mpq_mul(tmp.get_mpq_t(), f.get_mpq_t(), row[k].get_mpq_t());
      mpq_sub(other[k].get_mpq_t(), other[k].get_mpq_t(), tmp.get_mpq_t());
    }
  };
  for (std::size_t i = 0; i < m_; ++i) {
    if (i != r) eliminate(t_[i]);
  }
  eliminate(d_);
  basis_[r] = q;
  row_of_[q] = static_cast<int>(r);
  row_of_[leaving] = -1;
  if (leaving < n_) at_upper_[leaving] = target == up_[leaving] && target != lo_[leaving] ? 1 : 0;
}

void BoxLp::restore_dual_feasibility() {
  for (std::size_t j = 0; j < n_; ++j) {
    if (row_of_[j] >= 0) continue;
    const char want = d_[j] > 0 ? 1 : (d_[j] < 0 ? 0 : at_upper_[j]);
    if (want == at_upper_[j]) continue;
    const Rational old = nonbasic_value(j);
    at_upper_[j] = want;
    const Rational delta = nonbasic_value(j) - old;
    if (delta == 0) continue;
    for (std::size_t i = 0; i < m_; ++i) {
      if (t_[i][j] != 0) val_[i] -= t_[i][j] * delta;
    }
  }
}

BoxLp::Status BoxLp::solve() {
  const std::size_t w = n_ + m_;
  for (;;) {
    // Leaving: the primal-infeasible basic variable of smallest index (Bland).
    std::size_t r = m_;
    bool below = false;
    for (std::size_t i = 0; i < m_; ++i) {
      const std::size_t v = basis_[i];
      const bool lo_bad = v < n_ ? val_[i] < lo_[v] : val_[i] < 0;
      const bool up_bad = v < n_ && val_[i] > up_[v];
      if ((lo_bad || up_bad) && (r == m_ || v < basis_[r])) {
        r = i;
        below = lo_bad;
      }
    }
    if (r == m_) return Status::kOptimal;
    const std::size_t leaving = basis_[r];
    const Rational target = leaving < n_ ? (below ? lo_[leaving] : up_[leaving]) : Rational(0);
    // Entering: the nonbasic variable that can move val_r towards its bound with the
    // smallest |d_k / t_rk| (keeps dual feasibility); ties by smallest index (Bland).
    std::size_t q = w;
    Rational& best = best_;
    Rational& ratio = ratio_;
    for (std::size_t k = 0; k < w; ++k) {
      if (row_of_[k] >= 0 || t_[r][k] == 0) continue;
      if (k < n_ && lo_[k] == up_[k]) continue;  // a fixed variable cannot move
      const bool up_side = k < n_ && at_upper_[k] != 0;  // it can only decrease
      // Increasing x_k changes val_r by -t_rk.
      const bool helps = below ? (up_side ? t_[r][k] > 0 : t_[r][k] < 0) : (up_side ? t_[r][k] < 0 : t_[r][k] > 0);
      if (!helps) continue;
      mpq_div(ratio.get_mpq_t(), d_[k].get_mpq_t(), t_[r][k].get_mpq_t());
      mpq_abs(ratio.get_mpq_t(), ratio.get_mpq_t());
      if (q == w || ratio < best) {
        q = k;
        mpq_swap(best.get_mpq_t(), ratio.get_mpq_t());
      }
    }
    if (q == w) return Status::kInfeasible;  // the row cannot reach its bound: no point in the box
    pivot(r, q, target);
  }
}

Rational BoxLp::x(std::size_t j) const {
  if (row_of_[j] >= 0) return val_[static_cast<std::size_t>(row_of_[j])];
  return nonbasic_value(j);
}

Rational BoxLp::value() const {
  Rational z = 0;
  for (std::size_t j = 0; j < n_; ++j) {
    if (c_[j] != 0) z += c_[j] * x(j);
  }
  return z;
}

}  // namespace lorasplit::detail
