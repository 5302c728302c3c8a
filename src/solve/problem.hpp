#pragma once
// Internal integer form of a model: every row a·b <= h with integer a, every objective
// coefficient integer. Rows are kept with the exact right-hand side h_lp (for the
// continuous relaxation) and its floor h_int (valid for integer b since a is integer).
//
// The integer algorithms are templates over the integer type I: `Integer` (GMP, any
// size) and `Int128` (fixed width, throws Overflow; the fast path of docs/model.md
// §3.10). Both instantiations run the same code, so they return the same answers.

#include <lorasplit/model.hpp>
#include <lorasplit/rational.hpp>
#include <lorasplit/solve.hpp>

#include <initializer_list>
#include <unordered_map>
#include <string>
#include <vector>

#include "solve/int128.hpp"

namespace lorasplit::detail {

/// num/den with den > 0, not necessarily in lowest terms.
template <class I>
struct Frac {
  I num{0};
  I den{1};
};

template <class I>
struct BasicIntRow {
  std::string name;
  std::vector<I> a;  ///< one coefficient per column
  Frac<I> h_lp;
  I h_int;
  bool removed{false};
  RowKind kind{RowKind::kMemory};
};

template <class I>
struct BasicIntProblem {
  std::vector<BasicIntRow<I>> rows;
  std::vector<I> p;  ///< numerator (tokens) times scale_n, one coefficient per column
  I p0;
  std::vector<I> q;  ///< denominator (seconds) times scale_d
  I q0;
  I scale_n, scale_d;  ///< true ratio = (p·b+p0)/(q·b+q0) * scale_d / scale_n
  std::vector<char> fixed_zero;  ///< per column: fixed to 0 (by the case, the caller or presolve)
  /// b_j = block * (offset_j + y_j): 1 for a column the case requires to be used (b_j >= one block).
  std::vector<int> offset;
  [[nodiscard]] std::size_t cols() const { return p.size(); }
  /// Sizes every per-column vector for `n` columns (rows are the caller's).
  void resize(std::size_t n) {
    p.assign(n, I(0));
    q.assign(n, I(0));
    fixed_zero.assign(n, 0);
    offset.assign(n, 0);
  }
};

using IntRow = BasicIntRow<Integer>;
using IntProblem = BasicIntProblem<Integer>;

/// The exact right-hand side of a row as a rational.
inline Rational lp_rhs(const IntRow& row) { return make_rational(row.h_lp.num, row.h_lp.den); }

/// lcm of the denominators of `values`.
Integer common_denominator(const std::vector<const Rational*>& values);

/// Scales every row and the objective of `model` to integers (exact, no rounding of the
/// left-hand sides; right-hand sides rounded down only in h_int). The columns are in
/// blocks: b_j = block * (offset_j + y_j), y >= 0, and the integer form is over y. A
/// column the model's support fixes to 0 is fixed_zero; one it requires has offset 1.
/// With `cache`, rows and objectives already scaled for another case of the same
/// formulation (equal forms, equal offsets) are copied instead of scaled again: the cases
/// of a formulation share most of their rows (docs/model.md §7.4).
class IntFormCache;
IntProblem to_integer_form(const Model& model, std::int64_t block, IntFormCache* cache = nullptr);

/// Integer rows and scaled objectives by content: one per distinct (form, offsets) seen.
class IntFormCache {
 public:
  struct Scaled {
    std::vector<Integer> coef;
    Integer constant, scale;
  };
  /// The scaled objective `f` under `offset`, computed by `make` on the first request.
  template <class Make>
  const Scaled& objective(const Affine& f, const std::vector<int>& offset, const Make& make) {
    return lookup(objectives_, f, nullptr, offset, make);
  }
  /// The integer row of lhs <= rhs under `offset` (its name not set), made by `make` once.
  template <class Make>
  const IntRow& row(const Affine& lhs, const Affine& rhs, const std::vector<int>& offset, const Make& make) {
    return lookup(rows_, lhs, &rhs, offset, make);
  }

 private:
  template <class T>
  struct Entry {
    Affine lhs, rhs;
    std::vector<int> offset;
    T value;
  };
  template <class T, class Make>
  const T& lookup(std::unordered_multimap<std::size_t, Entry<T>>& map, const Affine& lhs, const Affine* rhs,
                  const std::vector<int>& offset, const Make& make) {
    static const Affine kNone;
    const Affine& r = rhs != nullptr ? *rhs : kNone;
    const std::size_t h = hash(lhs, r, offset);
    for (auto [it, end] = map.equal_range(h); it != end; ++it) {
      const Entry<T>& e = it->second;
      if (e.offset == offset && e.lhs.constant == lhs.constant && e.rhs.constant == r.constant &&
          e.lhs.coef == lhs.coef && e.rhs.coef == r.coef) {
        return e.value;
      }
    }
    Entry<T> e{lhs, r, offset, {}};
    make(e.value);
    return map.emplace(h, std::move(e))->second.value;
  }
  static std::size_t hash(const Affine& lhs, const Affine& rhs, const std::vector<int>& offset);
  std::unordered_multimap<std::size_t, Entry<Scaled>> objectives_;
  std::unordered_multimap<std::size_t, Entry<IntRow>> rows_;
};

/// What presolve remembers between calls on the forms of one case: the outcome of each
/// implied-row test for the two rows' contents (stamps that change whenever a row is
/// rebuilt, set by the caller; 0: unknown) and the fixed columns.
struct PresolveMemo {
  std::vector<std::uint64_t> stamps;  ///< one per row of the problem
  struct Pair {
    std::uint64_t si{0}, sj{0}, fixed{~std::uint64_t{0}};
    bool implied{false};
  };
  std::vector<Pair> pairs;  ///< rows x rows x 2 (a slot per set of fixed columns, the last two)
};

/// Applies exact reductions; appends each reduction with its proof to `log` when `log`
/// is not null; `memo` (without a log) answers the row pairs it has seen.
template <class I>
void presolve(BasicIntProblem<I>& problem, std::vector<PresolveReduction>* log, PresolveMemo* memo = nullptr);
inline void presolve(IntProblem& problem, std::vector<PresolveReduction>& log) { presolve(problem, &log); }

/// Result of the 2-D integer subproblem oracle.
template <class I>
struct BasicPoint2 {
  I x, y;
  I value;  ///< u*x + v*y at the point
};
using Point2 = BasicPoint2<Integer>;

/// Maximises u*x + v*floor((h - a*x)/c) over integers x in [s, t] (c > 0, s <= t).
/// Returns the argmax (smallest i from the walk's start on ties) and the value.
template <class I>
BasicPoint2<I> max_linear_under_line(const I& s, const I& t, const I& a, const I& h, const I& c, const I& u,
                                     const I& v);
inline Point2 max_linear_under_line(const Integer& s, const Integer& t, const Integer& a, const Integer& h,
                                    const Integer& c, const Integer& u, const Integer& v) {
  return max_linear_under_line<Integer>(s, t, a, h, c, u, v);
}

/// max_linear_under_line for one line and interval and any number of objectives: the
/// lattice walk's recursion (which depends on the line only) is recorded once as a
/// straight-line program of monoid products, with each node's displacement; eval()
/// replays only the values for one objective and traces the maximiser back. Not
/// thread-safe (eval reuses buffers).
template <class I>
class LinePlan {
 public:
  LinePlan(const I& s, const I& t, const I& a, const I& h, const I& c) { assign(s, t, a, h, c); }
  /// Records the walk for another line and interval, keeping the buffers' capacity.
  void assign(const I& s, const I& t, const I& a, const I& h, const I& c);
  [[nodiscard]] BasicPoint2<I> eval(const I& u, const I& v) const;

  /// One node of the program: node 0 is "up", node 1 "right", every later node the
  /// product nodes[a] * nodes[b] or the power nodes[a]^n. Its displacement (dx, dy) and
  /// whether it visits a point are fixed by the line.
  struct Node {
    bool pow{false};
    char has{0};
    char left_has{0}, right_has{0};  ///< whether nodes[a], nodes[b] visit a point (read by eval)
    int a{-1}, b{-1};
    I n{0};
    I dx{0}, dy{0};
  };

 private:
  bool forward_{true};
  I x0_, q0_;
  std::vector<Node> nodes_;
  int root_{-1};
  // Per node, for one objective: u*dx + v*dy, the best value over its points (relative
  // to its start, held by node `ref`: itself, or the factor it came from unchanged) and
  // where that best came from (for the trace back).
  struct State {
    I val, best;
    int ref;
    char from;
  };
  mutable std::vector<State> state_;
};

/// Rows restricted to two free columns: a_x*x + a_y*y <= h, a_y >= 0.
template <class I>
struct BasicRow2 {
  I ax, ay, h;
};
using Row2 = BasicRow2<Integer>;

/// max u*x + v*y over integers 0 <= y, lo <= x <= hi, all rows (requires a_y >= 0 for every row,
/// and lo <= hi). `unbounded` when no row bounds y and v > 0.
template <class I>
struct BasicOracle2Result {
  bool unbounded{false};
  BasicPoint2<I> best;
};
using Oracle2Result = BasicOracle2Result<Integer>;
template <class I>
BasicOracle2Result<I> max_linear_2d(const std::vector<BasicRow2<I>>& rows, const I& lo, const I& hi, const I& u,
                                     const I& v);

/// max_linear_2d for fixed rows and any number of objectives: the lower envelope's pieces
/// and each piece's walk are computed once (they do not depend on u and v), a piece's walk
/// when an objective first needs it. Keeps pointers into `rows`, which must outlive it
/// unchanged. Not thread-safe (eval records walks and reuses buffers).
template <class I>
class Envelope2 {
 public:
  Envelope2() = default;
  Envelope2(const std::vector<BasicRow2<I>>& rows, const I& lo, const I& hi) { assign(rows, lo, hi); }
  /// Rebuilds for other rows, keeping the buffers' capacity.
  void assign(const std::vector<BasicRow2<I>>& rows, const I& lo, const I& hi);
  [[nodiscard]] BasicOracle2Result<I> eval(const I& u, const I& v) const;

  /// The envelope's corners: the top lattice point (x, floor of the active line) at both
  /// ends of every piece, in increasing x (the integer points nearest the vertices of
  /// the relaxation's upper boundary).
  template <class F>
  void for_each_corner(F&& visit) const {
    for (std::size_t i = 0; i < n_pieces_; ++i) {
      const auto& c = corners_[i];
      for (const I* x : {&c.s, &c.t}) visit(*x, floor_div(I(c.row->h - c.row->ax * *x), c.row->ay));
    }
  }

 private:
  struct Corner {
    I s, t;
    const BasicRow2<I>* row;
  };
  /// Piece i's walk, recorded on first use.
  const LinePlan<I>& piece(std::size_t i) const;
  I lo_{0}, hi_{0};
  bool has_lines_{false};
  std::vector<Corner> corners_;  // one per piece in use
  mutable std::vector<LinePlan<I>> walks_;   // the first n_walks_ in use, in the order they were needed
  mutable std::vector<std::size_t> walk_of_;  // per piece in use: its index in walks_, or kNoWalk
  mutable std::size_t n_walks_{0};
  static constexpr std::size_t kNoWalk = ~std::size_t{0};
  std::size_t n_pieces_{0};
  struct Bound {
    I value;
    std::size_t piece;
  };
  mutable std::vector<Bound> bounds_;  // eval's scratch
};

}  // namespace lorasplit::detail
