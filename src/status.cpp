#include <lorasplit/status.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace lorasplit {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownKey: return "unknown_key";
    case ErrorCode::kBadNumber: return "bad_number";
    case ErrorCode::kBadUnit: return "bad_unit";
    case ErrorCode::kWrongDimension: return "wrong_dimension";
    case ErrorCode::kOutOfRange: return "out_of_range";
    case ErrorCode::kNotInteger: return "not_integer";
    case ErrorCode::kInconsistent: return "inconsistent";
    case ErrorCode::kConfigSyntax: return "config_syntax";
    case ErrorCode::kFileUnreadable: return "file_unreadable";
    case ErrorCode::kUnknownPreset: return "unknown_preset";
    case ErrorCode::kBadOption: return "bad_option";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kWriteFailed: return "write_failed";
    case ErrorCode::kOutOfMemory: return "out_of_memory";
    case ErrorCode::kInterrupted: return "interrupted";
    case ErrorCode::kBadPart: return "bad_part";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

std::string_view version() { return LORASPLIT_VERSION; }

std::string printable(std::string_view text) {
  constexpr std::size_t kMaxChars = 300;
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned>(u));
    } else {
      out += c;
    }
    if (out.size() >= kMaxChars) {
      out += "...";
      break;
    }
  }
  return out;
}

}  // namespace lorasplit
