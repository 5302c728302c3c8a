// libFuzzer entry point for the 'quantity' target (fuzz/targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, unsigned long size) {
  lorasplit::fuzz::quantity(data, size);
  return 0;
}
