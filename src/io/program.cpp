#include "io/program.hpp"

#include <lorasplit/files.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace lorasplit::detail {

std::optional<std::filesystem::path> find_program(const std::string& name) {
  const char* env = std::getenv("PATH");
  const std::string path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const std::size_t end = std::min(path.find(':', begin), path.size());
    const std::string dir = path.substr(begin, end - begin);
    begin = end + 1;
    if (dir.empty() || dir.front() != '/') continue;  // relative entries are never searched
    const std::filesystem::path candidate = std::filesystem::path(dir) / name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

ScratchDir::ScratchDir() {
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) {
    error_ = "no temporary directory: " + ec.message();
    return;
  }
  std::string templ = (base / "lorasplit-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    error_ = fmt::format("cannot create a scratch directory in {}: {}", base.string(), std::strerror(errno));
    return;
  }
  path_ = templ;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProgramRun run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                       const std::filesystem::path& cwd, const std::string& log_name) {
  ProgramRun out;
  std::vector<std::string> argv_store;
  argv_store.push_back(program.filename().string());
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) {
    out.error = "cannot prepare the program's start";
    return out;
  }
  const std::string log = (cwd / log_name).string();
  int rc = posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  if (rc == 0) rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    out.error = fmt::format("cannot start {}: {}", program.string(), std::strerror(rc));
    return out;
  }
  out.started = true;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      out.error = fmt::format("lost track of {}: {}", program.string(), std::strerror(errno));
      return out;
    }
  }
  if (WIFEXITED(status)) {
    out.exit_status = WEXITSTATUS(status);
  } else {
    out.error = fmt::format("{} was killed by signal {}", program.filename().string(),
                            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return out;
}

}  // namespace lorasplit::detail

namespace lorasplit {
namespace {

// Every byte of `bytes` to `fd`, retrying short writes; errno on failure.
bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Status write_file(const std::string& path, const std::string& bytes, std::string_view argument) {
  const auto fail = [&](const std::string& why) {
    return Error{ErrorCode::kWriteFailed, std::string(argument), path,
                 fmt::format("{} = '{}': {}", argument, path, why)};
  };
  std::filesystem::path target(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Write where the link points (its folder gets the temporary file).
    std::error_code ec;
    target = std::filesystem::weakly_canonical(target, ec);
    if (ec) return fail("cannot follow the link: " + ec.message());
  }
  if (::stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A device, a pipe or a terminal (/dev/stdout, a FIFO): written in place, every write
    // and the close checked; there is no file to leave half-written.
    if (S_ISDIR(st.st_mode)) return fail("is a directory");
    const int fd = ::open(target.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return fail(fmt::format("cannot open: {}", std::strerror(errno)));
    if (!write_all(fd, bytes)) {
      const int err = errno;
      ::close(fd);
      return fail(fmt::format("write failed: {}", std::strerror(err)));
    }
    if (::close(fd) != 0) return fail(fmt::format("write failed: {}", std::strerror(errno)));
    return {};
  }
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string temp = (dir / (".lorasplit-" + target.filename().string() + "-XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return fail(fmt::format("cannot create a file in {}: {}", dir.string(), std::strerror(errno)));
  const auto abandon = [&](int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    return fail(fmt::format("write failed: {}", std::strerror(err)));
  };
  if (!write_all(fd, bytes)) return abandon(errno);
  if (::fsync(fd) != 0 && errno != EINVAL) return abandon(errno);
  // The file gets the mode a new file would (0666 less the umask), not mkstemp's 0600.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  (void)::fchmod(fd, 0666 & ~mask);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return fail(fmt::format("write failed: {}", std::strerror(err)));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return fail(fmt::format("cannot write the file: {}", std::strerror(err)));
  }
  return {};
}

}  // namespace lorasplit
