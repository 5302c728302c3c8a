// Models of 4 to 12 columns (docs/model.md §3.11): the exact solver against exhaustive
// search, the branch-and-bound oracle against brute force, the exact LP against vertex
// enumeration.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <random>

#include "solve/bnb.hpp"
#include "solve/simplex.hpp"
#include "support/ncolumn.hpp"
#include "support/reference.hpp"

namespace lorasplit {
namespace {

using detail::BoxLp;
using detail::BranchAndBound;

// Every plan of whole blocks inside the model's demand box, checked exactly: the best
// throughput (nullopt when none is feasible) and how many plans reach it.
struct Exhaustive {
  std::optional<Rational> best;
  int ties{0};
  long plans{0};
};
Exhaustive exhaustive_n(const Model& m, const std::vector<std::int64_t>& box,
                        const testing::NColumnInstance* groups = nullptr) {
  Exhaustive out;
  const std::size_t n = m.size();
  Plan plan;
  plan.b.assign(n, 0);
  const std::int64_t k = m.block_tokens;
  // The group demands in machine integers first (most of the box breaks them).
  const auto within_demands = [&]() {
    if (groups == nullptr) return true;
    for (std::size_t g = 0; g < groups->groups.size(); ++g) {
      std::int64_t sum = 0;
      for (const auto j : groups->groups[g]) sum += plan.b[j];
      if (sum > groups->demand[g]) return false;
    }
    return true;
  };
  for (;;) {
    if (plan.tokens() > 0 && within_demands() && is_feasible(m, plan) && m.batch_time.eval(plan) > 0) {
      ++out.plans;
      const Rational t = throughput_tokens_per_s(m, plan);
      if (!out.best || t > *out.best) {
        out.best = t;
        out.ties = 1;
      } else if (t == *out.best) {
        ++out.ties;
      }
    }
    std::size_t j = 0;
    while (j < n && plan.b[j] + k > box[j]) plan.b[j++] = 0;
    if (j == n) break;
    plan.b[j] += k;
  }
  return out;
}

// max tokens/batch_time, N columns: equal to exhaustive search on every instance, the plan
// feasible in exact arithmetic, the certificate's last subproblem 0, infeasible instances
// reported as such. Some instances have symmetric groups (ties) and some a forced-zero
// column.
TEST(NColumn, RandomModelsEqualExhaustiveSearch) {
  std::mt19937_64 rng(2026);
  int feasible = 0, infeasible = 0, with_ties = 0, branched = 0, forced = 0;
  std::size_t widest = 0;
  for (int trial = 0; trial < 400 / testing::kSanitizerDivisor; ++trial) {
    const auto inst = testing::random_ncolumn_model(rng, trial);
    const Model& m = inst.model;
    SolveOptions o;
    if (trial % 7 == 3) {
      o.force_zero.assign(m.size(), false);
      o.force_zero[static_cast<std::size_t>(trial) % m.size()] = true;
      ++forced;
    }
    auto r = solve(m, o);
    ASSERT_TRUE(r.ok()) << "trial " << trial << ": " << r.error().message;
    Model restricted = m;
    for (std::size_t j = 0; j < o.force_zero.size(); ++j) {
      if (o.force_zero[j]) restricted.support[j] = 0;
    }
    const Exhaustive ref = exhaustive_n(restricted, inst.box, &inst);
    ASSERT_EQ(r->status == SolveStatus::kOptimal, ref.best.has_value()) << "trial " << trial;
    if (!ref.best) {
      ++infeasible;
      continue;
    }
    ++feasible;
    if (ref.ties > 1) ++with_ties;
    EXPECT_EQ(r->throughput_tokens_per_s, *ref.best) << "trial " << trial;
    EXPECT_TRUE(is_feasible(restricted, r->plan)) << "trial " << trial;
    EXPECT_EQ(throughput_tokens_per_s(m, r->plan), r->throughput_tokens_per_s);
    EXPECT_EQ(r->certificate.final_subproblem_max, 0) << "trial " << trial;
    EXPECT_LE(r->certificate.iterations, r->certificate.iteration_bound);
    ASSERT_TRUE(r->certificate.relaxation_bound_tokens_per_s.has_value());
    EXPECT_GE(*r->certificate.relaxation_bound_tokens_per_s, r->throughput_tokens_per_s);
    if (r->certificate.reduced_problem.find("branch and bound") != std::string::npos) ++branched;
    widest = std::max(widest, m.size());
  }
  // The family covers what it claims to: both outcomes, ties, the branch-and-bound oracle.
  EXPECT_GT(feasible, 40 / testing::kSanitizerDivisor);
  EXPECT_GT(infeasible, 4 / testing::kSanitizerDivisor);
  EXPECT_GT(with_ties, 4 / testing::kSanitizerDivisor);
  EXPECT_GT(branched, 20 / testing::kSanitizerDivisor);
  EXPECT_GT(forced, 0);
  EXPECT_EQ(widest, 12U);
}

// The binary and continuous domains over N columns: binary against its 2^N points,
// continuous against the exact vertex enumeration of the relaxation (small N).
TEST(NColumn, BinaryAndContinuousDomains) {
  std::mt19937_64 rng(77);
  int checked = 0;
  for (int trial = 0; checked < 60 / testing::kSanitizerDivisor && trial < 2000; ++trial) {
    const auto inst = testing::random_ncolumn_model(rng, trial, 5);
    const Model& m = inst.model;
    std::vector<std::int64_t> ones(m.size(), m.block_tokens);
    const Exhaustive bin = exhaustive_n(m, ones);
    auto rb = solve(m, SolveOptions{Domain::kBinary, {}});
    ASSERT_TRUE(rb.ok());
    ASSERT_EQ(rb->status == SolveStatus::kOptimal, bin.best.has_value()) << trial;
    if (bin.best) {
      EXPECT_EQ(rb->throughput_tokens_per_s, *bin.best);
    }
    auto rc = solve(m, SolveOptions{Domain::kContinuous, {}});
    ASSERT_TRUE(rc.ok());
    const auto lp = testing::lp_reference_n(m);
    ASSERT_EQ(rc->status == SolveStatus::kOptimal, lp.has_value()) << trial;
    if (!lp) continue;
    ++checked;
    EXPECT_EQ(rc->throughput_tokens_per_s, *lp) << trial;
    EXPECT_TRUE(is_feasible(m, rc->point)) << trial;
    auto ri = solve(m);
    ASSERT_TRUE(ri.ok());
    if (ri->status == SolveStatus::kOptimal) {
      EXPECT_LE(ri->throughput_tokens_per_s, *lp);
    }
  }
  EXPECT_EQ(checked, 60 / testing::kSanitizerDivisor);
}

// A random polytope in 4 to 7 dimensions, {t : 0 <= t <= cap, a·t <= h} (max_rows rows
// besides the box), an objective c, and the best c·t over its integer points by brute force.
struct RandomPolytope {
  std::size_t n{0};
  std::vector<std::vector<Integer>> a;
  std::vector<Integer> h;
  std::vector<long> cap;
  std::vector<Integer> c;
  std::optional<Integer> best;
};

RandomPolytope random_polytope(std::mt19937_64& rng, long max_cap, long max_rows) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  RandomPolytope p;
  p.n = static_cast<std::size_t>(pick(4, 7));
  const std::size_t n = p.n;
  p.cap.resize(n);
  for (std::size_t j = 0; j < n; ++j) {  // t_j <= cap_j
    p.cap[j] = pick(0, max_cap);
    std::vector<Integer> row(n, 0);
    row[j] = 1;
    p.a.push_back(row);
    p.h.emplace_back(p.cap[j]);
  }
  for (int r = 0; r < pick(1, max_rows); ++r) {
    std::vector<Integer> row(n);
    for (auto& x : row) x = pick(-4, 6);
    p.a.push_back(row);
    p.h.emplace_back(pick(-3, 12));
  }
  p.c.resize(n);
  for (auto& x : p.c) x = pick(-5, 9);
  std::vector<long> t(n, 0);
  for (;;) {
    bool ok = true;
    for (std::size_t i = 0; i < p.a.size() && ok; ++i) {
      Integer lhs = 0;
      for (std::size_t j = 0; j < n; ++j) lhs += p.a[i][j] * t[j];
      ok = lhs <= p.h[i];
    }
    if (ok) {
      Integer v = 0;
      for (std::size_t j = 0; j < n; ++j) v += p.c[j] * t[j];
      if (!p.best || v > *p.best) p.best = v;
    }
    std::size_t j = 0;
    while (j < n && t[j] == p.cap[j]) t[j++] = 0;
    if (j == n) break;
    ++t[j];
  }
  return p;
}

// The branch-and-bound oracle alone: max c·t over the integer points of random polytopes
// in 4 to 7 dimensions, against brute force over the box; with and without a point to beat.
TEST(NColumn, BranchAndBoundEqualsBruteForce) {
  std::mt19937_64 rng(5);
  int nonempty = 0;
  for (int trial = 0; trial < 300 / testing::kSanitizerDivisor; ++trial) {
    const RandomPolytope p = random_polytope(rng, 3, 4);
    const std::size_t n = p.n;
    const auto& [unused_n, a, h, cap, c, best] = p;
    const BranchAndBound bb(a, h, n);
    ASSERT_FALSE(bb.unbounded());
    const auto got = bb.maximize(c, std::nullopt);
    ASSERT_EQ(got.feasible, best.has_value()) << trial;
    if (!best) continue;
    ++nonempty;
    EXPECT_EQ(got.value, *best) << trial;
    Integer v = 0;
    for (std::size_t j = 0; j < n; ++j) {
      v += c[j] * got.t[j];
      EXPECT_GE(got.t[j], 0);
    }
    EXPECT_EQ(v, got.value);
    for (std::size_t i = 0; i < a.size(); ++i) {
      Integer lhs = 0;
      for (std::size_t j = 0; j < n; ++j) lhs += a[i][j] * got.t[j];
      EXPECT_LE(lhs, h[i]) << trial;
    }
    // Given the optimum as the point to beat, it is kept (nothing is strictly better).
    const auto again = bb.maximize(c, std::make_pair(got.t, got.value));
    EXPECT_EQ(again.value, *best);
    EXPECT_EQ(again.t, got.t);
  }
  EXPECT_GT(nonempty, 100 / testing::kSanitizerDivisor);
}

// The mixed-integer search (one LP for the whole tree, nodes as bounds; the serving model's
// planner) on the same random polytopes: every variable integer, the priorities drawn at
// random; it must equal brute force, keep a cutoff it cannot beat, and beat one it can.
// (Freed from a branch's bound, a variable must be put back on the bound its reduced cost
// pulls towards, else a node's LP stops short of its optimum and the tree is cut wrongly.)
TEST(NColumn, MixedBranchAndBoundEqualsBruteForce) {
  std::mt19937_64 rng(11);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  int nonempty = 0, early = 0;
  for (int trial = 0; trial < 400 / testing::kSanitizerDivisor; ++trial) {
    const RandomPolytope p = random_polytope(rng, 4, 5);
    const std::size_t n = p.n;
    const auto& [unused_n, a, h, cap, c, best] = p;
    std::vector<int> priority(n);
    for (auto& x : priority) x = static_cast<int>(pick(1, 2));
    const BranchAndBound bb(a, h, n, false);
    const auto got = bb.maximize_mixed(c, priority, std::nullopt);
    ASSERT_EQ(got.feasible, best.has_value()) << trial;
    if (!best) continue;
    ++nonempty;
    EXPECT_EQ(got.value, Rational(*best)) << trial;
    for (std::size_t i = 0; i < a.size(); ++i) {
      Rational lhs = 0;
      for (std::size_t j = 0; j < n; ++j) {
        EXPECT_EQ(got.t[j].get_den(), 1) << trial;
        lhs += Rational(a[i][j]) * got.t[j];
      }
      EXPECT_LE(lhs, Rational(h[i])) << trial;
    }
    EXPECT_FALSE(bb.maximize_mixed(c, priority, Rational(*best)).feasible) << trial;
    const auto beat = bb.maximize_mixed(c, priority, Rational(*best - 1));
    ASSERT_TRUE(beat.feasible) << trial;
    EXPECT_EQ(beat.value, Rational(*best)) << trial;
    // With a gap or a node limit the search may stop early: what it returns is a point of
    // the polytope no better than the optimum, and its bound is never below the optimum
    // (docs/model.md §9.7, "a certified gap instead of a proof").
    bool stopped = false;
    for (const Rational& gap : {Rational(0), Rational(1, 100), Rational(1, 2)}) {
      for (const long limit : {0L, 1L, 2L, 3L}) {
        const auto part = bb.maximize_mixed(c, priority, std::nullopt, gap, limit);
        ASSERT_TRUE(part.feasible || !part.complete) << trial;
        if (part.feasible) {
          EXPECT_LE(part.value, Rational(*best)) << trial;
        }
        EXPECT_GE(part.bound, Rational(*best)) << trial;
        if (part.complete) {
          EXPECT_EQ(part.value, Rational(*best)) << trial;
        }
        stopped = stopped || !part.complete;
      }
    }
    if (stopped) ++early;
  }
  EXPECT_GT(nonempty, 100 / testing::kSanitizerDivisor);
  EXPECT_GT(early, 10 / testing::kSanitizerDivisor);
}

// A polytope no row bounds is reported, not searched; a row no t >= 0 meets is empty.
TEST(NColumn, UnboundedAndEmptyPolytopes) {
  // t0 - t1 <= 1, t1 - t0 <= 1, t2 + t3 <= 2: t0 = t1 can grow without bound.
  const std::vector<std::vector<Integer>> a{{1, -1, 0, 0}, {-1, 1, 0, 0}, {0, 0, 1, 1}};
  const BranchAndBound bb(a, {1, 1, 2}, 4);
  EXPECT_TRUE(bb.unbounded());
  const BranchAndBound none({{1, 1, 1, 1}}, {-1}, 4);
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.maximize({1, 1, 1, 1}, std::nullopt).feasible);
}

// The exact LP: its optimum equals the best vertex (every 4-subset of the rows and the
// box's faces, Cramer's rule) on random polytopes in four variables.
TEST(NColumn, BoxLpEqualsVertexEnumeration) {
  std::mt19937_64 rng(19);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  for (int trial = 0; trial < 120 / testing::kSanitizerDivisor; ++trial) {
    const std::size_t n = 4;
    std::vector<std::vector<Integer>> a;
    std::vector<Integer> h;
    for (int r = 0; r < pick(1, 4); ++r) {
      std::vector<Integer> row(n);
      for (auto& x : row) x = pick(-5, 7);
      a.push_back(row);
      h.emplace_back(pick(-4, 20));
    }
    std::vector<Rational> lo(n), up(n);
    for (std::size_t j = 0; j < n; ++j) {
      lo[j] = Rational(pick(0, 2));
      up[j] = lo[j] + make_rational(pick(0, 5), pick(1, 3));
    }
    std::vector<Integer> c(n);
    for (auto& x : c) x = pick(-6, 6);
    BoxLp lp(a, h, lo, up);
    lp.set_objective(c);
    const auto status = lp.solve();
    // Reference: all planes (rows, and lo/up of each variable as rows), every 4-subset.
    std::vector<std::pair<std::vector<Rational>, Rational>> planes;
    for (std::size_t i = 0; i < a.size(); ++i) {
      std::vector<Rational> row(a[i].begin(), a[i].end());
      planes.emplace_back(row, Rational(h[i]));
    }
    for (std::size_t j = 0; j < n; ++j) {
      std::vector<Rational> e(n, Rational(0));
      e[j] = 1;
      planes.emplace_back(e, up[j]);
      e[j] = -1;
      planes.emplace_back(e, -lo[j]);
    }
    std::optional<Rational> best;
    const auto feasible = [&](const std::vector<Rational>& x) {
      for (const auto& [row, rhs] : planes) {
        Rational lhs = 0;
        for (std::size_t j = 0; j < n; ++j) lhs += row[j] * x[j];
        if (lhs > rhs) return false;
      }
      return true;
    };
    const std::size_t P = planes.size();
    for (std::size_t i0 = 0; i0 < P; ++i0) {
      for (std::size_t i1 = i0 + 1; i1 < P; ++i1) {
        for (std::size_t i2 = i1 + 1; i2 < P; ++i2) {
          for (std::size_t i3 = i2 + 1; i3 < P; ++i3) {
            std::vector<std::vector<Rational>> m;
            std::vector<Rational> rhs;
            for (const auto idx : {i0, i1, i2, i3}) {
              m.push_back(planes[idx].first);
              rhs.push_back(planes[idx].second);
            }
            const auto x = testing::solve_linear(m, rhs);
            if (!x || !feasible(*x)) continue;
            Rational v = 0;
            for (std::size_t j = 0; j < n; ++j) v += Rational(c[j]) * (*x)[j];
            if (!best || v > *best) best = v;
          }
        }
      }
    }
    ASSERT_EQ(status == BoxLp::Status::kOptimal, best.has_value()) << trial;
    if (best) {
      EXPECT_EQ(lp.value(), *best) << trial;
    }
  }
}

}  // namespace
}  // namespace lorasplit
