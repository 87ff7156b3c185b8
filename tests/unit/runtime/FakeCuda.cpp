//===- FakeCuda.cpp - A pretend libcuda for testing the driver path -------===//
//
// Built as a shared library and loaded through $ATTNC_LIBCUDA by
// attnc-runtime-fakedriver-tests, so the host side of launches (contexts,
// module loading, the shared-memory opt-in, argument passing, error text)
// is tested on machines without a GPU. It mimics one "Fake H100" (sm_90,
// 132 SMs, 227 KiB opt-in shared memory); device memory is host memory.
// $ATTNC_FAKE_DEVICE (read on every query) picks another device:
//   h200     "NVIDIA H200" as the lent H200's driver reports it;
//   unknown  "NVIDIA H100 PCIe" (sm_90, 114 SMs, not in attnc's table), whose
//            CU_DEVICE_ATTRIBUTE_CLOCK_RATE query fails as unsupported.
// Like the real device it has a fixed amount of memory (80 GiB, counted, not
// reserved): larger allocations fail with CUDA_ERROR_OUT_OF_MEMORY. Kernels
// report their real argument size (attnc::FwdParams for attnc_fwd_*). The
// attention kernels do nothing (outputs stay as they were); the random
// input kernels attnc_fill_normal_* are carried out on the host with the
// same code the device runs (attnc/rt/RandomNormal.h), so `attnc run
// --shape` gets real inputs.
//
//===----------------------------------------------------------------------===//
#include <cuda.h>

#include "attn/Kernel/Params.h"
#include "attnc/Npy.h"
#include "attnc/rt/RandomNormal.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace {
thread_local CUcontext current = nullptr;
CUcontext const kPrimary = reinterpret_cast<CUcontext>(uintptr_t(0x1000));
int staticSmem = 1024;
int maxDynamicSmem = 48 * 1024 - 1024; // what the function allows
int setAttributeCalls = 0;
int launches = 0;
unsigned lastSmem = 0, lastGridX = 0, lastBlockX = 0;
// Room for any params block (FwdParams grows with features: the test
// checks its size against fakeLastParamsCapacity()).
unsigned char lastParams[4096];
size_t paramBytes = sizeof(attnc::FwdParams);
int modulesLoaded = 0, modulesUnloaded = 0;
struct FakeFunction {
  int fillElement; // -1: an attention (or test) kernel; else
                   // attnc::rt::FillElement
} function{-1}, fillF32{attnc::rt::kFillF32}, fillF16{attnc::rt::kFillF16},
    fillBF16{attnc::rt::kFillBF16};
const size_t kDeviceMemory = size_t(80) << 30;
std::mutex memoryMutex;
size_t allocated = 0;
std::map<void *, size_t> allocations;
struct FakeModule {
  int dummy;
} module;
} // namespace

enum class Device { FakeH100, H200, Unknown };
Device device() {
  const char *e = std::getenv("ATTNC_FAKE_DEVICE");
  if (e && std::strcmp(e, "h200") == 0)
    return Device::H200;
  if (e && std::strcmp(e, "unknown") == 0)
    return Device::Unknown;
  return Device::FakeH100;
}

extern "C" {

// Test hooks (looked up with dlsym by the tests).
int fakeSetAttributeCalls() { return setAttributeCalls; }
int fakeLaunches() { return launches; }
unsigned fakeLastSmem() { return lastSmem; }
unsigned fakeLastGridX() { return lastGridX; }
const unsigned char *fakeLastParams() { return lastParams; }
size_t fakeLastParamsCapacity() { return sizeof(lastParams); }
int fakeModulesLoaded() { return modulesLoaded; }
int fakeModulesUnloaded() { return modulesUnloaded; }
void fakeSetParamBytes(size_t n) { paramBytes = n; }

CUresult cuGetErrorName(CUresult e, const char **s) {
  switch (e) {
  case CUDA_SUCCESS:
    *s = "CUDA_SUCCESS";
    break;
  case CUDA_ERROR_INVALID_VALUE:
    *s = "CUDA_ERROR_INVALID_VALUE";
    break;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *s = "CUDA_ERROR_OUT_OF_MEMORY";
    break;
  case CUDA_ERROR_INVALID_IMAGE:
    *s = "CUDA_ERROR_INVALID_IMAGE";
    break;
  case CUDA_ERROR_NOT_FOUND:
    *s = "CUDA_ERROR_NOT_FOUND";
    break;
  case CUDA_ERROR_INVALID_CONTEXT:
    *s = "CUDA_ERROR_INVALID_CONTEXT";
    break;
  case CUDA_ERROR_INVALID_DEVICE:
    *s = "CUDA_ERROR_INVALID_DEVICE";
    break;
  default:
    *s = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult e, const char **s) {
  switch (e) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    *s = "out of memory";
    break;
  case CUDA_ERROR_INVALID_IMAGE:
    *s = "device kernel image is invalid";
    break;
  case CUDA_ERROR_INVALID_VALUE:
    *s = "invalid argument";
    break;
  default:
    *s = "fake error";
    break;
  }
  return CUDA_SUCCESS;
}
CUresult cuInit(unsigned) { return CUDA_SUCCESS; }
CUresult cuDriverGetVersion(int *v) {
  *v = 13000;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetCount(int *n) {
  *n = 1;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  *d = 0;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice) {
  switch (a) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *v = 9;
    break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *v = 0;
    break;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *v = device() == Device::Unknown ? 114 : 132;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK:
    *v = 49152;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *v = 232448;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR:
    *v = 233472;
    break;
  case CU_DEVICE_ATTRIBUTE_WARP_SIZE:
    *v = 32;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR:
    *v = device() == Device::FakeH100 ? 0 : 65536;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR:
    *v = device() == Device::FakeH100 ? 0 : 2048;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR:
    *v = device() == Device::FakeH100 ? 0 : 32;
    break;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE:
    *v = device() == Device::H200      ? 60 * 1024 * 1024
         : device() == Device::Unknown ? 50 * 1024 * 1024
                                       : 0;
    break;
  case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: // kHz
    if (device() == Device::Unknown)
      return CUDA_ERROR_INVALID_VALUE;
    *v = device() == Device::H200 ? 1980000 : 0;
    break;
  case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: // kHz
    *v = device() == Device::H200      ? 3201000
         : device() == Device::Unknown ? 1593000
                                       : 0;
    break;
  case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH:
    *v = device() == Device::H200      ? 6016
         : device() == Device::Unknown ? 5120
                                       : 0;
    break;
  default:
    *v = 0;
    break;
  }
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice) {
  const char *n = device() == Device::H200      ? "NVIDIA H200"
                  : device() == Device::Unknown ? "NVIDIA H100 PCIe"
                                                : "Fake H100";
  std::strncpy(name, n, size_t(len));
  return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice) {
  *c = kPrimary;
  return CUDA_SUCCESS;
}
CUresult cuCtxGetCurrent(CUcontext *c) {
  *c = current;
  return CUDA_SUCCESS;
}
CUresult cuCtxSetCurrent(CUcontext c) {
  current = c;
  return CUDA_SUCCESS;
}
CUresult cuCtxGetDevice(CUdevice *d) {
  if (!current)
    return CUDA_ERROR_INVALID_CONTEXT;
  *d = 0;
  return CUDA_SUCCESS;
}
CUresult cuCtxSynchronize() { return CUDA_SUCCESS; }

CUresult cuModuleLoadData(CUmodule *m, const void *image) {
  if (!current)
    return CUDA_ERROR_INVALID_CONTEXT;
  const char *p = static_cast<const char *>(image);
  if (std::memcmp(p,
                  "\x7f"
                  "ELF",
                  4) != 0 &&
      !std::strstr(p, ".entry"))
    return CUDA_ERROR_INVALID_IMAGE;
  *m = reinterpret_cast<CUmodule>(&module);
  ++modulesLoaded;
  return CUDA_SUCCESS;
}
CUresult cuModuleUnload(CUmodule) {
  ++modulesUnloaded;
  return CUDA_SUCCESS;
}
CUresult cuModuleGetFunction(CUfunction *f, CUmodule, const char *name) {
  // "k" for the unit tests; attnc_* for `attnc run` in the bad-input lit
  // suite (attention launches do nothing, the output stays poisoned; the
  // random input kernels fill on the host).
  if (std::strcmp(name, "k") != 0 && std::strncmp(name, "attnc_", 6) != 0)
    return CUDA_ERROR_NOT_FOUND;
  FakeFunction *fn = &function;
  if (std::strcmp(name, "attnc_fill_normal_f32") == 0)
    fn = &fillF32;
  else if (std::strcmp(name, "attnc_fill_normal_f16") == 0)
    fn = &fillF16;
  else if (std::strcmp(name, "attnc_fill_normal_bf16") == 0)
    fn = &fillBF16;
  *f = reinterpret_cast<CUfunction>(fn);
  return CUDA_SUCCESS;
}
CUresult cuFuncGetAttribute(int *v, CUfunction_attribute a, CUfunction) {
  if (a == CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
    *v = staticSmem;
  else if (a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    *v = maxDynamicSmem;
  else
    *v = 0;
  return CUDA_SUCCESS;
}
CUresult cuFuncSetAttribute(CUfunction, CUfunction_attribute a, int v) {
  if (a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    if (v + staticSmem > 232448)
      return CUDA_ERROR_INVALID_VALUE;
    maxDynamicSmem = v;
    ++setAttributeCalls;
  }
  return CUDA_SUCCESS;
}
CUresult cuFuncGetParamInfo(CUfunction f, size_t index, size_t *offset,
                            size_t *size) {
  if (index != 0)
    return CUDA_ERROR_INVALID_VALUE;
  *offset = 0;
  *size = reinterpret_cast<FakeFunction *>(f)->fillElement >= 0
              ? sizeof(attnc::rt::FillNormalParams)
              : paramBytes;
  return CUDA_SUCCESS;
}
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned, unsigned,
                        unsigned bx, unsigned, unsigned, unsigned smem,
                        CUstream, void **params, void **) {
  if (!current)
    return CUDA_ERROR_INVALID_CONTEXT;
  // Like the real driver: more than the function allows fails.
  if (int(smem) > maxDynamicSmem)
    return CUDA_ERROR_INVALID_VALUE;
  ++launches;
  lastSmem = smem;
  lastGridX = gx;
  lastBlockX = bx;
  int fill = reinterpret_cast<FakeFunction *>(f)->fillElement;
  size_t bytes = fill >= 0 ? sizeof(attnc::rt::FillNormalParams) : paramBytes;
  std::memcpy(lastParams, params[0],
              bytes < sizeof(lastParams) ? bytes : sizeof(lastParams));
  if (fill >= 0) {
    // What attnc_fill_normal_* computes, element by element (rounded to
    // f16/bf16 by the runtime's host conversions, compiled into this
    // library: the device's cvt.rn gives the same bits).
    attnc::rt::FillNormalParams p;
    std::memcpy(&p, params[0], sizeof p);
    for (unsigned long long i = 0; i < p.count; ++i) {
      float x = attnc::rt::normalAt(p.seed, p.stream, i);
      if (fill == attnc::rt::kFillF32) {
        static_cast<float *>(p.out)[i] = x;
      } else {
        uint16_t h = fill == attnc::rt::kFillBF16 ? attnc::floatToBf16(x)
                                                  : attnc::floatToHalf(x);
        static_cast<uint16_t *>(p.out)[i] = h;
      }
    }
  }
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr *p, size_t n) {
  std::lock_guard<std::mutex> lock(memoryMutex);
  if (n > kDeviceMemory - allocated)
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *m = std::malloc(n ? n : 1);
  if (!m)
    return CUDA_ERROR_OUT_OF_MEMORY;
  allocations[m] = n;
  allocated += n;
  *p = reinterpret_cast<CUdeviceptr>(m);
  return CUDA_SUCCESS;
}
CUresult cuMemFree(CUdeviceptr p) {
  std::lock_guard<std::mutex> lock(memoryMutex);
  void *m = reinterpret_cast<void *>(p);
  auto it = allocations.find(m);
  if (it == allocations.end())
    return CUDA_ERROR_INVALID_VALUE;
  allocated -= it->second;
  allocations.erase(it);
  std::free(m);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyHtoD(CUdeviceptr d, const void *s, size_t n) {
  std::memcpy(reinterpret_cast<void *>(d), s, n);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoH(void *d, CUdeviceptr s, size_t n) {
  std::memcpy(d, reinterpret_cast<void *>(s), n);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoD(CUdeviceptr d, CUdeviceptr s, size_t n) {
  std::memcpy(reinterpret_cast<void *>(d), reinterpret_cast<void *>(s), n);
  return CUDA_SUCCESS;
}
CUresult cuMemsetD8(CUdeviceptr d, unsigned char v, size_t n) {
  std::memset(reinterpret_cast<void *>(d), v, n);
  return CUDA_SUCCESS;
}
CUresult cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
CUresult cuEventCreate(CUevent *e, unsigned) {
  *e = reinterpret_cast<CUevent>(std::malloc(8));
  return CUDA_SUCCESS;
}
CUresult cuEventRecord(CUevent, CUstream) { return CUDA_SUCCESS; }
CUresult cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
CUresult cuEventElapsedTime(float *ms, CUevent, CUevent) {
  *ms = 1.5f;
  return CUDA_SUCCESS;
}
CUresult cuEventDestroy(CUevent e) {
  std::free(e);
  return CUDA_SUCCESS;
}

} // extern "C"
