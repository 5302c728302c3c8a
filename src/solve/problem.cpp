#include "solve/problem.hpp"

namespace lorasplit::detail {

Integer common_denominator(const std::vector<const Rational*>& values) {
  Integer l = 1;
  for (const Rational* v : values) mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), v->get_den_mpz_t());
  return l;
}

namespace {
// Integer coefficients of s*f(block*y) for the smallest positive integer s that makes them
// integral, f = lhs - rhs (rhs may be null). In integers: with L the lcm of every
// denominator, each L·x is an integer, and the smallest s is L / gcd(L, every L·x) (a
// rational p/q in lowest terms has q = L / gcd(L, L·p/q)); then s·x = L·x / that gcd.
void scale_affine(const Affine& lhs, const Affine* rhs, std::int64_t block, const std::vector<int>& offset,
                  std::vector<Integer>& coef, Integer& constant, Integer& scale) {
  const std::size_t n = lhs.coef.size();
  thread_local Integer l, t;
  l = 1;
  for (const Affine* f : {&lhs, rhs}) {
    if (f == nullptr) continue;
    for (const auto& c : f->coef) {
      if (mpz_cmp_ui(c.get_den_mpz_t(), 1) != 0) mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), c.get_den_mpz_t());
    }
    if (mpz_cmp_ui(f->constant.get_den_mpz_t(), 1) != 0) {
      mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), f->constant.get_den_mpz_t());
    }
  }
  // L·x for x = q.num / q.den, added to (sign +1) or taken from (sign -1) out.
  const auto add_scaled = [](Integer& out, const Rational& q, int sign) {
    if (mpz_sgn(q.get_num_mpz_t()) == 0) return;
    mpz_divexact(t.get_mpz_t(), l.get_mpz_t(), q.get_den_mpz_t());
    if (sign > 0) {
      mpz_addmul(out.get_mpz_t(), t.get_mpz_t(), q.get_num_mpz_t());
    } else {
      mpz_submul(out.get_mpz_t(), t.get_mpz_t(), q.get_num_mpz_t());
    }
  };
  coef.resize(n);
  constant = 0;
  add_scaled(constant, lhs.constant, 1);
  if (rhs != nullptr) add_scaled(constant, rhs->constant, -1);
  Integer g = l;
  for (std::size_t j = 0; j < n; ++j) {
    Integer& a = coef[j];
    a = 0;
    add_scaled(a, lhs.coef[j], 1);
    if (rhs != nullptr) add_scaled(a, rhs->coef[j], -1);
    if (a == 0) continue;
    mpz_mul_si(a.get_mpz_t(), a.get_mpz_t(), block);
    if (offset[j] != 0) mpz_addmul_ui(constant.get_mpz_t(), a.get_mpz_t(), static_cast<unsigned long>(offset[j]));
    if (g != 1) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), a.get_mpz_t());
  }
  if (g != 1) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), constant.get_mpz_t());
  if (g != 1) {
    for (auto& a : coef) mpz_divexact(a.get_mpz_t(), a.get_mpz_t(), g.get_mpz_t());
    mpz_divexact(constant.get_mpz_t(), constant.get_mpz_t(), g.get_mpz_t());
    mpz_divexact(scale.get_mpz_t(), l.get_mpz_t(), g.get_mpz_t());
  } else {
    scale = l;
  }
}
}  // namespace

std::size_t IntFormCache::hash(const Affine& lhs, const Affine& rhs, const std::vector<int>& offset) {
  std::size_t h = 1469598103934665603ULL;
  const auto mix = [&h](std::size_t v) { h = (h ^ v) * 1099511628211ULL; };
  const auto add = [&mix](const Rational& q) {
    mix(mpz_size(q.get_num_mpz_t()) == 0 ? 0 : mpz_getlimbn(q.get_num_mpz_t(), 0));
    mix(static_cast<std::size_t>(mpz_sgn(q.get_num_mpz_t()) + 1));
    mix(mpz_getlimbn(q.get_den_mpz_t(), 0));
  };
  for (const Affine* f : {&lhs, &rhs}) {
    for (const auto& c : f->coef) add(c);
    add(f->constant);
    mix(f->coef.size());
  }
  for (const int o : offset) mix(static_cast<std::size_t>(o));
  return h;
}

IntProblem to_integer_form(const Model& model, std::int64_t block, IntFormCache* cache) {
  IntProblem out;
  const std::size_t n = model.size();
  out.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    out.fixed_zero[j] = model.support[j] == 0 ? 1 : 0;
    out.offset[j] = model.support[j] == 1 ? 1 : 0;
  }
  // g(b) = lhs - rhs <= 0 as a primitive integer row over y.
  const auto make_row = [&](const Constraint& c, IntRow& row) {
    Integer constant, scale;
    scale_affine(c.lhs, &c.rhs, block, out.offset, row.a, constant, scale);
    Integer g_all = 0;
    for (const auto& a : row.a) mpz_gcd(g_all.get_mpz_t(), g_all.get_mpz_t(), a.get_mpz_t());
    if (g_all == 0) g_all = 1;
    for (auto& a : row.a) a /= g_all;
    const Integer g_h = gcd(constant, g_all);  // h_lp in lowest terms (g_all > 0)
    row.h_lp = Frac<Integer>{Integer(-constant / g_h), Integer(g_all / g_h)};
    row.h_int = floor_div(row.h_lp.num, row.h_lp.den);
    row.kind = c.kind;
  };
  out.rows.reserve(model.constraints.size());
  for (const auto& c : model.constraints) {
    if (cache == nullptr) {
      out.rows.emplace_back();
      make_row(c, out.rows.back());
    } else {
      out.rows.push_back(cache->row(c.lhs, c.rhs, out.offset, [&](IntRow& row) { make_row(c, row); }));
    }
    out.rows.back().name = c.name;
    out.rows.back().kind = c.kind;
  }
  const auto objective = [&](const Affine& f, std::vector<Integer>& coef, Integer& constant, Integer& scale) {
    if (cache == nullptr) {
      scale_affine(f, nullptr, block, out.offset, coef, constant, scale);
      return;
    }
    const auto& s = cache->objective(f, out.offset, [&](IntFormCache::Scaled& x) {
      scale_affine(f, nullptr, block, out.offset, x.coef, x.constant, x.scale);
    });
    coef = s.coef;
    constant = s.constant;
    scale = s.scale;
  };
  objective(model.tokens, out.p, out.p0, out.scale_n);
  objective(model.batch_time, out.q, out.q0, out.scale_d);
  return out;
}

}  // namespace lorasplit::detail
