#pragma once
// Independent references for the solver tests. Nothing here uses the solver's integer
// scaling, presolve or lattice walks: plans are checked on the model's exact rational
// rows, one by one.
#include <lorasplit/lorasplit.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace lorasplit::testing {

/// Trial counts of the heavy randomized tests are divided by this under AddressSanitizer
/// (LORASPLIT_SANITIZED, set by the build), where every GMP allocation costs ten times
/// more: the sanitizer run is about memory errors, the plain run about coverage.
#ifdef LORASPLIT_SANITIZED
inline constexpr int kSanitizerDivisor = 4;
#else
inline constexpr int kSanitizerDivisor = 1;
#endif

struct Reference {
  bool feasible{false};
  Rational best;             ///< best exact throughput over all feasible non-empty plans
  std::vector<Plan> argmax;  ///< every plan that reaches it
};

/// Exhaustive search over all b, multiples of `step`, with b1 + b2 + b3 <= total (a bound
/// the caller takes from the mem_x row) and each b_i <= each_max (the block for binary).
inline Reference exhaustive(const Model& model, std::int64_t total, std::int64_t each_max = INT64_MAX,
                            std::int64_t step = 1) {
  Reference ref;
  for (std::int64_t b1 = 0; b1 <= std::min(total, each_max); b1 += step) {
    for (std::int64_t b2 = 0; b1 + b2 <= total && b2 <= each_max; b2 += step) {
      for (std::int64_t b3 = 0; b1 + b2 + b3 <= total && b3 <= each_max; b3 += step) {
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
  return floor_of(p.gpu_memory_bytes() / (p.element_bytes() * p.d())).get_si();
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

/// Adds the seed-family variants to a random small instance: efficiencies, a block size,
/// a batch-size bound and a batch-latency bound, each present about half the time.
inline void add_random_variants(std::mt19937_64& rng, Params& p) {
  auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  if (pick(0, 1) == 1) p.set(ParamId::kGpuEfficiency, make_rational(pick(1, 10), 10));
  if (pick(0, 1) == 1) p.set(ParamId::kCxlEfficiency, make_rational(pick(1, 4), 4));
  if (pick(0, 1) == 1) p.set(ParamId::kLoraBlockTokens, pick(1, 3));
  if (pick(0, 2) == 1) p.set(ParamId::kLoraMaxBatchTokens, pick(3, 20));
  if (pick(0, 2) == 1) {
    // T_max between 1 and 12 GPU tokens' worth of batch time (2 gamma per b1 token).
    const Rational gamma = 2 * p.d() * p.r() / (p.gpu_flops() * p.gpu_efficiency());
    p.set(ParamId::kLoraMaxBatchLatencyS, gamma * make_rational(pick(2, 24), pick(1, 2)));
  }
  // Keep the instance valid: one block must fit memory and the batch bound.
  const Rational fit = p.gpu_memory_bytes() / (p.element_bytes() * p.d());
  if (p.block_tokens() > fit) p.set(ParamId::kLoraBlockTokens, 1);
  if (p.has(ParamId::kLoraMaxBatchTokens) && p.block_tokens() > p.get(ParamId::kLoraMaxBatchTokens)) {
    p.set(ParamId::kLoraBlockTokens, 1);
  }
}

/// Continuous optimum by brute-force vertex enumeration of the *original* 3-D model (all
/// six or more rows and b >= 0; every triple of planes, Cramer's rule), independent of the
/// solver's presolve and LP code. nullopt when no vertex has positive batch time.
inline std::optional<Rational> lp_reference(const Model& model) {
  struct Plane {
    std::array<Rational, 3> a;
    Rational h;
  };
  std::vector<Plane> planes;
  for (const auto& c : model.constraints) {
    const Affine g = c.lhs - c.rhs;
    planes.push_back({{g.coef[0], g.coef[1], g.coef[2]}, -g.constant});
  }
  for (std::size_t j = 0; j < 3; ++j) {
    Plane p{{0, 0, 0}, 0};
    p.a[j] = -1;
    planes.push_back(p);
  }
  const auto det3 = [](const std::array<std::array<Rational, 3>, 3>& m) -> Rational {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  };
  std::optional<Rational> best;
  const std::size_t n = planes.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      for (std::size_t k = j + 1; k < n; ++k) {
        const std::array<std::array<Rational, 3>, 3> m = {planes[i].a, planes[j].a, planes[k].a};
        const Rational det = det3(m);
        if (det == 0) continue;
        Point x(3);
        for (std::size_t col = 0; col < 3; ++col) {
          auto mc = m;
          mc[0][col] = planes[i].h;
          mc[1][col] = planes[j].h;
          mc[2][col] = planes[k].h;
          x[col] = det3(mc) / det;
        }
        if (!is_feasible(model, x)) continue;
        const Rational t = model.batch_time.eval(x);
        if (t <= 0) continue;
        const Rational thr = model.tokens.eval(x) / t;
        if (!best || thr > *best) best = thr;
      }
    }
  }
  return best;
}

}  // namespace lorasplit::testing
