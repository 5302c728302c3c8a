#include "solve/dense_lp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lorasplit::detail {
namespace {

// A basic variable this far outside its bound (relative to the bound's size) is infeasible.
constexpr double kPrimalTolerance = 1e-9;
// Reduced costs this close to 0 count as 0 (Harris's ratio test may leave them this far
// on the wrong side).
constexpr double kDualTolerance = 1e-9;
// The smallest pivot row entry a column enters on.
constexpr double kPivotTolerance = 1e-9;
// B^-1 is rebuilt from A and the basis after this many updates (rounding drifts).
constexpr long kInvertEvery = 400;

}  // namespace

DenseLp::DenseLp(std::size_t rows, std::size_t cols)
    : m_(rows),
      n_(cols),
      w_(rows + cols),
      a_(cols),
      h_(rows, 0.0),
      lower_(rows, -std::numeric_limits<double>::infinity()),
      c_(cols, 0.0),
      lo_(rows + cols, 0.0),
      up_(rows + cols, 0.0),
      binv_(rows * rows, 0.0),
      beta_(rows, 0.0),
      d_(rows + cols, 0.0),
      alpha_(rows + cols, 0.0),
      col_(rows, 0.0),
      work_(rows, 0.0),
      basis_(rows),
      pos_(rows + cols, -1),
      at_up_(rows + cols, 0) {
  reset_basis();
}

void DenseLp::reset_basis() {
  std::fill(pos_.begin(), pos_.end(), -1);
  std::fill(at_up_.begin(), at_up_.end(), 0);
  for (std::size_t i = 0; i < m_; ++i) {
    basis_[i] = n_ + i;
    pos_[n_ + i] = static_cast<long>(i);
  }
  stale_ = true;
}

void DenseLp::column(std::size_t k) {
  if (k >= n_) {
    const std::size_t i0 = k - n_;
    for (std::size_t i = 0; i < m_; ++i) col_[i] = binv_[i * m_ + i0];
    return;
  }
  std::fill(col_.begin(), col_.end(), 0.0);
  for (const auto& [k0, v] : a_[k]) {
    for (std::size_t i = 0; i < m_; ++i) col_[i] += binv_[i * m_ + k0] * v;
  }
}

void DenseLp::update_inverse(std::size_t r, std::size_t q) {
  double* const row = &binv_[r * m_];
  const double inv = 1.0 / col_[r];
  // Over row r's nonzeros only: B^-1 of these block-structured LPs is mostly zeros.
  nz_.clear();
  for (std::size_t k = 0; k < m_; ++k) {
    if (row[k] == 0.0) continue;
    row[k] *= inv;
    nz_.push_back(k);
  }
  for (std::size_t i = 0; i < m_; ++i) {
    const double f = col_[i];
    if (i == r || f == 0.0) continue;
    double* const other = &binv_[i * m_];
    for (const std::size_t k : nz_) other[k] -= f * row[k];
  }
  const std::size_t leaving = basis_[r];
  if (leaving != q) {
    pos_[leaving] = -1;
    basis_[r] = q;
    pos_[q] = static_cast<long>(r);
  }
  ++since_invert_;
}

void DenseLp::set_column(std::size_t j, const std::vector<std::pair<std::size_t, double>>& entries) {
  a_[j].clear();
  for (const auto& e : entries) {
    if (e.second != 0.0) a_[j].push_back(e);
  }
  // A basic column changed: B^-1 is updated as if the new column entered in its place;
  // rebuilt when that pivot is too small.
  if (stale_ || pos_[j] < 0) return;
  const auto r = static_cast<std::size_t>(pos_[j]);
  column(j);
  double big = 0;
  for (const double v : col_) big = std::max(big, std::abs(v));
  if (!(std::abs(col_[r]) > 1e-7 * big)) {
    stale_ = true;
    return;
  }
  update_inverse(r, j);
}

void DenseLp::set_row(std::size_t i, double lower, double h) {
  lower_[i] = lower;
  h_[i] = h;
}

void DenseLp::set_bounds(std::size_t j, double lo, double up) {
  lo_[j] = lo;
  up_[j] = up;
}

void DenseLp::set_cost(std::size_t j, double c) { c_[j] = c; }

// B^-1 rebuilt for the current basis: from the slack basis, each basic column enters at
// the row (of a slack that is not to stay basic) where its entry is largest. A column that
// finds no such row (the basis went singular) leaves the basis.
void DenseLp::reinvert() {
  std::vector<std::size_t> wanted;
  std::vector<char> keep_slack(m_, 0);
  for (std::size_t i = 0; i < m_; ++i) {
    if (basis_[i] < n_) {
      wanted.push_back(basis_[i]);
    } else {
      keep_slack[basis_[i] - n_] = 1;
    }
  }
  std::fill(binv_.begin(), binv_.end(), 0.0);
  std::fill(pos_.begin(), pos_.end(), -1);
  for (std::size_t i = 0; i < m_; ++i) {
    binv_[i * m_ + i] = 1.0;
    basis_[i] = n_ + i;
    pos_[n_ + i] = static_cast<long>(i);
  }
  for (const std::size_t v : wanted) {
    column(v);
    std::size_t best = m_;
    double big = 1e-11;
    for (std::size_t i = 0; i < m_; ++i) {
      const std::size_t b = basis_[i];
      if (b < n_ || keep_slack[b - n_] != 0) continue;
      if (std::abs(col_[i]) > big) {
        big = std::abs(col_[i]);
        best = i;
      }
    }
    if (best < m_) update_inverse(best, v);
  }
  stale_ = false;
  since_invert_ = 0;
}

void DenseLp::refresh_slack_bounds() {
  std::vector<double>& low = work_;  // per row, the least a_i·x over the box
  std::fill(low.begin(), low.end(), 0.0);
  for (std::size_t j = 0; j < n_; ++j) {
    for (const auto& [i, v] : a_[j]) low[i] += std::min(v * lo_[j], v * up_[j]);
  }
  for (std::size_t i = 0; i < m_; ++i) {
    // Beyond the largest slack the box allows (so that no optimal basis holds a slack at
    // it: its row's multiplier would be of the wrong sign), or the row's range.
    const double most = h_[i] - low[i];
    double up = 2 * std::max(most, 0.0) + 1;
    if (std::isfinite(lower_[i])) up = std::max(0.0, std::min(up, h_[i] - lower_[i]));
    up_[n_ + i] = up;  // (its lower bound is 0 from the start)
  }
}

// Reduced costs d = c - c_B B^-1 [A I], and each nonbasic variable at the bound its reduced
// cost pulls towards (dual feasibility; every variable is boxed).
void DenseLp::refresh_costs() {
  std::vector<double>& pi = work_;
  std::fill(pi.begin(), pi.end(), 0.0);
  for (std::size_t i = 0; i < m_; ++i) {
    const std::size_t b = basis_[i];
    const double cb = b < n_ ? c_[b] : 0.0;
    if (cb == 0.0) continue;
    for (std::size_t k = 0; k < m_; ++k) pi[k] += cb * binv_[i * m_ + k];
  }
  for (std::size_t j = 0; j < n_; ++j) {
    double v = c_[j];
    for (const auto& [i, a] : a_[j]) v -= pi[i] * a;
    d_[j] = v;
  }
  for (std::size_t i = 0; i < m_; ++i) d_[n_ + i] = -pi[i];
  for (std::size_t k = 0; k < w_; ++k) {
    if (pos_[k] >= 0) {
      d_[k] = 0.0;
      continue;
    }
    if (d_[k] > kDualTolerance) at_up_[k] = 0;
    if (d_[k] < -kDualTolerance) at_up_[k] = 1;
  }
}

// The basic variables' values: B^-1 (h - N x_N).
void DenseLp::refresh_values() {
  std::vector<double>& r = work_;
  for (std::size_t i = 0; i < m_; ++i) r[i] = h_[i] - (pos_[n_ + i] < 0 ? nonbasic_value(n_ + i) : 0.0);
  for (std::size_t j = 0; j < n_; ++j) {
    if (pos_[j] >= 0) continue;
    const double x = nonbasic_value(j);
    if (x == 0.0) continue;
    for (const auto& [i, a] : a_[j]) r[i] -= a * x;
  }
  for (std::size_t i = 0; i < m_; ++i) {
    double v = 0;
    const double* const binv = &binv_[i * m_];
    for (std::size_t k = 0; k < m_; ++k) v += binv[k] * r[k];
    beta_[i] = v;
  }
}

DenseLp::Status DenseLp::solve(long iteration_limit) {
  const Status st = solve_once(iteration_limit);
  if (st != Status::kFailed) return st;
  reset_basis();
  return solve_once(iteration_limit);
}

DenseLp::Status DenseLp::solve_once(long iteration_limit) {
  if (stale_ || since_invert_ >= kInvertEvery) reinvert();
  refresh_slack_bounds();
  refresh_costs();
  refresh_values();
  const long guard = 50 * static_cast<long>(w_) + 1000;
  for (long it = 0;; ++it) {
    // The leaving row: the basic variable farthest outside its bounds.
    std::size_t r = m_;
    double worst = 0;
    bool below = false;
    for (std::size_t i = 0; i < m_; ++i) {
      const std::size_t v = basis_[i];
      const double x = beta_[i];
      const double l = lo_[v], u = up_[v];
      if (!std::isfinite(x)) return Status::kFailed;  // (solve starts again from the slack basis)
      if (x < l - kPrimalTolerance * (1 + std::abs(l))) {
        if (l - x > worst) {
          worst = l - x;
          r = i;
          below = true;
        }
      } else if (x > u + kPrimalTolerance * (1 + std::abs(u))) {
        if (x - u > worst) {
          worst = x - u;
          r = i;
          below = false;
        }
      }
    }
    if (r == m_) return Status::kOptimal;
    if (iteration_limit >= 0 && it >= iteration_limit) return Status::kIterationLimit;
    if (it >= guard) return Status::kFailed;
    // The pivot row: row r of B^-1 [A I] over the nonbasic variables, and the columns that
    // may enter: raising the leaving variable (below its lower bound) needs alpha < 0 at
    // the lower bound, alpha > 0 at the upper; lowering it, the opposite.
    const double* const rho = &binv_[r * m_];
    cand_.clear();
    const auto consider = [&](std::size_t k, double alpha) {
      alpha_[k] = alpha;
      if (!(std::abs(alpha) >= kPivotTolerance) || !(up_[k] > lo_[k])) return;
      const bool up_side = at_up_[k] != 0;
      if (below ? (up_side ? alpha > 0 : alpha < 0) : (up_side ? alpha < 0 : alpha > 0)) cand_.push_back(k);
    };
    for (std::size_t j = 0; j < n_; ++j) {
      if (pos_[j] >= 0) {
        alpha_[j] = 0.0;
        continue;
      }
      double v = 0;
      for (const auto& [i, a] : a_[j]) v += rho[i] * a;
      consider(j, v);
    }
    for (std::size_t i = 0; i < m_; ++i) {
      if (pos_[n_ + i] >= 0) {
        alpha_[n_ + i] = 0.0;
      } else {
        consider(n_ + i, rho[i]);
      }
    }
    if (cand_.empty()) {
      ray_.assign(rho, rho + m_);
      return Status::kInfeasible;
    }
    // The entering column (Harris's two passes): the largest step the reduced costs allow
    // within their tolerance, then the largest pivot among the columns within it. A reduced
    // cost counts with the sign it should have at its bound (>= 0 at the lower, <= 0 at the
    // upper), so one left slightly on the wrong side leaves less room, not more.
    const auto slack_of = [&](std::size_t k) { return at_up_[k] != 0 ? -d_[k] : d_[k]; };
    double bound = std::numeric_limits<double>::infinity();
    for (const std::size_t k : cand_) bound = std::min(bound, (slack_of(k) + kDualTolerance) / std::abs(alpha_[k]));
    std::size_t q = w_;
    double best = 0;
    for (const std::size_t k : cand_) {
      const double a = std::abs(alpha_[k]);
      if (slack_of(k) / a > bound || a <= best) continue;
      best = a;
      q = k;
    }
    if (q == w_) return Status::kFailed;
    column(q);
    const double pivot = col_[r];
    if (!(std::abs(pivot) >= kPivotTolerance) || std::abs(pivot - alpha_[q]) > 1e-6 * (1 + std::abs(pivot))) {
      // The row and the column disagree: B^-1 has drifted. Rebuilt, and the step retried.
      if (since_invert_ == 0) return Status::kFailed;
      reinvert();
      refresh_costs();
      refresh_values();
      continue;
    }
    // Primal step: the leaving variable to its violated bound.
    const std::size_t leaving = basis_[r];
    const double target = below ? lo_[leaving] : up_[leaving];
    const double step = (beta_[r] - target) / pivot;
    const double entering_value = nonbasic_value(q) + step;
    for (std::size_t i = 0; i < m_; ++i) beta_[i] -= step * col_[i];
    // Dual step (none when the entering reduced cost is on the wrong side of 0).
    const double theta = slack_of(q) > 0 ? d_[q] / alpha_[q] : 0.0;
    for (std::size_t k = 0; k < w_; ++k) {
      if (alpha_[k] != 0.0) d_[k] -= theta * alpha_[k];
    }
    d_[q] = 0.0;
    d_[leaving] = -theta;  // its entry in the pivot row is 1
    update_inverse(r, q);
    beta_[r] = entering_value;
    at_up_[leaving] = below ? 0 : 1;
    ++pivots_;
    if (since_invert_ >= kInvertEvery) {
      reinvert();
      refresh_costs();
      refresh_values();
    }
  }
}

double DenseLp::value() const {
  double v = 0;
  for (std::size_t j = 0; j < n_; ++j) {
    if (c_[j] != 0.0) v += c_[j] * x(j);
  }
  return v;
}

double DenseLp::x(std::size_t j) const {
  return pos_[j] >= 0 ? beta_[static_cast<std::size_t>(pos_[j])] : nonbasic_value(j);
}

}  // namespace lorasplit::detail
