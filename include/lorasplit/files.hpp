#pragma once
// Writing an output file so that a failed run never leaves a file that looks finished.

#include <lorasplit/status.hpp>

#include <string>
#include <string_view>

namespace lorasplit {

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed over
/// `path` only when every write, the flush and the close succeeded; otherwise nothing is
/// left and the error (ErrorCode::kWriteFailed) names `argument`, the path and the reason.
Status write_file(const std::string& path, const std::string& bytes, std::string_view argument);

}  // namespace lorasplit
