// libFuzzer entry point for the 'inputs' target (fuzz/targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, unsigned long size) {
  lorasplit::fuzz::inputs(data, size);
  return 0;
}
