#include <gtest/gtest.h>

#include <lorasplit/rational.hpp>

int main(int argc, char** argv) {
  // GMP's allocation functions as the CLI installs them (small blocks pooled per thread,
  // except under AddressSanitizer): every test runs on them.
  lorasplit::gmp_throw_on_out_of_memory();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
