// The integer subproblem of one Dinkelbach step in two free columns: maximise
// u*x + v*y over integer points with lo <= x <= hi, y >= 0 and rows a_x x + a_y y <= h,
// a_y >= 0. For v > 0 the best y at each x is Y(x) = min over rows of
// floor((h - a_x x)/a_y); the lower envelope of those lines splits [lo, hi] into at most
// one piece per row, and each piece is one lattice walk (lattice.cpp).
#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

// Is line i strictly below line j at x, or equal with a smaller slope (stays below longer)?
bool below(const Row2& i, const Row2& j, const Integer& x) {
  // (h_i - a_i x)/c_i  vs  (h_j - a_j x)/c_j, c > 0: compare cross-multiplied.
  const Integer li = (i.h - i.ax * x) * j.ay;
  const Integer lj = (j.h - j.ax * x) * i.ay;
  if (li != lj) return li < lj;
  // slope -a/c: smaller slope means -a_i/c_i < -a_j/c_j  <=>  a_i c_j > a_j c_i
  return i.ax * j.ay > j.ax * i.ay;
}

}  // namespace

Oracle2Result max_linear_2d(const std::vector<Row2>& rows, const Integer& lo, const Integer& hi, const Integer& u,
                            const Integer& v) {
  Oracle2Result out;
  std::vector<const Row2*> lines;
  for (const auto& r : rows) {
    if (r.ay > 0) lines.push_back(&r);
  }
  if (v <= 0) {
    const Integer x = u < 0 ? lo : hi;
    out.best = Point2{x, 0, u * x};
    return out;
  }
  if (lines.empty()) {
    out.unbounded = true;
    return out;
  }
  bool have = false;
  Integer cur = lo;
  while (cur <= hi) {
    const Row2* act = lines.front();
    for (const Row2* l : lines) {
      if (l != act && below(*l, *act, cur)) act = l;
    }
    Integer end = hi;
    for (const Row2* l : lines) {
      if (l == act) continue;
      // act stays at or below l while x*K <= H (derivation in docs/model.md §3.3).
      const Integer k = act->ay * l->ax - l->ay * act->ax;
      if (k > 0) {
        const Integer last = floor_div(Integer(act->ay * l->h - l->ay * act->h), k);
        if (last < end) end = last;
      }
    }
    Point2 p = max_linear_under_line(cur, end, act->ax, act->h, act->ay, u, v);
    if (!have || p.value > out.best.value) {
      out.best = std::move(p);
      have = true;
    }
    cur = end + 1;
  }
  return out;
}

}  // namespace lorasplit::detail
