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
BasicIntRow<Int128> finish_row(const char* name, RowKind kind, const std::array<Int128, 3>& a, const Int128& constant) {
  BasicIntRow<Int128> row;
  row.name = name;
  row.kind = kind;
  Int128 g_all = gcd(gcd(a[0], a[1]), a[2]);
  if (g_all == 0) g_all = 1;
  for (std::size_t j = 0; j < 3; ++j) row.a[j] = a[j] / g_all;
  const Q h = canon(-constant, g_all);
  row.h_lp = Frac<Int128>{h.n, h.d};
  row.h_int = floor_div(h.n, h.d);
  return row;
}

// lcm of the denominators.
Int128 common_multiple(std::initializer_list<const Q*> values) {
  Int128 scale = 1;
  for (const Q* x : values) {
    if (x->d != 1 && x->d != scale) scale = scale / gcd(scale, x->d) * x->d;
  }
  return scale;
}

// x times the common multiple `scale` of its denominator: an integer.
Int128 times(const Q& x, const Int128& scale) { return x.n * (scale / x.d); }

}  // namespace

bool seed_integer_form_128(const Params& p, BasicIntProblem<Int128>& pb) {
  std::array<std::optional<Q>, 11> v = {
      param(p.element_bytes()), param(p.d()),          param(p.r()),
      param(p.gpu_memory_bytes()), param(p.gpu_flops()), param(p.cxl_flops()),
      param(p.link_bandwidth_bytes_per_s()), param(p.link_latency_s()), param(p.gpu_efficiency()),
      param(p.cxl_efficiency()), param(p.block_tokens())};
  for (const auto& x : v) {
    if (!x) return false;
  }
  const Q e = *v[0], d = *v[1], r = *v[2], mem = *v[3], fg = *v[4], fc = *v[5], bw = *v[6], lat = *v[7],
          eg = *v[8], ec = *v[9], k = *v[10];
  const Q two_dr = Q{2, 1} * d * r;
  // Per token and stage (docs/model.md §1.2), times the block: b = k y.
  const Q gamma = two_dr * inverse(fg * eg) * k;   // GPU
  const Q kappa = two_dr * inverse(fc * ec) * k;   // device
  const Q xi = e * d * inverse(bw) * k;            // one row of X (or Z) over the link
  const Q eta = e * r * inverse(bw) * k;           // one row of Y
  for (const Q* w : {&e, &d, &r, &mem, &k}) {
    if (w->d != 1) return false;  // validated whole numbers; anything else is the general solver's
  }
  const Int128 ed = (e * d * k).n, er = (e * r * k).n, erd = (e * r * d).n, m = mem.n;  // whole numbers

  pb.rows.clear();
  pb.fixed_zero = {false, false, false};
  pb.offset = {0, 0, 0};
  // The two sync rows over one common multiple of their terms' denominators.
  const Int128 s = common_multiple({&gamma, &kappa, &xi, &eta, &lat});
  const Int128 g = times(gamma, s), kx = times(kappa, s) + times(xi, s), y = times(eta, s);
  pb.rows.push_back(finish_row("sync_s1", RowKind::kSync, {-g, kx + y, kx}, times(lat, s)));
  pb.rows.push_back(finish_row("sync_s2", RowKind::kSync, {-g, -(y + g), kx}, 0));
  pb.rows.push_back(finish_row("mem_x", RowKind::kMemory, {ed, ed, ed}, -m));
  pb.rows.push_back(finish_row("mem_s1", RowKind::kMemory, {ed + er, 0, 0}, erd - m));
  pb.rows.push_back(finish_row("mem_y", RowKind::kMemory, {er, er, 0}, -m));
  pb.rows.push_back(finish_row("mem_s2", RowKind::kMemory, {er + ed, er + ed, 0}, erd - m));
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
  pb.p = {k.n, k.n, k.n};
  pb.p0 = 0;
  pb.scale_n = 1;
  const Q two_gamma = Q{2, 1} * gamma;
  pb.scale_d = gamma.d;  // lcm(den(2γk), den(γk)) = den(γk)
  pb.q = {two_gamma.n * (gamma.d / two_gamma.d), gamma.n, 0};
  pb.q0 = 0;
  return true;
}

namespace {

constexpr const char* kMethod =
    "exact presolve + Dinkelbach iterations over exact integer subproblems (lattice walks), in overflow-checked "
    "128-bit integers (docs/model.md §3.10)";

// n/d (d > 0) as a canonical GMP rational, without GMP arithmetic when both fit 64 bits.
void set_rational(Rational& out, Int128 n, Int128 d) {
  const Int128 g = gcd(n, d);
  if (g != 1 && g != 0) {
    n = n / g;
    d = d / g;
  }
  std::int64_t n64 = 0, d64 = 0;
  if (get_int64(n, n64) && get_int64(d, d64) && d64 > 0) {
    mpq_set_si(out.get_mpq_t(), n64, static_cast<unsigned long>(d64));
    return;
  }
  out = to_rational(n, d);
}

// The presolve in 128 bits; when its cross-multiplied comparisons overflow, the same
// presolve in GMP integers on an exact copy, whose decisions (rows removed, columns
// fixed) are all the fast path needs.
void presolve_128(BasicIntProblem<Int128>& pb) {
  const std::array<bool, 3> fixed = pb.fixed_zero;  // the rows all start kept
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
    for (std::size_t j = 0; j < 3; ++j) r.a[j] = to_integer(row.a[j]);
    r.h_lp = Frac<Integer>{to_integer(row.h_lp.num), to_integer(row.h_lp.den)};
    r.h_int = to_integer(row.h_int);
    r.removed = row.removed;
    wide.rows.push_back(std::move(r));
  }
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
    for (std::size_t j = 0; j < 3; ++j) pb.fixed_zero[j] = options.force_zero[j];
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
      extras->gpu_only_tokens_per_s.reset();
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
        extras->gpu_only_tokens_per_s.emplace();
        set_rational(*extras->gpu_only_tokens_per_s, pb.p[0] * *cap * pb.scale_d, pb.q[0] * *cap * pb.scale_n);
      }
    }
    res.certificate.method = kMethod;
    res.certificate.fixed_width = true;
    res.status = SolveStatus::kInfeasible;
    if (walk.prep() == WalkOracle<Int128>::Prep::kEmpty) return FastStatus::kSolved;
    const auto oracle = [&walk](const std::array<Int128, 3>& u) { return walk(u, "seed"); };
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
      if (!get_int64(dk->y[j] * Int128(k), res.plan.b[j])) return FastStatus::kNotApplicable;
    }
    res.status = SolveStatus::kOptimal;
    for (std::size_t j = 0; j < 3; ++j) res.point[j] = res.plan.b[j];
    set_rational(res.throughput_tokens_per_s, dk->num * pb.scale_d, dk->den * pb.scale_n);
    res.certificate.lambda_tokens_per_s = res.throughput_tokens_per_s;
    set_rational(res.certificate.final_subproblem_max, dk->total, dk->den * pb.scale_n);
    return FastStatus::kSolved;
  } catch (const Overflow&) {
    return FastStatus::kNotApplicable;
  }
}

}  // namespace lorasplit::detail
