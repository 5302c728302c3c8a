// lorasplit: thin command-line front end over the library (one file per subcommand).
#include <cstdio>

#include "common.hpp"

int main(int argc, char** argv) { return lorasplit::cli::run_cli(argc, argv, {stdout, stderr}); }
