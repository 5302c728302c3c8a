// libFuzzer entry point for the 'solver' target (fuzz/targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, unsigned long size) {
  lorasplit::fuzz::solver(data, size);
  return 0;
}
