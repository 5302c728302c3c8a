#pragma once
// Exact numbers. Every parameter, time and memory figure in lorasplit is a GMP rational;
// doubles appear only when a result is printed.

#include <gmpxx.h>

#include <string>

namespace lorasplit {

using Rational = mpq_class;
using Integer = mpz_class;

/// n/d in canonical form (GMP needs canonical rationals for comparisons); d != 0.
inline Rational make_rational(const Integer& n, const Integer& d) {
  Rational q(n, d);
  q.canonicalize();
  return q;
}

/// floor(n / d), d != 0 (rounds toward minus infinity, unlike C++'s /).
inline Integer floor_div(const Integer& n, const Integer& d) {
  Integer q;
  mpz_fdiv_q(q.get_mpz_t(), n.get_mpz_t(), d.get_mpz_t());
  return q;
}

/// floor(x) of a rational.
inline Integer floor_of(const Rational& x) { return floor_div(x.get_num(), x.get_den()); }

/// Exact decimal text when the rational has a terminating decimal expansion
/// ("15700000000000", "0.000001"), scientific for long runs of zeros ("1.57e12",
/// "1e-6"), and "p/q" otherwise.
std::string format_exact(const Rational& x);

/// format_exact when the decimal terminates, else the nearest double with 17 significant
/// digits (for CSV columns that must stay numeric).
std::string format_number(const Rational& x);

/// "p/q" (or "p" when q == 1): the canonical exact form used in JSON.
std::string format_fraction(const Rational& x);

/// Nearest double (for printing and for JSON numbers).
double to_double(const Rational& x);

/// Makes GMP report an allocation failure by throwing std::bad_alloc instead of aborting
/// the process (GMP's default), so that out of memory becomes an error the caller can
/// report. Programs call it once at start (the CLI and the Python module do).
void gmp_throw_on_out_of_memory();

}  // namespace lorasplit
