#include "sweep/rounding.hpp"

#include <bit>
#include <cstdint>
#include <numeric>

#include "solve/int128.hpp"

namespace lorasplit::detail {
namespace {

// a * b, or false when it does not fit 128 bits.
bool mul_checked(u128 a, u128 b, u128& out) {
  const auto a_hi = static_cast<std::uint64_t>(a >> 64), b_hi = static_cast<std::uint64_t>(b >> 64);
  if (a_hi != 0 && b_hi != 0) return false;
  if (a_hi == 0 && b_hi == 0) {
    out = static_cast<u128>(static_cast<std::uint64_t>(a)) * static_cast<std::uint64_t>(b);
    return true;
  }
  const std::uint64_t big_hi = a_hi != 0 ? a_hi : b_hi;
  const auto big_lo = static_cast<std::uint64_t>(a_hi != 0 ? a : b);
  const auto small = static_cast<std::uint64_t>(a_hi != 0 ? b : a);
  const u128 hi = static_cast<u128>(big_hi) * small;
  if (hi >> 64 != 0) return false;
  const u128 lo = static_cast<u128>(big_lo) * small;
  const u128 sum = (hi << 64) + lo;
  if (sum < lo) return false;
  out = sum;
  return true;
}

// base^k for k >= 0, when it fits (10^38 and 5^55 do).
u128 pow_u128(unsigned base, int k) {
  u128 p = 1;
  for (int i = 0; i < k; ++i) p *= base;
  return p;
}

// x * 2^k, or false when it does not fit 128 bits (k >= 0).
bool shl_checked(u128 x, int k, u128& out) {
  if (x == 0) {
    out = 0;
    return true;
  }
  const int bits = 128 - (static_cast<std::uint64_t>(x >> 64) != 0
                              ? std::countl_zero(static_cast<std::uint64_t>(x >> 64))
                              : 64 + std::countl_zero(static_cast<std::uint64_t>(x)));
  if (bits + k > 127) return false;
  out = x << k;
  return true;
}

// z = +-x, without a temporary.
void set_u128(mpz_ptr z, u128 x, bool negative) {
  const auto hi = static_cast<std::uint64_t>(x >> 64), lo = static_cast<std::uint64_t>(x);
  if (hi == 0) {
    mpz_set_ui(z, lo);
  } else {
    mpz_set_ui(z, hi);
    mpz_mul_2exp(z, z, 64);
    mpz_add_ui(z, z, lo);
  }
  if (negative) mpz_neg(z, z);
}

}  // namespace

bool round_significant_fixed(double x, int digits, Rational& out) {
  if (!std::isfinite(x) || digits < 1 || digits > 18) return false;
  if (x == 0) {
    mpq_set_ui(out.get_mpq_t(), 0, 1);
    return true;
  }
  const bool negative = x < 0;
  const double ax = std::fabs(x);
  // ax = mant * 2^k exactly, mant odd.
  int e2 = 0;
  const double fr = std::frexp(ax, &e2);
  auto mant = static_cast<std::uint64_t>(std::ldexp(fr, 53));
  int k = e2 - 53;
  const int tz = std::countr_zero(mant);
  mant >>= tz;
  k += tz;
  // The decimal exponent e with 10^(e-1) <= ax < 10^e, from log10 and corrected exactly:
  // with s = digits - e, ax * 10^s = mant * 5^s * 2^(k+s) = N / D must lie in
  // [10^(digits-1), 10^digits).
  int e = static_cast<int>(std::floor(std::log10(ax))) + 1;
  const u128 lo_bound = pow_u128(10, digits - 1), hi_bound = pow_u128(10, digits);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const int s = digits - e;
    const int twos = k + s;
    if (s > 55 || s < -55 || twos > 127 || twos < -127) return false;  // 5^55 < 2^128
    u128 n = mant, d = 1;
    if (s > 0 && !mul_checked(n, pow_u128(5, s), n)) return false;
    if (s < 0) d = pow_u128(5, -s);
    if (twos > 0 && !shl_checked(n, twos, n)) return false;
    if (twos < 0 && !shl_checked(d, -twos, d)) return false;
    u128 d_hi = 0, d_lo = 0;
    if (!mul_checked(d, hi_bound, d_hi) || !mul_checked(d, lo_bound, d_lo)) return false;
    if (n >= d_hi) {
      ++e;
      continue;
    }
    if (n < d_lo) {
      --e;
      continue;
    }
    // q = floor(N/D + 1/2) (halves up, as round_integer), at most 10^digits.
    if (n >> 126 != 0 || d >> 126 != 0) return false;
    const auto q = static_cast<std::uint64_t>((2 * n + d) / (2 * d));
    // The value q * 10^-s in lowest terms.
    u128 num = q, den = 1;
    if (s <= 0) {
      if (!mul_checked(q, pow_u128(10, -s), num)) return false;
    } else if (s <= 19) {
      const auto den64 = static_cast<std::uint64_t>(pow_u128(10, s));
      const std::uint64_t g = std::gcd(q, den64);
      num = q / g;
      den = den64 / g;
    } else {
      den = pow_u128(10, s);
      // gcd(q, 10^s) = 2^a 5^b.
      while (num % 2 == 0 && den % 2 == 0) {
        num /= 2;
        den /= 2;
      }
      while (num % 5 == 0 && den % 5 == 0) {
        num /= 5;
        den /= 5;
      }
    }
    set_u128(mpq_numref(out.get_mpq_t()), num, negative);
    set_u128(mpq_denref(out.get_mpq_t()), den, false);
    return true;
  }
  return false;
}

void round_integer_to(double x, Rational& out) {
  if (std::isfinite(x) && std::fabs(x) < 0x1p62) {
    const double fl = std::floor(x);
    const double frac = x - fl;  // exact: a double minus its floor
    const long q = static_cast<long>(fl) + (frac >= 0.5 ? 1 : 0);
    mpq_set_si(out.get_mpq_t(), q, 1);
    return;
  }
  out = round_integer(Rational(x));
}

void round_significant_to(double x, int digits, Rational& out) {
  if (round_significant_fixed(x, digits, out)) return;
  out = round_significant(Rational(x), digits);
}

}  // namespace lorasplit::detail
