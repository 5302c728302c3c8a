#include "analysis/extras.hpp"

#include "solve/driver.hpp"
#include "solve/lean.hpp"

namespace lorasplit::detail {

template <class I>
std::optional<I> first_column_cap(const BasicIntProblem<I>& pb) {
  // Every memory and limit row at y = (y0, 0, ...): a[0] y0 <= h. A row that no y0 >= 0
  // meets (a[0] <= 0 and h < 0) leaves no GPU-only plan: the cap is -1.
  std::optional<I> cap;
  for (const auto& row : pb.rows) {
    if (row.kind == RowKind::kSync || row.kind == RowKind::kCase) continue;
    if (row.a[0] <= 0) {
      if (row.h_int < 0) return I(-1);
      continue;
    }
    const I q = floor_div(row.h_int, row.a[0]);
    if (!cap || q < *cap) cap = q;
  }
  return cap;
}

template <class I>
void binding_rows(const BasicIntProblem<I>& pb, const std::vector<I>& y, std::vector<std::string>& out) {
  out.clear();
  const std::size_t n = pb.cols();
  for (const auto& row : pb.rows) {
    if (row.kind == RowKind::kCase) continue;
    I lhs = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (y[j] != 0) lhs += row.a[j] * y[j];
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (row.a[j] > 0 && lhs + row.a[j] > row.h_int) {
        out.push_back(row.name);
        break;
      }
    }
  }
}

template std::optional<Integer> first_column_cap(const BasicIntProblem<Integer>&);
template std::optional<Int128> first_column_cap(const BasicIntProblem<Int128>&);
template void binding_rows(const BasicIntProblem<Integer>&, const std::vector<Integer>&, std::vector<std::string>&);
template void binding_rows(const BasicIntProblem<Int128>&, const std::vector<Int128>&, std::vector<std::string>&);

namespace {

// n/d reduced, as a rational (no GMP arithmetic when both fit 64 bits).
void set_reduced(Rational& out, Int128 n, Int128 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  const Int128 g = gcd(n, d);
  if (g != 0 && g != 1) {
    n = n / g;
    d = d / g;
  }
  std::int64_t n64 = 0, d64 = 0;
  if (get_int64(n, n64) && get_int64(d, d64) && d64 > 0) {
    mpq_set_si(out.get_mpq_t(), n64, static_cast<unsigned long>(d64));
  } else {
    out = to_rational(n, d);
  }
}

// The GPU-only baseline of a case form: cap, then its ratio (unreduced, true units).
template <class I>
bool gpu_only_of(const BasicIntProblem<I>& pb, const std::optional<I>& cap, std::int64_t block, std::int64_t& b1, I& n,
                 I& d) {
  if (!cap || *cap + I(pb.offset[0]) < 1) return false;
  if (!get_int64(I((*cap + I(pb.offset[0])) * I(block)), b1)) return false;
  n = (pb.p[0] * *cap + pb.p0) * pb.scale_d;
  d = (pb.q[0] * *cap + pb.q0) * pb.scale_n;
  return d > 0;
}

}  // namespace

void lean_extras(const LeanSolver& solver, const SolveResult& result, LeanExtras& out) {
  const LeanState& st = LeanAccess::state(solver);
  out.binding.clear();
  const auto gpu_case = st.compiled ? gpu_only_case(st.compiled->formulation()) : std::nullopt;
  bool have_gpu = false;
  if (gpu_case && st.cases[*gpu_case].built) {
    const LeanCase& lc = st.cases[*gpu_case];
    std::int64_t b1 = 0;
    if (!lc.wide) {
      Int128 n = 0, d = 0;
      try {
        // The cap reads the memory and limit rows only: the same builds of those (their
        // stamps) give the same cap, however often the sync rows were rebuilt.
        const auto& stamps = lc.narrow_stamps;
        bool same = out.cap_stamps.size() == stamps.size() && stamps.size() == lc.narrow.rows.size();
        for (std::size_t i = 0; i < stamps.size() && same; ++i) {
          const RowKind kind = lc.narrow.rows[i].kind;
          same = kind == RowKind::kSync || kind == RowKind::kCase || out.cap_stamps[i] == stamps[i];
        }
        if (!same) {
          out.cap_stamps = stamps;
          out.cap = first_column_cap(lc.narrow);
        }
        have_gpu = gpu_only_of(lc.narrow, out.cap, st.block, b1, n, d);
        if (have_gpu && (!out.gpu_only_tokens_per_s || n != out.gpu_n || d != out.gpu_d)) {
          if (!out.gpu_only_tokens_per_s) out.gpu_only_tokens_per_s.emplace();
          set_reduced(*out.gpu_only_tokens_per_s, n, d);
          out.gpu_n = n;
          out.gpu_d = d;
          const auto r = to_int128(out.gpu_only_tokens_per_s->get_num());
          const auto s = to_int128(out.gpu_only_tokens_per_s->get_den());
          out.gpu_rn = r ? *r : Int128(0);
          out.gpu_rd = s ? *s : Int128(0);
        }
      } catch (const Overflow&) {
        have_gpu = false;
      }
    }
    if (lc.wide || !have_gpu) {
      const BasicIntProblem<Integer> wide = lc.wide ? lc.general : *convert_problem<Integer>(lc.narrow);
      Integer n, d;
      out.cap_stamps.clear();
      have_gpu = gpu_only_of(wide, first_column_cap(wide), st.block, b1, n, d);
      if (have_gpu) {
        out.gpu_only_tokens_per_s = make_rational(n, d);
        out.gpu_n = out.gpu_d = 0;  // not comparable: reduce again next time
        out.gpu_rn = 0;
        out.gpu_rd = 0;
      }
    }
    if (have_gpu) out.gpu_only_b1 = b1;
  }
  if (!have_gpu) {
    out.gpu_only_tokens_per_s.reset();
    out.gpu_only_b1.reset();
  }
  if (result.status != SolveStatus::kOptimal || !st.best_case) {
    out.gain_percent.reset();
    return;
  }
  const LeanCase& best = st.cases[*st.best_case];
  if (best.wide) {
    binding_rows(best.general, st.best_y, out.binding);
  } else {
    binding_rows(best.narrow, st.best_y128, out.binding);
  }
  if (!out.gpu_only_tokens_per_s) {
    out.gain_percent.reset();
    return;
  }
  if (!out.gain_percent) out.gain_percent.emplace();
  // (t/g - 1) * 100: t/g = N/D in lowest terms by cross-reduction, then (N - D)/D is too
  // and only gcd(100, D) remains; in GMP when 128 bits do not hold it.
  const Rational& t = result.throughput_tokens_per_s;
  try {
    const auto tn = to_int128(t.get_num()), td = to_int128(t.get_den());
    if (!tn || !td || out.gpu_rd == 0) throw Overflow{};
    const Int128 gn = out.gpu_rn, gd = out.gpu_rd;
    const Int128 g1 = gcd(*tn, gn), g2 = gcd(gd, *td);
    const Int128 num = (*tn / g1) * (gd / g2), den = (*td / g2) * (gn / g1);
    const Int128 c = gcd(Int128(100), den % 100);
    const Int128 gn2 = (100 / c) * (num - den), gd2 = den / c;  // in lowest terms already
    std::int64_t n64 = 0, d64 = 0;
    if (get_int64(gn2, n64) && get_int64(gd2, d64) && d64 > 0) {
      mpq_set_si(out.gain_percent->get_mpq_t(), n64, static_cast<unsigned long>(d64));
    } else {
      *out.gain_percent = to_rational(gn2, gd2);
    }
  } catch (const Overflow&) {
    *out.gain_percent = (t / *out.gpu_only_tokens_per_s - 1) * 100;
  }
}

}  // namespace lorasplit::detail
