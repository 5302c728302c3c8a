// The fixed-width fast path (docs/model.md §3.10). Every arithmetic operation on Int128
// is overflow-checked; an Overflow anywhere abandons the fast path and the general
// (GMP) solver runs instead, so the fast path changes the time of a solve, never its
// answer.
#include "solve/fast.hpp"

#include <lorasplit/model.hpp>

#include "solve/dinkelbach.hpp"

namespace lorasplit::detail {
namespace {

// A rational in lowest terms with a positive denominator.
struct Q {
  Int128 n{0}, d{1};
};

Q canon(Int128 n, Int128 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  const Int128 g = gcd(n, d);
  if (g == 0 || g == 1) return Q{n, d};
  return Q{n / g, d / g};
}
Q operator*(const Q& a, const Q& b) {
  if (a.d == 1 && b.d == 1) return Q{a.n * b.n, 1};
  const Int128 g1 = gcd(a.n, b.d), g2 = gcd(b.n, a.d);
  if (g1 == 0 || g2 == 0) return Q{0, 1};  // a zero factor
  return Q{(a.n / g1) * (b.n / g2), (a.d / g2) * (b.d / g1)};
}
Q inverse(const Q& a) {
  if (a.n == 0) throw Overflow{};  // division by zero: not a valid parameter set
  return a.n < 0 ? Q{-a.d, -a.n} : Q{a.d, a.n};
}

// A parameter as a Q (its numerator and denominator within 64 bits), or nullopt.
std::optional<Q> param(const Rational& x) {
  if (!x.get_num().fits_slong_p() || !x.get_den().fits_slong_p()) return std::nullopt;
  return Q{Int128(x.get_num().get_si()), Int128(x.get_den().get_si())};
}

// The row a·y + constant <= 0, a and constant integers (any common multiple of the
// coefficients' denominators), made primitive as to_integer_form does: its result does
// not depend on which common multiple was used, only on the division by gcd(a).
// `g_all` is gcd(a) (0 when every a is 0).
BasicIntRow<Int128> finish_row(const char* name, RowKind kind, const std::array<Int128, 3>& a, const Int128& constant,
                               Int128 g_all) {
  BasicIntRow<Int128> row;
  row.name = name;
  row.kind = kind;
  if (g_all == 0) g_all = 1;
  row.a.resize(3);
  for (std::size_t j = 0; j < 3; ++j) row.a[j] = a[j] / g_all;
  const Q h = canon(-constant, g_all);
  row.h_lp = Frac<Int128>{h.n, h.d};
  row.h_int = floor_div(h.n, h.d);
  return row;
}
BasicIntRow<Int128> finish_row(const char* name, RowKind kind, const std::array<Int128, 3>& a, const Int128& constant) {
  return finish_row(name, kind, a, constant, gcd(gcd(a[0], a[1]), a[2]));
}

// lcm of `scale` and the denominators.
Int128 common_multiple(std::initializer_list<const Q*> values, Int128 scale = 1) {
  for (const Q* x : values) {
    if (x->d != 1 && x->d != scale) scale = scale / gcd(scale, x->d) * x->d;
  }
  return scale;
}

// x times the common multiple `scale` of its denominator: an integer.
Int128 times(const Q& x, const Int128& scale) { return x.n * (scale / x.d); }

}  // namespace

namespace {

bool operator==(const Q& a, const Q& b) { return a.n == b.n && a.d == b.d; }

// The parameters the integer form reads, in this order.
enum In : std::size_t { kE, kD, kR, kMem, kFg, kFc, kBw, kLat, kEg, kEc, kK, kInputs };

// The rows of the last integer form this thread built, with the inputs they came from: in
// a sweep most points change one parameter, and the row groups that do not read it are
// copied instead of computed again (the same rows: each group is a function of its
// inputs only). A group is marked stale before it is rebuilt, so an Overflow midway
// leaves no group that claims inputs it was not built from.
struct Group {
  bool valid{false};
  std::array<Q, kInputs> in;

  // Whether the group was built from the same values of `keys`; if not, it is marked
  // stale and the caller rebuilds it, then calls done().
  bool reuse(const std::array<Q, kInputs>& now, std::initializer_list<In> keys) {
    if (valid) {
      bool same = true;
      for (const In k : keys) same = same && in[k] == now[k];
      if (same) return true;
    }
    valid = false;
    return false;
  }
  void done(const std::array<Q, kInputs>& now) {
    in = now;
    valid = true;
  }
};

struct FormCache {
  Group rates, sync, memory;
  Q gamma, kappa;                               // rates: GPU and device time per block
  Int128 rates_lcm;                             // rates: lcm of their denominators
  std::array<BasicIntRow<Int128>, 2> sync_rows;
  std::array<BasicIntRow<Int128>, 4> memory_rows;
};

}  // namespace

bool seed_integer_form_128(const Params& p, BasicIntProblem<Int128>& pb) {
  std::array<Q, kInputs> in;
  {
    const std::array<const Rational*, kInputs> v = {
        &p.element_bytes(), &p.d(), &p.r(), &p.gpu_memory_bytes(), &p.gpu_flops(), &p.cxl_flops(),
        &p.link_bandwidth_bytes_per_s(), &p.link_latency_s(), &p.gpu_efficiency(), &p.cxl_efficiency(),
        &p.block_tokens()};
    for (std::size_t i = 0; i < kInputs; ++i) {
      const auto q = param(*v[i]);
      if (!q) return false;
      in[i] = *q;
    }
  }
  const Q &e = in[kE], &d = in[kD], &r = in[kR], &mem = in[kMem], &bw = in[kBw], &lat = in[kLat], &k = in[kK];
  for (const Q* w : {&e, &d, &r, &mem, &k}) {
    if (w->d != 1) return false;  // validated whole numbers; anything else is the general solver's
  }
  thread_local FormCache cache;
  // Per token and stage (docs/model.md §1.2), times the block: b = k y.
  if (!cache.rates.reuse(in, {kD, kR, kFg, kEg, kFc, kEc, kK})) {
    const Q two_dr = Q{2, 1} * d * r;
    cache.gamma = two_dr * inverse(in[kFg] * in[kEg]) * k;  // GPU
    cache.kappa = two_dr * inverse(in[kFc] * in[kEc]) * k;  // device
    cache.rates_lcm = common_multiple({&cache.gamma, &cache.kappa});
    cache.rates.done(in);
  }
  const Q &gamma = cache.gamma, &kappa = cache.kappa;

  pb.rows.clear();
  pb.fixed_zero.assign(3, 0);
  pb.offset.assign(3, 0);
  // The two sync rows over one common multiple s = s0 * num(BW) of their terms'
  // denominators, s0 = lcm(den(γk), den(κk), den(latency)); the transfer terms
  // e d k / BW and e r k / BW (one block of X or Z, and of Y, over the link) then scale to
  // e d k den(BW) s0 and e r k den(BW) s0 without reducing them first. Both rows have the
  // same gcd, gcd(g, k_x, y), so it is taken once.
  if (!cache.sync.reuse(in, {kD, kR, kFg, kEg, kFc, kEc, kK, kE, kBw, kLat})) {
    if (bw.n <= 0) throw Overflow{};  // not a valid parameter set: the general solver words it
    const Int128 s0 = common_multiple({&lat}, cache.rates_lcm);
    const Int128 g = times(gamma, s0) * bw.n;
    const Int128 xs = e.n * d.n * k.n * bw.d * s0, y = e.n * r.n * k.n * bw.d * s0;
    const Int128 kx = times(kappa, s0) * bw.n + xs;
    const Int128 g_all = gcd(gcd(g, kx), y);
    cache.sync_rows[0] = finish_row("sync_s1", RowKind::kSync, {-g, kx + y, kx}, times(lat, s0) * bw.n, g_all);
    cache.sync_rows[1] = finish_row("sync_s2", RowKind::kSync, {-g, -(y + g), kx}, 0, g_all);
    cache.sync.done(in);
  }
  pb.rows.push_back(cache.sync_rows[0]);
  pb.rows.push_back(cache.sync_rows[1]);
  if (!cache.memory.reuse(in, {kE, kD, kR, kMem, kK})) {
    const Int128 ed = (e * d * k).n, er = (e * r * k).n, erd = (e * r * d).n, m = mem.n;  // whole numbers
    cache.memory_rows[0] = finish_row("mem_x", RowKind::kMemory, {ed, ed, ed}, -m);
    cache.memory_rows[1] = finish_row("mem_s1", RowKind::kMemory, {ed + er, 0, 0}, erd - m);
    cache.memory_rows[2] = finish_row("mem_y", RowKind::kMemory, {er, er, 0}, -m);
    cache.memory_rows[3] = finish_row("mem_s2", RowKind::kMemory, {er + ed, er + ed, 0}, erd - m);
    cache.memory.done(in);
  }
  for (const auto& row : cache.memory_rows) pb.rows.push_back(row);
  if (p.has(ParamId::kLoraMaxBatchTokens)) {
    const auto bmax = param(p.get(ParamId::kLoraMaxBatchTokens));
    if (!bmax) return false;
    pb.rows.push_back(finish_row("max_tokens", RowKind::kLimit, {k.n, k.n, k.n}, -bmax->n));
  }
  if (p.has(ParamId::kLoraMaxBatchLatencyS)) {
    const auto tmax = param(p.get(ParamId::kLoraMaxBatchLatencyS));
    if (!tmax) return false;
    const Int128 st = common_multiple({&gamma, &*tmax});
    const Int128 gt = times(gamma, st);
    pb.rows.push_back(finish_row("max_latency", RowKind::kLimit, {2 * gt, gt, 0}, -times(*tmax, st)));
  }
  // Objective: tokens k(y1+y2+y3) (scale_n = 1), time γk(2 y1 + y2) times den(γk).
  pb.p.assign({k.n, k.n, k.n});
  pb.p0 = 0;
  pb.scale_n = 1;
  pb.scale_d = gamma.d;  // lcm(den(2γk), den(γk)) = den(γk); γk in lowest terms, so 2γk scales to 2 num(γk)
  pb.q.assign({2 * gamma.n, gamma.n, Int128(0)});
  pb.q0 = 0;
  return true;
}

namespace {

constexpr const char* kMethod =
    "exact presolve + Dinkelbach iterations over exact integer subproblems (lattice walks), in overflow-checked "
    "128-bit integers (docs/model.md §3.10)";

// q (in lowest terms, q.d > 0) as a GMP rational, without GMP arithmetic when both fit 64 bits.
void set_rational(Rational& out, const Q& q) {
  std::int64_t n64 = 0, d64 = 0;
  if (get_int64(q.n, n64) && get_int64(q.d, d64) && d64 > 0) {
    mpq_set_si(out.get_mpq_t(), n64, static_cast<unsigned long>(d64));
    return;
  }
  out = to_rational(q.n, q.d);
}
// n/d (d > 0) as a canonical GMP rational.
void set_rational(Rational& out, Int128 n, Int128 d) { set_rational(out, canon(n, d)); }

// The presolve in 128 bits; when its cross-multiplied comparisons overflow, the same
// presolve in GMP integers on an exact copy, whose decisions (rows removed, columns
// fixed) are all the fast path needs.
void presolve_128(BasicIntProblem<Int128>& pb) {
  const std::vector<char> fixed = pb.fixed_zero;  // the rows all start kept
  try {
    presolve(pb, nullptr);
    return;
  } catch (const Overflow&) {
    pb.fixed_zero = fixed;  // undo what the interrupted presolve decided
    for (auto& row : pb.rows) row.removed = false;
  }
  IntProblem wide;
  for (const auto& row : pb.rows) {
    IntRow r;
    r.a.resize(3);
    for (std::size_t j = 0; j < 3; ++j) r.a[j] = to_integer(row.a[j]);
    r.h_lp = Frac<Integer>{to_integer(row.h_lp.num), to_integer(row.h_lp.den)};
    r.h_int = to_integer(row.h_int);
    r.removed = row.removed;
    wide.rows.push_back(std::move(r));
  }
  wide.resize(3);
  for (std::size_t j = 0; j < 3; ++j) {
    wide.p[j] = to_integer(pb.p[j]);
    wide.q[j] = to_integer(pb.q[j]);
  }
  wide.fixed_zero = pb.fixed_zero;
  presolve(wide, nullptr);
  for (std::size_t i = 0; i < pb.rows.size(); ++i) pb.rows[i].removed = wide.rows[i].removed;
  pb.fixed_zero = wide.fixed_zero;
}

struct Scratch {
  BasicIntProblem<Int128> pb;
  WalkOracle<Int128>::Storage walk;
};

}  // namespace

FastStatus fast_solve(const Params& p, const SolveOptions& options, SolveResult& res, Error& error,
                      FastExtras* extras) {
  if (p.model_name() != ModelName::kSeed || options.domain != Domain::kInteger || options.explain ||
      options.relaxation_bound || !options.fast_path) {
    return FastStatus::kNotApplicable;
  }
  thread_local Scratch scratch;
  BasicIntProblem<Int128>& pb = scratch.pb;
  try {
    if (!seed_integer_form_128(p, pb)) return FastStatus::kNotApplicable;
    for (std::size_t j = 0; j < 3; ++j) pb.fixed_zero[j] = j < options.force_zero.size() && options.force_zero[j];
    presolve_128(pb);
    std::size_t xcol = 0;
    std::optional<std::size_t> ycol;
    bool any_free = false;
    for (const bool z : pb.fixed_zero) any_free = any_free || !z;
    if (!any_free || !WalkOracle<Int128>::applies(pb, xcol, ycol)) return FastStatus::kNotApplicable;
    const WalkOracle<Int128> walk(pb, xcol, ycol, scratch.walk);
    // An unbounded batch: the general solver words the error.
    if (walk.prep() == WalkOracle<Int128>::Prep::kUnbounded) return FastStatus::kNotApplicable;
    const std::int64_t k = p.block_tokens().get_num().get_si();
    if (extras != nullptr) {
      // GPU only (b2 = b3 = 0, no sync rows): the largest b1 the memory and limit rows allow.
      extras->gpu_only_b1.reset();
      extras->binding.clear();
      std::optional<Int128> cap;
      for (const auto& row : pb.rows) {
        if (row.kind == RowKind::kSync || row.a[0] <= 0) continue;
        const Int128 q = floor_div(row.h_int, row.a[0]);
        if (!cap || q < *cap) cap = q;
      }
      std::int64_t b1 = 0;
      if (cap && *cap >= 1 && get_int64(*cap * Int128(k), b1)) {
        extras->gpu_only_b1 = b1;
        // Reduced to lowest terms only when it differs from the last one (in a sweep that
        // does not vary the memory rows, it never does).
        const Int128 n = pb.p[0] * *cap * pb.scale_d, d = pb.q[0] * *cap * pb.scale_n;
        if (!extras->gpu_only_tokens_per_s || n != extras->gpu_only_n || d != extras->gpu_only_d) {
          if (!extras->gpu_only_tokens_per_s) extras->gpu_only_tokens_per_s.emplace();
          const Q reduced = canon(n, d);
          set_rational(*extras->gpu_only_tokens_per_s, reduced);
          extras->gpu_only_n = n;
          extras->gpu_only_d = d;
          extras->gpu_only_reduced_n = reduced.n;
          extras->gpu_only_reduced_d = reduced.d;
        }
      } else {
        extras->gpu_only_tokens_per_s.reset();
      }
    }
    res.certificate.method = kMethod;
    res.certificate.fixed_width = true;
    res.status = SolveStatus::kInfeasible;
    res.plan.b.assign(3, 0);
    if (walk.prep() == WalkOracle<Int128>::Prep::kEmpty) return FastStatus::kSolved;
    const auto oracle = [&walk](const std::vector<Int128>& u, const std::vector<Int128>*) { return walk(u, "seed"); };
    auto dk = dinkelbach<Int128>(pb, oracle, std::nullopt, false, "seed", walk.start_point(pb));
    if (!dk) {
      error = dk.error();
      return FastStatus::kError;
    }
    res.certificate.iterations = dk->iterations;
    res.certificate.iteration_bound = dk->iteration_bound;
    if (dk->outcome != DinkelbachRun<Int128>::Outcome::kFound) return FastStatus::kSolved;
    // The exact re-check: every row of the model (the removed ones too) at the plan.
    for (const auto& row : pb.rows) {
      Int128 lhs = 0;
      for (std::size_t j = 0; j < 3; ++j) lhs += row.a[j] * dk->y[j];
      if (lhs > row.h_int) {
        error = solver_internal("returned split fails an exact constraint check");
        return FastStatus::kError;
      }
      if (extras != nullptr) {
        // A row binds when one more block on some path it charges would break it.
        for (std::size_t j = 0; j < 3; ++j) {
          if (row.a[j] > 0 && lhs + row.a[j] > row.h_int) {
            extras->binding.push_back(row.name);
            break;
          }
        }
      }
    }
    for (std::size_t j = 0; j < 3; ++j) {
      if (dk->y[j] < 0) {
        error = solver_internal("returned split fails an exact constraint check");
        return FastStatus::kError;
      }
      res.plan.b.resize(3);
      if (!get_int64(dk->y[j] * Int128(k), res.plan.b[j])) return FastStatus::kNotApplicable;
    }
    res.status = SolveStatus::kOptimal;
    res.point.resize(3);
    for (std::size_t j = 0; j < 3; ++j) res.point[j] = res.plan.b[j];
    const Q throughput = canon(dk->num * pb.scale_d, dk->den * pb.scale_n);
    set_rational(res.throughput_tokens_per_s, throughput);
    res.certificate.lambda_tokens_per_s = res.throughput_tokens_per_s;
    if (extras != nullptr) {
      if (!extras->gpu_only_tokens_per_s) {
        extras->gain_percent.reset();
      } else {
        // (t/g - 1) * 100 = 100 (t_n g_d - t_d g_n) / (t_d g_n), in GMP when 128 bits do not hold it
        if (!extras->gain_percent) extras->gain_percent.emplace();
        const Int128 gn = extras->gpu_only_reduced_n, gd = extras->gpu_only_reduced_d;
        try {
          // t/g = N/D in lowest terms (cross-reduced); then (N - D)/D is too, and only
          // gcd(100, D) remains to divide out.
          const Q ratio = throughput * inverse(Q{gn, gd});
          const Int128 c = gcd(Int128(100), ratio.d % 100);
          set_rational(*extras->gain_percent, Q{(100 / c) * (ratio.n - ratio.d), ratio.d / c});
        } catch (const Overflow&) {
          *extras->gain_percent = (res.throughput_tokens_per_s / *extras->gpu_only_tokens_per_s - 1) * 100;
        }
      }
    }
    set_rational(res.certificate.final_subproblem_max, dk->total, dk->den * pb.scale_n);
    return FastStatus::kSolved;
  } catch (const Overflow&) {
    return FastStatus::kNotApplicable;
  }
}

}  // namespace lorasplit::detail
