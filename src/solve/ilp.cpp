// Exact integer programming in dimension <= 3 by lattice-hyperplane branching
// (see ilp.hpp and docs/model.md §3.9). Every bound and every slice range is computed
// from exact vertices; floating point only picks the branching direction.
#include "solve/ilp.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace lorasplit::detail {
namespace {

struct Sys {
  std::size_t n{0};
  std::vector<RowN> rows;
};

// A vertex num/den (den > 0).
struct Vtx {
  VecN num;
  Integer den;
};

struct Ctx {
  long nodes{0};
  int greedy_restarts{8};
};

Integer dot(const VecN& a, const VecN& b, std::size_t n) {
  Integer s = 0;
  for (std::size_t j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

// Divides each row by the gcd of its coefficients, rounding h down (valid for integer t);
// drops rows without coefficients and merges rows with equal coefficients. False when a
// row reads 0 <= h with h < 0.
bool normalize(Sys& s) {
  std::vector<RowN> out;
  out.reserve(s.rows.size());
  for (auto& r : s.rows) {
    Integer g = 0;
    for (std::size_t j = 0; j < s.n; ++j) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), r.a[j].get_mpz_t());
    if (g == 0) {
      if (r.h < 0) return false;
      continue;
    }
    if (g != 1) {
      for (std::size_t j = 0; j < s.n; ++j) mpz_divexact(r.a[j].get_mpz_t(), r.a[j].get_mpz_t(), g.get_mpz_t());
      r.h = floor_div(r.h, g);
    }
    bool merged = false;
    for (auto& o : out) {
      bool same = true;
      for (std::size_t j = 0; j < s.n && same; ++j) same = o.a[j] == r.a[j];
      if (same) {
        if (r.h < o.h) o.h = r.h;
        merged = true;
        break;
      }
    }
    if (!merged) out.push_back(std::move(r));
  }
  s.rows = std::move(out);
  return true;
}

// Solves the n x n system of the rows `pick` (as equalities) by Cramer's rule.
bool cramer(const Sys& s, const std::array<std::size_t, 3>& pick, Vtx& v) {
  const auto& m0 = s.rows[pick[0]];
  if (s.n == 2) {
    const auto& m1 = s.rows[pick[1]];
    Integer det = m0.a[0] * m1.a[1] - m0.a[1] * m1.a[0];
    if (det == 0) return false;
    v.num[0] = m1.a[1] * m0.h - m0.a[1] * m1.h;
    v.num[1] = m0.a[0] * m1.h - m1.a[0] * m0.h;
    v.num[2] = 0;
    if (det < 0) {
      det = -det;
      v.num[0] = -v.num[0];
      v.num[1] = -v.num[1];
    }
    v.den = std::move(det);
    return true;
  }
  const auto& m1 = s.rows[pick[1]];
  const auto& m2 = s.rows[pick[2]];
  const auto cross = [](const VecN& x, const VecN& y) {
    return VecN{x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]};
  };
  const VecN c12 = cross(m1.a, m2.a);
  Integer det = dot(m0.a, c12, 3);
  if (det == 0) return false;
  const VecN c20 = cross(m2.a, m0.a);
  const VecN c01 = cross(m0.a, m1.a);
  for (std::size_t j = 0; j < 3; ++j) v.num[j] = m0.h * c12[j] + m1.h * c20[j] + m2.h * c01[j];
  if (det < 0) {
    det = -det;
    for (auto& x : v.num) x = -x;
  }
  v.den = std::move(det);
  return true;
}

// Every vertex of the polytope (exact; duplicates from degenerate vertices are harmless).
std::vector<Vtx> vertices(const Sys& s) {
  std::vector<Vtx> out;
  const std::size_t m = s.rows.size();
  std::array<std::size_t, 3> pick{0, 0, 0};
  Vtx v;
  const auto check = [&]() {
    if (!cramer(s, pick, v)) return;
    for (std::size_t i = 0; i < m; ++i) {
      if (dot(s.rows[i].a, v.num, s.n) > s.rows[i].h * v.den) return;
    }
    out.push_back(v);
  };
  if (s.n == 2) {
    for (pick[0] = 0; pick[0] < m; ++pick[0]) {
      for (pick[1] = pick[0] + 1; pick[1] < m; ++pick[1]) check();
    }
  } else {
    for (pick[0] = 0; pick[0] < m; ++pick[0]) {
      for (pick[1] = pick[0] + 1; pick[1] < m; ++pick[1]) {
        for (pick[2] = pick[1] + 1; pick[2] < m; ++pick[2]) check();
      }
    }
  }
  return out;
}

// True when {t : a·t <= 0 for every row} = {0}, i.e. the polytope is bounded.
bool bounded(const Sys& s) {
  const std::size_t n = s.n;
  const std::size_t m = s.rows.size();
  if (n == 1) {
    bool up = false, down = false;
    for (const auto& r : s.rows) {
      up = up || r.a[0] > 0;
      down = down || r.a[0] < 0;
    }
    return up && down;
  }
  // Rank n is needed (otherwise a line lies in every recession cone).
  bool full_rank = false;
  {
    Sys probe = s;
    for (auto& r : probe.rows) r.h = 0;
    std::array<std::size_t, 3> pick{0, 0, 0};
    Vtx v;
    if (n == 2) {
      for (pick[0] = 0; pick[0] < m && !full_rank; ++pick[0]) {
        for (pick[1] = pick[0] + 1; pick[1] < m && !full_rank; ++pick[1]) full_rank = cramer(probe, pick, v);
      }
    } else {
      for (pick[0] = 0; pick[0] < m && !full_rank; ++pick[0]) {
        for (pick[1] = pick[0] + 1; pick[1] < m && !full_rank; ++pick[1]) {
          for (pick[2] = pick[1] + 1; pick[2] < m && !full_rank; ++pick[2]) full_rank = cramer(probe, pick, v);
        }
      }
    }
  }
  if (!full_rank) return false;
  // A pointed non-trivial cone has an extreme ray where n-1 independent rows are tight.
  const auto ray_escapes = [&](const VecN& d) {
    for (const int sign : {1, -1}) {
      bool inside = true;
      for (const auto& r : s.rows) {
        if (sign * dot(r.a, d, n) > 0) {
          inside = false;
          break;
        }
      }
      if (inside) return true;
    }
    return false;
  };
  if (n == 2) {
    for (const auto& r : s.rows) {
      if (ray_escapes(VecN{-r.a[1], r.a[0], 0})) return false;
    }
    return true;
  }
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = i + 1; j < m; ++j) {
      const auto& x = s.rows[i].a;
      const auto& y = s.rows[j].a;
      const VecN d{x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]};
      if (d[0] == 0 && d[1] == 0 && d[2] == 0) continue;
      if (ray_escapes(d)) return false;
    }
  }
  return true;
}

// The vertices over one common denominator D (every vertex v = N / D with integer N), so
// that a lattice width times D is an integer: max w·N - min w·N. Widths of one set are
// compared as these integers (D > 0 is the same for all), which orders them exactly as
// the rational widths.
struct ScaledVertices {
  std::vector<VecN> n;
  Integer d{1};
  ScaledVertices(const std::vector<Vtx>& vs, std::size_t dim) {
    for (const auto& v : vs) mpz_lcm(d.get_mpz_t(), d.get_mpz_t(), v.den.get_mpz_t());
    n.reserve(vs.size());
    for (const auto& v : vs) {
      const Integer f = d / v.den;
      VecN x{0, 0, 0};
      for (std::size_t j = 0; j < dim; ++j) x[j] = v.num[j] * f;
      n.push_back(std::move(x));
    }
  }
};

// Exact lattice width of the vertex set in direction w, times the common denominator.
Integer width_of(const ScaledVertices& vs, const VecN& w, std::size_t n) {
  Integer lo, hi, x;
  bool first = true;
  for (const auto& v : vs.n) {
    x = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (w[j] != 0) mpz_addmul(x.get_mpz_t(), w[j].get_mpz_t(), v[j].get_mpz_t());
    }
    if (first || x < lo) lo = x;
    if (first || x > hi) hi = x;
    first = false;
  }
  return hi - lo;
}

VecN combine(const VecN& a, const VecN& b, const Integer& mu) {  // a - mu b
  return VecN{a[0] - mu * b[0], a[1] - mu * b[1], a[2] - mu * b[2]};
}

// The integer mu minimising f(mu) = width(a - mu b), the smallest one on ties. With A_i =
// a·N_i and B_i = b·N_i over the scaled vertices, f(mu) D = max_i (A_i - mu B_i) -
// min_i (A_i - mu B_i): a convex piecewise-linear function whose breakpoints are the mu
// where two vertices swap, (A_i - A_j) / (B_i - B_j). Its leftmost real minimiser r is a
// breakpoint (the one of least f, the first on ties); f decreases strictly left of r, so
// the smallest integer minimiser is floor(r) or floor(r) + 1, whichever f is smaller at.
Integer best_multiplier(const ScaledVertices& vs, const VecN& a, const VecN& b, std::size_t n) {
  const std::size_t v = vs.n.size();
  std::vector<Integer> A(v), B(v);
  for (std::size_t i = 0; i < v; ++i) {
    A[i] = dot(a, vs.n[i], n);
    B[i] = dot(b, vs.n[i], n);
  }
  // f at mu = num/den (den > 0), times den: max - min of A_i den - num B_i.
  const auto f_at = [&](const Integer& num, const Integer& den) {
    Integer lo, hi, x;
    for (std::size_t i = 0; i < v; ++i) {
      x = A[i] * den - num * B[i];
      if (i == 0 || x < lo) lo = x;
      if (i == 0 || x > hi) hi = x;
    }
    return Integer(hi - lo);
  };
  std::optional<Rational> r;
  Rational best;
  for (std::size_t i = 0; i < v; ++i) {
    for (std::size_t j = i + 1; j < v; ++j) {
      const Integer db = B[i] - B[j];
      if (db == 0) continue;
      const Rational mu = make_rational(Integer(A[i] - A[j]), db);
      const Rational val = make_rational(f_at(mu.get_num(), mu.get_den()), mu.get_den());
      if (!r || val < best || (val == best && mu < *r)) {
        r = mu;
        best = val;
      }
    }
  }
  if (!r) return 0;  // f is constant
  const Integer m = floor_of(*r);
  return f_at(m, 1) <= f_at(Integer(m + 1), 1) ? m : Integer(m + 1);
}

// A flat lattice direction of the polytope with vertices `vs`: in two variables the
// shortest vector for the width norm by generalised Gauss reduction (exact, optimal); in
// three, LLL under the vertices' exact covariance, compared with the unit vectors by exact
// width. Any primitive w gives a correct branching; a flat one keeps the slices few.
VecN flat_direction(const std::vector<Vtx>& vs, std::size_t n) {
  const ScaledVertices sv(vs, n);
  if (n == 2) {
    VecN b1{1, 0, 0}, b2{0, 1, 0};
    Integer f1 = width_of(sv, b1, n), f2 = width_of(sv, b2, n);
    if (f2 < f1) {
      std::swap(b1, b2);
      std::swap(f1, f2);
    }
    for (int guard = 0; guard < 200; ++guard) {
      const Integer mu = best_multiplier(sv, b2, b1, n);
      b2 = combine(b2, b1, mu);
      f2 = width_of(sv, b2, n);
      if (f2 < f1) {
        std::swap(b1, b2);
        std::swap(f1, f2);
        continue;
      }
      break;
    }
    return b1;
  }
  // Exact covariance S of the vertices about their centroid.
  std::array<Rational, 3> c{0, 0, 0};
  std::vector<std::array<Rational, 3>> pts;
  for (const auto& v : vs) {
    std::array<Rational, 3> x;
    for (std::size_t j = 0; j < 3; ++j) x[j] = make_rational(v.num[j], v.den);
    for (std::size_t j = 0; j < 3; ++j) c[j] += x[j];
    pts.push_back(std::move(x));
  }
  for (auto& x : c) x /= static_cast<long>(vs.size());
  std::array<std::array<Rational, 3>, 3> S;
  for (auto& row : S) row = {0, 0, 0};
  for (const auto& x : pts) {
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) S[i][j] += (x[i] - c[i]) * (x[j] - c[j]);
    }
  }
  const Rational trace = S[0][0] + S[1][1] + S[2][2];
  std::array<VecN, 3> basis{VecN{1, 0, 0}, VecN{0, 1, 0}, VecN{0, 0, 1}};
  if (trace > 0) {
    // A tiny ridge keeps the form definite for flat (lower-dimensional) polytopes.
    const Rational ridge = trace / Rational(Integer("1000000000000000000000000000000"));
    for (std::size_t i = 0; i < 3; ++i) S[i][i] += ridge;
    const auto inner = [&S](const std::array<Rational, 3>& x, const std::array<Rational, 3>& y) {
      Rational v = 0;
      for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) v += x[i] * S[i][j] * y[j];
      }
      return v;
    };
    std::array<std::array<Rational, 3>, 3> star;
    std::array<std::array<Rational, 3>, 3> mu;
    std::array<Rational, 3> norm;
    const auto gram_schmidt = [&]() {
      for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t k = 0; k < 3; ++k) star[i][k] = Rational(basis[i][k]);
        for (std::size_t j = 0; j < i; ++j) {
          std::array<Rational, 3> bi;
          for (std::size_t k = 0; k < 3; ++k) bi[k] = Rational(basis[i][k]);
          mu[i][j] = inner(bi, star[j]) / norm[j];
          for (std::size_t k = 0; k < 3; ++k) star[i][k] -= mu[i][j] * star[j][k];
        }
        norm[i] = inner(star[i], star[i]);
      }
    };
    std::size_t k = 1;
    for (int guard = 0; k < 3 && guard < 300; ++guard) {
      gram_schmidt();
      for (std::size_t jj = k; jj-- > 0;) {
        // nearest integer to mu[k][jj]
        Rational half = mu[k][jj] + Rational(1, 2);
        const Integer q = floor_of(half);
        if (q == 0) continue;
        basis[k] = combine(basis[k], basis[jj], q);
        gram_schmidt();
      }
      if (norm[k] * 4 >= (3 - 4 * mu[k][k - 1] * mu[k][k - 1]) * norm[k - 1]) {
        ++k;
      } else {
        std::swap(basis[k], basis[k - 1]);
        k = std::max<std::size_t>(k - 1, 1);
      }
    }
  }
  VecN best{1, 0, 0};
  Integer best_w = width_of(sv, best, n);
  std::vector<VecN> cands{VecN{0, 1, 0}, VecN{0, 0, 1}, basis[0], basis[1], basis[2]};
  for (const auto& w : cands) {
    if (w[0] == 0 && w[1] == 0 && w[2] == 0) continue;
    const Integer wd = width_of(sv, w, n);
    if (wd < best_w) {
      best_w = wd;
      best = w;
    }
  }
  Integer g = 0;
  for (std::size_t j = 0; j < n; ++j) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), best[j].get_mpz_t());
  for (std::size_t j = 0; j < n; ++j) mpz_divexact(best[j].get_mpz_t(), best[j].get_mpz_t(), g.get_mpz_t());
  return best;
}

// A unimodular matrix M (z = M t) with w·(M e_0) = 1 and w·(M e_j) = 0 for j > 0, so
// that t_0 = w·z. Built from 2 x 2 extended-gcd column operations; w must be primitive.
std::array<VecN, 3> unimodular_for(const VecN& w, std::size_t n) {
  std::array<VecN, 3> m{};  // m[i][j]: row i, column j
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 3; ++j) m[i][j] = i == j ? 1 : 0;
  }
  VecN cur = w;
  for (std::size_t j = 1; j < n; ++j) {
    if (cur[j] == 0) continue;
    Integer g, x, y;
    mpz_gcdext(g.get_mpz_t(), x.get_mpz_t(), y.get_mpz_t(), cur[0].get_mpz_t(), cur[j].get_mpz_t());
    const Integer bg = cur[j] / g;
    const Integer ag = cur[0] / g;
    for (std::size_t i = 0; i < n; ++i) {
      const Integer c0 = m[i][0];
      const Integer cj = m[i][j];
      m[i][0] = x * c0 + y * cj;
      m[i][j] = ag * cj - bg * c0;
    }
    cur[0] = g;
    cur[j] = 0;
  }
  if (cur[0] < 0) {
    for (std::size_t i = 0; i < n; ++i) m[i][0] = -m[i][0];
  }
  return m;
}

// The slices w·t = k of a system: the unimodular change of variables t = M (k, t'),
// the child system in t', and the way back.
struct Slicer {
  std::size_t n;
  std::array<VecN, 3> m;
  std::vector<VecN> am;  // each row times M
  VecN cm;               // the objective times M

  Slicer(const Sys& sys, const VecN& c, const VecN& w) : n(sys.n), m(unimodular_for(w, sys.n)) {
    am.reserve(sys.rows.size());
    for (const auto& r : sys.rows) am.push_back(times_m(r.a));
    cm = times_m(c);
  }
  [[nodiscard]] VecN times_m(const VecN& a) const {
    VecN out{0, 0, 0};
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = 0; i < n; ++i) out[j] += a[i] * m[i][j];
    }
    return out;
  }
  // The slice w·t = k as a system in the n - 1 remaining variables.
  [[nodiscard]] Sys child(const Sys& sys, const Integer& k) const {
    Sys out;
    out.n = n - 1;
    out.rows.reserve(sys.rows.size());
    for (std::size_t i = 0; i < sys.rows.size(); ++i) {
      RowN r;
      for (std::size_t j = 0; j + 1 < n; ++j) r.a[j] = am[i][j + 1];
      r.h = sys.rows[i].h - am[i][0] * k;
      out.rows.push_back(std::move(r));
    }
    return out;
  }
  [[nodiscard]] VecN child_c() const {
    VecN out{0, 0, 0};
    for (std::size_t j = 0; j + 1 < n; ++j) out[j] = cm[j + 1];
    return out;
  }
  [[nodiscard]] Integer child_c0(const Integer& c0, const Integer& k) const { return c0 + cm[0] * k; }
  // The point of the slice k whose remaining coordinates are `rest`, in the original variables.
  [[nodiscard]] VecN lift(const Integer& k, const VecN& rest) const {
    VecN t{k, 0, 0};
    for (std::size_t j = 0; j + 1 < n; ++j) t[j + 1] = rest[j];
    VecN z{0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) z[i] += m[i][j] * t[j];
    }
    return z;
  }
};

// Integers of [lo, hi] outwards from `centre` (centre, centre + 1, centre - 1, ...).
struct Outwards {
  Integer lo, hi, centre, up, down;
  Outwards(Integer l, Integer h, const Integer& c) : lo(std::move(l)), hi(std::move(h)), centre(c), up(c), down(c - 1) {}
  bool next(Integer& k) {
    if (up <= hi && (down < lo || up - centre <= centre - down)) {
      k = up;
      up += 1;
      return true;
    }
    if (down >= lo) {
      k = down;
      down -= 1;
      return true;
    }
    return false;
  }
  [[nodiscard]] Integer left() const { return (hi - up + 1) + (down - lo + 1); }
};

using Found = std::optional<std::pair<VecN, Integer>>;

Found solve_1d(const Sys& s, const VecN& c, const Integer& c0, const std::optional<Integer>& beat, bool& unbounded) {
  std::optional<Integer> lo, hi;
  for (const auto& r : s.rows) {
    if (r.a[0] > 0) {
      Integer q = floor_div(r.h, r.a[0]);
      if (!hi || q < *hi) hi = std::move(q);
    } else if (r.a[0] < 0) {
      Integer q;
      mpz_cdiv_q(q.get_mpz_t(), r.h.get_mpz_t(), r.a[0].get_mpz_t());
      if (!lo || q > *lo) lo = std::move(q);
    } else if (r.h < 0) {
      return std::nullopt;
    }
  }
  if (lo && hi && *lo > *hi) return std::nullopt;
  Integer t;
  if (c[0] > 0) {
    if (!hi) {
      unbounded = true;
      return std::nullopt;
    }
    t = *hi;
  } else if (c[0] < 0) {
    if (!lo) {
      unbounded = true;
      return std::nullopt;
    }
    t = *lo;
  } else {
    t = lo ? *lo : (hi ? *hi : Integer(0));
  }
  Integer value = c[0] * t + c0;
  if (beat && value <= *beat) return std::nullopt;
  return std::make_pair(VecN{t, 0, 0}, std::move(value));
}

// Adds the row c·t + c0 >= theta; false when the system becomes empty outright.
bool add_cut(Sys& s, const VecN& c, const Integer& c0, const Integer& theta) {
  bool c_zero = true;
  for (std::size_t j = 0; j < s.n; ++j) c_zero = c_zero && c[j] == 0;
  if (c_zero) return c0 >= theta;
  RowN r;
  for (std::size_t j = 0; j < 3; ++j) r.a[j] = j < s.n ? Integer(-c[j]) : Integer(0);
  r.h = c0 - theta;
  s.rows.push_back(std::move(r));
  return normalize(s);
}

// Some integer point with c·t + c0 >= theta, or none: the cut polytope's vertices give an
// exact range of a flat direction w; slices w·t = k, from the middle of the range outwards
// (the widest part of the body first), each a problem in one variable fewer. In one
// variable, the point of largest value.
Found find_point(Sys sys, const VecN& c, const Integer& c0, const Integer& theta, Ctx& ctx, bool& unbounded) {
  ++ctx.nodes;
  if (!add_cut(sys, c, c0, theta)) return std::nullopt;
  if (sys.n == 1) return solve_1d(sys, c, c0, std::nullopt, unbounded);
  const std::size_t n = sys.n;
  const std::vector<Vtx> vs = vertices(sys);
  if (vs.empty()) return std::nullopt;
  const VecN w = flat_direction(vs, n);
  std::optional<Rational> wmin, wmax;
  for (const auto& v : vs) {
    const Rational wv = make_rational(dot(w, v.num, n), v.den);
    if (!wmin || wv < *wmin) wmin = wv;
    if (!wmax || wv > *wmax) wmax = wv;
  }
  Integer lo;
  mpz_cdiv_q(lo.get_mpz_t(), wmin->get_num_mpz_t(), wmin->get_den_mpz_t());
  const Integer hi = floor_of(*wmax);
  if (lo > hi) return std::nullopt;
  const Slicer slicer(sys, c, w);
  Outwards order(lo, hi, floor_div(Integer(lo + hi), Integer(2)));
  for (Integer k; order.next(k);) {
    Found got = find_point(slicer.child(sys, k), slicer.child_c(), slicer.child_c0(c0, k), theta, ctx, unbounded);
    if (unbounded) return std::nullopt;
    if (got) return std::make_pair(slicer.lift(k, got->first), std::move(got->second));
  }
  return std::nullopt;
}

// max c·t + c0 over the integer points, given a point `start` to beat: a search on the value between the bounds the
// exact vertices give (Lenstra's reduction of optimisation to feasibility), each test a
// find_point: thresholds gallop down from the continuous maximum until a point is found,
// then bisect; every point found raises the lower end past its value. O(log range) tests.
Found bisect_node(Sys sys, const VecN& c, const Integer& c0, const Found& start, Ctx& ctx, bool& unbounded) {
  const std::size_t n = sys.n;
  const std::vector<Vtx> vs = vertices(sys);
  if (vs.empty()) return std::nullopt;
  std::optional<Rational> vmin, vmax;
  for (const auto& v : vs) {
    const Rational x = make_rational(dot(c, v.num, n), v.den);
    if (!vmin || x < *vmin) vmin = x;
    if (!vmax || x > *vmax) vmax = x;
  }
  Integer lo;  // every point has value >= lo
  mpz_cdiv_q(lo.get_mpz_t(), vmin->get_num_mpz_t(), vmin->get_den_mpz_t());
  lo += c0;
  Integer hi = floor_of(*vmax) + c0;  // and <= hi
  Found best = start;
  if (best) lo = best->second + 1;
  // Without a point yet, gallop down from the top (the optimum is usually near the
  // continuous bound); with one, bisect between it and the bound.
  Integer gap = 1;
  while (lo <= hi) {
    Integer theta = best ? Integer(lo + floor_div(Integer(hi - lo + 1), Integer(2))) : Integer(hi - gap + 1);
    if (theta < lo) theta = lo;
    Found got = find_point(sys, c, c0, theta, ctx, unbounded);
    if (unbounded) return std::nullopt;
    if (got) {
      lo = got->second + 1;
      best = std::move(got);
    } else {
      hi = theta - 1;
      gap *= 2;
    }
  }
  return best;
}

Found bisect_node(Sys sys, const VecN& c, const Integer& c0, const Found& start, Ctx& ctx, bool& unbounded);

// max c·t + c0 over the integer points with value > beat: slices of a flat direction,
// outwards from the slice of the best vertex; when a slice improves the incumbent and
// more than two slices remain, the node re-cuts (c·t >= incumbent + 1) and re-chooses the
// direction. A node that has re-cut 8 times hands over to the bisection of bisect_node.
Found solve_node(Sys sys, const VecN& c, const Integer& c0, std::optional<Integer> beat, Ctx& ctx, bool& unbounded) {
  int restarts = 0;
  ++ctx.nodes;
  if (!normalize(sys)) return std::nullopt;
  if (sys.n == 1) return solve_1d(sys, c, c0, beat, unbounded);
  const std::size_t n = sys.n;
  bool c_zero = true;
  for (std::size_t j = 0; j < n; ++j) c_zero = c_zero && c[j] == 0;
  Found best;
  for (;;) {
    if (++restarts > ctx.greedy_restarts && best) return bisect_node(sys, c, c0, best, ctx, unbounded);
    Sys cut = sys;
    if (beat) {
      if (c_zero) {
        if (c0 <= *beat) return best;
      } else {
        // c·t + c0 >= beat + 1
        RowN r;
        for (std::size_t j = 0; j < 3; ++j) r.a[j] = j < n ? Integer(-c[j]) : Integer(0);
        r.h = c0 - *beat - 1;
        cut.rows.push_back(std::move(r));
        if (!normalize(cut)) return best;
      }
    }
    const std::vector<Vtx> vs = vertices(cut);
    if (vs.empty()) return best;
    const VecN w = flat_direction(vs, n);
    // Exact range of w·t over the polytope, and the slice of the best vertex for c.
    std::optional<Rational> wmin, wmax;
    std::optional<Rational> cbest;
    Rational w_at_cbest;
    for (const auto& v : vs) {
      const Rational wv = make_rational(dot(w, v.num, n), v.den);
      if (!wmin || wv < *wmin) wmin = wv;
      if (!wmax || wv > *wmax) wmax = wv;
      const Rational cv = make_rational(dot(c, v.num, n), v.den);
      if (!cbest || cv > *cbest) {
        cbest = cv;
        w_at_cbest = wv;
      }
    }
    Integer lo;
    mpz_cdiv_q(lo.get_mpz_t(), wmin->get_num_mpz_t(), wmin->get_den_mpz_t());
    const Integer hi = floor_of(*wmax);
    if (lo > hi) return best;
    Integer k0 = floor_of(w_at_cbest);
    if (k0 < lo) k0 = lo;
    if (k0 > hi) k0 = hi;

    // Row a·z <= h becomes (a M)·t <= h; t_0 = k is fixed in the child. Slices are
    // visited outwards from the slice of the best vertex.
    const Slicer slicer(sys, c, w);
    bool restart = false;
    Outwards order(lo, hi, k0);
    for (Integer k; order.next(k);) {
      Found got = solve_node(slicer.child(sys, k), slicer.child_c(), slicer.child_c0(c0, k), beat, ctx, unbounded);
      if (unbounded) return std::nullopt;
      if (got) {
        beat = got->second;
        best = std::make_pair(slicer.lift(k, got->first), std::move(got->second));
        // Re-cut and re-choose the direction when many slices are left.
        if (order.left() > 2) {
          restart = true;
          break;
        }
      }
    }
    if (!restart) return best;
  }
}

}  // namespace

IlpResult max_linear_nd(const std::vector<RowN>& rows, std::size_t n, const VecN& c, int greedy_restarts,
                        const std::optional<Integer>& beat) {
  IlpResult out;
  Sys sys{n, rows};
  for (auto& r : sys.rows) {
    for (std::size_t j = n; j < 3; ++j) r.a[j] = 0;
  }
  if (!normalize(sys)) return out;
  if (!bounded(sys)) {
    out.unbounded = true;
    return out;
  }
  Ctx ctx;
  ctx.greedy_restarts = greedy_restarts;
  bool unbounded = false;
  Found f = solve_node(std::move(sys), c, Integer(0), beat, ctx, unbounded);
  out.nodes = ctx.nodes;
  if (unbounded) {
    out.unbounded = true;
    return out;
  }
  if (f) {
    out.feasible = true;
    out.t = std::move(f->first);
    out.value = std::move(f->second);
  }
  return out;
}

}  // namespace lorasplit::detail
