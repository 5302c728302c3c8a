#pragma once
// The models (docs/model.md): the seed model of the formulation (§1: three integer batch
// sizes, four stage times, two synchronisation rows and four GPU-memory rows, all affine
// in (b1, b2, b3) with exact rational coefficients) and the pipeline model (§7), a union
// of such linear cases (one per set of used paths and per stage regime).

#include <lorasplit/params.hpp>
#include <lorasplit/rational.hpp>
#include <lorasplit/status.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lorasplit {

/// A split of the batch: tokens on each column of the model, in the order of
/// Model::columns. The seed and pipeline models have three columns:
///  b[0] = b1: both stages on the GPU;
///  b[1] = b2: stage 1 (X·A) on the CXL device, Y sent back, stage 2 (Y·B) on the GPU;
///  b[2] = b3: both stages on the CXL device.
struct Plan {
  std::vector<std::int64_t> b;
  [[nodiscard]] std::size_t size() const { return b.size(); }
  /// The total; for a plan that validate_plan() accepts (or one the solver returned).
  [[nodiscard]] std::int64_t tokens() const {
    std::int64_t sum = 0;
    for (const auto x : b) sum += x;
    return sum;
  }
  friend bool operator==(const Plan&, const Plan&) = default;
};

/// A plan from outside (a user, a file, Python) before anything is built from it: every
/// entry non-negative and the total at most 2^62 tokens (so that sums of a few totals
/// still fit 64 bits). Errors name the argument `plan`.
Status validate_plan(const Plan& plan);

/// A point with exact rational coordinates (a continuous-domain split, or an integer one).
using Point = std::vector<Rational>;
Point to_point(const Plan& plan);

/// sum_j coef[j]*b[j] + constant, in the unit of the quantity; coef has one entry per column.
struct Affine {
  std::vector<Rational> coef;
  Rational constant;
  Affine() = default;
  /// The zero form over `columns` columns.
  explicit Affine(std::size_t columns) : coef(columns) {}
  Affine(std::vector<Rational> c, Rational k) : coef(std::move(c)), constant(std::move(k)) {}
  [[nodiscard]] Rational eval(const Plan& plan) const;
  [[nodiscard]] Rational eval(const Point& b) const;
  friend Affine operator+(const Affine& x, const Affine& y);
  friend Affine operator-(const Affine& x, const Affine& y);
};

/// One column of a model: the tokens that take one path (of one adapter, later).
struct Column {
  std::string name;         ///< e.g. "b1"
  std::string description;  ///< e.g. "both stages on the GPU"
};

enum class RowKind {
  kSync,    ///< the device finishes a stage within the GPU's time for it
  kMemory,  ///< a GPU-memory row
  kLimit,   ///< a user bound: lora.max_batch_tokens, lora.max_batch_latency_s
  kCase,    ///< pipeline only: which term is the largest in a stage (delimits a linear case)
};

/// lhs(b) <= rhs(b).
struct Constraint {
  std::string name;         ///< stable identifier, e.g. "sync_s1", "mem_s2"
  RowKind kind;
  std::string formula;      ///< the row as the formulation writes it
  std::string description;  ///< what it means physically
  std::string unit;         ///< "s", "B" or "tokens"
  Affine lhs;
  Affine rhs;
};

enum class Domain {
  kInteger,     ///< b1, b2, b3 in {0, k, 2k, ...} (k = lora.block_tokens)
  kBinary,      ///< b1, b2, b3 in {0, k} (the formulation's text calls them binary; k = 1 by default)
  kContinuous,  ///< b1, b2, b3 real >= 0: the LP relaxation, an upper bound on every integer split
};

std::string_view to_string(Domain domain);

/// The time of one stage on each side [s], affine in the plan.
struct StageTimes {
  std::string name;  ///< "s1", "s2", ...
  Affine gpu;        ///< T_GPU of the stage
  Affine device;     ///< T_CXL of the stage (pipeline: the device's largest term in this case)
};

/// One linear model: the seed model, or one case of the pipeline model.
struct Model {
  std::string name;                  ///< "seed" or "pipeline"
  std::vector<Column> columns;       ///< the plan's entries, in order
  Affine tokens;                     ///< b1 + b2 + b3 [tokens]
  std::vector<StageTimes> stages;    ///< in order (seed and pipeline: s1, s2)
  Affine batch_time;                 ///< the objective's denominator [s] (seed: T_GPU_S1 + T_GPU_S2)
  std::vector<Constraint> constraints;
  std::int64_t block_tokens{1};      ///< every b_i is a multiple of this (integer and binary domains)
  /// Which columns this case uses, one entry per column: -1 any b_i >= 0 (seed), 0 b_i = 0,
  /// 1 b_i >= one block.
  std::vector<int> support;
  std::string case_name;             ///< pipeline: e.g. "b1 b3 | s1 gpu | s2 cxl.compute"; empty for seed
  [[nodiscard]] std::size_t size() const { return columns.size(); }
};

/// A model as the solver sees it: the union of linear cases (one for the seed model).
/// A plan is feasible when some case holds it; its throughput is that case's ratio.
struct Formulation {
  std::string name;                  ///< "seed" or "pipeline"
  std::vector<Model> cases;
};

/// The columns b1, b2, b3 of the seed and pipeline models.
std::vector<Column> three_path_columns();
/// Builds the seed model from (validated) parameters.
Model build_seed_model(const Params& params);
/// Builds the pipeline model's cases (docs/model.md §7) from (validated) parameters.
Formulation build_pipeline_model(const Params& params);
/// The model that model.name selects.
Formulation build_model(const Params& params);

/// The case that holds `plan` (support and every row, case rows included); nullptr when
/// no case does (the plan is infeasible).
const Model* case_of(const Formulation& f, const Plan& plan);
const Model* case_of(const Formulation& f, const Point& b);
/// The case whose support and case rows match `plan`, physical rows not checked: the
/// one whose formulas describe the plan's times (used for baselines); nullptr if none.
const Model* describing_case(const Formulation& f, const Plan& plan);
bool is_feasible(const Formulation& f, const Plan& plan);
/// Throughput of `plan` by the formulas of its describing case (0 if none or empty).
Rational throughput_tokens_per_s(const Formulation& f, const Plan& plan);

/// True iff every constraint holds exactly, every b is >= 0 and a multiple of the block.
bool is_feasible(const Model& model, const Plan& plan);
/// True iff every constraint holds exactly and every b is >= 0 (no integrality).
bool is_feasible(const Model& model, const Point& b);

/// Exact throughput b/(T_GPU_S1+T_GPU_S2) in tokens/s; 0 for the empty plan.
Rational throughput_tokens_per_s(const Model& model, const Plan& plan);
Rational throughput_tokens_per_s(const Model& model, const Point& b);

}  // namespace lorasplit
