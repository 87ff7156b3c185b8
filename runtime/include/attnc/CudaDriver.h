//===- attnc/CudaDriver.h - The CUDA driver, loaded at run time -*- C++ -*-===//
//
// attnc never links libcuda: CudaDriver::get() dlopen()s libcuda.so.1 on
// first use and resolves the entry points below. Without a driver every call
// returns a clear NoDriver error instead of failing to start or crashing, so
// the compiler (NVRTC only) works on machines without a GPU.
//
// Driver calls go through the function table: `drv.api().memAlloc(&p, n)`,
// and are checked with ATTNC_CU(drv, memAlloc, &p, n), which yields a Status
// naming the call, file:line, the CUresult name and its description.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnc/Status.h"

#include <cuda.h>

#include <cstddef>
#include <string>

namespace attnc {

/// Entry points of libcuda.so.1. Members are named without the `cu` prefix
/// because cuda.h #defines many cu* names to their _v2 symbols; the types
/// come from cuda.h, so they are the versioned signatures.
struct CudaDriverApi {
  decltype(&::cuGetErrorName) getErrorName = nullptr;
  decltype(&::cuGetErrorString) getErrorString = nullptr;
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDriverGetVersion) driverGetVersion = nullptr;
  decltype(&::cuDeviceGet) deviceGet = nullptr;
  decltype(&::cuDeviceGetCount) deviceGetCount = nullptr;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute = nullptr;
  decltype(&::cuDeviceGetName) deviceGetName = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) devicePrimaryCtxRetain = nullptr;
  decltype(&::cuCtxGetCurrent) ctxGetCurrent = nullptr;
  decltype(&::cuCtxSetCurrent) ctxSetCurrent = nullptr;
  decltype(&::cuCtxGetDevice) ctxGetDevice = nullptr;
  decltype(&::cuCtxSynchronize) ctxSynchronize = nullptr;
  decltype(&::cuModuleLoadData) moduleLoadData = nullptr;
  decltype(&::cuModuleUnload) moduleUnload = nullptr;
  decltype(&::cuModuleGetFunction) moduleGetFunction = nullptr;
  decltype(&::cuFuncSetAttribute) funcSetAttribute = nullptr;
  decltype(&::cuFuncGetAttribute) funcGetAttribute = nullptr;
  decltype(&::cuLaunchKernel) launchKernel = nullptr;
  decltype(&::cuMemAlloc) memAlloc = nullptr;     // cuMemAlloc_v2
  decltype(&::cuMemFree) memFree = nullptr;       // cuMemFree_v2
  decltype(&::cuMemcpyHtoD) memcpyHtoD = nullptr; // cuMemcpyHtoD_v2
  decltype(&::cuMemcpyDtoH) memcpyDtoH = nullptr; // cuMemcpyDtoH_v2
  decltype(&::cuMemcpyDtoD) memcpyDtoD = nullptr; // cuMemcpyDtoD_v2
  decltype(&::cuMemsetD8) memsetD8 = nullptr;     // cuMemsetD8_v2
  decltype(&::cuStreamSynchronize) streamSynchronize = nullptr;
  decltype(&::cuEventCreate) eventCreate = nullptr;
  decltype(&::cuEventRecord) eventRecord = nullptr;
  decltype(&::cuEventSynchronize) eventSynchronize = nullptr;
  decltype(&::cuEventElapsedTime) eventElapsedTime = nullptr; // _v2
  decltype(&::cuEventDestroy) eventDestroy = nullptr;         // _v2
  /// Optional (CUDA >= 12.4): null on older drivers.
  decltype(&::cuFuncGetParamInfo) funcGetParamInfo = nullptr;
  /// Optional: stream-ordered allocation (the split-KV workspace) and the
  /// occupancy query (the split heuristic); null when the driver lacks them.
  decltype(&::cuMemPoolCreate) memPoolCreate = nullptr;
  decltype(&::cuMemPoolSetAttribute) memPoolSetAttribute = nullptr;
  decltype(&::cuMemAllocFromPoolAsync) memAllocFromPoolAsync = nullptr;
  decltype(&::cuMemFreeAsync) memFreeAsync = nullptr;
  decltype(&::cuOccupancyMaxActiveBlocksPerMultiprocessor)
      occupancyMaxActiveBlocksPerMultiprocessor = nullptr;
  /// Optional: launches with attributes (programmatic dependent launch).
  decltype(&::cuLaunchKernelEx) launchKernelEx = nullptr;
};

/// The loaded driver. One process-wide instance (get()); never unloaded.
class CudaDriver {
public:
  /// The default library name, "libcuda.so.1".
  static constexpr const char *kDefaultLibrary = "libcuda.so.1";

  /// Loads libcuda.so.1 (or $ATTNC_LIBCUDA when set), resolves the entry
  /// points and calls cuInit(0), once per process; later calls return the
  /// same driver or the same error. Thread-safe.
  static Expected<CudaDriver *> get();

  /// Loads `library` as a driver, uncached (for tests and tools). The result
  /// is leaked on purpose: driver handles must outlive every module.
  static Expected<CudaDriver *> load(const std::string &library);

  const CudaDriverApi &api() const { return api_; }

  /// cuDriverGetVersion, e.g. 13000 for CUDA 13.0.
  int version() const { return version_; }
  /// The library that was loaded.
  const std::string &library() const { return library_; }

  /// The error for a failed call: "<call> failed at <file>:<line>: <NAME>
  /// (<description>)". Returns success for CUDA_SUCCESS.
  Status check(CUresult result, const char *call, const char *file,
               int line) const;

  /// "CUDA_ERROR_X (description)" for a CUresult.
  std::string describe(CUresult result) const;

private:
  CudaDriver() = default;
  CudaDriverApi api_;
  int version_ = 0;
  std::string library_;
};

/// Checks a driver call through `drv` (a CudaDriver & or *): yields a Status.
/// Example: ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, memFree, ptr));
#define ATTNC_CU(drv, fn, ...)                                                 \
  ::attnc::detail::driverRef(drv).check(                                       \
      ::attnc::detail::driverRef(drv).api().fn(__VA_ARGS__), "cu" #fn,         \
      __FILE__, __LINE__)

namespace detail {
inline const CudaDriver &driverRef(const CudaDriver &d) { return d; }
inline const CudaDriver &driverRef(const CudaDriver *d) { return *d; }
} // namespace detail

/// "sm_80", "sm_86", "sm_89", "sm_90a", "sm_100a", ...: the NVRTC target for a
/// compute capability. From 9.0 on the arch-specific ("a") variant is used,
/// since attnc kernels may use wgmma/TMA/tcgen05.
std::string archForComputeCapability(int major, int minor);

/// What attnc needs to know about a device.
struct DeviceInfo {
  int ordinal = 0;
  CUdevice device = 0;
  std::string name;
  int ccMajor = 0, ccMinor = 0;
  std::string arch;        // archForComputeCapability(ccMajor, ccMinor)
  int smCount = 0;         // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
  int maxSmemPerBlock = 0; // default limit (48 KiB)
  int maxSmemPerBlockOptin =
      0; // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
  int maxSmemPerSm = 0;
  int warpSize = 32;
  // Read when the driver supports the attribute; 0 = unknown (never an
  // error: some clock attributes are deprecated and may be unsupported).
  int regsPerSm = 0; // CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR
  int maxThreadsPerSm = 0; // CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR
  int maxBlocksPerSm = 0;  // CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR
  int l2Bytes = 0;         // CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE
  int smClockKHz = 0;      // CU_DEVICE_ATTRIBUTE_CLOCK_RATE (the maximum)
  int memClockKHz = 0;     // CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE
  int memBusWidthBits = 0; // CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH
};

/// Number of CUDA devices (an error without a driver).
Expected<int> deviceCount();

/// Queries device `ordinal`.
Expected<DeviceInfo> queryDevice(int ordinal = 0);

/// The context to use for device `ordinal`: the current context if it
/// belongs to that device, else the device's primary context (retained once
/// per process and made current on this thread).
Expected<CUcontext> ensureContext(int ordinal = 0);

/// The device of the current context (ensureContext(0) when there is none).
Expected<DeviceInfo> currentDevice();

} // namespace attnc
namespace mlir::attn::model {
struct TargetInfo;
}
namespace attnc {
/// The target description (arch + part figures) of the current device:
/// model::fromDevice() of what currentDevice() reads. `remark` (may be null)
/// says which part was recognised and which figures were read and derived.
Expected<mlir::attn::model::TargetInfo> liveTarget(std::string *remark);

/// Device memory owned by this object (cuMemAlloc / cuMemFree). Move-only.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  /// Allocates `bytes` in the current context (ensureContext(0) if none).
  static Expected<DeviceBuffer> allocate(size_t bytes);

  CUdeviceptr ptr() const { return ptr_; }
  void *data() const { return reinterpret_cast<void *>(ptr_); }
  size_t size() const { return size_; }

  Status copyFromHost(const void *src, size_t bytes, size_t offset = 0);
  Status copyToHost(void *dst, size_t bytes, size_t offset = 0) const;
  Status fill(unsigned char byte);

private:
  CUdeviceptr ptr_ = 0;
  size_t size_ = 0;
};

/// GPU time between two points of a stream (cuEventRecord/ElapsedTime).
/// Move-only; the events are destroyed with it.
///
///   auto t = EventTimer::create();  t->start(stream);  launch...;
///   t->stop(stream);  Expected<float> ms = t->elapsedMs();  // synchronizes
class EventTimer {
public:
  EventTimer() = default;
  ~EventTimer();
  EventTimer(EventTimer &&other) noexcept;
  EventTimer &operator=(EventTimer &&other) noexcept;
  EventTimer(const EventTimer &) = delete;
  EventTimer &operator=(const EventTimer &) = delete;

  /// Creates the two events in the current context (ensureContext(0) if none).
  static Expected<EventTimer> create();
  Status start(CUstream stream = nullptr);
  Status stop(CUstream stream = nullptr);
  /// Waits for the stop event, then returns the milliseconds in between.
  Expected<float> elapsedMs() const;

private:
  CUevent start_ = nullptr, stop_ = nullptr;
};

} // namespace attnc
