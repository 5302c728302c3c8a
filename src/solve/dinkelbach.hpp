#pragma once
// Dinkelbach iterations over one linear case in integer form (docs/model.md §3.4), and
// the lattice-walk oracle for two free columns (§3.3), as templates over the integer
// type: the general solver instantiates them with GMP integers, the fast path (§3.10)
// with checked 128-bit integers. Same code, same answers.
#include <fmt/format.h>
#include <lorasplit/status.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "solve/problem.hpp"

namespace lorasplit::detail {

constexpr int kMaxDinkelbachIterations = 10000;  // converges in a handful; this only guards bugs

inline Error solver_internal(const std::string& what) {
  return Error{ErrorCode::kInternal, "", "", "internal error: " + what + " (please report this instance)"};
}
inline Error solver_unsupported(std::string_view model_name, const std::string& why) {
  return Error{ErrorCode::kUnsupported, "model", std::string(model_name),
               fmt::format("model = '{}': {}", model_name, why)};
}

/// What an oracle returns: max u·y over the case's integer points y >= 0 (block units).
template <class I>
struct OracleOut {
  bool feasible{false};
  std::vector<I> y;  ///< one entry per column
  I value{0};
};

/// "b3" for column 2 when `columns` names it, else "column 3".
inline std::string column_name(const std::vector<Column>* columns, std::size_t j) {
  if (columns != nullptr && j < columns->size()) return (*columns)[j].name;
  return fmt::format("column {}", j + 1);
}

/// The lattice-walk oracle: one or two free columns, and with two, every row bounds
/// the y column from above only (a_y >= 0).
template <class I>
class WalkOracle {
 public:
  enum class Prep { kOk, kEmpty, kUnbounded };

  /// Which columns are x and y, if the walk applies to `pb` (presolved).
  static bool applies(const BasicIntProblem<I>& pb, std::size_t& xcol, std::optional<std::size_t>& ycol) {
    std::size_t free[2] = {0, 0};
    std::size_t n = 0;
    for (std::size_t j = 0; j < pb.cols(); ++j) {
      if (pb.fixed_zero[j]) continue;
      if (n == 2) return false;  // three or more free columns
      free[n++] = j;
    }
    ycol.reset();
    xcol = n == 0 ? 0 : free[0];
    if (n == 0) return false;
    if (n == 1) return true;
    for (std::size_t i = 2; i-- > 0 && !ycol;) {
      bool ok = true;
      for (const auto& row : pb.rows) {
        if (!row.removed && row.a[free[i]] < 0) ok = false;
      }
      if (ok) ycol = free[i];
    }
    if (!ycol) return false;
    xcol = free[0] == *ycol ? free[1] : free[0];
    return true;
  }

  /// The oracle's buffers (a caller that solves many instances passes the same storage
  /// to keep their capacity).
  struct Storage {
    std::vector<BasicRow2<I>> rows;
    Envelope2<I> envelope;
  };

  WalkOracle(const BasicIntProblem<I>& pb, std::size_t xcol, std::optional<std::size_t> ycol, Storage& storage,
             const std::vector<Column>* columns = nullptr)
      : xcol_(xcol), ycol_(ycol), cols_(pb.cols()), columns_(columns), rows_(storage.rows),
        envelope_(storage.envelope) {
    rows_.clear();
    for (const auto& row : pb.rows) {
      if (row.removed) continue;
      BasicRow2<I> r{row.a[xcol], ycol ? row.a[*ycol] : I(0), row.h_int};
      if (r.ax == 0 && r.ay == 0) {
        if (r.h < 0) empty_ = true;  // a row no split can meet (e.g. the adapter alone exceeds memory)
        continue;
      }
      // At y = 0 each row reads a_x x <= h; with a_y >= 0 this is necessary for every y.
      if (r.ax > 0) {
        const I q = floor_div(r.h, r.ax);
        if (!hi_ || q < *hi_) hi_ = q;
      } else if (r.ax < 0) {
        const I q = ceil_div(r.h, r.ax);
        if (q > lo_) lo_ = q;
      } else if (r.h < 0) {
        empty_ = true;
      }
      rows_.push_back(std::move(r));
    }
    if (!empty_ && hi_ && lo_ > *hi_) empty_ = true;
  }

  [[nodiscard]] Prep prep() const {
    if (empty_) return Prep::kEmpty;
    return hi_ ? Prep::kOk : Prep::kUnbounded;
  }

  /// The warm start (docs/model.md §3.4): the envelope corner with the best ratio
  /// (p·y + p0)/(q·y + q0), first on ties; nullopt without two free columns, or when no
  /// corner is a plan with positive batch time.
  bool start_point(const BasicIntProblem<I>& pb, std::vector<I>& t) const {
    if (empty_ || !hi_ || !ycol_) return false;
    if (!built_) {
      envelope_.assign(rows_, lo_, *hi_);
      built_ = true;
    }
    bool found = false;
    I best_x = 0, best_y = 0;
    I best_n = 0, best_d = 1;
    const std::size_t xc = xcol_, yc = *ycol_;
    envelope_.for_each_corner([&](const I& x, const I& y) {
      if (y < 0) return;
      const I n = pb.p0 + pb.p[xc] * x + pb.p[yc] * y;
      const I d = pb.q0 + pb.q[xc] * x + pb.q[yc] * y;
      if (d <= 0 || n <= 0) return;
      if (!found || n * best_d > best_n * d) {
        found = true;
        best_x = x;
        best_y = y;
        best_n = n;
        best_d = d;
      }
    });
    if (!found) return false;
    t.assign(pb.cols(), I(0));
    t[xc] = best_x;
    t[yc] = best_y;
    return true;
  }

  /// max u·y; `unbounded_col` names the column no row bounds when that is the case.
  Status operator()(const std::vector<I>& u, std::string_view model_name, OracleOut<I>& o) const {
    o.feasible = false;
    o.value = 0;
    if (empty_) return {};
    o.y.assign(cols_, I(0));
    const I& v = ycol_ ? u[*ycol_] : zero_;
    if (v > 0 && !built_) {  // built once, on the first walk
      envelope_.assign(rows_, lo_, *hi_);
      built_ = true;
    }
    if (v <= 0) {  // y = 0 is best: an end of [lo, hi] (what Envelope2::eval does, without building it)
      o.feasible = true;
      o.y[xcol_] = u[xcol_] < 0 ? lo_ : *hi_;
      o.value = u[xcol_] * o.y[xcol_];
      return {};
    }
    auto r = envelope_.eval(u[xcol_], v);
    if (r.unbounded) {
      return solver_unsupported(model_name, fmt::format("no row bounds {} (the throughput has no maximum)",
                                                        column_name(columns_, ycol_ ? *ycol_ : xcol_)));
    }
    o.feasible = true;
    o.y[xcol_] = r.best.x;
    if (ycol_) o.y[*ycol_] = r.best.y;
    o.value = r.best.value;
    return {};
  }

 private:
  std::size_t xcol_;
  std::optional<std::size_t> ycol_;
  std::size_t cols_;
  const std::vector<Column>* columns_;
  std::vector<BasicRow2<I>>& rows_;
  I lo_{0};
  std::optional<I> hi_;
  bool empty_{false};
  I zero_{0};
  Envelope2<I>& envelope_;
  mutable bool built_{false};
};

/// One Dinkelbach run's outcome in the problem's scaled units: λ = num/den stands for
/// the throughput num/den * scale_d/scale_n tokens/s.
template <class I>
struct DinkelbachRun {
  enum class Outcome {
    kFound,     ///< a plan with ratio > start (or, without start, the optimum)
    kNotBetter, ///< no plan beats start (or, at λ = 0, no plan serves tokens)
    kEmpty,     ///< the case holds no integer point
  };
  Outcome outcome{Outcome::kEmpty};
  std::vector<I> y;             ///< the optimum (block units), when kFound
  I num{0}, den{1};             ///< the final λ, in lowest terms
  I total{0};                   ///< max of u·y + c0 at the final λ; the certificate's value is total/(den*scale_n)
  int iterations{0};
  int iteration_bound{0};
  struct Step {
    I num, den;             ///< λ the subproblem was solved at
    std::vector<I> y;       ///< its maximiser
    I total;                ///< its maximum (scaled: tokens * den * scale_n)
  };
  std::vector<Step> steps;                     ///< when recorded
  std::vector<std::pair<I, I>> lambda_path;    ///< λ after each improving step, when recorded
  bool warm{false};                            ///< started at the caller's start point
};

/// Runs Dinkelbach from λ = start (scaled units; 0 when absent) with `oracle`
/// (Status(const std::vector<I>& u, const std::vector<I>* incumbent, OracleOut<I>& out), the
/// incumbent a point of value -c0 or null) into `run` (its storage reused);
/// `record_steps` keeps the steps and the λ path (the certificate's; a caller that needs
/// only the answer skips them). A `start_point` (a plan of the case) whose ratio beats
/// `start` becomes the incumbent and its ratio the first λ.
template <class I, class Oracle>
Status dinkelbach(const BasicIntProblem<I>& pb, const Oracle& oracle, const std::optional<Frac<I>>& start,
                  bool record_steps, std::string_view model_name, const std::vector<I>* start_point,
                  DinkelbachRun<I>& run) {
  using Run = DinkelbachRun<I>;
  run.outcome = Run::Outcome::kEmpty;
  run.total = 0;
  run.iterations = 0;
  run.iteration_bound = 0;
  run.steps.clear();
  run.lambda_path.clear();
  run.warm = false;
  const std::size_t ncols = pb.cols();
  // The plan's numerator and denominator, p·y + p0 and q·y + q0.
  const auto ratio_of = [&pb, ncols](const std::vector<I>& y, I& n, I& d) {
    n = pb.p0;
    d = pb.q0;
    for (std::size_t j = 0; j < ncols; ++j) {
      if (y[j] == 0) continue;
      n += pb.p[j] * y[j];
      d += pb.q[j] * y[j];
    }
  };
  I num = 0, den = 1;
  if (start) {
    num = start->num;
    den = start->den;
  }
  bool have_incumbent = false;
  bool bound_set = false;
  if (start_point != nullptr) {
    I n, d;
    ratio_of(*start_point, n, d);
    if (d > 0 && n * den > num * d) {
      const I g = gcd(n, d);
      num = n / g;
      den = d / g;
      have_incumbent = true;
      run.warm = true;
      run.y = *start_point;
      if (record_steps) run.lambda_path.emplace_back(num, den);
    }
  }
  thread_local std::vector<I> u;
  thread_local OracleOut<I> got;
  u.resize(ncols);
  for (int it = 0;; ++it) {
    if (it == kMaxDinkelbachIterations) return solver_internal("Dinkelbach did not terminate");
    for (std::size_t j = 0; j < ncols; ++j) u[j] = den * pb.p[j] - num * pb.q[j];
    const I c0 = den * pb.p0 - num * pb.q0;
    // The incumbent's value u·y is -c0 exactly (λ is its ratio); an oracle may use it as a
    // point to beat.
    if (Status st = oracle(u, have_incumbent ? &run.y : nullptr, got); !st) return st;
    ++run.iterations;
    if (!got.feasible) {  // the case holds no integer point
      run.outcome = Run::Outcome::kEmpty;
      return {};
    }
    run.total = got.value + c0;
    if (record_steps) run.steps.push_back({num, den, got.y, run.total});
    if (!have_incumbent) {
      if (run.total <= 0) {  // no plan beats start (or, at λ = 0, no plan serves tokens)
        run.outcome = Run::Outcome::kNotBetter;
        run.num = num;
        run.den = den;
        return {};
      }
    } else {
      if (run.total < 0) return solver_internal("Dinkelbach subproblem below its incumbent");
      if (run.total == 0) break;
    }
    I n, d;
    ratio_of(got.y, n, d);
    if (d <= 0) {
      return solver_unsupported(model_name, "a split with zero batch time serves tokens (unbounded throughput)");
    }
    const I g = gcd(n, d);
    num = n / g;
    den = d / g;
    if (!bound_set) {
      // Radzik: h_{k+1} g_{k+1} <= h_k g_k / 4 with h_k g_k >= 1/D(x1) while not optimal and
      // h_0 g_0 <= N(x1) D(x1), x1 the first subproblem's maximiser, so at most
      // log4(N(x1) D(x1)^2) further improving steps, plus the first and the last subproblem.
      run.iteration_bound = 2 + static_cast<int>((product_bit_length(n, d, d) - 1) / 2);
      bound_set = true;
    }
    have_incumbent = true;
    run.y = got.y;  // copied into run.y's storage (got keeps its own)
    if (record_steps) run.lambda_path.emplace_back(num, den);
  }
  run.outcome = Run::Outcome::kFound;
  run.num = num;
  run.den = den;
  if (!bound_set) run.iteration_bound = 1;  // the start point was optimal: one subproblem proved it
  if (run.iterations > run.iteration_bound) return solver_internal("Dinkelbach exceeded its proven iteration bound");
  return {};
}

}  // namespace lorasplit::detail
