// libFuzzer entry point for the 'config' target (fuzz/targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, unsigned long size) {
  lorasplit::fuzz::config(data, size);
  return 0;
}
