#pragma once
// The serving planner's integer program of one stage (docs/model.md §9.7), as the exact
// branch and bound solves it: integer rows a·x <= h over the box [0, upper], minimise the
// stage time. Exposed for the benchmarks, which hand the same program to CBC.
#include <lorasplit/serving.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace lorasplit::detail {

struct ServingStageMip {
  std::vector<std::vector<Integer>> a;  ///< rows, each scaled by the lcm of its denominators
  std::vector<Integer> h;
  std::vector<Integer> upper;           ///< the box [0, upper] of every variable
  /// 0: a real (a duration or the stage time [s]); 1: a class's token total; 2: a class's
  /// reader count; 3: a run flag (0 or 1). The exact-LP search branches on 3 first.
  std::vector<int> priority;
  std::size_t stage_time{0};            ///< the variable minimised [s]
  std::size_t classes{0};               ///< classes of identical adapters with tokens here

  /// What the compact LP (docs/model.md §9.7) needs to know of the program's structure.
  /// Without it the search solves the program's own LP relaxation.
  struct Compact {
    /// The readers of a class, in the order of `Class::u`: A on the GPU (tokens G = N - P -
    /// C), B on the GPU (G + P), A on the device (P + C), B on the device (C), adapters on
    /// path p (P).
    struct Class {
      std::size_t p{0}, c{0};           ///< its token totals' variables
      std::array<std::size_t, 5> u{};   ///< its reader counts' variables
      std::int64_t n{0}, k{0};          ///< tokens per adapter, adapters
      bool device{true};                ///< paths p and c are open to it
      bool cxl{false};                  ///< its weights are only in the device's memory
    };
    std::vector<Class> classes;
    /// Per row: -1 a timing row (a duration's or the stage time's), -2 a run flag's row, >= 0
    /// a row of that class.
    std::vector<int> row_tag;
    /// The run flags: shrink_gpu, expand_gpu (always 1 here), shrink_cxl (with x_in),
    /// expand_cxl (with z_back), fetch, y_back.
    std::array<std::size_t, 6> flags{};
  };
  std::optional<Compact> compact;
};

/// The plan of a class of k adapters of n tokens each from its totals P and C (G = k n -
/// P - C): per adapter (g, p, c), each summing to n, with the fewest readers of each matrix
/// (ceil(G/n) adapters with g > 0, ceil((G+P)/n) with g + p > 0, ceil((P+C)/n) with
/// p + c > 0, ceil(C/n) with c > 0; docs/model.md §9.7).
std::vector<std::array<std::int64_t, 3>> class_plan(std::int64_t k, std::int64_t n, std::int64_t p, std::int64_t c);

/// The exact time of the plan an integer point of the program stands for (its classes'
/// totals, with the fewest readers), or nothing when its totals are not a plan. `beat`,
/// when given: the search only uses a value below it, so the caller may answer nothing for
/// a plan it can tell (in double precision, with a margin) is not below it. The search
/// gives none where its use would close a node (no screen can lose a plan there).
using StagePointValue =
    std::function<std::optional<Rational>(const std::vector<Integer>& x, const Rational* beat)>;

/// A proposal from a relaxation's point (the double LP's values of every variable): an
/// integer point whose plan the caller found near it (by local search; `thorough`: with
/// restarts), or nothing. It only proposes: the search evaluates the point exactly before it
/// uses it.
using StageProposal =
    std::function<std::optional<std::vector<Integer>>(const std::vector<double>& x, bool thorough)>;

struct StageSearchResult {
  bool found{false};       ///< a plan better than the incumbent given
  std::vector<Integer> x;  ///< its point (the integer variables; the times 0)
  Rational value;          ///< its exact stage time [s] (the incumbent's when !found)
  Rational bound;          ///< no plan of the stage is below it [s] (exact)
  bool complete{true};     ///< every node closed without the gap or the node limit
  bool node_limit_hit{false};  ///< the node limit stopped the search
  long nodes{0};           ///< nodes (an LP in double precision each)
  long pivots{0};          ///< their dual simplex pivots
  long basis_bounds{0};    ///< nodes whose double LP's basis was solved exactly for its duals
  long exact_lps{0};       ///< nodes decided by the exact rational LP
  long exact_pivots{0};    ///< its pivots
  long fixed_bounds{0};    ///< integer bounds moved by reduced-cost fixing
};

/// Minimises the stage time over the program (docs/model.md §9.7): branch and bound in
/// which LPs in double precision propose and exact bounds decide. Times lie in
/// [0, time_upper_s]; only plans strictly better than `incumbent` (a plan's exact time)
/// are searched for; `value` gives the exact time of the plan at an integer point.
/// `reduced_cost_fixing`: shrink each branching node's integer boxes by its exact bound's
/// reduced costs (the children inherit them; only points no better than the incumbent are
/// removed, so the optimum is the same either way, the tree not).
StageSearchResult search_stage(const ServingStageMip& mip, const Rational& time_upper_s, const Rational& incumbent,
                               const StagePointValue& value, const Rational& relative_gap, long node_limit,
                               bool reduced_cost_fixing, const StageProposal* propose = nullptr);

/// The program of stage s; `upper_s` bounds every duration (GPU-only's stage time [s]).
ServingStageMip serving_stage_mip(const ServingWorkload& w, const ServingHardware& hw, ServingStage s,
                                  const Rational& upper_s);

}  // namespace lorasplit::detail
