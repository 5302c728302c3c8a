#pragma once
// Exact integer programming in any dimension (docs/model.md §3.11): maximise c·t over the
// integer points t >= 0 of {a·t <= h}, by branch and bound over exact rational LP
// relaxations (BoxLp). Every bound is an exact rational; a node is closed when its LP is
// empty, when its LP optimum is integral, or when floor(LP optimum) cannot beat the
// incumbent (c·t is an integer at every integer point). The search is complete, so the
// point returned is a maximiser, and "no better point" is proved by the closed tree.
#include <lorasplit/rational.hpp>

#include <cstddef>
#include <optional>
#include <vector>

#include "solve/simplex.hpp"

namespace lorasplit::detail {

/// A box [0, upper] that holds every point t >= 0 of {a·t <= h} (integer rows over n
/// variables), from the rows that bound a column alone and, for the others, Hadamard's
/// bound tightened by exact LPs. `integer`: only integer points need to lie in it (bounds
/// rounded down); else every real point (rounded up).
struct PolytopeBox {
  bool unbounded{false};  ///< a direction no row bounds
  bool empty{false};      ///< no point t >= 0 at all (real points when !integer)
  std::vector<Integer> upper;
};
PolytopeBox polytope_box(const std::vector<std::vector<Integer>>& a, const std::vector<Integer>& h, std::size_t n,
                         bool integer);

struct BnbResult {
  bool feasible{false};
  std::vector<Integer> t;  ///< a maximiser (when feasible)
  Integer value{0};        ///< c·t at it
  long nodes{0};           ///< LPs solved
  long pivots{0};          ///< dual simplex pivots over all nodes
};

/// The rows of one linear case over its free columns, and the box every integer point
/// lies in; built once, then maximise() for each objective (each Dinkelbach subproblem).
class BranchAndBound {
 public:
  /// Rows a[i]·t <= h[i] over n variables, t >= 0. `integer_box`: the box need only hold
  /// the integer points (false for a mixed-integer program).
  BranchAndBound(std::vector<std::vector<Integer>> a, std::vector<Integer> h, std::size_t n,
                 bool integer_box = true);
  /// The same rows with the box [0, upper] given by the caller, who guarantees that every
  /// point of interest lies in it (the rows then need not bound each column alone).
  BranchAndBound(std::vector<std::vector<Integer>> a, std::vector<Integer> h, std::vector<Integer> upper);
  /// No row bounds some direction: the maximum may not exist.
  [[nodiscard]] bool unbounded() const { return unbounded_; }
  /// Proved to hold no point (a row that no t >= 0 meets, or an empty relaxation).
  [[nodiscard]] bool empty() const { return empty_; }
  /// The box [0, upper] that holds every point of the polytope (exact upper bounds).
  [[nodiscard]] const std::vector<Integer>& upper() const { return upper_; }

  /// max c·t over the points whose variables have integer[j] > 0 integer (the others
  /// real): a mixed-integer program. Only integer variables are branched on, those of the
  /// highest integer[j] first (indicators before counts); a node is closed when its LP
  /// value does not exceed the incumbent's, or `cutoff` (a value known to be reachable:
  /// then "not feasible" means that nothing beats it). Exact: point and value are rationals.
  ///
  /// `relative_gap` (>= 0): a node whose LP value exceeds the best known value v by at most
  /// relative_gap * |v| is closed too, its value kept in `bound`; `node_limit` (> 0): the
  /// search stops after that many LPs, the open nodes' parents' LP values kept in `bound`.
  /// `bound` is then an exact upper bound on the maximum (the value itself when the tree
  /// closed with no gap: `complete`).
  struct MixedResult {
    bool feasible{false};
    std::vector<Rational> t;
    Rational value;
    long nodes{0}, pivots{0};
    Rational bound;         ///< no point has c·t above it (when feasible or a cutoff was given)
    bool complete{true};    ///< every node closed without the gap or the limit
  };
  MixedResult maximize_mixed(const std::vector<Integer>& c, const std::vector<int>& integer,
                             const std::optional<Rational>& cutoff, const Rational& relative_gap = Rational(0),
                             long node_limit = 0) const;

  /// max c·t over the integer points; `incumbent` (a point and its value c·t) is kept when
  /// nothing beats it, so only strictly better points are searched for.
  BnbResult maximize(const std::vector<Integer>& c,
                     const std::optional<std::pair<std::vector<Integer>, Integer>>& incumbent) const;

 private:
  std::size_t branch_variable(const BoxLp& lp, const std::vector<int>& integer) const;
  std::vector<std::vector<Integer>> a_;
  std::vector<Integer> h_;
  std::size_t n_;
  std::vector<Integer> upper_;
  bool unbounded_{false};
  bool empty_{false};
};

}  // namespace lorasplit::detail
