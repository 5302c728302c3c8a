// Exact rationals as text: the one place where numbers are formatted for reports, JSON,
// CSV and messages (declared in include/lorasplit/rational.hpp).
#include <lorasplit/rational.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace lorasplit {

std::string format_fraction(const Rational& x) {
  if (x.get_den() == 1) return x.get_num().get_str();
  return fmt::format("{}/{}", x.get_num().get_str(), x.get_den().get_str());
}

double to_double(const Rational& x) { return x.get_d(); }

std::string format_number(const Rational& x) {
  std::string s = format_exact(x);
  if (s.find('/') == std::string::npos) return s;
  return fmt::format("{:.17g}", to_double(x));
}

namespace {

// m * 10^k written out (m > 0 its decimal digits): plainly when short, else in
// scientific notation.
std::string layout_decimal(std::string_view digits, long k, bool negative) {
  const long len = static_cast<long>(digits.size());
  std::string out;  // no reserve: most values fit the string's inline buffer
  if (negative) out += '-';
  if (k >= 0 && k <= 3) {
    out += digits;
    out.append(static_cast<std::size_t>(k), '0');
  } else if (k < 0 && len + k > 0) {  // decimal point inside the digits
    const auto point = static_cast<std::size_t>(len + k);
    out += digits.substr(0, point);
    out += '.';
    out += digits.substr(point);
  } else if (k < 0 && len + k > -3) {  // a few leading zeros: 0.00123
    out += "0.";
    out.append(static_cast<std::size_t>(-(len + k)), '0');
    out += digits;
  } else {
    out += digits.substr(0, 1);
    if (len > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += std::to_string(k + len - 1);
  }
  return out;
}

// format_exact in machine integers when the numerator and denominator fit 64 bits and
// the scaled numerator fits 64 bits (the common case); false otherwise.
bool format_exact_fixed(const Rational& x, std::string& out) {
  if (!x.get_num().fits_slong_p() || !x.get_den().fits_ulong_p()) return false;
  const long num = x.get_num().get_si();
  std::uint64_t den = x.get_den().get_ui();
  if (num == 0) {
    out = "0";
    return true;
  }
  unsigned twos = 0, fives = 0;
  while (den % 2 == 0) {
    den /= 2;
    ++twos;
  }
  while (den % 5 == 0) {
    den /= 5;
    ++fives;
  }
  if (den != 1) return false;  // not a terminating decimal: the GMP path writes the fraction
  const unsigned places = twos > fives ? twos : fives;
  // m = |num| * 2^(places - twos) * 5^(places - fives), x = m / 10^places.
  std::uint64_t m = num < 0 ? 0 - static_cast<std::uint64_t>(num) : static_cast<std::uint64_t>(num);
  for (unsigned i = twos; i < places; ++i) {
    if (__builtin_mul_overflow(m, std::uint64_t{2}, &m)) return false;
  }
  for (unsigned i = fives; i < places; ++i) {
    if (__builtin_mul_overflow(m, std::uint64_t{5}, &m)) return false;
  }
  long k = -static_cast<long>(places);
  while (m % 10 == 0) {
    m /= 10;
    ++k;
  }
  const std::string digits = std::to_string(m);
  out = layout_decimal(digits, k, num < 0);
  return true;
}

}  // namespace

std::string format_exact(const Rational& x) {
  if (std::string out; format_exact_fixed(x, out)) return out;
  // Terminating decimal iff the reduced denominator is 2^a 5^b.
  Integer den = x.get_den();
  unsigned long twos = 0, fives = 0;
  while (mpz_divisible_ui_p(den.get_mpz_t(), 2) != 0) { den /= 2; ++twos; }
  while (mpz_divisible_ui_p(den.get_mpz_t(), 5) != 0) { den /= 5; ++fives; }
  if (den != 1) return format_fraction(x);
  const unsigned long places = twos > fives ? twos : fives;
  Integer pow10;
  mpz_ui_pow_ui(pow10.get_mpz_t(), 10, places);
  Integer m = x.get_num() * (pow10 / x.get_den());  // x = m / 10^places exactly
  const bool negative = m < 0;
  if (negative) m = -m;
  long k = -static_cast<long>(places);
  if (m == 0) return "0";
  while (mpz_divisible_ui_p(m.get_mpz_t(), 10) != 0) { m /= 10; ++k; }
  return layout_decimal(m.get_str(), k, negative);
}

}  // namespace lorasplit
