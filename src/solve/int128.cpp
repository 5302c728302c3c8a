#include "solve/int128.hpp"

#include <array>
#include <bit>

namespace lorasplit::detail {
namespace {
u128 magnitude(i128 v) { return v < 0 ? 0 - static_cast<u128>(v) : static_cast<u128>(v); }
int ctz128(u128 x) {
  const auto lo = static_cast<std::uint64_t>(x);
  return lo != 0 ? std::countr_zero(lo) : 64 + std::countr_zero(static_cast<std::uint64_t>(x >> 64));
}
}  // namespace

Int128 gcd(Int128 a, Int128 b) {
  // Binary gcd (Stein): shifts and subtractions only, no 128-bit division.
  u128 x = magnitude(a.get()), y = magnitude(b.get());
  if ((x | y) >> 64 == 0) {
    // Both below 2^64 (most calls): the same steps in 64-bit words from the start.
    auto p = static_cast<std::uint64_t>(x), q = static_cast<std::uint64_t>(y);
    if (p == 0 || q == 0) return Int128::raw(static_cast<i128>(p | q));
    if (p == 1 || q == 1) return Int128(1);
    const auto bp = std::bit_width(p), bq = std::bit_width(q);
    if (bp > bq + 8 || bq > bp + 8) {
      std::uint64_t& big = bp > bq ? p : q;
      const std::uint64_t small = bp > bq ? q : p;
      big %= small;
      if (big == 0) return Int128::raw(static_cast<i128>(small));
    }
    const int shift = std::countr_zero(p | q);
    p >>= std::countr_zero(p);
    q >>= std::countr_zero(q);
    while (p != q) {
      const std::uint64_t diff = p > q ? p - q : q - p;
      q = p < q ? p : q;
      p = diff >> std::countr_zero(diff);
    }
    return Int128::raw(static_cast<i128>(static_cast<u128>(p) << shift));
  }
  if (x == 0) {
    if (y >> 127 != 0) throw Overflow{};
    return Int128::raw(static_cast<i128>(y));
  }
  if (y == 0) {
    if (x >> 127 != 0) throw Overflow{};
    return Int128::raw(static_cast<i128>(x));
  }
  if (x == 1 || y == 1) return Int128(1);
  // Operands of very different sizes: one remainder first (a hardware division when both
  // fit 64 bits), so the binary steps below start from two numbers of similar size.
  {
    const std::size_t bx = bit_length(Int128::raw(static_cast<i128>(x >> 1))) + 1;
    const std::size_t by = bit_length(Int128::raw(static_cast<i128>(y >> 1))) + 1;
    if (bx > by + 8 || by > bx + 8) {
      u128& big = bx > by ? x : y;
      const u128 small = bx > by ? y : x;
      if ((big | small) >> 64 == 0) {
        big = static_cast<std::uint64_t>(big) % static_cast<std::uint64_t>(small);
      } else {
        big %= small;
      }
      if (big == 0) {
        if (small >> 127 != 0) throw Overflow{};
        return Int128::raw(static_cast<i128>(small));
      }
    }
  }
  // Binary gcd (Stein) on the odd parts; in 128-bit words only while a value needs them.
  const int shift = ctz128(x | y);
  x >>= ctz128(x);
  y >>= ctz128(y);
  // An odd part of 1 (an operand that is a power of two, as byte counts and rows scaled
  // by them often are) leaves only the common factors 2: no steps.
  if (x == 1 || y == 1) {
    if (shift == 127) throw Overflow{};  // 2^127
    return Int128::raw(static_cast<i128>(static_cast<u128>(1) << shift));
  }
  while ((x | y) >> 64 != 0) {  // both odd here
    if (x > y) {
      const u128 t = x;
      x = y;
      y = t;
    }
    y -= x;  // even, or 0 when they were equal
    if (y == 0) break;
    y >>= ctz128(y);
  }
  if (y != 0) {
    // Both odd and below 2^64. Branch-free steps: |a - b| with its factors 2 removed
    // replaces the larger, min(a, b) the smaller (Stein's algorithm without the swap).
    auto a64 = static_cast<std::uint64_t>(x), b64 = static_cast<std::uint64_t>(y);
    while (a64 != b64) {
      const std::uint64_t diff = a64 > b64 ? a64 - b64 : b64 - a64;
      b64 = a64 < b64 ? a64 : b64;
      a64 = diff >> std::countr_zero(diff);
    }
    x = a64;
  }
  const u128 g = x << shift;
  if (g >> 127 != 0 || (shift > 0 && (g >> shift) != x)) throw Overflow{};
  return Int128::raw(static_cast<i128>(g));
}

std::size_t bit_length(Int128 x) {
  const u128 m = magnitude(x.get());
  const auto hi = static_cast<std::uint64_t>(m >> 64);
  if (hi != 0) return 128 - static_cast<std::size_t>(std::countl_zero(hi));
  return 64 - static_cast<std::size_t>(std::countl_zero(static_cast<std::uint64_t>(m)));
}

std::size_t product_bit_length(Int128 a, Int128 b, Int128 c) {
  // Schoolbook multiplication in 64-bit limbs: 2 x 2 -> 4, then 4 x 2 -> 6.
  const auto limbs = [](Int128 x) {
    const u128 m = magnitude(x.get());
    return std::array<std::uint64_t, 2>{static_cast<std::uint64_t>(m), static_cast<std::uint64_t>(m >> 64)};
  };
  const auto mul = [](const auto& x, const auto& y, auto& out) {
    out.fill(0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::uint64_t carry = 0;
      for (std::size_t j = 0; j < y.size(); ++j) {
        const u128 t = static_cast<u128>(x[i]) * y[j] + out[i + j] + carry;
        out[i + j] = static_cast<std::uint64_t>(t);
        carry = static_cast<std::uint64_t>(t >> 64);
      }
      out[i + y.size()] = carry;
    }
  };
  std::array<std::uint64_t, 4> ab{};
  mul(limbs(a), limbs(b), ab);
  std::array<std::uint64_t, 6> abc{};
  mul(ab, limbs(c), abc);
  for (std::size_t i = abc.size(); i-- > 0;) {
    if (abc[i] != 0) return 64 * i + 64 - static_cast<std::size_t>(std::countl_zero(abc[i]));
  }
  return 0;
}

Integer to_integer(Int128 x) {
  const i128 v = x.get();
  if (v >= INT64_MIN && v <= INT64_MAX) return Integer(static_cast<long>(v));
  const u128 m = magnitude(v);
  Integer hi(static_cast<unsigned long>(m >> 64));
  Integer out = hi << 64;
  out += Integer(static_cast<unsigned long>(static_cast<std::uint64_t>(m)));
  return v < 0 ? Integer(-out) : out;
}

std::optional<Int128> to_int128(const Integer& x) {
  if (x.fits_slong_p()) return Int128(x.get_si());
  if (mpz_sizeinbase(x.get_mpz_t(), 2) > 126) return std::nullopt;
  Integer m = abs(x);
  const Integer lo_part = m & Integer(~0UL);
  const Integer hi_part = m >> 64;
  const u128 u = (static_cast<u128>(hi_part.get_ui()) << 64) | lo_part.get_ui();
  const auto v = static_cast<i128>(u);
  return Int128::raw(x < 0 ? -v : v);
}

}  // namespace lorasplit::detail
