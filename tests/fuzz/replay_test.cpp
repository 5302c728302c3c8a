// Replays every kept fuzz input (seed corpora and past crashes) through its target, so a
// fixed crash stays fixed without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "targets.hpp"

namespace {

void replay(const std::string& name) {
  const auto target = lorasplit::fuzz::find_target(name);
  ASSERT_NE(target, nullptr);
  const std::filesystem::path dir = std::filesystem::path(LORASPLIT_FUZZ_CORPUS_DIR) / name;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3U) << "corpus " << dir << " is (nearly) empty";
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(f.string());
    target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());  // aborts on a broken invariant
  }
}

TEST(FuzzReplay, Quantity) { replay("quantity"); }
TEST(FuzzReplay, Config) { replay("config"); }
TEST(FuzzReplay, Solver) { replay("solver"); }
TEST(FuzzReplay, Cli) { replay("cli"); }
TEST(FuzzReplay, Inputs) { replay("inputs"); }

}  // namespace
