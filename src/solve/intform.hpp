#pragma once
// The integer form of a case built straight from its symbolic rows (docs/model.md §3.10):
// every monomial evaluated from the parameters' numerators and denominators, each row
// scaled by a common multiple of its monomials' denominators and divided by the gcd of
// its coefficients (the same row for every common multiple; in 128 bits the denominators
// that changed multiply it without the gcds that would make it least, unless a number
// then does not fit). The same template serves GMP integers and overflow-checked
// 128-bit integers; the result equals to_integer_form of the evaluated model row for row
// (a primitive integer row is unique).
//
// Work is kept between calls: a monomial's value, a row, the least common multiple of a
// row's denominators are rebuilt only when a parameter they read has a new version
// (Params::version); the denominators of a row are kept in the order in which they last
// changed, with their running lcm, so a sweep of one parameter recomputes only the tail.
// Cases that share a row (the same symbolic row under the same used columns) share its
// integer form.
#include <lorasplit/params.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/formulate.hpp"
#include "solve/problem.hpp"

namespace lorasplit::detail {

/// The parameters as integer fractions n/d (d > 0, lowest terms), with their versions.
template <class I>
struct ParamValues {
  std::vector<Frac<I>> v;                ///< by ParamId
  std::vector<std::uint64_t> version;    ///< the Params::version each value was loaded at
  std::vector<char> loaded;
  std::uint64_t epoch{0};       ///< drawn from a process-wide counter at every load(): unique
  std::uint64_t prev_epoch{0};  ///< this object's epoch before the last load()
  std::uint64_t changed{~std::uint64_t{0}};  ///< bit i: parameter i was reloaded by the last load()
  /// Loads the parameters in `reads` whose version changed; false when one does not fit
  /// (Int128: a 64-bit numerator and denominator).
  bool load(const Params& p, const std::vector<ParamId>& reads);
};

/// The bits of a set of parameters (kParamCount <= 64).
std::uint64_t param_mask(const std::vector<ParamId>& ids);

/// A formulation compiled for integer forms: its distinct monomials and rows, and, per case, which.
class CompiledFormulation {
 public:
  explicit CompiledFormulation(std::shared_ptr<const SymFormulation> f);
  [[nodiscard]] const SymFormulation& formulation() const { return *f_; }
  [[nodiscard]] const std::vector<ParamId>& reads() const { return reads_; }
  [[nodiscard]] std::size_t cases() const { return f_->cases.size(); }
  [[nodiscard]] std::size_t columns() const { return f_->columns.size(); }

  struct Monomial {  ///< coef * Π p^e, with the parameters it reads
    Rational coef;
    std::vector<std::pair<ParamId, int>> powers;
    std::vector<ParamId> reads;
    std::uint64_t mask{0};
    bool coef64{false};  ///< the coefficient's numerator and denominator fit 64 bits
    std::int64_t coef_num{0}, coef_den{1};
  };
  struct Term {
    std::size_t column;    ///< the column it multiplies; columns() for the constant
    std::size_t monomial;  ///< index into monomials()
    std::size_t den;       ///< its denominator's group in the form (equal denominators share one)
  };
  struct Form {            ///< one affine form lhs - rhs (a row) or half an objective
    std::string name;
    RowKind kind{RowKind::kMemory};
    std::vector<Term> terms;
    std::vector<std::size_t> den_monomials;  ///< per denominator group, a monomial that has it
    std::vector<ParamId> reads;              ///< every parameter it reads, the block size included
    std::uint64_t mask{0};
  };
  struct RowRef {
    std::size_t form;      ///< index into forms()
    std::size_t offsets;   ///< index into offset_sets()
  };
  struct Case {
    std::vector<RowRef> rows;  ///< in the case's row order
    std::size_t tokens{0}, batch_time{0}, offsets{0};
  };
  [[nodiscard]] const std::vector<Monomial>& monomials() const { return monomials_; }
  [[nodiscard]] const std::vector<Form>& forms() const { return forms_; }
  [[nodiscard]] const std::vector<std::vector<int>>& offset_sets() const { return offsets_; }
  [[nodiscard]] const Case& at(std::size_t c) const { return cases_[c]; }

 private:
  std::shared_ptr<const SymFormulation> f_;
  std::vector<Monomial> monomials_;
  std::vector<Form> forms_;
  std::vector<std::vector<int>> offsets_;
  std::vector<Case> cases_;
  std::vector<ParamId> reads_;
};

/// Integer rows of a compiled formulation, kept between calls.
template <class I>
class IntegerForms {
 public:
  explicit IntegerForms(std::shared_ptr<const CompiledFormulation> c);
  [[nodiscard]] const CompiledFormulation& compiled() const { return *c_; }
  /// The integer form of case `c` at `values` (the block size among them) into `out`,
  /// reusing its storage; `stamps` (kept with `out` by the caller) says which build each
  /// of out's rows is a copy of, so that unchanged rows are not copied again. Throws
  /// Overflow (Int128) when a number does not fit.
  void build(std::size_t c, const ParamValues<I>& values, BasicIntProblem<I>& out, std::vector<std::uint64_t>& stamps);

 private:
  // An entry is current at epoch e when it was checked at e, or at the same values' previous
  // epoch and none of its parameters changed since; otherwise its versions are compared.
  struct Entry {
    bool valid{false};
    std::uint64_t epoch{0};
    std::vector<std::uint64_t> versions;
  };
  struct MonomialValue : Entry {
    I num{0}, den{1};
  };
  struct Cached : Entry {
    std::uint64_t build{0};  ///< distinct for every rebuild (out's stamps)
    BasicIntRow<I> row;
    // The denominators of the form's groups, kept in the order they last changed, and the
    // running lcm along that order.
    std::vector<std::size_t> order;
    std::vector<I> den, prefix, quot;  ///< by group: denominator, quotient of the unchanged groups' lcm
    std::size_t valid_prefix{0};       ///< how many entries of prefix are the running lcm
    I quot_p{0};                       ///< the lcm the quotients are of
    bool quot_valid{false};
    bool lcm_ok{false};
  };
  struct CachedObjective : Entry {
    std::vector<I> coef;
    I constant{0}, scale{1};
  };
  /// Monomial m at `values`: checked once per load (its epoch), then read as it is.
  const MonomialValue& monomial(std::size_t m, const ParamValues<I>& v) {
    const MonomialValue& mv = monomials_[m];
    if (mv.valid && mv.epoch == v.epoch) return mv;
    return refresh_monomial(m, v);
  }
  const MonomialValue& refresh_monomial(std::size_t m, const ParamValues<I>& v);
  /// gcd(a, b) for a row's least common denominator (GMP, and 128 bits when the plain
  /// product does not fit), remembered for the next row: the rows that read the same
  /// changed parameter have the same denominators and would otherwise take the same gcd.
  I denominator_gcd(const I& a, const I& b);
  /// Inline for the common answers (checked at this load, or at the previous one and none
  /// of its parameters changed); otherwise the versions are compared (current_by_version).
  bool current(Entry& e, const std::vector<ParamId>& reads, std::uint64_t mask, const ParamValues<I>& v) const {
    if (!e.valid) return false;
    if (e.epoch == v.epoch) return true;
    if (e.epoch == v.prev_epoch && e.epoch != 0 && (mask & v.changed) == 0) {
      e.epoch = v.epoch;
      return true;
    }
    return current_by_version(e, reads, v);
  }
  bool current_by_version(Entry& e, const std::vector<ParamId>& reads, const ParamValues<I>& v) const;
  void stamp(Entry& e, const std::vector<ParamId>& reads, const ParamValues<I>& v) const;
  const BasicIntRow<I>& row(std::size_t form, std::size_t offsets, const ParamValues<I>& v);
  const CachedObjective& objective(std::size_t form, std::size_t offsets, const ParamValues<I>& v);
  std::shared_ptr<const CompiledFormulation> c_;
  std::vector<MonomialValue> monomials_;
  std::vector<Cached> rows_;               // by form * offset_sets + offsets
  std::vector<CachedObjective> objectives_;
  std::vector<std::size_t> changed_, unchanged_;  // scratch
  struct GcdMemo {
    I a{0}, b{0}, g{0};
  };
  std::array<GcdMemo, 2> gcd_memo_{};  // the last two, the older one replaced
  std::size_t gcd_next_{0};
};

}  // namespace lorasplit::detail
