#pragma once
// Fuzz targets, shared by the libFuzzer programs (fuzz/fuzz_*.cpp, clang only) and by the
// replay test of the ordinary suite (tests/fuzz/replay_test.cpp), which runs every input
// kept in tests/fuzz/<target>/. A target aborts (after printing why) when an invariant of
// lorasplit breaks; any other return means the input was handled correctly.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lorasplit::fuzz {

/// Number-and-unit parser: every accepted text round-trips exactly; every rejection is a
/// one-line message naming the key.
void quantity(const std::uint8_t* data, std::size_t size);
/// TOML config loader and --set assignments.
void config(const std::uint8_t* data, std::size_t size);
/// Solver on arbitrary valid parameter sets decoded from the bytes: an exactly feasible
/// certified optimum, a proven infeasibility (checked by exhaustive search when small),
/// or a clear out-of-range error.
void solver(const std::uint8_t* data, std::size_t size);
/// The whole CLI on argument lists split at NUL bytes (arguments with '/' are skipped so
/// no file outside the fuzzer's scratch directory is read).
void cli(const std::uint8_t* data, std::size_t size);

/// Sweep specifications (axes, their size, the shards), the simulator's plan input, and
/// output file names (written whole or refused, no temporary left behind).
void inputs(const std::uint8_t* data, std::size_t size);

/// Target by name ("quantity", "config", "solver", "cli", "inputs"), or nullptr.
using Target = void (*)(const std::uint8_t*, std::size_t);
Target find_target(std::string_view name);

}  // namespace lorasplit::fuzz
