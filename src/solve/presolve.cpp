// Exact presolve: implied rows and dominated columns (HiGHS presolve's "dominated
// column" idea, with every test an exact rational comparison).
#include <optional>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

// n/d with d != 0, sign moved to the numerator.
template <class I>
Frac<I> frac(const I& n, const I& d) {
  return d < 0 ? Frac<I>{-n, -d} : Frac<I>{n, d};
}
template <class I>
bool less(const Frac<I>& x, const Frac<I>& y) {
  return x.num * y.den < y.num * x.den;
}
template <class I>
bool equal(const Frac<I>& x, const Frac<I>& y) {
  return x.num * y.den == y.num * x.den;
}

// The sign tests of implied_by (they decide most pairs without a product): a positive a_i
// against a_j <= 0, or h_i < 0 against h_j >= 0, admits no mu > 0. Inline, so that the
// pairs they decide cost no call.
template <class I>
inline bool sign_excludes(const BasicIntProblem<I>& pb, const BasicIntRow<I>& ri, const BasicIntRow<I>& rj) {
  const std::size_t n = pb.cols();
  for (std::size_t k = 0; k < n; ++k) {
    if (!pb.fixed_zero[k] && ri.a[k] > 0 && rj.a[k] <= 0) return true;
  }
  return ri.h_lp.num < 0 && rj.h_lp.num >= 0;
}

// Is row i implied by row j for all b >= 0? True iff some mu > 0 has
// a_i <= mu*a_j (componentwise over free columns) and h_i >= mu*h_j: then
// a_i·b <= mu*a_j·b <= mu*h_j <= h_i. Returns such a mu.
template <class I>
std::optional<Frac<I>> implied_by(const BasicIntProblem<I>& pb, const BasicIntRow<I>& ri, const BasicIntRow<I>& rj) {
  Frac<I> lo{0, 1};            // mu > lo (strict at 0)
  std::optional<Frac<I>> hi;   // mu <= hi
  bool lo_strict = true;
  const auto need_ge = [&](const Frac<I>& bound) {  // mu >= bound
    if (less(lo, bound)) {
      lo = bound;
      lo_strict = false;
    }
  };
  const auto need_le = [&](const Frac<I>& bound) {
    if (!hi || less(bound, *hi)) hi = bound;
  };
  if (sign_excludes(pb, ri, rj)) return std::nullopt;
  const std::size_t n = pb.cols();
  for (std::size_t k = 0; k < n; ++k) {
    if (pb.fixed_zero[k]) continue;
    const I& ai = ri.a[k];
    const I& aj = rj.a[k];
    if (aj > 0) {
      need_ge(frac(ai, aj));
    } else if (aj < 0) {
      need_le(frac(ai, aj));
    } else if (ai > 0) {
      return std::nullopt;
    }
  }
  // h_i / h_j as a fraction: (n_i/d_i) / (n_j/d_j) = (n_i d_j) / (d_i n_j).
  const I& nj = rj.h_lp.num;
  if (nj > 0) {
    need_le(frac(I(ri.h_lp.num * rj.h_lp.den), I(ri.h_lp.den * nj)));
  } else if (nj < 0) {
    need_ge(frac(I(ri.h_lp.num * rj.h_lp.den), I(ri.h_lp.den * nj)));
  } else if (ri.h_lp.num < 0) {
    return std::nullopt;
  }
  if (hi && (less(*hi, lo) || (equal(*hi, lo) && lo_strict))) return std::nullopt;
  if (!lo_strict) return lo;
  if (hi) return *hi;
  return Frac<I>{1, 1};
}

}  // namespace

template <class I>
void presolve(BasicIntProblem<I>& pb, std::vector<PresolveReduction>* log, PresolveMemo* memo) {
  const std::size_t n = pb.cols();
  const std::size_t m = pb.rows.size();
  // The memo answers a pair test it has seen for the same two rows (their stamps) and the
  // same fixed columns; the log needs the multipliers, so it is not used with one.
  const bool remember = memo != nullptr && log == nullptr && n <= 64 && memo->stamps.size() == m;
  if (remember && memo->pairs.size() != 2 * m * m) memo->pairs.assign(2 * m * m, PresolveMemo::Pair{});
  // Rounds of row removals, then at most one column fixing. A round that fixes no column
  // ends the presolve: the removals of a round leave no new implied row (implied_by reads
  // the two rows and the fixed columns only), so only a fixed column calls for another.
  bool changed = true;
  while (changed) {
    changed = false;
    std::uint64_t fixed = 0;
    if (remember) {
      for (std::size_t k = 0; k < n; ++k) fixed |= pb.fixed_zero[k] != 0 ? std::uint64_t{1} << k : 0;
    }
    if (remember) {
      // Two slots a pair: the rounds before and after a column is fixed. (Raw pointers: the
      // stores to the rows and the memo would otherwise reload the vectors' data per pair.)
      const std::uint64_t* const stamps = memo->stamps.data();
      PresolveMemo::Pair* const pairs = memo->pairs.data();
      BasicIntRow<I>* const rows = pb.rows.data();
      for (std::size_t i = 0; i < m; ++i) {
        auto& ri = rows[i];
        if (ri.removed) continue;
        const std::uint64_t si = stamps[i];
        for (std::size_t j = 0; j < m; ++j) {
          const auto& rj = rows[j];
          if (i == j || rj.removed) continue;
          PresolveMemo::Pair* slots = pairs + 2 * (i * m + j);
          const std::uint64_t sj = stamps[j];
          const bool known = si != 0 && sj != 0;
          bool implied = false;
          if (known && slots[0].si == si && slots[0].sj == sj && slots[0].fixed == fixed) {
            implied = slots[0].implied;
          } else if (known && slots[1].si == si && slots[1].sj == sj && slots[1].fixed == fixed) {
            implied = slots[1].implied;
          } else {
            PresolveMemo::Pair* pair = &slots[slots[0].fixed == fixed || slots[0].si != si || slots[0].sj != sj ? 0 : 1];
            implied = !sign_excludes(pb, ri, rj) && implied_by(pb, ri, rj).has_value();
            pair->implied = implied;
            pair->si = si;
            pair->sj = sj;
            pair->fixed = fixed;
          }
          if (implied) {
            ri.removed = true;
            break;
          }
        }
      }
    }
    for (std::size_t i = 0; i < m && !remember; ++i) {
      auto& ri = pb.rows[i];
      if (ri.removed) continue;
      for (std::size_t j = 0; j < m; ++j) {
        const auto& rj = pb.rows[j];
        if (i == j || rj.removed) continue;
        if (auto mu = implied_by(pb, ri, rj)) {
          ri.removed = true;
          if (log != nullptr) {
            PresolveReduction r;
            r.kind = PresolveReduction::Kind::kImpliedRow;
            r.row = ri.name;
            r.by_row = rj.name;
            r.multiplier = to_rational(mu->num, mu->den);
            log->push_back(std::move(r));
          }
          break;
        }
      }
    }
    // Column j is dominated by column k when moving one token from path j to path k
    // never raises a row's left side, never lowers the tokens and never raises the
    // batch time: then some optimum has b_j = 0 (the move keeps feasibility and does not
    // lower tokens/time).
    for (std::size_t j = 0; j < n && !changed; ++j) {  // changed: a column was fixed
      if (pb.fixed_zero[j]) continue;
      for (std::size_t k = 0; k < n; ++k) {
        if (k == j || pb.fixed_zero[k]) continue;
        bool dominated = pb.p[k] >= pb.p[j] && pb.q[k] <= pb.q[j];
        for (const auto& row : pb.rows) {
          if (!dominated) break;
          if (!row.removed && row.a[k] > row.a[j]) dominated = false;
        }
        if (dominated) {
          pb.fixed_zero[j] = 1;
          changed = true;
          if (log != nullptr) {
            PresolveReduction r;
            r.kind = PresolveReduction::Kind::kDominatedColumn;
            r.column = j;
            r.by_column = k;
            log->push_back(std::move(r));
          }
          break;
        }
      }
    }
  }
}

template void presolve(BasicIntProblem<Integer>&, std::vector<PresolveReduction>*, PresolveMemo*);
template void presolve(BasicIntProblem<Int128>&, std::vector<PresolveReduction>*, PresolveMemo*);

}  // namespace lorasplit::detail
