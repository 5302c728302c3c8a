#pragma once
// A description turned into the model's rows, still symbolic (every coefficient an Expr
// of the parameters): the cases, their stage times, rows and objective. Evaluated exactly
// into a Formulation (build_model), or into fixed-width integers by the fast path.
#include <lorasplit/describe.hpp>
#include <lorasplit/model.hpp>

#include <string>
#include <vector>

namespace lorasplit::detail {

/// sum_j coef[j] b_j + constant, each an expression of the parameters.
struct SymAffine {
  std::vector<Expr> coef;
  Expr constant;
  SymAffine() = default;
  explicit SymAffine(std::size_t n) : coef(n) {}
  [[nodiscard]] Affine eval(const Params& p) const;
};
SymAffine operator+(const SymAffine& a, const SymAffine& b);
SymAffine operator-(const SymAffine& a, const SymAffine& b);

struct SymRow {
  std::string name;
  RowKind kind{RowKind::kMemory};
  std::string formula, description, unit;
  SymAffine lhs, rhs;
};

struct SymStage {
  std::string name;
  SymAffine gpu, device;
};

struct SymCase {
  std::vector<int> support;  ///< -1 any, 0 unused, 1 used (one per column)
  std::string case_name;
  SymAffine tokens;
  std::vector<SymStage> stages;
  SymAffine batch_time;
  std::vector<SymRow> rows;
};

struct SymFormulation {
  std::string name;
  std::vector<Column> columns;
  std::vector<SymCase> cases;
};

/// The cases of a description (docs/model.md §0.3): one, or one per set of used columns
/// and choice of each stage's largest device term (and, relaxed, of its bound side).
SymFormulation formulate(const Description& description);

/// Only the cases that can describe `plan` (those of its set of used columns; the one
/// case of a description without cases), evaluated at `params`: what the simulator
/// compares a plan with, without formulating every other support.
Formulation build_model_for(const Description& description, const Params& params, const Plan& plan);

/// One case evaluated at `params`.
Model evaluate(const SymFormulation& f, const SymCase& c, const Params& params);

}  // namespace lorasplit::detail
