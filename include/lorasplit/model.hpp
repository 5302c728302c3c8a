#pragma once
// The seed model of the formulation (shared/seed, docs/model.md §1): three integer batch
// sizes, four stage times, two synchronisation rows and four GPU-memory rows, all affine
// in (b1, b2, b3) with exact rational coefficients.

#include <lorasplit/params.hpp>
#include <lorasplit/rational.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lorasplit {

/// A split of the batch: tokens on each path.
///  b[0] = b1: both stages on the GPU;
///  b[1] = b2: stage 1 (X·A) on the CXL device, Y sent back, stage 2 (Y·B) on the GPU;
///  b[2] = b3: both stages on the CXL device.
struct Plan {
  std::array<std::int64_t, 3> b{0, 0, 0};
  [[nodiscard]] std::int64_t tokens() const { return b[0] + b[1] + b[2]; }
  friend bool operator==(const Plan&, const Plan&) = default;
};

/// coef[0]*b1 + coef[1]*b2 + coef[2]*b3 + constant, in the unit of the quantity.
struct Affine {
  std::array<Rational, 3> coef;
  Rational constant;
  [[nodiscard]] Rational eval(const Plan& plan) const;
  [[nodiscard]] Rational eval(const std::array<Rational, 3>& b) const;
  friend Affine operator+(const Affine& x, const Affine& y);
  friend Affine operator-(const Affine& x, const Affine& y);
};

enum class RowKind {
  kSync,    ///< the device finishes a stage within the GPU's time for it
  kMemory,  ///< a GPU-memory row
  kLimit,   ///< a user bound: lora.max_batch_tokens, lora.max_batch_latency_s
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

struct Model {
  std::string name;                  ///< "seed"
  Affine tokens;                     ///< b1 + b2 + b3 [tokens]
  Affine gpu_s1, cxl_s1, gpu_s2, cxl_s2;  ///< stage times [s]
  Affine batch_time;                 ///< T_GPU_S1 + T_GPU_S2 [s], the objective's denominator
  std::vector<Constraint> constraints;
  std::int64_t block_tokens{1};      ///< every b_i is a multiple of this (integer and binary domains)
};

/// A point with exact rational coordinates (a continuous-domain split, or an integer one).
using Point = std::array<Rational, 3>;
Point to_point(const Plan& plan);

/// Builds the seed model from (validated) parameters.
Model build_seed_model(const Params& params);

/// True iff every constraint holds exactly, every b is >= 0 and a multiple of the block.
bool is_feasible(const Model& model, const Plan& plan);
/// True iff every constraint holds exactly and every b is >= 0 (no integrality).
bool is_feasible(const Model& model, const Point& b);

/// Exact throughput b/(T_GPU_S1+T_GPU_S2) in tokens/s; 0 for the empty plan.
Rational throughput_tokens_per_s(const Model& model, const Plan& plan);
Rational throughput_tokens_per_s(const Model& model, const Point& b);

}  // namespace lorasplit
