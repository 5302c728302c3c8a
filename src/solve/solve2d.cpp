// The integer subproblem of one Dinkelbach step in two free columns: maximise
// u*x + v*y over integer points with lo <= x <= hi, y >= 0 and rows a_x x + a_y y <= h,
// a_y >= 0. For v > 0 the best y at each x is Y(x) = min over rows of
// floor((h - a_x x)/a_y); the lower envelope of those lines splits [lo, hi] into at most
// one piece per row, and each piece is one lattice walk (lattice.cpp).
#include <array>
#include <span>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

// Is line i strictly below line j at x, or equal with a smaller slope (stays below longer)?
template <class I>
bool below(const BasicRow2<I>& i, const BasicRow2<I>& j, const I& x) {
  // (h_i - a_i x)/c_i  vs  (h_j - a_j x)/c_j, c > 0: compare cross-multiplied.
  const I li = (i.h - i.ax * x) * j.ay;
  const I lj = (j.h - j.ax * x) * i.ay;
  if (li != lj) return li < lj;
  // slope -a/c: smaller slope means -a_i/c_i < -a_j/c_j  <=>  a_i c_j > a_j c_i
  return i.ax * j.ay > j.ax * i.ay;
}

}  // namespace

template <class I>
void Envelope2<I>::assign(const std::vector<BasicRow2<I>>& rows, const I& lo, const I& hi) {
  lo_ = lo;
  hi_ = hi;
  n_pieces_ = 0;
  using R2 = BasicRow2<I>;
  // At most a handful of rows: the active lines live on the stack.
  constexpr std::size_t kInline = 16;
  std::array<const R2*, kInline> inline_lines{};
  std::vector<const R2*> heap_lines;
  std::size_t count = 0;
  for (const auto& r : rows) {
    if (r.ay > 0) ++count;
  }
  if (count > kInline) heap_lines.reserve(count);
  const R2** lines_begin = count > kInline ? nullptr : inline_lines.data();
  std::size_t n_lines = 0;
  for (const auto& r : rows) {
    if (r.ay <= 0) continue;
    if (lines_begin != nullptr) {
      lines_begin[n_lines++] = &r;
    } else {
      heap_lines.push_back(&r);
      ++n_lines;
    }
  }
  if (lines_begin == nullptr) lines_begin = heap_lines.data();
  const std::span<const R2*> lines(lines_begin, n_lines);
  has_lines_ = !lines.empty();
  if (!has_lines_) return;
  I cur = lo;
  while (cur <= hi) {
    const R2* act = lines.front();
    for (const R2* l : lines) {
      if (l != act && below(*l, *act, cur)) act = l;
    }
    I end = hi;
    for (const R2* l : lines) {
      if (l == act) continue;
      // act stays at or below l while x*K <= H (derivation in docs/model.md §3.3).
      const I k = act->ay * l->ax - l->ay * act->ax;
      if (k > 0) {
        const I last = floor_div(I(act->ay * l->h - l->ay * act->h), k);
        if (last < end) end = last;
      }
    }
    if (n_pieces_ < pieces_.size()) {
      pieces_[n_pieces_].assign(cur, end, act->ax, act->h, act->ay);
      corners_[n_pieces_] = Corner{cur, end, act};
    } else {
      pieces_.emplace_back(cur, end, act->ax, act->h, act->ay);
      corners_.push_back(Corner{cur, end, act});
    }
    ++n_pieces_;
    cur = end + 1;
  }
}

template <class I>
BasicOracle2Result<I> Envelope2<I>::eval(const I& u, const I& v) const {
  BasicOracle2Result<I> out;
  if (v <= 0) {
    const I x = u < 0 ? lo_ : hi_;
    out.best = BasicPoint2<I>{x, 0, u * x};
    return out;
  }
  if (!has_lines_) {
    out.unbounded = true;
    return out;
  }
  bool have = false;
  for (std::size_t i = 0; i < n_pieces_; ++i) {
    BasicPoint2<I> p = pieces_[i].eval(u, v);
    if (!have || p.value > out.best.value) {
      out.best = std::move(p);
      have = true;
    }
  }
  return out;
}

template <class I>
BasicOracle2Result<I> max_linear_2d(const std::vector<BasicRow2<I>>& rows, const I& lo, const I& hi, const I& u,
                                     const I& v) {
  return Envelope2<I>(rows, lo, hi).eval(u, v);
}

template class Envelope2<Integer>;
template class Envelope2<Int128>;

template BasicOracle2Result<Integer> max_linear_2d(const std::vector<BasicRow2<Integer>>&, const Integer&,
                                                   const Integer&, const Integer&, const Integer&);
template BasicOracle2Result<Int128> max_linear_2d(const std::vector<BasicRow2<Int128>>&, const Int128&,
                                                  const Int128&, const Int128&, const Int128&);

}  // namespace lorasplit::detail
