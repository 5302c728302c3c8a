// The lean solver (docs/model.md §3.10): the model's description formulated once per
// structure, its cases' integer rows built from the parameters in 128-bit integers and
// kept between calls, the per-case driver in 128 bits (GMP for a case where they do not
// suffice). The same cases in the same order, the same driver and the same rules for the
// best ratio as the general solver (solve.cpp), hence the same answer and certificate.
#include "solve/lean.hpp"

#include <lorasplit/describe.hpp>

#include <fmt/format.h>

#include "solve/driver.hpp"
#include "solve/sequence.hpp"

namespace lorasplit {
namespace detail {

std::optional<std::size_t> gpu_only_case(const SymFormulation& f) {
  for (std::size_t c = 0; c < f.cases.size(); ++c) {
    const auto& s = f.cases[c].support;
    bool ok = s[0] != 0;
    for (std::size_t j = 1; j < s.size(); ++j) ok = ok && s[j] != 1;
    if (ok) return c;
  }
  return std::nullopt;
}

namespace {

// What describe() reads besides numbers: the model, its switches, which optional
// parameters are set.
std::uint64_t structure_of(const Params& p) {
  std::uint64_t key = static_cast<std::uint64_t>(p.model_name());
  int shift = 4;
  for (const ParamId id : {ParamId::kLoraWeights, ParamId::kLinkDuplex, ParamId::kPipelineTransferLatency,
                           ParamId::kPipelineNoCredit, ParamId::kPipelineRelaxedSync}) {
    key |= static_cast<std::uint64_t>(p.choice(id)) << shift;
    shift += 4;
  }
  for (const ParamId id : {ParamId::kPipelineChunkTokens, ParamId::kCxlMemoryBytes, ParamId::kLoraMaxBatchTokens,
                           ParamId::kLoraMaxBatchLatencyS}) {
    key |= static_cast<std::uint64_t>(p.has(id) ? 1 : 0) << shift;
    ++shift;
  }
  return key;
}

// A reduced fraction n/d (d > 0).
template <class I>
Frac<I> reduced(I n, I d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  const I g = gcd(n, d);
  if (g == 0 || g == 1) return Frac<I>{n, d};
  return Frac<I>{I(n / g), I(d / g)};
}

// q as a GMP rational (lowest terms, q.den > 0), without GMP arithmetic when it fits 64 bits.
void set_rational(Rational& out, const Frac<Int128>& q) {
  std::int64_t n64 = 0, d64 = 0;
  if (get_int64(q.num, n64) && get_int64(q.den, d64) && d64 > 0) {
    mpq_set_si(out.get_mpq_t(), n64, static_cast<unsigned long>(d64));
    return;
  }
  out = to_rational(q.num, q.den);
}
void set_rational(Rational& out, const Frac<Integer>& q) { out = to_rational(q.num, q.den); }

constexpr const char* kMethodOne =
    "exact presolve + Dinkelbach iterations over exact integer subproblems (lattice walks), in overflow-checked "
    "128-bit integers (docs/model.md §3.10)";

// A reduced fraction in 128 bits, or in GMP where it did not fit.
struct Num {
  Frac<Int128> n{0, 1};
  std::optional<Frac<Integer>> w;  ///< set when the fraction is in GMP
  [[nodiscard]] bool wide() const { return w.has_value(); }
  [[nodiscard]] Frac<Integer> as_wide() const { return w ? *w : Frac<Integer>{to_integer(n.num), to_integer(n.den)}; }
};
template <class I>
void set_num(Num& q, const I& num, const I& den) {
  if constexpr (std::is_same_v<I, Integer>) {
    q.w = reduced(num, den);
  } else {
    q.w.reset();
    q.n = reduced(num, den);
  }
}
void set_rational(Rational& out, const Num& q) {
  if (q.w) {
    set_rational(out, *q.w);
  } else {
    set_rational(out, q.n);
  }
}

// One case's outcome, in true units.
struct CaseAnswer {
  bool excluded{false}, found{false};
  int iterations{0}, bound{0};
  Num lambda, final_max;
  std::vector<std::int64_t> plan;
};

// One case in integer type I: the driver from the best ratio so far (`best`, true units).
template <class I>
Status run_one(BasicIntProblem<I>& pb, const std::vector<bool>& force_zero, const std::optional<Num>& best,
               const DriverOptions& o, CaseRun<I>& r, CaseAnswer& a) {
  a.excluded = a.found = false;
  a.iterations = a.bound = 0;
  const std::size_t n = pb.cols();
  for (std::size_t j = 0; j < n && j < force_zero.size(); ++j) {
    if (!force_zero[j]) continue;
    if (pb.offset[j] != 0) {
      a.excluded = true;
      return {};
    }
    pb.fixed_zero[j] = 1;
  }
  std::optional<Frac<I>> start;
  if (best) {
    // λ in this case's scaled units: λ_true * scale_n / scale_d, in lowest terms.
    if constexpr (std::is_same_v<I, Integer>) {
      const Frac<Integer> b = best->as_wide();
      start = reduced(Integer(b.num * pb.scale_n), Integer(b.den * pb.scale_d));
    } else {
      if (best->wide()) throw Overflow{};
      start = reduced(best->n.num * pb.scale_n, best->n.den * pb.scale_d);
    }
  }
  if (Status st = run_case<I>(pb, start, o, r); !st) return st;
  const auto& dk = r.dk;
  a.iterations = dk.iterations;
  a.bound = dk.iteration_bound;
  using Outcome = typename CaseRun<I>::Outcome;
  if (r.outcome == Outcome::kEmpty) return {};
  set_num(a.final_max, dk.total, I(dk.den * pb.scale_n));
  if (r.outcome == Outcome::kNotBetter) return {};
  a.found = true;
  set_num(a.lambda, I(dk.num * pb.scale_d), I(dk.den * pb.scale_n));
  a.plan.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    if (!get_int64(I((dk.y[j] + I(pb.offset[j])) * I(o.block)), a.plan[j])) throw Overflow{};
  }
  return {};
}

}  // namespace
}  // namespace detail

LeanSolver::LeanSolver() : state_(std::make_unique<detail::LeanState>()) {}
LeanSolver::~LeanSolver() = default;
LeanSolver::LeanSolver(LeanSolver&&) noexcept = default;
LeanSolver& LeanSolver::operator=(LeanSolver&&) noexcept = default;

Status LeanSolver::solve(const Params& params, const SolveOptions& options, SolveResult& out) {
  using namespace detail;
  if (options.domain != Domain::kInteger || options.relaxation_bound || !options.fast_path) {
    auto r = lorasplit::solve(build_model(params), options);
    if (!r) return r.error();
    out = std::move(r.value());
    return {};
  }
  LeanState& st = *state_;
  const std::uint64_t key = structure_of(params);
  if (!st.compiled || key != st.structure) {
    auto f = std::make_shared<SymFormulation>(formulate(describe(params)));
    st.compiled = std::make_shared<CompiledFormulation>(std::move(f));
    st.forms128.emplace(st.compiled);
    st.forms_gmp.emplace(st.compiled);
    st.cases.assign(st.compiled->cases(), LeanCase{});
    st.structure = key;
  }
  const SymFormulation& f = st.compiled->formulation();
  st.block = params.block_tokens().get_num().get_si();
  const bool narrow_ok = st.v128.load(params, st.compiled->reads());
  bool gmp_loaded = false;
  if (options.explain) return solve_explained(params, options, out, narrow_ok);
  const DriverOptions o{false, &f.columns, f.name, st.block};
  const bool several = f.cases.size() > 1;

  out.status = SolveStatus::kInfeasible;
  out.plan.b.assign(f.columns.size(), 0);
  Certificate& cert = out.certificate;
  cert.iterations = 0;
  cert.iteration_bound = 0;
  cert.presolve.clear();
  cert.lambda_path.clear();
  cert.steps.clear();
  cert.cases.clear();
  cert.reduced_problem.clear();
  cert.relaxation_bound_tokens_per_s.reset();
  cert.fixed_width = true;
  if (several) {
    cert.method = fmt::format(
        "exact presolve + Dinkelbach iterations over each of the {} linear cases, each started at the best ratio so "
        "far, in overflow-checked 128-bit integers where they suffice (docs/model.md §3.10)",
        f.cases.size());
  } else {
    cert.method = kMethodOne;  // assigned into the string's storage
  }
  st.best_case.reset();
  thread_local std::optional<Num> best;
  thread_local Num best_final;
  best.reset();
  int best_bound = 0;
  for (std::size_t c = 0; c < f.cases.size(); ++c) {
    LeanCase& lc = st.cases[c];
    lc.built = true;
    thread_local CaseAnswer answer_storage;
    thread_local CaseRun<Int128> run128;
    thread_local CaseRun<Integer> run_gmp;
    CaseAnswer* answer = nullptr;
    bool narrow_answer = false;
    bool need_general = !narrow_ok;  // build the case's GMP form from the parameters
    if (narrow_ok) {
      try {
        st.forms128->build(c, st.v128, lc.narrow, lc.narrow_stamps);
        lc.wide = false;
        lc.memo.stamps = lc.narrow_stamps;
        DriverOptions narrow_options = o;
        narrow_options.memo = &lc.memo;
        try {
          if (Status s = run_one<Int128>(lc.narrow, options.force_zero, best, narrow_options, run128, answer_storage);
              !s) {
            return s;
          }
          answer = &answer_storage;
          narrow_answer = true;
        } catch (const NeedsGmp&) {
          // Presolved in 128 bits; the oracle runs in GMP on the presolved problem.
          lc.general = *convert_problem<Integer>(lc.narrow);
          lc.general_stamps.assign(lc.general.rows.size(), 0);
          lc.wide = true;
          DriverOptions wide_options = o;
          wide_options.presolved = true;
          if (Status s = run_one<Integer>(lc.general, {}, best, wide_options, run_gmp, answer_storage); !s) return s;
          answer = &answer_storage;
        } catch (const Overflow&) {
          // The same case in GMP, from the form as it was built.
          for (std::size_t j = 0; j < lc.narrow.cols(); ++j) lc.narrow.fixed_zero[j] = f.cases[c].support[j] == 0 ? 1 : 0;
          for (auto& row : lc.narrow.rows) row.removed = false;
          lc.general = *convert_problem<Integer>(lc.narrow);
          lc.general_stamps.assign(lc.general.rows.size(), 0);  // a copy, not a build
          lc.wide = true;
        }
      } catch (const Overflow&) {
        need_general = true;
      }
    }
    if (!answer) {
      cert.fixed_width = false;
      lc.wide = true;
      if (need_general) {
        if (!gmp_loaded) {
          (void)st.vgmp.load(params, st.compiled->reads());
          gmp_loaded = true;
        }
        try {
          st.forms_gmp->build(c, st.vgmp, lc.general, lc.general_stamps);
        } catch (const Overflow&) {
          return solver_unsupported(f.name, "a parameter with a zero rate");
        }
      }
      if (Status s = run_one<Integer>(lc.general, options.force_zero, best, o, run_gmp, answer_storage); !s) return s;
      answer = &answer_storage;
    }
    if (answer->excluded) continue;
    cert.iterations += answer->iterations;
    cert.iteration_bound += std::max(answer->bound, answer->iterations);
    if (answer->found) {
      best = answer->lambda;
      best_final = answer->final_max;
      best_bound = answer->bound;
      st.best_case = c;
      if (narrow_answer) {
        st.best_y128 = run128.dk.y;
      } else {
        st.best_y = run_gmp.dk.y;
      }
      out.plan.b = answer->plan;
    }
  }
  if (!best) return {};
  out.status = SolveStatus::kOptimal;
  out.point.resize(out.plan.b.size());
  for (std::size_t j = 0; j < out.plan.b.size(); ++j) out.point[j] = out.plan.b[j];
  set_rational(out.throughput_tokens_per_s, *best);
  cert.lambda_tokens_per_s = out.throughput_tokens_per_s;
  set_rational(cert.final_subproblem_max, best_final);
  if (!several) cert.iteration_bound = best_bound;
  if (cert.iterations > cert.iteration_bound) return solver_internal("Dinkelbach exceeded its proven iteration bound");
  return {};
}

Status LeanSolver::solve_explained(const Params& params, const SolveOptions& options, SolveResult& out,
                                   bool narrow_ok) {
  using namespace detail;
  LeanState& st = *state_;
  const SymFormulation& f = st.compiled->formulation();
  bool gmp_loaded = false;
  const DriverOptions o{true, &f.columns, f.name, st.block};
  const auto name = [&f](std::size_t c) -> const std::string& { return f.cases[c].case_name; };
  // One case: its integer form from the symbolic rows (128 bits, GMP where they do not
  // suffice), the driver with the solver's path recorded.
  const auto run = [&](std::size_t c, const std::optional<Rational>& start,
                       std::optional<Rational>&) -> Result<CaseOutcome> {
    LeanCase& lc = st.cases[c];
    lc.built = true;
    const auto excluded = [&options](const auto& pb) {
      for (std::size_t j = 0; j < pb.cols() && j < options.force_zero.size(); ++j) {
        if (options.force_zero[j] && pb.offset[j] != 0) return true;
      }
      return false;
    };
    const auto force = [&options](auto& pb) {
      for (std::size_t j = 0; j < pb.cols() && j < options.force_zero.size(); ++j) {
        if (options.force_zero[j]) pb.fixed_zero[j] = 1;
      }
    };
    const auto scaled_start = [&start](const auto& pb) {
      using I = typename std::decay_t<decltype(pb.p)>::value_type;
      std::optional<Frac<I>> out_start;
      if (!start) return out_start;
      const Rational scaled = *start * to_integer(pb.scale_n) / to_integer(pb.scale_d);
      if constexpr (std::is_same_v<I, Integer>) {
        out_start = Frac<Integer>{scaled.get_num(), scaled.get_den()};
      } else {
        const auto n = to_int128(scaled.get_num()), d = to_int128(scaled.get_den());
        if (!n || !d) throw Overflow{};
        out_start = Frac<Int128>{*n, *d};
      }
      return out_start;
    };
    bool need_general = !narrow_ok;
    if (narrow_ok) {
      try {
        st.forms128->build(c, st.v128, lc.narrow, lc.narrow_stamps);
        lc.wide = false;
        if (excluded(lc.narrow)) {
          CaseOutcome r;
          r.excluded = true;
          return r;
        }
        force(lc.narrow);
        thread_local CaseRun<Int128> r128;
        try {
          DriverOptions narrow_options = o;
          lc.memo.stamps = lc.narrow_stamps;
          narrow_options.memo = &lc.memo;
          if (Status s = run_case<Int128>(lc.narrow, scaled_start(lc.narrow), narrow_options, r128); !s) {
            return s.error();
          }
          if (r128.outcome == CaseRun<Int128>::Outcome::kFound) st.best_y128 = r128.dk.y;
          return finish_case(st.block, f.columns.size(), lc.narrow, r128, true);
        } catch (const NeedsGmp&) {
          // Presolved in 128 bits; the oracle runs in GMP on the presolved problem.
          lc.general = *convert_problem<Integer>(lc.narrow);
          lc.general_stamps.assign(lc.general.rows.size(), 0);
          lc.wide = true;
          thread_local CaseRun<Integer> handed;
          handed.presolve = std::move(r128.presolve);
          DriverOptions wide_options = o;
          wide_options.presolved = true;
          if (Status s = run_case<Integer>(lc.general, scaled_start(lc.general), wide_options, handed); !s) {
            return s.error();
          }
          if (handed.outcome == CaseRun<Integer>::Outcome::kFound) st.best_y = handed.dk.y;
          return finish_case(st.block, f.columns.size(), lc.general, handed, true);
        } catch (const Overflow&) {
          for (std::size_t j = 0; j < lc.narrow.cols(); ++j) lc.narrow.fixed_zero[j] = f.cases[c].support[j] == 0 ? 1 : 0;
          for (auto& row : lc.narrow.rows) row.removed = false;
          lc.general = *convert_problem<Integer>(lc.narrow);
          lc.general_stamps.assign(lc.general.rows.size(), 0);
        }
      } catch (const Overflow&) {
        need_general = true;
      }
    }
    lc.wide = true;
    if (need_general) {
      if (!gmp_loaded) {
        (void)st.vgmp.load(params, st.compiled->reads());
        gmp_loaded = true;
      }
      try {
        st.forms_gmp->build(c, st.vgmp, lc.general, lc.general_stamps);
      } catch (const Overflow&) {
        return solver_unsupported(f.name, "a parameter with a zero rate");
      }
      if (excluded(lc.general)) {
        CaseOutcome r;
        r.excluded = true;
        return r;
      }
    }
    force(lc.general);
    thread_local CaseRun<Integer> rg;
    if (Status s = run_case<Integer>(lc.general, scaled_start(lc.general), o, rg); !s) return s.error();
    if (rg.outcome == CaseRun<Integer>::Outcome::kFound) st.best_y = rg.dk.y;
    return finish_case(st.block, f.columns.size(), lc.general, rg, true);
  };
  // Every plan a case returns, against that case's model evaluated exactly.
  const auto check = [&](std::size_t c, const Plan& plan, const Rational& lambda) -> Status {
    const Model m = evaluate(f, f.cases[c], params);
    if (!is_feasible(m, plan)) return solver_internal("returned split fails an exact constraint check");
    if (lambda != throughput_tokens_per_s(m, plan)) {
      return solver_internal("certified ratio differs from the plan's throughput");
    }
    st.best_case = c;
    return {};
  };
  st.best_case.reset();
  auto r = solve_sequence(f.cases.size(), f.columns.size(), name, run, check, options);
  if (!r) return r.error();
  out = std::move(r.value());
  return {};
}

}  // namespace lorasplit
