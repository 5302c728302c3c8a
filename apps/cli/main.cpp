// lorasplit: thin command-line front end over the library (one file per subcommand).
#include <cstdio>

#include "common.hpp"

int main(int argc, char** argv) {
  lorasplit::gmp_throw_on_out_of_memory();  // out of memory: exit 5 with a message, not an abort
  const int status = lorasplit::cli::run_cli(argc, argv, {stdout, stderr});
  // A close error (a delayed write failure) is a failure too.
  if (std::fclose(stdout) != 0 && status != lorasplit::cli::kExitWriteFailed) {
    std::fputs("lorasplit: error: standard output: write failed on close\n", stderr);
    return lorasplit::cli::kExitWriteFailed;
  }
  return status;
}
