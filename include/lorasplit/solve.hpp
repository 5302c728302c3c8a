#pragma once
// Exact maximisation of throughput = tokens / batch_time over integer (or binary) splits.
//
// Method (docs/model.md §3): every row is scaled to integers; a presolve removes rows
// implied by others and fixes columns dominated by others (both proved by exact
// comparisons); the remaining problem is solved by Dinkelbach iterations whose integer
// subproblems are solved exactly by a lattice-path (Euclid-like) algorithm in O(log)
// steps. The optimum is certified by the last subproblem: max (N - λ* D) = 0 over all
// integer feasible splits, where λ* is the returned throughput.

#include <lorasplit/model.hpp>
#include <lorasplit/rational.hpp>
#include <lorasplit/status.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lorasplit {

struct SolveOptions {
  Domain domain{Domain::kInteger};
  /// Forces b_j = 0 for the columns marked true (baselines: "best with b3 = 0", "CXL only");
  /// empty, or one entry per column of the model.
  std::vector<bool> force_zero{};
  /// Also compute the continuous-relaxation bound for the certificate. Internal solves
  /// whose certificate nobody reads (sweeps, baselines, sensitivity, studies) turn it off.
  bool relaxation_bound{true};
  /// Record the solver's path in the certificate (its subproblems, λ path, presolve
  /// reductions, reduced problem). Off, the certificate keeps λ*, the final subproblem's
  /// maximum (still the proof of optimality) and the iteration counts, and a seed-model
  /// integer solve from parameters may take the fixed-width fast path (docs/model.md §3.10).
  bool explain{true};
  /// Allow the fixed-width fast path (the tests turn it off to compare the two paths).
  bool fast_path{true};
};

/// What the solve found (separate from whether the call worked, as in HiGHS).
enum class SolveStatus { kOptimal, kInfeasible };
std::string_view to_string(SolveStatus status);

/// One exact reduction of the presolve (docs/model.md §3.2), with its proof.
struct PresolveReduction {
  enum class Kind {
    kImpliedRow,       ///< row `row` is implied by row `by_row` (row <= multiplier * by_row): removed
    kDominatedColumn,  ///< column `column` is dominated by `by_column`: fixed to 0
  };
  Kind kind{Kind::kImpliedRow};
  std::string row, by_row;  ///< kImpliedRow
  Rational multiplier;      ///< kImpliedRow: the mu > 0 of the proof
  std::size_t column{0}, by_column{0};  ///< kDominatedColumn: indices into the model's columns
};
/// The reduction in words, e.g. "row sync_s2 is implied by row sync_s1 for all b >= 0
/// (multiplier 1): removed"; `columns` names the columns.
std::string to_string(const PresolveReduction& reduction, const std::vector<Column>& columns);

/// The integer form one linear case was solved in (docs/model.md §3.1, §3.8): the
/// columns in blocks, b_j = block_tokens * (offset_j + y_j) with integer y_j >= 0 (offset 1
/// for a path the case requires), every row a·y <= h with primitive integer a and h
/// rounded down, and the objective (p·y + p0) / (q·y + q0), which equals the throughput
/// times scale_n / scale_d.
struct IntegerForm {
  struct Row {
    std::string name;
    std::vector<Integer> a;  ///< one coefficient per column
    Integer h;               ///< right-hand side, rounded down (exact for integer y)
    bool removed{false};     ///< removed by presolve (implied by another row)
  };
  std::int64_t block_tokens{1};
  std::vector<int> offset;       ///< per column, 0 or 1
  std::vector<bool> fixed_zero;  ///< per column: fixed to 0 by the case, the caller or presolve
  std::vector<Row> rows;
  std::vector<Integer> p, q;     ///< objective coefficients per column
  Integer p0, q0, scale_n, scale_d;
};

/// Why the returned plan is optimal.
struct Certificate {
  std::string method;                   ///< e.g. "presolve + Dinkelbach over exact 2-D integer subproblems"
  int iterations{0};                    ///< Dinkelbach iterations (subproblems solved)
  /// Proven upper bound on `iterations` for this instance (docs/model.md §3.4):
  /// 2 + floor(log4(N(x1) * D(x1)^2)) in the solver's integer units; 0 when not applicable.
  int iteration_bound{0};
  Rational lambda_tokens_per_s;         ///< λ*: the certified optimum
  /// max over all integer feasible b of tokens(b) - λ*·batch_time(b), in tokens; 0 proves λ* optimal.
  Rational final_subproblem_max;
  /// Optimum of the continuous relaxation: no split of any kind beats it.
  std::optional<Rational> relaxation_bound_tokens_per_s;
  std::vector<PresolveReduction> presolve;  ///< reductions applied, each with its proof
  std::vector<Rational> lambda_path;    ///< throughput after each Dinkelbach iteration
  /// The solver's path: for each subproblem, the λ it was solved at (tokens/s), its
  /// maximiser and its maximum of tokens - λ·batch_time (tokens).
  struct Step {
    Rational lambda_tokens_per_s;
    Plan argmax;
    Rational max_tokens;
  };
  std::vector<Step> steps;
  std::string reduced_problem;          ///< the problem the subproblems were solved on, in words
  /// Pipeline model: how each linear case was settled (its optimum, or why it cannot win).
  std::vector<std::string> cases;
  /// True when the fixed-width (128-bit, overflow-checked) fast path produced this answer.
  bool fixed_width{false};
  /// With SolveOptions::explain: the integer form the solver used for the case that holds
  /// the optimum (infeasible: for the first case), as presolve left it. `explain` lists it.
  std::optional<IntegerForm> integer_form;
};

struct SolveResult {
  SolveStatus status{SolveStatus::kInfeasible};
  Plan plan;                            ///< valid when status == kOptimal (zeros for the continuous domain)
  Point point;                          ///< the optimum, exact: equals plan, or the LP vertex when continuous
  Rational throughput_tokens_per_s;     ///< exact, valid when kOptimal
  Certificate certificate;
};

/// Solves `model` exactly. Errors only for structures the solver does not support
/// (kUnsupported) or broken invariants (kInternal); infeasibility is a SolveStatus.
Result<SolveResult> solve(const Model& model, const SolveOptions& options = {});
/// Solves a model given as a union of linear cases (the pipeline model): the best plan
/// over all cases, each case proved by its own Dinkelbach run (docs/model.md §7.4).
Result<SolveResult> solve(const Formulation& formulation, const SolveOptions& options = {});
/// Solves the model that (validated) `params` select. With `options.explain` and
/// `options.relaxation_bound` off, in the integer domain, a LeanSolver of the calling
/// thread solves it (below); otherwise the model is built and solved exactly in GMP.
Result<SolveResult> solve(const Params& params, const SolveOptions& options = {});

namespace detail {
struct LeanState;
struct LeanAccess;
}  // namespace detail

/// Solves one instance after another with the lean certificate (λ*, the final
/// subproblem's maximum 0 that proves it, the iteration counts; docs/model.md §3.10):
/// what sweeps, baselines and the sensitivity table use. The model's description is
/// formulated once per structure (the model and its switches); each case's integer rows
/// are built from the parameters in overflow-checked 128-bit integers, kept between
/// calls and rebuilt only when a parameter they read changes; the per-case driver runs in
/// 128 bits, a case in GMP where they do not suffice. The answer equals the general
/// solver's. Not thread-safe: one per thread.
class LeanSolver {
 public:
  LeanSolver();
  ~LeanSolver();
  LeanSolver(LeanSolver&&) noexcept;
  LeanSolver& operator=(LeanSolver&&) noexcept;
  LeanSolver(const LeanSolver&) = delete;
  LeanSolver& operator=(const LeanSolver&) = delete;

  /// Solves (validated) `params` into `out`, reusing its storage. With options.explain
  /// the certificate records the solver's path as the general solver's does (the same
  /// cases, rows and driver: the same certificate). Options the lean solver does not
  /// serve (relaxation_bound, another domain, or fast_path off) solve on the general path.
  Status solve(const Params& params, const SolveOptions& options, SolveResult& out);

 private:
  Status solve_explained(const Params& params, const SolveOptions& options, SolveResult& out, bool narrow_ok);
  friend struct detail::LeanAccess;
  std::unique_ptr<detail::LeanState> state_;
};

}  // namespace lorasplit
