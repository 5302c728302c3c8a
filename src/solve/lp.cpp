#include "solve/lp.hpp"

#include "solve/bnb.hpp"

#include <vector>

namespace lorasplit::detail {
namespace {

// Solves the n x n system m * z = rhs exactly; false when singular.
bool solve_exact(std::vector<std::vector<Rational>> m, std::vector<Rational> rhs, std::vector<Rational>& z) {
  const std::size_t n = rhs.size();
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t piv = col;
    while (piv < n && m[piv][col] == 0) ++piv;
    if (piv == n) return false;
    std::swap(m[piv], m[col]);
    std::swap(rhs[piv], rhs[col]);
    for (std::size_t r = 0; r < n; ++r) {
      if (r == col || m[r][col] == 0) continue;
      const Rational f = m[r][col] / m[col][col];
      for (std::size_t c = col; c < n; ++c) m[r][c] -= f * m[col][c];
      rhs[r] -= f * rhs[col];
    }
  }
  z.resize(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = rhs[i] / m[i][i];
  return true;
}

}  // namespace

namespace {

// More than three free columns: Dinkelbach over exact LPs (BoxLp), from the maximiser of
// the tokens. Each LP's optimum is a vertex of the polytope (the box holds it), the ratio
// rises strictly until max (p - λq)·y + (p0 - λ q0) = 0, and there are finitely many
// vertices, so it ends at the relaxation's optimum.
std::optional<LpOptimum> relaxation_by_lp(const IntProblem& pb, const std::vector<std::size_t>& cols) {
  const std::size_t n = cols.size();
  std::vector<std::vector<Integer>> a;
  std::vector<Integer> h;
  for (const auto& row : pb.rows) {
    if (row.removed) continue;
    std::vector<Integer> r;
    for (const auto j : cols) r.push_back(row.a[j] * row.h_lp.den);  // a·y <= num/den, times den > 0
    a.push_back(std::move(r));
    h.push_back(row.h_lp.num);
  }
  const PolytopeBox box = polytope_box(a, h, n, false);
  if (box.empty || box.unbounded) return std::nullopt;
  std::vector<Rational> lo(n, Rational(0)), up(n);
  for (std::size_t j = 0; j < n; ++j) up[j] = box.upper[j];
  BoxLp lp(a, h, lo, up);
  Rational lambda = 0;
  std::optional<std::vector<Rational>> at;
  for (int guard = 0; guard < 100000; ++guard) {
    // max (p - λ q)·y over the LP; the objective scaled to integers by den(λ).
    const Integer ln = lambda.get_num(), ld = lambda.get_den();
    std::vector<Integer> c(n);
    for (std::size_t i = 0; i < n; ++i) c[i] = ld * pb.p[cols[i]] - ln * pb.q[cols[i]];
    lp.set_objective(c);
    if (lp.solve() != BoxLp::Status::kOptimal) return std::nullopt;
    const Rational v = lp.value() + Rational(ld * pb.p0 - ln * pb.q0);
    if (at && v <= 0) break;  // no point beats λ
    std::vector<Rational> y(n);
    Rational num = pb.p0, den = pb.q0;
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = lp.x(i);
      num += pb.p[cols[i]] * y[i];
      den += pb.q[cols[i]] * y[i];
    }
    if (den <= 0 || num <= 0) return std::nullopt;  // nothing served in positive time
    lambda = num / den;
    at = std::move(y);
  }
  if (!at) return std::nullopt;
  std::vector<Rational> full(pb.cols(), Rational(0));
  for (std::size_t i = 0; i < n; ++i) full[cols[i]] = (*at)[i];
  return LpOptimum{Rational(lambda * pb.scale_d / pb.scale_n), std::move(full)};
}

}  // namespace

std::optional<LpOptimum> relaxation_optimum(const IntProblem& pb) {
  std::vector<std::size_t> cols;
  for (std::size_t j = 0; j < pb.cols(); ++j) {
    if (!pb.fixed_zero[j]) cols.push_back(j);
  }
  const std::size_t n = cols.size();
  if (n == 0) return std::nullopt;
  if (n > 3) return relaxation_by_lp(pb, cols);
  // Hyperplanes: active rows, then z_j = 0 for each free column.
  struct Plane {
    std::vector<Rational> a;
    Rational h;
  };
  std::vector<Plane> planes;
  for (const auto& row : pb.rows) {
    if (row.removed) continue;
    Plane p;
    for (const auto j : cols) p.a.emplace_back(row.a[j]);
    p.h = lp_rhs(row);
    planes.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < n; ++i) {
    Plane p;
    p.a.assign(n, 0);
    p.a[i] = -1;
    p.h = 0;
    planes.push_back(std::move(p));
  }
  std::optional<Rational> best;
  std::vector<Rational> best_y(pb.cols());
  std::vector<std::size_t> pick(n);
  // Enumerate n-subsets of planes.
  const auto visit = [&](const auto& self, std::size_t start, std::size_t depth) -> void {
    if (depth == n) {
      std::vector<std::vector<Rational>> m;
      std::vector<Rational> rhs;
      for (const auto idx : pick) {
        m.push_back(planes[idx].a);
        rhs.push_back(planes[idx].h);
      }
      std::vector<Rational> z;
      if (!solve_exact(m, rhs, z)) return;
      for (std::size_t i = 0; i < planes.size(); ++i) {
        Rational lhs = 0;
        for (std::size_t k = 0; k < n; ++k) lhs += planes[i].a[k] * z[k];
        if (lhs > planes[i].h) return;
      }
      Rational num = pb.p0, den = pb.q0;
      for (std::size_t k = 0; k < n; ++k) {
        num += pb.p[cols[k]] * z[k];
        den += pb.q[cols[k]] * z[k];
      }
      if (den <= 0) return;
      const Rational ratio = num / den;
      if (!best || ratio > *best) {
        best = ratio;
        best_y.assign(pb.cols(), Rational(0));
        for (std::size_t k = 0; k < n; ++k) best_y[cols[k]] = z[k];
      }
      return;
    }
    for (std::size_t i = start; i < planes.size(); ++i) {
      pick[depth] = i;
      self(self, i + 1, depth + 1);
    }
  };
  visit(visit, 0, 0);
  if (!best) return std::nullopt;
  return LpOptimum{Rational(*best * pb.scale_d / pb.scale_n), best_y};
}

}  // namespace lorasplit::detail
