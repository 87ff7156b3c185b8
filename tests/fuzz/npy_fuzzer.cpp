// libFuzzer target for the .npy reader: any byte string is either a valid
// array whose data matches its shape, or an error -- never a crash, a read
// past the input or an unbounded allocation.
#include "attnc/Npy.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (bool u2 : {false, true}) {
    attnc::NpyReadOptions opts;
    opts.u2IsBF16 = u2;
    auto array = attnc::parseNpy(data, size, "fuzz.npy", opts);
    if (!array)
      continue;
    size_t elements = 1;
    for (int64_t d : array->shape)
      elements *= size_t(d);
    if (array->data.size() != elements * attnc::dtypeSize(array->dtype))
      std::abort(); // the shape and the data disagree
    // Round trip: what parsed serializes and parses back.
    auto bytes = attnc::serializeNpy(*array);
    if (bytes && !attnc::parseNpy(bytes->data(), bytes->size(), "rt.npy", opts))
      std::abort();
  }
  return 0;
}
