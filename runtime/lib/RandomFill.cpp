//===- RandomFill.cpp - Standard normal values made on the device ---------===//
#include "attnc/RandomFill.h"

#include "attnc/CudaDriver.h"
#include "attnc/Kernel.h"
#include "attnc/KernelCache.h"

#include "attnc/rt/RandomNormal.h"

#include <algorithm>

namespace attnc {

namespace {

// The stores round to nearest even with the PTX conversions (sm_80 and
// later have both), so the kernels need no toolkit header.
const char *kSource = R"(#include "attnc/rt/RandomNormal.h"

namespace {
using attnc::rt::FillNormalParams;

template <unsigned E> __forceinline__ void put(void *out, unsigned long long i, float x);
template <> __forceinline__ void put<attnc::rt::kFillF32>(void *out, unsigned long long i, float x) {
  static_cast<float *>(out)[i] = x;
}
template <> __forceinline__ void put<attnc::rt::kFillF16>(void *out, unsigned long long i, float x) {
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
  static_cast<unsigned short *>(out)[i] = h;
}
template <> __forceinline__ void put<attnc::rt::kFillBF16>(void *out, unsigned long long i, float x) {
  unsigned short h;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(x));
  static_cast<unsigned short *>(out)[i] = h;
}

// One thread per group of four elements, grid-stride: the values depend on
// (seed, stream, index) only.
template <unsigned E> __forceinline__ void fill(const FillNormalParams &p) {
  unsigned long long groups = (p.count + 3) / 4;
  unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;
  for (unsigned long long g = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
       g < groups; g += step) {
    attnc::rt::Normal4 n = attnc::rt::normal4(p.seed, p.stream, g);
    unsigned long long e = g * 4;
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (e + j < p.count)
        put<E>(p.out, e + j, n.v[j]);
  }
}
} // namespace

extern "C" __global__ void attnc_fill_normal_f32(FillNormalParams p) { fill<attnc::rt::kFillF32>(p); }
extern "C" __global__ void attnc_fill_normal_f16(FillNormalParams p) { fill<attnc::rt::kFillF16>(p); }
extern "C" __global__ void attnc_fill_normal_bf16(FillNormalParams p) { fill<attnc::rt::kFillBF16>(p); }
)";

constexpr unsigned kThreads = 256;

} // namespace

const std::string &fillNormalSource() {
  static const std::string source = kSource;
  return source;
}

Expected<std::string> fillNormalKernelName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return std::string("attnc_fill_normal_f32");
  case DType::F16:
    return std::string("attnc_fill_normal_f16");
  case DType::BF16:
    return std::string("attnc_fill_normal_bf16");
  default:
    return makeError(ErrorCode::Unsupported,
                     std::string("random normal values of dtype ") +
                         dtypeName(dtype) + " (only f32, f16 and bf16)");
  }
}

Status fillNormal(void *data, uint64_t count, DType dtype, uint64_t seed,
                  uint32_t streamId, CUstream stream, KernelCache *cache) {
  Expected<std::string> name = fillNormalKernelName(dtype);
  if (!name)
    return name.takeError();
  if (count == 0)
    return success();
  if (!data)
    return makeError(ErrorCode::InvalidArgument,
                     "fillNormal: null device pointer");
  Expected<DeviceInfo> device = currentDevice();
  if (!device)
    return device.takeError();
  NvrtcOptions opts;
  opts.arch = device->arch;
  opts.programName = "attnc_fill_normal.cu";
  KernelCache &c = cache ? *cache : KernelCache::global();
  Expected<std::shared_ptr<Kernel>> kernel =
      c.getKernel(fillNormalSource(), opts, *name);
  if (!kernel)
    return kernel.takeError().addContext("the random input kernel");
  rt::FillNormalParams p{};
  p.out = data;
  p.count = count;
  p.seed = seed;
  p.stream = streamId;
  // Enough blocks to fill the device a few times over; the grid-stride loop
  // does the rest.
  uint64_t groups = (count + 3) / 4;
  uint64_t blocks = (groups + kThreads - 1) / kThreads;
  blocks =
      std::min<uint64_t>(blocks, uint64_t(std::max(device->smCount, 1)) * 16);
  return (*kernel)->launch(p, Dim3(unsigned(blocks)), Dim3(kThreads), 0,
                           stream);
}

float fillNormalValue(DType dtype, uint64_t seed, uint32_t streamId,
                      uint64_t index) {
  float x = rt::normalAt(seed, streamId, index);
  switch (dtype) {
  case DType::F16:
    return halfToFloat(floatToHalf(x));
  case DType::BF16:
    return bf16ToFloat(floatToBf16(x));
  default:
    return x;
  }
}

} // namespace attnc
