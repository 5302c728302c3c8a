#pragma once
// Exact decimal rounding for generated parameter values: a generated value is rounded to
// a short decimal so that the value printed is exactly the value solved.
#include <lorasplit/rational.hpp>

#include <cmath>

namespace lorasplit::detail {

inline Rational pow10(long k) {
  Integer p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(k < 0 ? -k : k));
  return k < 0 ? Rational(Rational(1) / p) : Rational(p);
}

/// Nearest integer (halves up).
inline Rational round_integer(const Rational& x) {
  Integer q = floor_of(x);
  if (x - q >= Rational(1, 2)) q += 1;
  return Rational(q);
}

/// x rounded to `digits` significant decimal digits, exactly (halves away from zero).
inline Rational round_significant(const Rational& x, int digits) {
  if (x == 0) return x;
  const Rational ax = abs(x);
  long e = static_cast<long>(std::floor(std::log10(to_double(ax)))) + 1;
  while (ax >= pow10(e)) ++e;  // the double's log10 may be off by one
  while (ax < pow10(e - 1)) --e;
  const Rational scale = pow10(digits - e);
  Rational out = round_integer(Rational(ax * scale)) / scale;
  out.canonicalize();
  return x < 0 ? Rational(-out) : out;
}

/// out = round_integer(Rational(x)) for a finite double x, in machine integers when
/// |x| < 2^62 (the same value; `out` keeps its storage).
void round_integer_to(double x, Rational& out);

/// out = round_significant(Rational(x), digits) for a finite double x and 1 <= digits
/// <= 18, in 128-bit integers when the scaled value fits them (every value a sweep
/// generates), else in GMP. The same value either way; `out` keeps its storage.
void round_significant_to(double x, int digits, Rational& out);
/// The fixed-width part of round_significant_to: false (out untouched) when a value does
/// not fit 128 bits.
bool round_significant_fixed(double x, int digits, Rational& out);

}  // namespace lorasplit::detail
