#pragma once
// Reading one parameter's value from a TOML node: shared by the config loader and the
// hardware library (both write values the same way).
#include <lorasplit/hardware.hpp>
#include <lorasplit/params.hpp>

#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <variant>
#include <vector>

namespace lorasplit::detail {

/// A value as written: a number (its own text, so that decimals stay exact), a string with
/// a unit, true/false for an on/off switch, or an inline table
/// { value = ..., spec | measured | assumed = "..." } that says what the number rests on.
struct ValueText {
  std::string text;
  Evidence evidence{Evidence::kNotStated};
  std::string note;
};
/// Why a node is not a value: the error class, the value's text, the reason.
struct ValueError {
  ErrorCode code;
  std::string value;
  std::string why;
};
/// Reads `node` as the value of parameter `spec` (nullptr: an unknown key). `lines` is the
/// file's text by line (the literal of a number is taken from it).
std::variant<ValueText, ValueError> read_value_node(const toml::node& node, const std::vector<std::string_view>& lines,
                                                   const ParamSpec* spec);
/// `text` split at '\n'.
std::vector<std::string_view> split_lines(std::string_view text);
/// The literal text of the scalar that starts at `pos` (1-based line and column).
std::string literal_at(const std::vector<std::string_view>& lines, const toml::source_position& pos);

}  // namespace lorasplit::detail
