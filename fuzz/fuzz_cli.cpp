// libFuzzer entry point for the 'cli' target (fuzz/targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, unsigned long size) {
  lorasplit::fuzz::cli(data, size);
  return 0;
}
