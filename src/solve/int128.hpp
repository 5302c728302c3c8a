#pragma once
// Fixed-width integers for the solver's fast path (docs/model.md §3.10).
//
// `Int128` is a signed 128-bit integer whose every operation checks for overflow and
// throws `Overflow` instead of wrapping; the fast path catches it and solves the
// instance again with GMP integers. The solver's integer algorithms are templates over
// the integer type, so both paths run the same code and reach the same answer; the free
// functions below give `Integer` (GMP) and `Int128` one vocabulary.
#include <lorasplit/rational.hpp>

#include <bit>
#include <cstdint>
#include <optional>

namespace lorasplit::detail {

__extension__ typedef __int128 i128;           // NOLINT: GCC/Clang extension, silenced for -Wpedantic
__extension__ typedef unsigned __int128 u128;  // NOLINT

/// Thrown by Int128 when a result does not fit in 128 bits (or on division by zero).
struct Overflow {};

class Int128 {
 public:
  constexpr Int128() = default;
  constexpr Int128(int v) : v_(v) {}        // NOLINT(google-explicit-constructor): integer literals
  constexpr Int128(long v) : v_(v) {}       // NOLINT(google-explicit-constructor)
  constexpr Int128(long long v) : v_(v) {}  // NOLINT(google-explicit-constructor)
  static constexpr Int128 raw(i128 v) {
    Int128 x;
    x.v_ = v;
    return x;
  }
  [[nodiscard]] constexpr i128 get() const { return v_; }

  friend Int128 operator+(const Int128& a, const Int128& b) {
    i128 r;
    if (__builtin_add_overflow(a.v_, b.v_, &r)) throw Overflow{};
    return raw(r);
  }
  friend Int128 operator-(const Int128& a, const Int128& b) {
    i128 r;
    if (__builtin_sub_overflow(a.v_, b.v_, &r)) throw Overflow{};
    return raw(r);
  }
  friend Int128 operator*(const Int128& a, const Int128& b) {
    // Two factors of 64 bits cannot overflow (the common case, inline); otherwise the
    // magnitudes are checked out of line.
    if (fits64(a.v_) && fits64(b.v_)) [[likely]] return raw(a.v_ * b.v_);
    return mul_wide(a, b);
  }
  /// Truncating division, as C++ (and as mpz_class's operator/).
  friend Int128 operator/(const Int128& a, const Int128& b) {
    // 64-bit operands divide in hardware (inline); __divti3 is several times slower.
    if (fits64(a.v_) && fits64(b.v_) && b.v_ != 0 && b.v_ != -1) [[likely]] {
      return raw(static_cast<std::int64_t>(a.v_) / static_cast<std::int64_t>(b.v_));
    }
    return div_wide(a, b);
  }
  /// Remainder with the sign of the dividend, as C++ (and as mpz_class's operator%).
  friend Int128 operator%(const Int128& a, const Int128& b) {
    if (b.v_ == 0) throw Overflow{};
    if (b.v_ == -1) return raw(0);
    if (fits64(a.v_) && fits64(b.v_)) {
      return raw(static_cast<std::int64_t>(a.v_) % static_cast<std::int64_t>(b.v_));
    }
    return raw(a.v_ % b.v_);
  }
  Int128 operator-() const {
    if (v_ == kMin) throw Overflow{};
    return raw(-v_);
  }
  Int128& operator+=(const Int128& b) { return *this = *this + b; }
  Int128& operator-=(const Int128& b) { return *this = *this - b; }
  Int128& operator*=(const Int128& b) { return *this = *this * b; }
  Int128& operator/=(const Int128& b) { return *this = *this / b; }
  friend constexpr auto operator<=>(Int128 a, Int128 b) = default;
  friend constexpr bool operator==(Int128 a, Int128 b) = default;

 private:
  // The product of factors not both of 64 bits: by their bit lengths when that decides
  // (at most 127 bits in all cannot overflow, more than 129 must), else against the
  // limit (no __builtin_mul_overflow: Clang lowers the 128-bit form to __muloti4, which
  // libgcc lacks).
  [[gnu::noinline]] static Int128 mul_wide(const Int128& a, const Int128& b) {
    const bool negative = (a.v_ < 0) != (b.v_ < 0);
    const u128 ua = magnitude(a.v_), ub = magnitude(b.v_);
    if (ua == 0 || ub == 0) return raw(0);
    const int bits = bits128(ua) + bits128(ub);  // the product has bits - 1 or bits bits
    if (bits > 129) throw Overflow{};
    if (bits > 127) {  // below 2^127 it fits either sign
      const u128 limit = negative ? static_cast<u128>(1) << 127 : (static_cast<u128>(1) << 127) - 1;
      if (ua > limit / ub) throw Overflow{};
    }
    const u128 p = ua * ub;
    return raw(negative ? static_cast<i128>(0 - p) : static_cast<i128>(p));
  }
  [[gnu::noinline]] static Int128 div_wide(const Int128& a, const Int128& b) {
    if (b.v_ == 0 || (b.v_ == -1 && a.v_ == kMin)) throw Overflow{};
    return raw(a.v_ / b.v_);
  }
  static constexpr int bits128(u128 x) {
    const auto hi = static_cast<std::uint64_t>(x >> 64);
    return hi != 0 ? 128 - std::countl_zero(hi) : 64 - std::countl_zero(static_cast<std::uint64_t>(x));
  }
  static constexpr bool fits64(i128 v) { return v == static_cast<i128>(static_cast<std::int64_t>(v)); }
  static constexpr u128 magnitude(i128 v) { return v < 0 ? 0 - static_cast<u128>(v) : static_cast<u128>(v); }
  static constexpr i128 kMin = static_cast<i128>(static_cast<u128>(1) << 127);
  i128 v_{0};
};

// ---- one vocabulary over Integer and Int128 ----

/// floor(n / d) and n - d*floor(n / d), d != 0.
inline void fdiv_qr(Integer& q, Integer& r, const Integer& n, const Integer& d) {
  mpz_fdiv_qr(q.get_mpz_t(), r.get_mpz_t(), n.get_mpz_t(), d.get_mpz_t());
}
inline void fdiv_qr(Int128& q, Int128& r, Int128 n, Int128 d) {
  Int128 t = n / d;
  Int128 m = n - t * d;
  if (m != 0 && ((m < 0) != (d < 0))) {
    t -= 1;
    m += d;
  }
  q = t;
  r = m;
}
using lorasplit::floor_div;  // the Integer form (rational.hpp)
inline Int128 floor_div(Int128 n, Int128 d) {
  Int128 q, r;
  fdiv_qr(q, r, n, d);
  return q;
}
/// ceil(n / d), d != 0.
inline Integer ceil_div(const Integer& n, const Integer& d) {
  Integer q;
  mpz_cdiv_q(q.get_mpz_t(), n.get_mpz_t(), d.get_mpz_t());
  return q;
}
inline Int128 ceil_div(Int128 n, Int128 d) { return -floor_div(-n, d); }

/// gcd(|a|, |b|) >= 0 (gcd(0, 0) = 0).
inline Integer gcd(const Integer& a, const Integer& b) {
  Integer g;
  mpz_gcd(g.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
  return g;
}
Int128 gcd(Int128 a, Int128 b);

/// Number of bits of |x| (0 for 0).
inline std::size_t bit_length(const Integer& x) { return x == 0 ? 0 : mpz_sizeinbase(x.get_mpz_t(), 2); }
std::size_t bit_length(Int128 x);

/// Bits of |a*b*c|, exact, for any 128-bit factors (the product may need 384 bits).
inline std::size_t product_bit_length(const Integer& a, const Integer& b, const Integer& c) {
  return bit_length(Integer(a * b * c));
}
std::size_t product_bit_length(Int128 a, Int128 b, Int128 c);

/// The exact GMP value of x.
Integer to_integer(Int128 x);
/// x as an Int128, or nullopt when it does not fit.
std::optional<Int128> to_int128(const Integer& x);
inline const Integer& to_integer(const Integer& x) { return x; }

/// The exact value n/d (d != 0) as a canonical rational.
inline Rational to_rational(const Integer& n, const Integer& d) { return make_rational(n, d); }
inline Rational to_rational(Int128 n, Int128 d) { return make_rational(to_integer(n), to_integer(d)); }

/// x as a 64-bit integer, or false.
inline bool get_int64(const Integer& x, std::int64_t& out) {
  if (!x.fits_slong_p()) return false;
  out = x.get_si();
  return true;
}
inline bool get_int64(Int128 x, std::int64_t& out) {
  if (x.get() > INT64_MAX || x.get() < INT64_MIN) return false;
  out = static_cast<std::int64_t>(x.get());
  return true;
}

}  // namespace lorasplit::detail
