// Exact parsing of "<decimal> [unit]".
#include <lorasplit/params.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>

#include "io/format.hpp"

namespace lorasplit {
namespace {

struct UnitDef {
  std::string_view name;
  Dimension dim;
  unsigned base;   // 10 or 2
  unsigned power;  // value = base^power (base 2: 2^(10*power))
  int sign;        // +1 multiply, -1 divide (sub-second units)
};

// Byte units are case-sensitive (b would be bits); time and FLOPS units are matched
// case-insensitively apart from the SI prefix letter 'm' vs 'M' handled below.
constexpr std::array kUnits = {
    UnitDef{"B", Dimension::kBytes, 10, 0, 1},        UnitDef{"bytes", Dimension::kBytes, 10, 0, 1},
    UnitDef{"KB", Dimension::kBytes, 10, 3, 1},       UnitDef{"kB", Dimension::kBytes, 10, 3, 1},
    UnitDef{"MB", Dimension::kBytes, 10, 6, 1},       UnitDef{"GB", Dimension::kBytes, 10, 9, 1},
    UnitDef{"TB", Dimension::kBytes, 10, 12, 1},      UnitDef{"PB", Dimension::kBytes, 10, 15, 1},
    UnitDef{"EB", Dimension::kBytes, 10, 18, 1},      UnitDef{"KiB", Dimension::kBytes, 2, 1, 1},
    UnitDef{"MiB", Dimension::kBytes, 2, 2, 1},       UnitDef{"GiB", Dimension::kBytes, 2, 3, 1},
    UnitDef{"TiB", Dimension::kBytes, 2, 4, 1},       UnitDef{"PiB", Dimension::kBytes, 2, 5, 1},
    UnitDef{"EiB", Dimension::kBytes, 2, 6, 1},
    UnitDef{"s", Dimension::kSeconds, 10, 0, 1},      UnitDef{"ms", Dimension::kSeconds, 10, 3, -1},
    UnitDef{"us", Dimension::kSeconds, 10, 6, -1},    UnitDef{"\xC2\xB5s", Dimension::kSeconds, 10, 6, -1},
    UnitDef{"ns", Dimension::kSeconds, 10, 9, -1},    UnitDef{"ps", Dimension::kSeconds, 10, 12, -1},
    UnitDef{"FLOPS", Dimension::kFlopsPerSecond, 10, 0, 1},
    UnitDef{"KFLOPS", Dimension::kFlopsPerSecond, 10, 3, 1},
    UnitDef{"MFLOPS", Dimension::kFlopsPerSecond, 10, 6, 1},
    UnitDef{"GFLOPS", Dimension::kFlopsPerSecond, 10, 9, 1},
    UnitDef{"TFLOPS", Dimension::kFlopsPerSecond, 10, 12, 1},
    UnitDef{"PFLOPS", Dimension::kFlopsPerSecond, 10, 15, 1},
    UnitDef{"EFLOPS", Dimension::kFlopsPerSecond, 10, 18, 1},
};

// Largest decimal exponent accepted while parsing; far outside every parameter's range,
// small enough that 10^exp never costs noticeable memory.
constexpr long kMaxExponent = 400;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Normalises rate spellings: "GiB/s" and "GiBps" -> byte unit + rate flag;
// "TFLOP/s" -> "TFLOPS".
struct UnitMatch {
  const UnitDef* def;
  Dimension dim;
};

std::optional<UnitMatch> lookup_unit(std::string_view u) {
  std::string name(u);
  bool rate = false;
  if (name.size() > 2 && name.compare(name.size() - 2, 2, "/s") == 0) {
    name.resize(name.size() - 2);
    rate = true;
  } else if (name.size() > 2 && name.compare(name.size() - 2, 2, "ps") == 0 && name != "ps" &&
             name.find('B') != std::string::npos) {
    name.resize(name.size() - 2);
    rate = true;
  }
  for (const auto& def : kUnits) {
    bool match = false;
    if (def.dim == Dimension::kBytes) {
      match = name == def.name;
    } else if (def.dim == Dimension::kFlopsPerSecond) {
      match = iequals(name, def.name) || (rate && iequals(name + "S", def.name));
      if (match) return UnitMatch{&def, Dimension::kFlopsPerSecond};
      continue;
    } else {
      match = !rate && (name == def.name || (def.name != "ms" && iequals(name, def.name)));
    }
    if (match) {
      if (def.dim == Dimension::kBytes && rate) return UnitMatch{&def, Dimension::kBytesPerSecond};
      if (rate) return std::nullopt;
      return UnitMatch{&def, def.dim};
    }
  }
  return std::nullopt;
}

Error make_error(ErrorCode code, std::string_view key, std::string_view text, const std::string& why) {
  return Error{code, std::string(key), std::string(text), fmt::format("{} = '{}': {}", key, text, why)};
}

}  // namespace

std::string_view to_string(Dimension dim) {
  switch (dim) {
    case Dimension::kBytes: return "bytes";
    case Dimension::kFlopsPerSecond: return "FLOP/s";
    case Dimension::kBytesPerSecond: return "bytes/s";
    case Dimension::kSeconds: return "seconds";
    case Dimension::kCount: return "a plain number";
    case Dimension::kFraction: return "a plain number or a percentage";
    case Dimension::kChoice: return "a word";
  }
  return "?";
}

Result<Rational> parse_quantity(std::string_view text_in, Dimension dim, std::string_view key) {
  const std::string_view text = trim(text_in);
  if (text.empty()) return make_error(ErrorCode::kBadNumber, key, text_in, "empty value");
  if (text.size() > 200) return make_error(ErrorCode::kBadNumber, key, text_in.substr(0, 40), "value too long (over 200 characters)");
  std::size_t i = 0;
  bool negative = false;
  if (text[i] == '+' || text[i] == '-') {
    negative = text[i] == '-';
    ++i;
  }
  {
    // NaN and infinity are named explicitly (TOML and Python spell them so).
    std::string_view rest = text.substr(i);
    for (std::string_view bad : {"nan", "inf", "infinity"}) {
      if (rest.size() >= bad.size() && iequals(rest.substr(0, bad.size()), bad) &&
          (rest.size() == bad.size() || !std::isalpha(static_cast<unsigned char>(rest[bad.size()])))) {
        return make_error(ErrorCode::kBadNumber, key, text_in, bad == "nan" ? "NaN is not a number" : "infinity is not allowed");
      }
    }
  }
  std::string digits;
  long frac_digits = 0;
  bool seen_digit = false;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digits += c;
      seen_digit = true;
      if (seen_point) ++frac_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return make_error(ErrorCode::kBadNumber, key, text_in, "not a number");
  long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    bool exp_negative = false;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) {
      exp_negative = text[j] == '-';
      ++j;
    }
    const std::size_t exp_start = j;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) {
      if (exponent > kMaxExponent) return make_error(ErrorCode::kOutOfRange, key, text_in, "exponent out of range");
      exponent = exponent * 10 + (text[j] - '0');
      ++j;
    }
    if (j == exp_start) return make_error(ErrorCode::kBadNumber, key, text_in, "malformed exponent");
    if (exponent > kMaxExponent) return make_error(ErrorCode::kOutOfRange, key, text_in, "exponent out of range");
    if (exp_negative) exponent = -exponent;
    i = j;
  }
  const std::string_view unit = trim(text.substr(i));
  if (!unit.empty() && (unit.front() == '.' || unit.front() == '+' || unit.front() == '-' ||
                        std::isdigit(static_cast<unsigned char>(unit.front())) != 0)) {
    return make_error(ErrorCode::kBadNumber, key, text_in, "not a number");
  }

  Rational value{Integer(digits, 10)};  // base 10: base 0 would read "0125" as octal
  const long scale = exponent - frac_digits;
  Integer pow10;
  mpz_ui_pow_ui(pow10.get_mpz_t(), 10, static_cast<unsigned long>(scale < 0 ? -scale : scale));
  if (scale >= 0) {
    value *= pow10;
  } else {
    value /= pow10;
  }
  value.canonicalize();

  if (unit == "%" && dim == Dimension::kFraction) {
    value /= 100;
  } else if (!unit.empty()) {
    const auto match = lookup_unit(unit);
    if (!match) {
      return make_error(ErrorCode::kBadUnit, key, text_in,
                        fmt::format("unknown unit '{}' ({} expected)", unit, to_string(dim)));
    }
    if (match->dim != dim) {
      return make_error(ErrorCode::kWrongDimension, key, text_in,
                        fmt::format("unit '{}' measures {}, but {} takes {}", unit, to_string(match->dim), key, to_string(dim)));
    }
    Integer factor;
    if (match->def->base == 2) {
      mpz_ui_pow_ui(factor.get_mpz_t(), 2, 10UL * match->def->power);
    } else {
      mpz_ui_pow_ui(factor.get_mpz_t(), 10, match->def->power);
    }
    if (match->def->sign > 0) {
      value *= factor;
    } else {
      value /= factor;
    }
    value.canonicalize();
  }
  if (negative) value = -value;
  // Bound the magnitude of the result, units included (not just the written exponent):
  // every accepted value then prints with |exponent| <= 400 and parses back to itself.
  static const Rational kHuge = [] {
    Integer p;
    mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(kMaxExponent));
    return Rational(p);
  }();
  const Rational magnitude = abs(value);
  if (magnitude > kHuge || (magnitude != 0 && magnitude * kHuge < 1)) {
    return make_error(ErrorCode::kOutOfRange, key, text_in, "magnitude beyond 1e-400 .. 1e400");
  }
  return value;
}

namespace {
// "64 G" when v is a whole number of that decimal prefix (1000^i), else "".
std::string exact_prefix(const Rational& v, int base, const char* const* prefixes, std::size_t count) {
  if (v.get_den() != 1 || v == 0) return "";
  Integer n = v.get_num();
  std::size_t i = 0;
  while (i + 1 < count && n % base == 0 && n / base >= 1) {
    n /= base;
    ++i;
  }
  if (i == 0 || n >= 10000) return "";  // no prefix reached, or still a long number
  return fmt::format("{} {}", n.get_str(), prefixes[i]);
}
}  // namespace

std::string readable_quantity(const ParamSpec& spec, const Rational& value) {
  static const char* const kDecimal[] = {"", "k", "M", "G", "T", "P", "E"};
  static const char* const kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  const auto bytes = [&value](const char* suffix) {
    if (abs(value) < 1000) return fmt::format("{} B{}", format_exact(value), suffix);
    const std::string dec = exact_prefix(value, 1000, kDecimal, std::size(kDecimal));
    const std::string bin = exact_prefix(value, 1024, kBinary, std::size(kBinary));
    if (!bin.empty()) return fmt::format("{}B{}", bin, suffix);
    if (!dec.empty()) return fmt::format("{}B{}", dec, suffix);
    return fmt::format("{}B{} = {}{}", detail::human_si(value), suffix, detail::human_bytes(value), suffix);
  };
  // Beyond the prefixes (above 10^21, the range's ends): the exact value is the readable one.
  const bool beyond = abs(value) >= Rational(Integer("1000000000000000000000"));
  if (beyond && spec.dimension != Dimension::kChoice) {
    return spec.unit.empty() ? format_exact(value) : fmt::format("{} {}", format_exact(value), spec.unit);
  }
  switch (spec.dimension) {
    case Dimension::kBytes: return bytes("");
    case Dimension::kBytesPerSecond: return bytes("/s");
    case Dimension::kSeconds: return detail::human_seconds(value);
    case Dimension::kFlopsPerSecond: return detail::human_si(value) + "FLOPS";
    case Dimension::kChoice: return param_text(spec, value);
    case Dimension::kCount:
    case Dimension::kFraction: break;
  }
  return spec.unit.empty() ? format_exact(value) : fmt::format("{} {}", format_exact(value), spec.unit);
}

}  // namespace lorasplit
