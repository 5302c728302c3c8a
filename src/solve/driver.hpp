#pragma once
// The per-case driver (docs/model.md §3.4, §3.10): presolve one linear case in integer
// form, pick its oracle by the free columns left (none; the lattice walk; the
// lattice-hyperplane branching for three; branch and bound for more), run Dinkelbach from
// the best ratio so far, and re-check the answer against every row of the integer form.
// One template for both integer widths: GMP integers, and overflow-checked 128-bit
// integers (an Overflow, or an oracle that only GMP has, abandons the 128-bit run and the
// caller runs the same case in GMP, which gives the same answer).
#include <lorasplit/model.hpp>
#include <lorasplit/solve.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <type_traits>

#include <optional>
#include <string>
#include <vector>

#include "solve/bnb.hpp"
#include "solve/dinkelbach.hpp"
#include "solve/ilp.hpp"
#include "solve/problem.hpp"
#include "solve/tinylp.hpp"

namespace lorasplit::detail {

struct DriverOptions {
  bool record{false};                       ///< keep the steps, the λ path, the presolve reductions, the words
  const std::vector<Column>* columns{nullptr};
  std::string_view model_name{"model"};
  std::int64_t block{1};
  PresolveMemo* memo{nullptr};  ///< presolve's memo for this case's forms (lean solves)
  /// The problem comes presolved (and run.presolve holds its reductions): a case whose
  /// oracle runs in GMP, handed over from a 128-bit run after its presolve.
  bool presolved{false};
};

/// Thrown by a 128-bit run whose case needs an oracle that only GMP has, after presolve:
/// the caller converts the presolved problem and runs it in GMP with `presolved` set.
struct NeedsGmp {};

template <class I>
struct CaseRun {
  enum class Outcome { kEmpty, kNotBetter, kFound };
  Outcome outcome{Outcome::kEmpty};
  /// Dinkelbach's run: the optimum y (block units, offsets not added) when kFound, the final
  /// λ = num/den in the problem's scaled units, the final subproblem's total, the counts,
  /// and (recorded) the steps and λ path.
  DinkelbachRun<I> dk;
  long nodes{0};           ///< branching nodes of the lattice-hyperplane or branch-and-bound oracle
  /// How the case was settled without a subproblem, when it was: its relaxation holds no
  /// point, or cannot beat the start (relaxed_total, scaled like dk.total, bounds the
  /// maximum of u·y + c0 from above).
  enum class Settled { kNo, kBoxEmpty, kBox, kLpEmpty, kLp, kCut };
  Settled settled{Settled::kNo};
  I relaxed_total{0};
  std::vector<PresolveReduction> presolve;              ///< when recorded
  std::string reduced_problem;                          ///< when recorded
};

/// Copies an integer problem into another integer type (nullopt: a value does not fit).
template <class To, class From>
std::optional<BasicIntProblem<To>> convert_problem(const BasicIntProblem<From>& pb);

/// Presolve in I; in GMP on an exact copy when the 128-bit comparisons overflow (its
/// decisions, rows removed and columns fixed, are copied back).
template <class I>
void presolve_wide_on_overflow(BasicIntProblem<I>& pb, std::vector<PresolveReduction>* log, PresolveMemo* memo);

/// Solves one case into `run` (its storage reused); `pb.fixed_zero` already holds the
/// case's and the caller's fixed columns. `start` is the best ratio so far in pb's scaled units.
template <class I>
Status run_case(BasicIntProblem<I>& pb, const std::optional<Frac<I>>& start, const DriverOptions& o, CaseRun<I>& run);

// ---- implementation ----

inline std::string join_names(const std::vector<Column>* columns, const std::vector<std::size_t>& which) {
  std::string out;
  for (const auto j : which) out += fmt::format("{}{}", out.empty() ? "" : ", ", column_name(columns, j));
  return out;
}

template <class To, class From>
std::optional<BasicIntProblem<To>> convert_problem(const BasicIntProblem<From>& pb) {
  const auto cv = [](const From& x) -> std::optional<To> {
    if constexpr (std::is_same_v<To, From>) {
      return x;
    } else if constexpr (std::is_same_v<To, Integer>) {
      return to_integer(x);
    } else {
      return to_int128(x);
    }
  };
  BasicIntProblem<To> out;
  out.resize(pb.cols());
  out.fixed_zero = pb.fixed_zero;
  out.offset = pb.offset;
  for (std::size_t j = 0; j < pb.cols(); ++j) {
    const auto p = cv(pb.p[j]), q = cv(pb.q[j]);
    if (!p || !q) return std::nullopt;
    out.p[j] = *p;
    out.q[j] = *q;
  }
  for (const auto* x : {&pb.p0, &pb.q0, &pb.scale_n, &pb.scale_d}) {
    if (!cv(*x)) return std::nullopt;
  }
  out.p0 = *cv(pb.p0);
  out.q0 = *cv(pb.q0);
  out.scale_n = *cv(pb.scale_n);
  out.scale_d = *cv(pb.scale_d);
  out.rows.resize(pb.rows.size());
  for (std::size_t i = 0; i < pb.rows.size(); ++i) {
    const auto& r = pb.rows[i];
    auto& o = out.rows[i];
    o.name = r.name;
    o.kind = r.kind;
    o.removed = r.removed;
    o.a.resize(r.a.size());
    for (std::size_t j = 0; j < r.a.size(); ++j) {
      const auto a = cv(r.a[j]);
      if (!a) return std::nullopt;
      o.a[j] = *a;
    }
    const auto hn = cv(r.h_lp.num), hd = cv(r.h_lp.den), hi = cv(r.h_int);
    if (!hn || !hd || !hi) return std::nullopt;
    o.h_lp = Frac<To>{*hn, *hd};
    o.h_int = *hi;
  }
  return out;
}

template <class I>
void presolve_wide_on_overflow(BasicIntProblem<I>& pb, std::vector<PresolveReduction>* log, PresolveMemo* memo) {
  if constexpr (std::is_same_v<I, Integer>) {
    presolve(pb, log, memo);
  } else {
    thread_local std::vector<char> fixed;
    fixed = pb.fixed_zero;  // the rows all start kept
    const std::size_t logged = log != nullptr ? log->size() : 0;
    try {
      presolve(pb, log, memo);
      return;
    } catch (const Overflow&) {
      pb.fixed_zero = fixed;  // undo what the interrupted presolve decided
      for (auto& row : pb.rows) row.removed = false;
      if (log != nullptr) log->resize(logged);
    }
    auto wide = convert_problem<Integer>(pb);
    presolve(*wide, log);
    for (std::size_t i = 0; i < pb.rows.size(); ++i) pb.rows[i].removed = wide->rows[i].removed;
    pb.fixed_zero = wide->fixed_zero;
  }
}

template <class I>
Status run_case(BasicIntProblem<I>& pb, const std::optional<Frac<I>>& start, const DriverOptions& o, CaseRun<I>& run) {
  run.outcome = CaseRun<I>::Outcome::kEmpty;
  run.settled = CaseRun<I>::Settled::kNo;
  run.nodes = 0;
  run.reduced_problem.clear();
  const std::size_t n = pb.cols();
  if (!o.presolved) {
    run.presolve.clear();
    presolve_wide_on_overflow(pb, o.record ? &run.presolve : nullptr, o.memo);
  }
  thread_local std::vector<std::size_t> free_cols;
  free_cols.clear();
  for (std::size_t j = 0; j < n; ++j) {
    if (!pb.fixed_zero[j]) free_cols.push_back(j);
  }
  std::string rows_kept;
  if (o.record) {
    for (const auto& row : pb.rows) {
      if (!row.removed) rows_kept += fmt::format("{}{}", rows_kept.empty() ? "" : ", ", row.name);
    }
  }
  // Dinkelbach with the chosen oracle, then the exact re-check (a template over the
  // oracle's type: no std::function on the hot path).
  const auto solve_with = [&](const auto& oracle, const std::vector<I>* start_point) -> Status {
    DinkelbachRun<I>& dk = run.dk;
    if (Status st = dinkelbach<I>(pb, oracle, start, o.record, o.model_name, start_point, dk); !st) return st;
    if (o.record && dk.warm) {
      std::vector<std::int64_t> at(n);
      for (std::size_t j = 0; j < n; ++j) {
        std::int64_t v = 0;
        (void)get_int64(I(((*start_point)[j] + pb.offset[j]) * I(o.block)), v);
        at[j] = v;
      }
      run.reduced_problem +=
          fmt::format("; Dinkelbach starts at the envelope corner with the best ratio, b = ({})", fmt::join(at, ", "));
    }
    using Outcome = typename DinkelbachRun<I>::Outcome;
    if (dk.outcome == Outcome::kEmpty) return {};
    if (dk.outcome == Outcome::kNotBetter) {
      run.outcome = CaseRun<I>::Outcome::kNotBetter;
      return {};
    }
    // The exact re-check: every row of the integer form (the removed ones too) at the plan.
    for (const auto& row : pb.rows) {
      I lhs = 0;
      for (std::size_t j = 0; j < n; ++j) {
        if (dk.y[j] != 0) lhs += row.a[j] * dk.y[j];
      }
      if (lhs > row.h_int) return solver_internal("returned split fails an exact constraint check");
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (dk.y[j] < 0) return solver_internal("returned split fails an exact constraint check");
    }
    run.outcome = CaseRun<I>::Outcome::kFound;
    return {};
  };
  // A case settled before any subproblem: no counts, and the relaxation's bound as its total.
  const auto settle = [&run, &start](typename CaseRun<I>::Settled how, const I& total) {
    run.settled = how;
    run.relaxed_total = total;
    run.dk.iterations = 0;
    run.dk.iteration_bound = 0;
    run.dk.steps.clear();
    run.dk.lambda_path.clear();
    run.dk.warm = false;
    run.dk.num = start->num;
    run.dk.den = start->den;
    run.dk.total = total;
    const bool empty = how == CaseRun<I>::Settled::kBoxEmpty || how == CaseRun<I>::Settled::kLpEmpty;
    run.outcome = empty ? CaseRun<I>::Outcome::kEmpty : CaseRun<I>::Outcome::kNotBetter;
  };
  // Settled by a relaxation (docs/model.md §7.4): with a ratio to beat, first the box of
  // the rows that bound a column alone, max u·y + c0 <= c0 + sum over u_j > 0 of u_j U_j;
  // when that is <= 0 no point of the case beats the start and no subproblem is needed.
  if (start && !free_cols.empty()) {
    const I& num = start->num;
    const I& den = start->den;
    const I c0 = den * pb.p0 - num * pb.q0;
    I total = c0;
    bool bounded = true;
    for (const auto j : free_cols) {
      const I u = den * pb.p[j] - num * pb.q[j];
      if (u <= 0) continue;
      std::optional<I> cap;
      for (const auto& row : pb.rows) {
        if (row.removed || row.a[j] <= 0) continue;
        bool alone = true;  // no other free column pushes the row down
        for (const auto k : free_cols) alone = alone && (k == j || row.a[k] >= 0);
        if (!alone) continue;
        const I q = floor_div(row.h_int, row.a[j]);
        if (!cap || q < *cap) cap = q;
      }
      if (!cap) {
        bounded = false;
        break;
      }
      if (*cap < 0) {
        settle(CaseRun<I>::Settled::kBoxEmpty, I(0));  // a row that no y >= 0 meets
        return {};
      }
      total += u * *cap;
    }
    if (bounded && total <= 0) {
      settle(CaseRun<I>::Settled::kBox, total);
      return {};
    }
  }
  std::size_t xcol = 0;
  std::optional<std::size_t> ycol;
  thread_local typename WalkOracle<I>::Storage walk_storage;
  if (free_cols.empty()) {
    if (o.record) {
      run.reduced_problem = fmt::format("no free column: the single plan of this case, rows {}", rows_kept);
    }
    bool empty = false;
    for (const auto& row : pb.rows) {
      if (!row.removed && row.h_int < 0) empty = true;
    }
    return solve_with(
        [empty, n](const std::vector<I>&, const std::vector<I>*, OracleOut<I>& out) -> Status {
          out.feasible = !empty;
          out.y.assign(n, I(0));
          out.value = 0;
          return {};
        },
        nullptr);
  }
  if (WalkOracle<I>::applies(pb, xcol, ycol)) {
    if (o.record) {
      run.reduced_problem =
          ycol ? fmt::format("x = {}, y = {} (every row bounds y from above only), rows {}, in blocks of {}; lattice walk",
                             column_name(o.columns, xcol), column_name(o.columns, *ycol), rows_kept, o.block)
               : fmt::format("x = {} alone, rows {}, in blocks of {}", column_name(o.columns, xcol), rows_kept, o.block);
    }
    const WalkOracle<I> walk(pb, xcol, ycol, walk_storage, o.columns);
    if (walk.prep() == WalkOracle<I>::Prep::kUnbounded) {
      return solver_unsupported(o.model_name, "no row bounds the batch (the throughput has no maximum)");
    }
    thread_local std::vector<I> corner;
    const bool warm = walk.start_point(pb, corner);
    return solve_with(
        [&walk, &o](const std::vector<I>& u, const std::vector<I>*, OracleOut<I>& out) {
          return walk(u, o.model_name, out);
        },
        warm ? &corner : nullptr);
  }
  // Then the exact LP relaxation: floor(max u·y) + c0 <= 0 over it proves the same
  // (u·y is an integer at every integer point); an empty relaxation holds no point. In at
  // most three columns whose rows bound each alone, the LP is proposed in double and its
  // vertex proved exactly (tinylp.hpp), in this integer width; otherwise, or when that
  // finds no proof, the exact rational LP in GMP decides.
  bool lp_decided = false;
  if (start && free_cols.size() <= 3) {
    // (An Overflow of 128 bits here only leaves the LP to GMP, as the oracles below.)
    try {
      std::array<I, 3> c{I(0), I(0), I(0)};
      for (std::size_t k = 0; k < free_cols.size(); ++k) {
        c[k] = start->den * pb.p[free_cols[k]] - start->num * pb.q[free_cols[k]];
      }
      const TinyLp<I> lp = tiny_lp_max(pb, free_cols, c);
      if (lp.status == TinyLp<I>::Status::kEmpty) {
        settle(CaseRun<I>::Settled::kLpEmpty, I(0));
        return {};
      }
      if (lp.status == TinyLp<I>::Status::kOptimal) {
        const I total = lp.floor_value + (start->den * pb.p0 - start->num * pb.q0);
        if (total <= 0) {
          settle(CaseRun<I>::Settled::kLp, total);
          return {};
        }
        lp_decided = true;
      }
    } catch (const Overflow&) {
      // left to the exact LP
    }
  }
  if constexpr (!std::is_same_v<I, Integer>) {
    throw NeedsGmp{};  // the oracles for three and more columns run in GMP
  } else {
    if (start) {
      std::vector<std::vector<Integer>> a;
      std::vector<Integer> h;
      for (const auto& row : pb.rows) {
        if (row.removed) continue;
        std::vector<Integer> r;
        for (const auto j : free_cols) r.push_back(row.a[j]);
        a.push_back(std::move(r));
        h.push_back(row.h_int);
      }
      std::vector<Integer> c;
      for (const auto j : free_cols) c.push_back(Integer(start->den * pb.p[j] - start->num * pb.q[j]));
      const Integer c0 = start->den * pb.p0 - start->num * pb.q0;
      PolytopeBox box;
      if (!lp_decided) box = polytope_box(a, h, free_cols.size(), true);
      if (box.empty) {
        settle(CaseRun<I>::Settled::kLpEmpty, I(0));
        return {};
      }
      if (!box.unbounded) {
        if (!lp_decided) {
          std::vector<Rational> lo(free_cols.size(), Rational(0)), up(free_cols.size());
          for (std::size_t i = 0; i < free_cols.size(); ++i) up[i] = box.upper[i];
          BoxLp lp(a, h, lo, up);
          lp.set_objective(c);
          if (lp.solve() != BoxLp::Status::kOptimal) {
            settle(CaseRun<I>::Settled::kLpEmpty, I(0));
            return {};
          }
          const Integer total = floor_of(lp.value()) + c0;
          if (total <= 0) {
            settle(CaseRun<I>::Settled::kLp, total);
            return {};
          }
        }
        // Then, in at most three columns, the lattice-hyperplane search for a point that
        // beats the start (the cut u·y >= 1 - c0 makes its polytope thin or empty): none
        // proves the case cannot beat it. When one exists the case is solved as before.
        if (free_cols.size() <= 3) {
          std::vector<RowN> rows;
          for (std::size_t i = 0; i < a.size(); ++i) {
            RowN r;
            r.a = {0, 0, 0};
            for (std::size_t k = 0; k < free_cols.size(); ++k) r.a[k] = a[i][k];
            r.h = h[i];
            rows.push_back(std::move(r));
          }
          for (std::size_t k = 0; k < free_cols.size(); ++k) {
            RowN r;
            r.a = {0, 0, 0};
            r.a[k] = -1;
            r.h = 0;
            rows.push_back(std::move(r));
          }
          VecN cv{0, 0, 0};
          for (std::size_t k = 0; k < free_cols.size(); ++k) cv[k] = c[k];
          const auto r = max_linear_nd(rows, free_cols.size(), cv, 8, Integer(-c0));
          run.nodes += r.nodes;
          if (!r.unbounded && !r.feasible) {
            settle(CaseRun<I>::Settled::kCut, I(0));
            return {};
          }
        }
      }
    }
  }
  if constexpr (!std::is_same_v<I, Integer>) {
    throw Overflow{};
  } else if (free_cols.size() > 3) {
    if (o.record) {
      run.reduced_problem = fmt::format(
          "free columns {}, rows {}, in blocks of {}; exact branch and bound over exact rational LP relaxations "
          "(docs/model.md §3.11)",
          join_names(o.columns, free_cols), rows_kept, o.block);
    }
    std::vector<std::vector<Integer>> a;
    std::vector<Integer> h;
    for (const auto& row : pb.rows) {
      if (row.removed) continue;
      std::vector<Integer> r;
      for (const auto j : free_cols) r.push_back(row.a[j]);
      a.push_back(std::move(r));
      h.push_back(row.h_int);
    }
    const BranchAndBound bnb(std::move(a), std::move(h), free_cols.size());
    if (bnb.unbounded()) {
      return solver_unsupported(o.model_name, "no row bounds the batch (the throughput has no maximum)");
    }
    const std::vector<std::size_t> cols = free_cols;
    return solve_with(
        [&bnb, &run, &cols, n](const std::vector<I>& u, const std::vector<I>* incumbent, OracleOut<I>& out) -> Status {
          std::vector<Integer> c;
          for (const auto j : cols) c.push_back(u[j]);
          std::optional<std::pair<std::vector<Integer>, Integer>> beat;
          if (incumbent != nullptr) {
            std::pair<std::vector<Integer>, Integer> s{{}, 0};
            for (const auto j : cols) {
              s.first.push_back((*incumbent)[j]);
              s.second += u[j] * (*incumbent)[j];
            }
            beat = std::move(s);
          }
          const auto r = bnb.maximize(c, beat);
          run.nodes += r.nodes;
          out.feasible = r.feasible;
          out.y.assign(n, I(0));
          out.value = 0;
          if (r.feasible) {
            for (std::size_t i = 0; i < cols.size(); ++i) out.y[cols[i]] = r.t[i];
            out.value = r.value;
          }
          return {};
        },
        nullptr);
  } else {
    if (o.record) {
      run.reduced_problem = fmt::format(
          "free columns {}, rows {}, in blocks of {}; exact lattice-hyperplane branching (docs/model.md §3.9)",
          join_names(o.columns, free_cols), rows_kept, o.block);
    }
    std::vector<RowN> ilp_rows;
    for (const auto& row : pb.rows) {
      if (row.removed) continue;
      RowN r;
      for (std::size_t i = 0; i < free_cols.size(); ++i) r.a[i] = row.a[free_cols[i]];
      r.h = row.h_int;
      ilp_rows.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < free_cols.size(); ++i) {
      RowN r;
      r.a = {0, 0, 0};
      r.a[i] = -1;
      r.h = 0;
      ilp_rows.push_back(std::move(r));
    }
    const std::vector<std::size_t> cols = free_cols;
    return solve_with(
        [&ilp_rows, &run, &cols, &o, n](const std::vector<I>& u, const std::vector<I>*, OracleOut<I>& out) -> Status {
          VecN c{0, 0, 0};
          for (std::size_t i = 0; i < cols.size(); ++i) c[i] = u[cols[i]];
          auto r = max_linear_nd(ilp_rows, cols.size(), c);
          run.nodes += r.nodes;
          if (r.unbounded) {
            return solver_unsupported(o.model_name, "no row bounds the batch (the throughput has no maximum)");
          }
          out.feasible = r.feasible;
          out.y.assign(n, I(0));
          out.value = 0;
          if (r.feasible) {
            for (std::size_t i = 0; i < cols.size(); ++i) out.y[cols[i]] = r.t[i];
            out.value = r.value;
          }
          return {};
        },
        nullptr);
  }
}

}  // namespace lorasplit::detail
