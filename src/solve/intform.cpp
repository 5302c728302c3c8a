#include "solve/intform.hpp"

#include <algorithm>
#include <atomic>
#include <type_traits>

namespace lorasplit::detail {

std::uint64_t param_mask(const std::vector<ParamId>& ids) {
  static_assert(kParamCount <= 64);
  std::uint64_t m = 0;
  for (const auto id : ids) m |= std::uint64_t{1} << static_cast<unsigned>(id);
  return m;
}

template <class I>
bool ParamValues<I>::load(const Params& p, const std::vector<ParamId>& reads) {
  if (v.size() != kParamCount) {
    v.assign(kParamCount, Frac<I>{I(0), I(1)});
    version.assign(kParamCount, 0);
    loaded.assign(kParamCount, 0);
  }
  static std::atomic<std::uint64_t> counter{0};
  prev_epoch = epoch;
  epoch = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  changed = 0;
  for (const auto id : reads) {
    const auto i = static_cast<std::size_t>(id);
    if (loaded[i] != 0 && version[i] == p.version(id)) continue;
    changed |= std::uint64_t{1} << static_cast<unsigned>(id);
    const Rational& x = p.get(id);
    loaded[i] = 0;
    if constexpr (std::is_same_v<I, Integer>) {
      v[i] = Frac<Integer>{x.get_num(), x.get_den()};
    } else {
      if (!x.get_num().fits_slong_p() || !x.get_den().fits_slong_p()) return false;
      v[i] = Frac<Int128>{Int128(x.get_num().get_si()), Int128(x.get_den().get_si())};
    }
    version[i] = p.version(id);
    loaded[i] = 1;
  }
  return true;
}

template struct ParamValues<Integer>;
template struct ParamValues<Int128>;

namespace {

// What a monomial's denominator is made of: its coefficient's denominator, the
// denominators of the parameters with a positive exponent, the numerators of those with a
// negative one. Equal signatures give equal denominators.
std::vector<std::pair<int, int>> den_signature(const CompiledFormulation::Monomial& m) {
  std::vector<std::pair<int, int>> out;
  for (const auto& [id, e] : m.powers) {
    if (e > 0 && spec(id).integer) continue;  // a whole number's denominator is 1
    out.emplace_back(static_cast<int>(id) * 2 + (e > 0 ? 0 : 1), e > 0 ? e : -e);
  }
  return out;
}

}  // namespace

CompiledFormulation::CompiledFormulation(std::shared_ptr<const SymFormulation> f) : f_(std::move(f)) {
  const std::size_t n = f_->columns.size();
  const auto intern_monomial = [&](const lorasplit::Monomial& m) {
    for (std::size_t i = 0; i < monomials_.size(); ++i) {
      if (monomials_[i].coef == m.coef && monomials_[i].powers == m.powers) return i;
    }
    Monomial out{m.coef, m.powers, {}, 0, false, 0, 1};
    for (const auto& [id, e] : m.powers) out.reads.push_back(id);
    out.mask = param_mask(out.reads);
    out.coef64 = m.coef.get_num().fits_slong_p() && m.coef.get_den().fits_slong_p();
    if (out.coef64) {
      out.coef_num = m.coef.get_num().get_si();
      out.coef_den = m.coef.get_den().get_si();
    }
    monomials_.push_back(std::move(out));
    return monomials_.size() - 1;
  };
  const auto make_form = [&](const SymAffine& a, const std::string& name, RowKind kind) {
    Form form;
    form.name = name;
    form.kind = kind;
    std::vector<std::pair<Integer, std::vector<std::pair<int, int>>>> signatures;
    const auto add = [&](std::size_t column, const Expr& e) {
      for (const auto& m : e.terms()) {
        const std::size_t id = intern_monomial(m);
        auto sig = std::make_pair(Integer(monomials_[id].coef.get_den()), den_signature(monomials_[id]));
        std::size_t g = 0;
        while (g < signatures.size() && signatures[g] != sig) ++g;
        if (g == signatures.size()) {
          signatures.push_back(std::move(sig));
          form.den_monomials.push_back(id);
        }
        form.terms.push_back({column, id, g});
        for (const auto r : monomials_[id].reads) form.reads.push_back(r);
      }
    };
    for (std::size_t j = 0; j < n; ++j) add(j, a.coef[j]);
    add(n, a.constant);
    form.reads.push_back(ParamId::kLoraBlockTokens);
    std::sort(form.reads.begin(), form.reads.end());
    form.reads.erase(std::unique(form.reads.begin(), form.reads.end()), form.reads.end());
    form.mask = param_mask(form.reads);
    return form;
  };
  const auto intern_form = [&](Form&& form) {
    for (std::size_t i = 0; i < forms_.size(); ++i) {
      const Form& o = forms_[i];
      if (o.name != form.name || o.kind != form.kind || o.terms.size() != form.terms.size()) continue;
      bool same = true;
      for (std::size_t t = 0; t < o.terms.size() && same; ++t) {
        same = o.terms[t].column == form.terms[t].column && o.terms[t].monomial == form.terms[t].monomial;
      }
      if (same) return i;
    }
    forms_.push_back(std::move(form));
    return forms_.size() - 1;
  };
  const auto intern_offsets = [&](const std::vector<int>& support) {
    std::vector<int> o(n);
    for (std::size_t j = 0; j < n; ++j) o[j] = support[j] == 1 ? 1 : 0;
    for (std::size_t i = 0; i < offsets_.size(); ++i) {
      if (offsets_[i] == o) return i;
    }
    offsets_.push_back(o);
    return offsets_.size() - 1;
  };
  for (const auto& c : f_->cases) {
    Case out;
    out.offsets = intern_offsets(c.support);
    for (const auto& r : c.rows) out.rows.push_back({intern_form(make_form(r.lhs - r.rhs, r.name, r.kind)), out.offsets});
    out.tokens = intern_form(make_form(c.tokens, "(tokens)", RowKind::kLimit));
    out.batch_time = intern_form(make_form(c.batch_time, "(batch time)", RowKind::kLimit));
    cases_.push_back(std::move(out));
  }
  for (const auto& form : forms_) reads_.insert(reads_.end(), form.reads.begin(), form.reads.end());
  std::sort(reads_.begin(), reads_.end());
  reads_.erase(std::unique(reads_.begin(), reads_.end()), reads_.end());
}

namespace {

template <class I>
I ipow(const I& x, int e) {
  I out = x;
  for (int i = 1; i < e; ++i) out *= x;
  return out;
}

// |a| < |b|.
bool abs_less(const Integer& a, const Integer& b) { return mpz_cmpabs(a.get_mpz_t(), b.get_mpz_t()) < 0; }
bool abs_less(const Int128& a, const Int128& b) {
  const auto mag = [](const Int128& x) { return x < 0 ? 0 - static_cast<u128>(x.get()) : static_cast<u128>(x.get()); };
  return mag(a) < mag(b);
}

template <class I>
I lcm_with(const I& s, const I& d) {
  if (d == 1 || d == s) return s;
  if (s == 1) return d;
  const I g = gcd(s, d);
  return s / g * d;
}

}  // namespace

template <class I>
IntegerForms<I>::IntegerForms(std::shared_ptr<const CompiledFormulation> c) : c_(std::move(c)) {
  monomials_.resize(c_->monomials().size());
  rows_.resize(c_->forms().size() * c_->offset_sets().size());
  objectives_.resize(rows_.size());
}

template <class I>
bool IntegerForms<I>::current_by_version(Entry& e, const std::vector<ParamId>& reads, const ParamValues<I>& v) const {
  for (std::size_t i = 0; i < reads.size(); ++i) {
    if (e.versions[i] != v.version[static_cast<std::size_t>(reads[i])]) return false;
  }
  e.epoch = v.epoch;
  return true;
}

template <class I>
void IntegerForms<I>::stamp(Entry& e, const std::vector<ParamId>& reads, const ParamValues<I>& v) const {
  e.versions.resize(reads.size());
  for (std::size_t i = 0; i < reads.size(); ++i) e.versions[i] = v.version[static_cast<std::size_t>(reads[i])];
  e.epoch = v.epoch;
  e.valid = true;
}

template <class I>
const typename IntegerForms<I>::MonomialValue& IntegerForms<I>::refresh_monomial(std::size_t m,
                                                                                 const ParamValues<I>& v) {
  const auto& def = c_->monomials()[m];
  MonomialValue& mv = monomials_[m];
  if (current(mv, def.reads, def.mask, v)) return mv;
  mv.valid = false;
  I num, den;
  if constexpr (std::is_same_v<I, Integer>) {
    num = def.coef.get_num();
    den = def.coef.get_den();
  } else {
    if (!def.coef64) throw Overflow{};
    num = Int128(def.coef_num);
    den = Int128(def.coef_den);
  }
  for (const auto& [id, e] : def.powers) {
    const Frac<I>& p = v.v[static_cast<std::size_t>(id)];
    if (e > 0) {
      if (p.num != 1) num *= ipow(p.num, e);
      if (p.den != 1) den *= ipow(p.den, e);
    } else {
      if (p.num == 0) throw Overflow{};  // a zero rate: not a valid parameter set
      if (p.den != 1) num *= ipow(p.den, -e);
      if (p.num != 1) den *= ipow(p.num, -e);
    }
  }
  if (den < 0) {
    num = -num;
    den = -den;
  }
  mv.num = num;
  mv.den = den;
  stamp(mv, def.reads, v);
  return mv;
}

template <class I>
I IntegerForms<I>::denominator_gcd(const I& a, const I& b) {
  for (const auto& e : gcd_memo_) {
    if (e.g != 0 && e.a == a && e.b == b) return e.g;
  }
  const I g = gcd(a, b);
  GcdMemo& e = gcd_memo_[gcd_next_];
  gcd_next_ = (gcd_next_ + 1) % gcd_memo_.size();
  e.a = a;
  e.b = b;
  e.g = g;
  return g;
}

template <class I>
const BasicIntRow<I>& IntegerForms<I>::row(std::size_t form, std::size_t offsets, const ParamValues<I>& v) {
  const CompiledFormulation& c = *c_;
  Cached& cached = rows_[form * c.offset_sets().size() + offsets];
  const auto& f = c.forms()[form];
  if (current(cached, f.reads, f.mask, v)) return cached.row;
  cached.valid = false;  // stale until rebuilt (an Overflow midway leaves it so)
  const std::size_t n = c.columns();
  const std::vector<int>& off = c.offset_sets()[offsets];
  const I& block = v.v[static_cast<std::size_t>(ParamId::kLoraBlockTokens)].num;
  // A common multiple of the denominators: the lcm of those that did not change since the
  // last build (kept, with each one's quotient), times what each changed one adds. The
  // groups stay in the order they last changed in, so a sweep of one parameter recomputes
  // only the tail.
  const std::size_t groups = f.den_monomials.size();
  if (cached.order.size() != groups || !cached.lcm_ok) {
    cached.order.resize(groups);
    for (std::size_t g = 0; g < groups; ++g) cached.order[g] = g;
    cached.den.assign(groups, I(0));
    cached.prefix.assign(groups, I(0));
    cached.quot.assign(groups, I(0));
    cached.valid_prefix = 0;
    cached.quot_valid = false;
  }
  cached.lcm_ok = false;  // until the quotients are recomputed (an Overflow midway resets them)
  std::vector<std::size_t>& changed = changed_;
  std::vector<std::size_t>& unchanged = unchanged_;
  changed.clear();
  unchanged.clear();
  for (const auto g : cached.order) {
    const I& d = monomial(f.den_monomials[g], v).den;
    if (d == cached.den[g]) {
      unchanged.push_back(g);
    } else {
      cached.den[g] = d;
      changed.push_back(g);
    }
  }
  std::size_t keep = 0;
  while (keep < unchanged.size() && keep < cached.valid_prefix && cached.order[keep] == unchanged[keep]) ++keep;
  std::copy(unchanged.begin(), unchanged.end(), cached.order.begin());
  std::copy(changed.begin(), changed.end(), cached.order.begin() + static_cast<std::ptrdiff_t>(unchanged.size()));
  const std::size_t u = unchanged.size();
  for (std::size_t i = keep; i < u; ++i) {
    cached.prefix[i] = lcm_with(i == 0 ? I(1) : cached.prefix[i - 1], cached.den[cached.order[i]]);
  }
  cached.valid_prefix = u;
  const I p = u == 0 ? I(1) : cached.prefix[u - 1];
  if (!cached.quot_valid || keep < u || p != cached.quot_p) {
    for (std::size_t i = 0; i < u; ++i) {
      const I& d = cached.den[cached.order[i]];
      cached.quot[cached.order[i]] = d == p ? I(1) : I(p / d);
    }
    cached.quot_p = p;
    cached.quot_valid = true;
  }
  BasicIntRow<I>& row = cached.row;
  // The row times a common multiple s of its denominators, made primitive. The primitive
  // row, and h as a reduced fraction, are the same for every common multiple (times t,
  // the coefficients' gcd is t times as large; without coefficients h is the constant's
  // own reduced numerator), so s is first p times the changed denominators, without the
  // gcds that make it least. A number that does not fit 128 bits then takes the least
  // common multiple, the row's smallest numbers, as before.
  const auto finish = [&](bool least) {
    I s = p, m = 1;  // s = p * m
    for (std::size_t i = u; i < groups; ++i) {
      const I& d = cached.den[cached.order[i]];
      if (d == 1 || d == s) continue;
      bool seen = false;  // equal denominators of other groups (a parameter's whole-number factors)
      for (std::size_t k = u; k < i && !seen; ++k) seen = cached.den[cached.order[k]] == d;
      if (seen) continue;
      I factor = d;
      if (least) {
        const I gd = denominator_gcd(s, d);
        if (gd != 1) factor = d / gd;
      }
      s *= factor;
      m *= factor;
    }
    thread_local std::vector<I> quot;
    quot.resize(groups);
    for (std::size_t i = 0; i < groups; ++i) {
      const std::size_t g = cached.order[i];
      if (i < u) {
        quot[g] = m == 1 ? cached.quot[g] : I(cached.quot[g] * m);
      } else {
        const I& d = cached.den[g];
        quot[g] = d == s ? I(1) : I(s / d);
      }
    }
    row.a.resize(n);
    for (auto& a : row.a) a = 0;
    I constant = 0;
    for (const auto& t : f.terms) {
      const MonomialValue& mv = monomial(t.monomial, v);
      const I& q = quot[t.den];
      const I scaled = q == 1 ? mv.num : I(mv.num * q);
      if (t.column == n) {
        constant += scaled;
      } else {
        const I x = block == 1 ? scaled : I(scaled * block);  // b_j = block * (offset_j + y_j)
        row.a[t.column] += x;
        if (off[t.column] != 0) constant += x;
      }
    }
    // The gcd of the coefficients from the smallest in magnitude: every later gcd then
    // starts from a number no larger than it (one remainder brings the other down to it),
    // and most rows reach 1, or a power of two, at once. (The same gcd in any order.)
    std::size_t smallest = n;
    for (std::size_t j = 0; j < n; ++j) {
      if (row.a[j] != 0 && (smallest == n || abs_less(row.a[j], row.a[smallest]))) smallest = j;
    }
    I g = 0;
    if (smallest < n) {
      const I& a0 = row.a[smallest];
      g = a0 < 0 ? I(-a0) : a0;
      for (std::size_t j = 0; j < n && g != 1; ++j) {
        if (j != smallest && row.a[j] != 0) g = gcd(g, row.a[j]);
      }
    }
    if (g == 0) {
      // No coefficient: to_integer_form scales the constant to its own numerator.
      const I gc = gcd(constant, s);
      row.h_lp = Frac<I>{I(-(constant / (gc == 0 ? I(1) : gc))), I(1)};
      row.h_int = row.h_lp.num;
    } else {
      if (g != 1) {
        for (auto& a : row.a) a /= g;
      }
      const I gh = g == 1 ? I(1) : gcd(constant, g);  // h = -constant / g in lowest terms (g > 0)
      row.h_lp = gh == 1 ? Frac<I>{I(-constant), g} : Frac<I>{I(-(constant / gh)), I(g / gh)};
      row.h_int = row.h_lp.den == 1 ? row.h_lp.num : floor_div(row.h_lp.num, row.h_lp.den);
    }
  };
  if constexpr (std::is_same_v<I, Integer>) {
    finish(true);  // GMP: the smallest numbers are the cheapest
  } else {
    try {
      finish(false);
    } catch (const Overflow&) {
      finish(true);
    }
  }
  cached.lcm_ok = true;
  if (row.name != f.name) row.name = f.name;  // set once: the same form's name every build
  row.kind = f.kind;
  row.removed = false;
  static std::atomic<std::uint64_t> builds{0};  // process-wide: a stamp names one build of one row
  cached.build = builds.fetch_add(1, std::memory_order_relaxed) + 1;
  stamp(cached, f.reads, v);
  return cached.row;
}

template <class I>
const typename IntegerForms<I>::CachedObjective& IntegerForms<I>::objective(std::size_t form, std::size_t offsets,
                                                                            const ParamValues<I>& v) {
  const CompiledFormulation& c = *c_;
  CachedObjective& cached = objectives_[form * c.offset_sets().size() + offsets];
  const auto& f = c.forms()[form];
  if (current(cached, f.reads, f.mask, v)) return cached;
  cached.valid = false;
  const std::size_t n = c.columns();
  const std::vector<int>& off = c.offset_sets()[offsets];
  const I& block = v.v[static_cast<std::size_t>(ParamId::kLoraBlockTokens)].num;
  // Each coefficient (times the block) and the constant as reduced fractions, then scaled
  // by the lcm of their denominators: as to_integer_form scales the objective.
  std::vector<Frac<I>> coef(n + 1, Frac<I>{I(0), I(1)});
  const auto add = [](Frac<I>& acc, const I& num, const I& den) {
    if (acc.num == 0) {
      const I g = gcd(num, den);
      acc = g == 0 || g == 1 ? Frac<I>{num, den} : Frac<I>{I(num / g), I(den / g)};
      return;
    }
    const I n2 = acc.num * den + num * acc.den, d2 = acc.den * den;
    const I g = gcd(n2, d2);
    acc = g == 0 || g == 1 ? Frac<I>{n2, d2} : Frac<I>{I(n2 / g), I(d2 / g)};
  };
  for (const auto& t : f.terms) {
    const MonomialValue& mv = monomial(t.monomial, v);
    add(coef[t.column], t.column < n ? I(mv.num * block) : mv.num, mv.den);
  }
  for (std::size_t j = 0; j < n; ++j) {
    if (off[j] != 0 && coef[j].num != 0) add(coef[n], coef[j].num, coef[j].den);
  }
  I s = 1;
  for (const auto& x : coef) s = lcm_with(s, x.den);
  cached.coef.resize(n);
  for (std::size_t j = 0; j < n; ++j) cached.coef[j] = coef[j].num * (s / coef[j].den);
  cached.constant = coef[n].num * (s / coef[n].den);
  cached.scale = s;
  stamp(cached, f.reads, v);
  return cached;
}

template <class I>
void IntegerForms<I>::build(std::size_t ci, const ParamValues<I>& v, BasicIntProblem<I>& out,
                            std::vector<std::uint64_t>& stamps) {
  const CompiledFormulation& c = *c_;
  const auto& cs = c.at(ci);
  const std::size_t n = c.columns();
  out.rows.resize(cs.rows.size());
  stamps.resize(cs.rows.size(), 0);
  const std::size_t sets = c.offset_sets().size();
  for (std::size_t i = 0; i < cs.rows.size(); ++i) {
    const auto& ref = cs.rows[i];
    const BasicIntRow<I>& r = row(ref.form, ref.offsets, v);
    const std::uint64_t b = rows_[ref.form * sets + ref.offsets].build;
    if (stamps[i] == b) {
      out.rows[i].removed = false;  // the same row as last time: only presolve's mark to undo
    } else {
      out.rows[i] = r;
      stamps[i] = b;
    }
  }
  if (out.p.size() != n) out.resize(n);
  const auto& support = c.formulation().cases[ci].support;
  for (std::size_t j = 0; j < n; ++j) {
    out.fixed_zero[j] = support[j] == 0 ? 1 : 0;
    out.offset[j] = support[j] == 1 ? 1 : 0;
  }
  const auto& tok = objective(cs.tokens, cs.offsets, v);
  out.p = tok.coef;
  out.p0 = tok.constant;
  out.scale_n = tok.scale;
  const auto& time = objective(cs.batch_time, cs.offsets, v);
  out.q = time.coef;
  out.q0 = time.constant;
  out.scale_d = time.scale;
}

template class IntegerForms<Integer>;
template class IntegerForms<Int128>;

}  // namespace lorasplit::detail
