#pragma once
// Running an external program (gnuplot, for figures) without a shell: the program is
// looked up on PATH and started with posix_spawn and an argument vector, in a working
// directory of our choosing, so no user string is ever interpreted by a shell. Scratch
// space comes from mkdtemp (mode 0700, a fresh unpredictable name, removed afterwards).
#include <lorasplit/status.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lorasplit::detail {

/// The executable file `name` on PATH, or nullopt.
std::optional<std::filesystem::path> find_program(const std::string& name);

/// A fresh private directory under the system's temporary directory, removed (with what
/// it holds) when this object goes. ok() is false when it could not be made.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] bool ok() const { return !path_.empty(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  std::filesystem::path path_;
  std::string error_;
};

/// Runs `program` (an absolute path) with `args` in directory `cwd`, standard input from
/// /dev/null, standard output and error into `cwd`/`log_name`. Returns the exit status,
/// or an error message when it could not be started or was killed by a signal.
struct ProgramRun {
  bool started{false};
  int exit_status{-1};
  std::string error;  ///< why it did not run to an exit status
};
ProgramRun run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                       const std::filesystem::path& cwd, const std::string& log_name);

}  // namespace lorasplit::detail
