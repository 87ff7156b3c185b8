//===- attnc/RandomFill.h - Normal inputs made on the device ---*- C++ -*-===//
//
// fillNormal() writes random standard normal values of an element type
// (f32, f16, bf16) into device memory with a small kernel compiled through
// NVRTC and the kernel cache, like an attention kernel. Each element is a
// pure function of (seed, stream id, index) - Philox4x32-10 and Box-Muller,
// see attnc/rt/RandomNormal.h under runtime/device - so the values do not
// depend on the GPU or the launch, and fillNormalValue() gives any of them
// on the host. `attnc run --shape` and `attnc bench` make their inputs this
// way: nothing of the size of a tensor is generated on the host.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnc/Npy.h"
#include "attnc/Status.h"

#include <cuda.h>

#include <cstdint>
#include <string>

namespace attnc {

class KernelCache;

/// The CUDA source of the kernels attnc_fill_normal_{f32,f16,bf16}.
const std::string &fillNormalSource();

/// The kernel of fillNormalSource() that writes `dtype`: an Unsupported
/// error for any dtype but F32, F16 and BF16.
Expected<std::string> fillNormalKernelName(DType dtype);

/// Writes `count` standard normal values of `dtype` at `data` (device memory
/// of the current context, at least count * dtypeSize(dtype) bytes),
/// asynchronously on `stream`. The kernel is compiled for the current
/// device's architecture through `cache` (KernelCache::global() when null).
/// Different `streamId`s under one seed give independent values.
Status fillNormal(void *data, uint64_t count, DType dtype, uint64_t seed,
                  uint32_t streamId, CUstream stream = nullptr,
                  KernelCache *cache = nullptr);

/// What fillNormal() writes at `index`, read back as a float (rounded to
/// `dtype` first), computed on the host. The device's sqrt/log/sincos may
/// differ from the host's in the last bits of the float before rounding.
float fillNormalValue(DType dtype, uint64_t seed, uint32_t streamId,
                      uint64_t index);

} // namespace attnc
