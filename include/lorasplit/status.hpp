#pragma once
// Status values of the lorasplit library. The library never exits or prints: every
// fallible call returns a Result<T> holding either a value or an Error whose message is
// one line naming the offending key and value.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lorasplit {

/// What went wrong with the input (all map to CLI exit status 2, except kInternal: 3).
enum class ErrorCode {
  kUnknownKey,       ///< a parameter key or TOML key that does not exist
  kBadNumber,        ///< malformed number, NaN or infinity
  kBadUnit,          ///< a unit lorasplit does not know
  kWrongDimension,   ///< a known unit of another dimension (e.g. "1 us" for a byte count)
  kOutOfRange,       ///< negative, zero, or outside the supported range
  kNotInteger,       ///< a fractional value where a whole number is needed (d, r, bytes)
  kInconsistent,     ///< parameters that contradict each other (r > d)
  kConfigSyntax,     ///< the TOML file does not parse, or has a value of the wrong type
  kFileUnreadable,   ///< a config file that cannot be opened
  kUnknownPreset,    ///< --preset NAME, or a hardware part (--gpu NAME, ...), that is not built in
  kBadOption,        ///< a malformed command-line option (e.g. --set without '=')
  kUnsupported,      ///< a model structure the exact solver does not handle
  kWriteFailed,      ///< an output (standard output, -o, --plot, --trace, --gantt) could not be written whole
  kOutOfMemory,      ///< the work did not fit the memory it may use (a sweep, a plot)
  kInterrupted,      ///< stopped by the caller (a signal in Python, SweepOptions::cancelled)
  kBadPart,          ///< sweep parts that do not make one sweep: missing, repeated, truncated or foreign
  kInternal,         ///< a bug: an invariant of the solver failed
};

/// Stable lower-case identifier of an error code (used in JSON output).
std::string_view to_string(ErrorCode code);

/// The library's version (the CMake project's), e.g. "0.1.0": printed by --version and
/// recorded in every sweep part.
std::string_view version();

struct Error {
  ErrorCode code{ErrorCode::kInternal};
  std::string key;      ///< the parameter key or option concerned (may be empty)
  std::string value;    ///< the offending text as the user wrote it (may be empty)
  std::string message;  ///< one line, names key and value
};

/// `text` made safe for a one-line message: control characters become \xNN escapes and
/// anything past 300 characters is cut (with "..."). Applied to every Error message when
/// it enters a Result or Status, so messages are always exactly one printable line.
std::string printable(std::string_view text);

namespace detail {
inline Error one_line(Error e) {
  e.message = printable(e.message);
  return e;
}
}  // namespace detail

/// A value or an Error (std::expected is C++23; this is the C++20 subset we need).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(detail::one_line(std::move(error))) {}  // NOLINT(google-explicit-constructor)
  /// A default-constructed value, to be filled in place (no move of a large T).
  explicit Result(std::in_place_t) : v_(std::in_place_index<0>) {}
  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

/// Result of a call that returns nothing on success.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(detail::one_line(std::move(error))) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace lorasplit
