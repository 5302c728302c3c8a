#pragma once
// An exact LP in at most three columns (docs/model.md §7.4): max c·y subject to the
// rows a·y <= h and 0 <= y <= up, with `up` the box of the rows whose coefficients on
// these columns are all >= 0 (the first box `polytope_box` derives, computed here in the
// case's own integers rather than GMP's, on the fast path). A dual simplex over the
// vertices of the polytope in double precision proposes the d constraints tight at the
// optimum; the vertex they define and its multipliers are then computed exactly (Cramer's
// rule in the solver's integers) and checked: every constraint holds at the vertex and
// every multiplier is >= 0, so the vertex is optimal and the floor of its value is
// exact. An empty polytope is proved the same way (a Farkas combination of the tight
// constraints and the violated one). When no proof is found (rounding, a degenerate
// cycle, an overflow of 128 bits) the answer is kUnknown and the caller solves the exact
// rational LP (BoxLp), which reaches the same value: the floating-point LP only proposes.
#include "solve/int128.hpp"
#include "solve/problem.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

namespace lorasplit::detail {

inline double approx(const Integer& x) { return x.get_d(); }
inline double approx(Int128 x) { return static_cast<double>(x.get()); }

template <class I>
struct TinyLp {
  enum class Status { kOptimal, kEmpty, kUnknown };
  Status status{Status::kUnknown};
  I floor_value{0};  ///< floor(max c·y), when kOptimal
};

namespace tiny_lp {

/// One constraint g·y <= b over the d columns: row i (i < m), an upper bound (m + j) or
/// a lower bound -y_j <= 0 (m + d + j).
template <class I>
struct Constraints {
  std::vector<std::array<I, 3>> g;
  std::vector<I> b;
};

/// Solves the d x d system M^T x = r (or M x = r) in double by Gaussian elimination with
/// partial pivoting; false when M is singular in double.
inline bool solve_dense(std::array<std::array<double, 3>, 3> m, std::array<double, 3> r, std::size_t d,
                        bool transpose, std::array<double, 3>& x) {
  if (transpose) {
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = i + 1; j < d; ++j) std::swap(m[i][j], m[j][i]);
    }
  }
  for (std::size_t col = 0; col < d; ++col) {
    std::size_t piv = col;
    for (std::size_t i = col + 1; i < d; ++i) {
      if (std::fabs(m[i][col]) > std::fabs(m[piv][col])) piv = i;
    }
    if (m[piv][col] == 0.0) return false;
    std::swap(m[piv], m[col]);
    std::swap(r[piv], r[col]);
    for (std::size_t i = col + 1; i < d; ++i) {
      const double f = m[i][col] / m[col][col];
      for (std::size_t j = col; j < d; ++j) m[i][j] -= f * m[col][j];
      r[i] -= f * r[col];
    }
  }
  for (std::size_t i = d; i-- > 0;) {
    double s = r[i];
    for (std::size_t j = i + 1; j < d; ++j) s -= m[i][j] * x[j];
    x[i] = s / m[i][i];
  }
  return true;
}

/// The exact determinant and adjugate of the d x d integer matrix whose rows are g[basis].
template <class I>
void adjugate(const Constraints<I>& k, const std::array<std::size_t, 3>& basis, std::size_t d, I& det,
              std::array<std::array<I, 3>, 3>& adj) {
  const auto e = [&](std::size_t i, std::size_t j) -> const I& { return k.g[basis[i]][j]; };
  if (d == 1) {
    det = e(0, 0);
    adj[0][0] = I(1);
  } else if (d == 2) {
    det = e(0, 0) * e(1, 1) - e(0, 1) * e(1, 0);
    adj[0][0] = e(1, 1);
    adj[0][1] = -e(0, 1);
    adj[1][0] = -e(1, 0);
    adj[1][1] = e(0, 0);
  } else {
    // adj[j][i] = cofactor C_ij of M.
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) {
        const std::size_t r0 = i == 0 ? 1 : 0, r1 = i == 2 ? 1 : 2;
        const std::size_t c0 = j == 0 ? 1 : 0, c1 = j == 2 ? 1 : 2;
        I minor = e(r0, c0) * e(r1, c1) - e(r0, c1) * e(r1, c0);
        adj[j][i] = (i + j) % 2 == 0 ? minor : I(-minor);
      }
    }
    det = e(0, 0) * adj[0][0] + e(0, 1) * adj[1][0] + e(0, 2) * adj[2][0];
  }
}

}  // namespace tiny_lp

/// max c·y over {rows of pb on `cols` (not removed), 0 <= y <= up}, d = cols.size() <= 3,
/// `up` the box of the rows with no negative coefficient on `cols` (y_j <= floor(h / a_j));
/// kEmpty when such a row has h < 0, kUnknown when a column has no such bound. See the
/// file comment.
template <class I>
TinyLp<I> tiny_lp_max(const BasicIntProblem<I>& pb, const std::vector<std::size_t>& cols, const std::array<I, 3>& c) {
  using tiny_lp::Constraints;
  TinyLp<I> out;
  const std::size_t d = cols.size();
  if (d == 0 || d > 3) return out;
  thread_local Constraints<I> k;
  k.g.clear();
  k.b.clear();
  std::array<I, 3> up{I(0), I(0), I(0)};
  std::array<bool, 3> bounded{false, false, false};
  for (const auto& row : pb.rows) {
    if (row.removed) continue;
    std::array<I, 3> g{I(0), I(0), I(0)};
    bool nonneg = true;
    for (std::size_t j = 0; j < d; ++j) {
      g[j] = row.a[cols[j]];
      nonneg = nonneg && g[j] >= 0;
    }
    if (nonneg) {
      if (row.h_int < 0) {  // a·y >= 0 > h for every y >= 0
        out.status = TinyLp<I>::Status::kEmpty;
        return out;
      }
      for (std::size_t j = 0; j < d; ++j) {
        if (g[j] <= 0) continue;
        const I q = floor_div(row.h_int, g[j]);
        if (!bounded[j] || q < up[j]) up[j] = q;
        bounded[j] = true;
      }
    }
    k.g.push_back(g);
    k.b.push_back(row.h_int);
  }
  for (std::size_t j = 0; j < d; ++j) {
    if (!bounded[j]) return out;  // an open column: the exact LP decides
  }
  const std::size_t m = k.g.size();
  for (std::size_t j = 0; j < d; ++j) {
    std::array<I, 3> g{I(0), I(0), I(0)};
    g[j] = I(1);
    k.g.push_back(g);
    k.b.push_back(up[j]);
  }
  for (std::size_t j = 0; j < d; ++j) {
    std::array<I, 3> g{I(0), I(0), I(0)};
    g[j] = I(-1);
    k.g.push_back(g);
    k.b.push_back(I(0));
  }
  const std::size_t total = k.g.size();
  thread_local std::vector<std::array<double, 3>> gd;
  thread_local std::vector<double> bd;
  gd.assign(total, {0.0, 0.0, 0.0});
  bd.assign(total, 0.0);
  for (std::size_t i = 0; i < total; ++i) {
    for (std::size_t j = 0; j < d; ++j) gd[i][j] = approx(k.g[i][j]);
    bd[i] = approx(k.b[i]);
  }
  std::array<double, 3> cd{0.0, 0.0, 0.0};
  for (std::size_t j = 0; j < d; ++j) cd[j] = approx(c[j]);
  // The start: each column at the bound its objective coefficient pulls it to (dual
  // feasible: the multipliers are |c_j|).
  std::array<std::size_t, 3> basis{0, 0, 0};
  for (std::size_t j = 0; j < d; ++j) basis[j] = c[j] > 0 ? m + j : m + d + j;
  std::array<double, 3> y{0.0, 0.0, 0.0}, w{0.0, 0.0, 0.0}, v{0.0, 0.0, 0.0};
  bool proposed_empty = false;
  std::size_t violated = 0;
  constexpr int kMaxIterations = 256, kBlandAfter = 24;
  int it = 0;
  for (; it < kMaxIterations; ++it) {
    const bool bland = it >= kBlandAfter;  // the smallest indices from then on: no cycle
    std::array<std::array<double, 3>, 3> mb{};
    std::array<double, 3> rb{0.0, 0.0, 0.0};
    for (std::size_t i = 0; i < d; ++i) {
      mb[i] = gd[basis[i]];
      rb[i] = bd[basis[i]];
    }
    if (!tiny_lp::solve_dense(mb, rb, d, false, y)) return out;
    // The most violated constraint, relative to its terms' magnitude.
    double worst = 0.0;
    bool any = false;
    for (std::size_t i = 0; i < total; ++i) {
      if (i == basis[0] || (d > 1 && i == basis[1]) || (d > 2 && i == basis[2])) continue;  // tight
      double lhs = 0.0, mag = std::fabs(bd[i]);
      for (std::size_t j = 0; j < d; ++j) {
        lhs += gd[i][j] * y[j];
        mag += std::fabs(gd[i][j]) * (std::fabs(y[j]) + 1.0);  // y is in tokens (blocks)
      }
      const double excess = (lhs - bd[i]) / (mag > 0.0 ? mag : 1.0);
      if (excess <= 1e-12) continue;
      if (!any || (bland ? i < violated : excess > worst)) {
        worst = excess;
        violated = i;
        any = true;
      }
    }
    if (!any) break;
    // Express the violated constraint in the tight ones (M^T v = g_l) and the objective
    // (M^T w = c); the ratio test keeps every multiplier >= 0.
    if (!tiny_lp::solve_dense(mb, gd[violated], d, true, v)) return out;
    if (!tiny_lp::solve_dense(mb, cd, d, true, w)) return out;
    std::size_t leave = d;
    double best = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      if (v[i] <= 1e-12 * (std::fabs(v[0]) + std::fabs(v[1]) + std::fabs(v[2]))) continue;
      const double ratio = std::max(w[i], 0.0) / v[i];
      if (leave == d || ratio < best || (bland && ratio == best && basis[i] < basis[leave])) {
        leave = i;
        best = ratio;
      }
    }
    if (leave == d) {
      proposed_empty = true;
      break;
    }
    basis[leave] = violated;
  }
  if (it == kMaxIterations) return out;
  try {
    I det;
    std::array<std::array<I, 3>, 3> adj{};
    tiny_lp::adjugate(k, basis, d, det, adj);
    if (det == 0) return out;
    if (det < 0) {
      det = -det;
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t j = 0; j < d; ++j) adj[i][j] = -adj[i][j];
      }
    }
    // M^-1 = adj / det, so x solves M^T x = r as adj^T r / det.
    const auto transposed = [&](const std::array<I, 3>& r) {
      std::array<I, 3> x{I(0), I(0), I(0)};
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t j = 0; j < d; ++j) x[i] += adj[j][i] * r[j];
      }
      return x;
    };
    if (proposed_empty) {
      // g_l = sum_i v_i g_(basis i) with every v_i <= 0: on the polytope g_l·y >= sum v_i b_i,
      // so sum v_i b_i > b_l leaves no point.
      const std::array<I, 3> vn = transposed(k.g[violated]);
      I rhs = 0;
      for (std::size_t i = 0; i < d; ++i) {
        if (vn[i] > 0) return out;
        rhs += vn[i] * k.b[basis[i]];
      }
      if (rhs > k.b[violated] * det) out.status = TinyLp<I>::Status::kEmpty;
      return out;
    }
    std::array<I, 3> yn{I(0), I(0), I(0)};  // the vertex times det
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < d; ++j) yn[i] += adj[i][j] * k.b[basis[j]];
    }
    for (std::size_t i = 0; i < total; ++i) {
      I lhs = 0;
      for (std::size_t j = 0; j < d; ++j) {
        if (k.g[i][j] != 0) lhs += k.g[i][j] * yn[j];
      }
      if (lhs > k.b[i] * det) return out;
    }
    const std::array<I, 3> wn = transposed(c);
    for (std::size_t i = 0; i < d; ++i) {
      if (wn[i] < 0) return out;
    }
    I value = 0;
    for (std::size_t j = 0; j < d; ++j) value += c[j] * yn[j];
    out.floor_value = floor_div(value, det);
    out.status = TinyLp<I>::Status::kOptimal;
  } catch (const Overflow&) {
    out.status = TinyLp<I>::Status::kUnknown;
  }
  return out;
}

}  // namespace lorasplit::detail
