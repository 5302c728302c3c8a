// Exact integer programming in dimension <= 3 by lattice-hyperplane branching
// (see ilp.hpp and docs/model.md §3.9). Every bound and every slice range is computed
// from exact vertices; floating point only picks the branching direction.
#include "solve/ilp.hpp"

#include <algorithm>
#include <cmath>
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

// A flat lattice direction of the vertex set: the shortest basis vector after LLL
// reduction under the vertices' covariance (the square of the width in direction w is
// about w^T S w), compared with the unit vectors by the width it gives. Floating point is
// enough: any primitive w gives a correct branching.
VecN flat_direction(const std::vector<Vtx>& vs, std::size_t n) {
  std::vector<std::array<double, 3>> d;
  d.reserve(vs.size());
  std::array<Rational, 3> base;
  for (std::size_t j = 0; j < n; ++j) base[j] = make_rational(vs[0].num[j], vs[0].den);
  for (const auto& v : vs) {
    std::array<double, 3> x{0, 0, 0};
    for (std::size_t j = 0; j < n; ++j) x[j] = to_double(Rational(make_rational(v.num[j], v.den) - base[j]));
    d.push_back(x);
  }
  double s[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  for (const auto& x : d) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) s[i][j] += x[i] * x[j];
    }
  }
  double trace = 0;
  for (std::size_t i = 0; i < n; ++i) trace += s[i][i];
  const auto width = [&](const std::array<long long, 3>& w) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& x : d) {
      double v = 0;
      for (std::size_t j = 0; j < n; ++j) v += static_cast<double>(w[j]) * x[j];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    return hi - lo;
  };
  std::array<std::array<long long, 3>, 3> basis{};
  for (std::size_t i = 0; i < n; ++i) basis[i][i] = 1;
  if (std::isfinite(trace) && trace > 0) {
    for (std::size_t i = 0; i < n; ++i) s[i][i] += 1e-12 * trace;
    const auto inner = [&](const std::array<double, 3>& x, const std::array<double, 3>& y) {
      double v = 0;
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) v += x[i] * s[i][j] * y[j];
      }
      return v;
    };
    std::array<std::array<double, 3>, 3> star{};
    std::array<std::array<double, 3>, 3> mu{};
    const auto gram_schmidt = [&]() {
      for (std::size_t i = 0; i < n; ++i) {
        std::array<double, 3> bi{0, 0, 0};
        for (std::size_t j = 0; j < n; ++j) bi[j] = static_cast<double>(basis[i][j]);
        star[i] = bi;
        for (std::size_t j = 0; j < i; ++j) {
          const double nj = inner(star[j], star[j]);
          mu[i][j] = nj > 0 ? inner(bi, star[j]) / nj : 0;
          for (std::size_t k = 0; k < n; ++k) star[i][k] -= mu[i][j] * star[j][k];
        }
      }
    };
    std::size_t k = 1;
    for (int guard = 0; k < n && guard < 200; ++guard) {
      gram_schmidt();
      bool ok = true;
      for (std::size_t jj = k; jj-- > 0;) {
        const double q = std::nearbyint(mu[k][jj]);
        if (q == 0) continue;
        if (!(std::fabs(q) < 1e12)) {
          ok = false;
          break;
        }
        const auto qi = static_cast<long long>(q);
        for (std::size_t c = 0; c < n; ++c) {
          if (std::llabs(basis[jj][c]) > (1LL << 40) / (std::llabs(qi) + 1)) ok = false;
        }
        if (!ok) break;
        for (std::size_t c = 0; c < n; ++c) basis[k][c] -= qi * basis[jj][c];
        gram_schmidt();
      }
      if (!ok) break;
      const double lhs = inner(star[k], star[k]);
      const double rhs = (0.75 - mu[k][k - 1] * mu[k][k - 1]) * inner(star[k - 1], star[k - 1]);
      if (lhs >= rhs) {
        ++k;
      } else {
        std::swap(basis[k], basis[k - 1]);
        k = std::max<std::size_t>(k - 1, 1);
      }
    }
  }
  std::array<long long, 3> best{1, 0, 0};
  double best_w = width(best);
  const auto consider = [&](const std::array<long long, 3>& w) {
    bool zero = true;
    for (std::size_t j = 0; j < n; ++j) zero = zero && w[j] == 0;
    if (zero) return;
    const double wd = width(w);
    if (wd < best_w) {
      best_w = wd;
      best = w;
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    std::array<long long, 3> e{0, 0, 0};
    e[i] = 1;
    consider(e);
  }
  for (std::size_t i = 0; i < n; ++i) consider(basis[i]);
  VecN w{0, 0, 0};
  Integer g = 0;
  for (std::size_t j = 0; j < n; ++j) {
    w[j] = Integer(static_cast<long>(best[j]));
    mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), w[j].get_mpz_t());
  }
  for (std::size_t j = 0; j < n; ++j) mpz_divexact(w[j].get_mpz_t(), w[j].get_mpz_t(), g.get_mpz_t());
  return w;
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

Found solve_node(Sys sys, const VecN& c, const Integer& c0, std::optional<Integer> beat, Ctx& ctx, bool& unbounded) {
  ++ctx.nodes;
  if (!normalize(sys)) return std::nullopt;
  if (sys.n == 1) return solve_1d(sys, c, c0, beat, unbounded);
  const std::size_t n = sys.n;
  bool c_zero = true;
  for (std::size_t j = 0; j < n; ++j) c_zero = c_zero && c[j] == 0;
  Found best;
  for (;;) {
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

    const auto m = unimodular_for(w, n);
    // Row a·z <= h becomes (a M)·t <= h; t_0 = k is fixed in the child.
    const auto times_m = [&](const VecN& a) {
      VecN out{0, 0, 0};
      for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t i = 0; i < n; ++i) out[j] += a[i] * m[i][j];
      }
      return out;
    };
    std::vector<VecN> am;
    am.reserve(sys.rows.size());
    for (const auto& r : sys.rows) am.push_back(times_m(r.a));
    const VecN cm = times_m(c);

    bool restart = false;
    Integer up = k0, down = k0 - 1;
    while (up <= hi || down >= lo) {
      // Alternate outwards from the slice of the best vertex.
      Integer k;
      if (up <= hi && (down < lo || up - k0 <= k0 - down)) {
        k = up;
        up += 1;
      } else {
        k = down;
        down -= 1;
      }
      Sys child;
      child.n = n - 1;
      child.rows.reserve(sys.rows.size());
      for (std::size_t i = 0; i < sys.rows.size(); ++i) {
        RowN r;
        for (std::size_t j = 0; j + 1 < n; ++j) r.a[j] = am[i][j + 1];
        r.h = sys.rows[i].h - am[i][0] * k;
        child.rows.push_back(std::move(r));
      }
      VecN cc{0, 0, 0};
      for (std::size_t j = 0; j + 1 < n; ++j) cc[j] = cm[j + 1];
      const Integer cc0 = c0 + cm[0] * k;
      Found got = solve_node(std::move(child), cc, cc0, beat, ctx, unbounded);
      if (unbounded) return std::nullopt;
      if (got) {
        VecN t{k, 0, 0};
        for (std::size_t j = 0; j + 1 < n; ++j) t[j + 1] = got->first[j];
        VecN z{0, 0, 0};
        for (std::size_t i = 0; i < n; ++i) {
          for (std::size_t j = 0; j < n; ++j) z[i] += m[i][j] * t[j];
        }
        beat = got->second;
        best = std::make_pair(std::move(z), std::move(got->second));
        // Re-cut and re-choose the direction when many slices are left.
        const Integer left = (hi - up + 1) + (down - lo + 1);
        if (left > 2) {
          restart = true;
          break;
        }
      }
    }
    if (!restart) return best;
  }
}

}  // namespace

IlpResult max_linear_nd(const std::vector<RowN>& rows, std::size_t n, const VecN& c) {
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
  bool unbounded = false;
  Found f = solve_node(std::move(sys), c, Integer(0), std::nullopt, ctx, unbounded);
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
