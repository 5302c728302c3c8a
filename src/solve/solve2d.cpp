// The integer subproblem of one Dinkelbach step in two free columns: maximise
// u*x + v*y over integer points with lo <= x <= hi, y >= 0 and rows a_x x + a_y y <= h,
// a_y >= 0. For v > 0 the best y at each x is Y(x) = min over rows of
// floor((h - a_x x)/a_y); the lower envelope of those lines splits [lo, hi] into at most
// one piece per row, and each piece is one lattice walk (lattice.cpp).
#include <array>
#include <span>
#include <utility>

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
    if (n_pieces_ < corners_.size()) {
      corners_[n_pieces_] = Corner{cur, end, act};
    } else {
      corners_.push_back(Corner{cur, end, act});
    }
    ++n_pieces_;
    cur = end + 1;
  }
  // The walks are recorded when an objective first needs them: the warm start reads the
  // corners only, and an objective may settle a piece by its bound alone (eval).
  walk_of_.assign(n_pieces_, kNoWalk);
  n_walks_ = 0;
}

template <class I>
const LinePlan<I>& Envelope2<I>::piece(std::size_t i) const {
  if (walk_of_[i] == kNoWalk) {
    const Corner& c = corners_[i];
    if (n_walks_ < walks_.size()) {
      walks_[n_walks_].assign(c.s, c.t, c.row->ax, c.row->h, c.row->ay);
    } else {
      walks_.emplace_back(c.s, c.t, c.row->ax, c.row->h, c.row->ay);
    }
    walk_of_[i] = n_walks_++;
  }
  return walks_[walk_of_[i]];
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
  if (n_pieces_ == 1) {
    out.best = piece(0).eval(u, v);
    return out;
  }
  // The best point over all pieces, the first piece on ties. A piece's points lie on or
  // under its line, so u*x + v*y <= floor(max over its ends of (u*c*x + v*(h - a*x))/c)
  // (v > 0; the bound is linear in x): pieces are walked in decreasing order of that
  // bound, and one whose bound cannot beat the best so far (or only tie it from a later
  // piece) is not walked. The same point as walking every piece in order. A bound that
  // does not fit 128 bits walks its piece.
  std::vector<Bound>& bounds = bounds_;
  bounds.clear();
  std::size_t unbounded = 0;  // pieces without a bound, walked first
  for (std::size_t i = 0; i < n_pieces_; ++i) {
    const Corner& c = corners_[i];
    try {
      const I slope = u * c.row->ay - v * c.row->ax;
      const I& x = slope >= 0 ? c.t : c.s;
      bounds.push_back(Bound{floor_div(I(slope * x + v * c.row->h), c.row->ay), i});
    } catch (const Overflow&) {
      bounds.insert(bounds.begin() + static_cast<std::ptrdiff_t>(unbounded++), Bound{I(0), i});
    }
  }
  for (std::size_t k = unbounded + 1; k < bounds.size(); ++k) {  // insertion sort: a handful of pieces
    for (std::size_t m = k; m > unbounded && bounds[m - 1].value < bounds[m].value; --m) {
      std::swap(bounds[m - 1], bounds[m]);
    }
  }
  bool have = false;
  std::size_t best_piece = 0;
  for (std::size_t k = 0; k < bounds.size(); ++k) {
    const std::size_t i = bounds[k].piece;
    if (have && k >= unbounded &&
        (bounds[k].value < out.best.value || (bounds[k].value == out.best.value && i > best_piece))) {
      continue;
    }
    BasicPoint2<I> p = piece(i).eval(u, v);
    if (!have || p.value > out.best.value || (p.value == out.best.value && i < best_piece)) {
      out.best = std::move(p);
      best_piece = i;
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
