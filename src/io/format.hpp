#pragma once
// Human-readable quantities for the text report.
#include <lorasplit/rational.hpp>

#include <string>
#include <string_view>

namespace lorasplit::detail {

/// "2.172 ms", "260.9 ps", "1 us": 4 significant digits, SI unit chosen by magnitude.
std::string human_seconds(const Rational& s);
/// "16 GiB", "8.000 MiB", "512 B": binary prefixes.
std::string human_bytes(const Rational& b);
/// "15.7 T", "3.833 G": SI prefix for a rate; the caller appends the unit.
std::string human_si(const Rational& x);

/// The one line every seed-model report carries (text and JSON `model_note`).
inline constexpr std::string_view kSeedModelNote =
    "Note: the seed model is the formulation term for term, including terms whose physics is inconsistent "
    "(docs/model.md §7); --model pipeline states the same schedule with them made consistent.";

}  // namespace lorasplit::detail
