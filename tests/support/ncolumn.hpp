#pragma once
// Random models of 4 to 12 columns for the N-column tests: groups of up to three columns
// (the paths of one adapter) with a demand row each (sum of the group <= T_g), rows of
// mixed signs like the sync rows (device work against GPU time), and a positive batch
// time. Coefficients are whole numbers, so the exhaustive reference below evaluates rows
// in machine integers, independently of the solver's integer form.
#include <lorasplit/model.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace lorasplit::testing {

struct NColumnInstance {
  Model model;
  std::vector<std::vector<std::size_t>> groups;  ///< columns of each group
  std::vector<std::int64_t> demand;              ///< T_g in tokens
  std::vector<std::int64_t> box;                 ///< b_j <= box_j (the group's demand)
};

inline NColumnInstance random_ncolumn_model(std::mt19937_64& rng, int trial, std::size_t max_columns = 12) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  NColumnInstance out;
  const std::size_t n = 4 + static_cast<std::size_t>(trial) % (max_columns - 3);
  const std::int64_t k = trial % 5 == 4 ? 2 : 1;
  Model& m = out.model;
  m.name = "ncolumn";
  m.block_tokens = k;
  for (std::size_t j = 0; j < n; ++j) m.columns.push_back({"c" + std::to_string(j + 1), "synthetic column"});
  m.support.assign(n, -1);
  // Groups of three (the last may be shorter); with many columns, smaller demands.
  for (std::size_t j = 0; j < n; j += 3) {
    std::vector<std::size_t> g;
    for (std::size_t i = j; i < std::min(n, j + 3); ++i) g.push_back(i);
    out.groups.push_back(g);
    out.demand.push_back(k * pick(0, n > 8 ? 2 : 3));
  }
  const bool symmetric = trial % 4 == 1 && out.groups.size() >= 2 && out.groups[1].size() == 3;
  if (symmetric) out.demand[1] = out.demand[0];
  out.box.assign(n, 0);
  const auto zero = [n] { return Affine(n); };
  for (std::size_t g = 0; g < out.groups.size(); ++g) {
    Affine lhs = zero();
    for (const auto j : out.groups[g]) {
      lhs.coef[j] = 1;
      out.box[j] = out.demand[g];
    }
    Affine rhs = zero();
    rhs.constant = out.demand[g];
    m.constraints.push_back({"demand_" + std::to_string(g + 1), RowKind::kLimit, "sum of the group <= T", "",
                             "tokens", lhs, rhs});
  }
  // Coefficients per column, copied from group 0 into group 1 when symmetric.
  const auto coef = [&](std::vector<long>& v, long lo, long hi) {
    v.resize(n);
    for (auto& x : v) x = pick(lo, hi);
    if (symmetric) {
      for (std::size_t i = 0; i < 3; ++i) v[out.groups[1][i]] = v[out.groups[0][i]];
    }
  };
  const int extra = static_cast<int>(pick(1, 3));
  for (int r = 0; r < extra; ++r) {
    std::vector<long> a;
    coef(a, -3, 4);
    Affine lhs = zero();
    for (std::size_t j = 0; j < n; ++j) lhs.coef[j] = a[j];
    lhs.constant = pick(-1, 3);  // a latency-like constant on the device side
    Affine rhs = zero();
    rhs.constant = pick(0, 6);
    m.constraints.push_back({"row_" + std::to_string(r + 1), RowKind::kSync, "random row", "", "s", lhs, rhs});
  }
  m.tokens = zero();
  for (std::size_t j = 0; j < n; ++j) m.tokens.coef[j] = 1;
  std::vector<long> q;
  coef(q, 1, 4);
  m.batch_time = zero();
  for (std::size_t j = 0; j < n; ++j) m.batch_time.coef[j] = q[j];
  m.batch_time.constant = pick(0, 1);
  m.stages = {{"s1", m.batch_time, zero()}};
  return out;
}

/// Continuous optimum by vertex enumeration of the original model (every n-subset of the
/// rows and b >= 0, Gaussian elimination), for small n.
inline std::optional<std::vector<Rational>> solve_linear(std::vector<std::vector<Rational>> m,
                                                         std::vector<Rational> rhs) {
  const std::size_t n = rhs.size();
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t piv = col;
    while (piv < n && m[piv][col] == 0) ++piv;
    if (piv == n) return std::nullopt;
    std::swap(m[piv], m[col]);
    std::swap(rhs[piv], rhs[col]);
    for (std::size_t r = 0; r < n; ++r) {
      if (r == col || m[r][col] == 0) continue;
      const Rational f = m[r][col] / m[col][col];
      for (std::size_t c = col; c < n; ++c) m[r][c] -= f * m[col][c];
      rhs[r] -= f * rhs[col];
    }
  }
  std::vector<Rational> z(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = rhs[i] / m[i][i];
  return z;
}

inline std::optional<Rational> lp_reference_n(const Model& model) {
  const std::size_t n = model.size();
  std::vector<std::pair<std::vector<Rational>, Rational>> planes;
  for (const auto& c : model.constraints) {
    const Affine g = c.lhs - c.rhs;
    planes.emplace_back(g.coef, -g.constant);
  }
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<Rational> e(n, Rational(0));
    e[j] = -1;
    planes.emplace_back(e, Rational(0));
  }
  std::optional<Rational> best;
  std::vector<std::size_t> pick(n);
  const auto visit = [&](const auto& self, std::size_t start, std::size_t depth) -> void {
    if (depth == n) {
      std::vector<std::vector<Rational>> m;
      std::vector<Rational> rhs;
      for (const auto i : pick) {
        m.push_back(planes[i].first);
        rhs.push_back(planes[i].second);
      }
      const auto x = solve_linear(m, rhs);
      if (!x || !is_feasible(model, *x)) return;
      const Rational t = model.batch_time.eval(*x);
      if (t <= 0) return;
      const Rational thr = model.tokens.eval(*x) / t;
      if (!best || thr > *best) best = thr;
      return;
    }
    for (std::size_t i = start; i < planes.size(); ++i) {
      pick[depth] = i;
      self(self, i + 1, depth + 1);
    }
  };
  visit(visit, 0, 0);
  return best;
}

}  // namespace lorasplit::testing
