#pragma once
// Independent references for the solver tests. Nothing here uses the solver's integer
// scaling, presolve or lattice walks: plans are checked on the model's exact rational
// rows, one by one.
#include <lorasplit/lorasplit.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <random>
#include <vector>

namespace lorasplit::testing {

struct Reference {
  bool feasible{false};
  Rational best;             ///< best exact throughput over all feasible non-empty plans
  std::vector<Plan> argmax;  ///< every plan that reaches it
};

/// Exhaustive search over all b with b1 + b2 + b3 <= total (a bound the caller takes
/// from the mem_x row) and each b_i <= each_max (1 for the binary domain).
inline Reference exhaustive(const Model& model, std::int64_t total, std::int64_t each_max = INT64_MAX) {
  Reference ref;
  for (std::int64_t b1 = 0; b1 <= std::min(total, each_max); ++b1) {
    for (std::int64_t b2 = 0; b1 + b2 <= total && b2 <= each_max; ++b2) {
      for (std::int64_t b3 = 0; b1 + b2 + b3 <= total && b3 <= each_max; ++b3) {
        const Plan plan{{b1, b2, b3}};
        if (plan.tokens() == 0 || !is_feasible(model, plan)) continue;
        const Rational t = model.batch_time.eval(plan);
        if (t <= 0) continue;
        const Rational thr = model.tokens.eval(plan) / t;
        if (!ref.feasible || thr > ref.best) {
          ref.feasible = true;
          ref.best = thr;
          ref.argmax.clear();
        }
        if (thr == ref.best) ref.argmax.push_back(plan);
      }
    }
  }
  return ref;
}

/// Largest total batch the mem_x row allows: floor(M / (e*d)).
inline std::int64_t total_bound(const Params& p) {
  const Rational n = p.gpu_memory_bytes() / (p.element_bytes() * p.d());
  Integer q;
  mpz_fdiv_q(q.get_mpz_t(), n.get_num_mpz_t(), n.get_den_mpz_t());
  return q.get_si();
}

/// Random small instance whose feasible set has at most `max_total` tokens per plan.
/// Times are small rationals so that ties and exactly-tight rows occur often.
inline Params random_small_instance(std::mt19937_64& rng, int max_total) {
  auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Params p;
  const std::int64_t e = std::array<std::int64_t, 3>{1, 2, 4}[static_cast<std::size_t>(pick(0, 2))];
  const std::int64_t d = pick(1, 48);
  const std::int64_t r = pick(1, std::min<std::int64_t>(d, 6));
  const std::int64_t total = pick(1, max_total);
  p.set(ParamId::kLoraElementBytes, e);
  p.set(ParamId::kLoraD, d);
  p.set(ParamId::kLoraR, r);
  // M between e*d*total and e*d*(total+1)-1: mem_x allows exactly `total` tokens; the
  // other memory rows cut in when the adapter terms are large.
  p.set(ParamId::kGpuMemoryBytes, Rational(e * d * total + pick(0, e * d - 1)));
  // GPU time per token and stage 1/G, device compute 1/C, X transfer 1/B, latency L.
  const std::int64_t g = pick(1, 9), c = pick(1, 9), b = pick(1, 12);
  p.set(ParamId::kGpuFlops, Rational(2 * d * r * g));
  p.set(ParamId::kCxlFlops, Rational(2 * d * r * c) / pick(1, 3));
  p.set(ParamId::kLinkBandwidthBytesPerS, Rational(e * d * b) / pick(1, 2));
  p.set(ParamId::kLinkLatencyS, make_rational(pick(0, 8), pick(2, 9)));
  return p;
}

}  // namespace lorasplit::testing
