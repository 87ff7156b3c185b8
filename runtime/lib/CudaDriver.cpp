//===- CudaDriver.cpp - dlopen'ed CUDA driver
//------------------------------===//
#include "attnc/CudaDriver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace attnc {

namespace {

// "cumemAlloc" (what the ATTNC_CU macro stringizes) -> "cuMemAlloc".
std::string callName(const char *call) {
  std::string name(call);
  if (name.size() > 2 && name[0] == 'c' && name[1] == 'u' && name[2] >= 'a' &&
      name[2] <= 'z')
    name[2] = static_cast<char>(name[2] - 'a' + 'A');
  return name;
}

template <typename Fn>
bool resolve(void *handle, const char *symbol, Fn &slot,
             std::vector<std::string> &missing, bool optional = false) {
  void *p = dlsym(handle, symbol);
  if (!p) {
    if (!optional)
      missing.push_back(symbol);
    return false;
  }
  slot = reinterpret_cast<Fn>(p);
  return true;
}

} // namespace

Expected<CudaDriver *> CudaDriver::load(const std::string &library) {
  dlerror();
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return makeError(ErrorCode::NoDriver,
                     "no CUDA driver: " + library + " could not be loaded: " +
                         (why ? why : "unknown dlopen error"));
  }

  auto *drv = new CudaDriver();
  drv->library_ = library;
  CudaDriverApi &a = drv->api_;
  std::vector<std::string> missing;
  // Symbols as exported by libcuda: the _v2 ones where cuda.h maps a name
  // to its _v2 version (and we use the matching _v2 types).
  resolve(handle, "cuGetErrorName", a.getErrorName, missing);
  resolve(handle, "cuGetErrorString", a.getErrorString, missing);
  resolve(handle, "cuInit", a.init, missing);
  resolve(handle, "cuDriverGetVersion", a.driverGetVersion, missing);
  resolve(handle, "cuDeviceGet", a.deviceGet, missing);
  resolve(handle, "cuDeviceGetCount", a.deviceGetCount, missing);
  resolve(handle, "cuDeviceGetAttribute", a.deviceGetAttribute, missing);
  resolve(handle, "cuDeviceGetName", a.deviceGetName, missing);
  resolve(handle, "cuDevicePrimaryCtxRetain", a.devicePrimaryCtxRetain,
          missing);
  resolve(handle, "cuCtxGetCurrent", a.ctxGetCurrent, missing);
  resolve(handle, "cuCtxSetCurrent", a.ctxSetCurrent, missing);
  resolve(handle, "cuCtxGetDevice", a.ctxGetDevice, missing);
  resolve(handle, "cuCtxSynchronize", a.ctxSynchronize, missing);
  resolve(handle, "cuModuleLoadData", a.moduleLoadData, missing);
  resolve(handle, "cuModuleUnload", a.moduleUnload, missing);
  resolve(handle, "cuModuleGetFunction", a.moduleGetFunction, missing);
  resolve(handle, "cuFuncSetAttribute", a.funcSetAttribute, missing);
  resolve(handle, "cuFuncGetAttribute", a.funcGetAttribute, missing);
  resolve(handle, "cuLaunchKernel", a.launchKernel, missing);
  resolve(handle, "cuMemAlloc_v2", a.memAlloc, missing);
  resolve(handle, "cuMemFree_v2", a.memFree, missing);
  resolve(handle, "cuMemcpyHtoD_v2", a.memcpyHtoD, missing);
  resolve(handle, "cuMemcpyDtoH_v2", a.memcpyDtoH, missing);
  resolve(handle, "cuMemcpyDtoD_v2", a.memcpyDtoD, missing);
  resolve(handle, "cuMemsetD8_v2", a.memsetD8, missing);
  resolve(handle, "cuStreamSynchronize", a.streamSynchronize, missing);
  resolve(handle, "cuEventCreate", a.eventCreate, missing);
  resolve(handle, "cuEventRecord", a.eventRecord, missing);
  resolve(handle, "cuEventSynchronize", a.eventSynchronize, missing);
  // cuEventElapsedTime_v2 appeared in CUDA 12.8; older drivers only have
  // the unversioned symbol with the same signature.
  if (!resolve(handle, "cuEventElapsedTime_v2", a.eventElapsedTime, missing,
               /*optional=*/true))
    resolve(handle, "cuEventElapsedTime", a.eventElapsedTime, missing);
  resolve(handle, "cuEventDestroy_v2", a.eventDestroy, missing);
  resolve(handle, "cuFuncGetParamInfo", a.funcGetParamInfo, missing,
          /*optional=*/true);
  resolve(handle, "cuMemPoolCreate", a.memPoolCreate, missing,
          /*optional=*/true);
  resolve(handle, "cuMemPoolSetAttribute", a.memPoolSetAttribute, missing,
          /*optional=*/true);
  resolve(handle, "cuMemAllocFromPoolAsync", a.memAllocFromPoolAsync, missing,
          /*optional=*/true);
  resolve(handle, "cuMemFreeAsync", a.memFreeAsync, missing,
          /*optional=*/true);
  resolve(handle, "cuLaunchKernelEx", a.launchKernelEx, missing,
          /*optional=*/true);
  resolve(handle, "cuOccupancyMaxActiveBlocksPerMultiprocessor",
          a.occupancyMaxActiveBlocksPerMultiprocessor, missing,
          /*optional=*/true);

  if (!missing.empty()) {
    std::string list;
    for (const std::string &m : missing)
      list += (list.empty() ? "" : ", ") + m;
    delete drv;
    dlclose(handle);
    return makeError(ErrorCode::NoDriver,
                     "CUDA driver " + library +
                         " is too old or not a CUDA driver: missing " + list);
  }

  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, init, 0u));
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, driverGetVersion, &drv->version_));
  return drv;
}

Expected<CudaDriver *> CudaDriver::get() {
  static std::once_flag once;
  static Expected<CudaDriver *> instance(
      makeError(ErrorCode::NoDriver, "not loaded"));
  std::call_once(once, [] {
    const char *env = std::getenv("ATTNC_LIBCUDA");
    instance = load(env && *env ? env : kDefaultLibrary);
  });
  return instance;
}

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (api_.getErrorName)
    api_.getErrorName(result, &name);
  if (api_.getErrorString)
    api_.getErrorString(result, &text);
  std::string out = name ? name : "CUDA_ERROR_" + std::to_string(int(result));
  out += " (";
  out += text ? text : "unknown error";
  out += ")";
  return out;
}

Status CudaDriver::check(CUresult result, const char *call, const char *file,
                         int line) const {
  if (result == CUDA_SUCCESS)
    return success();
  ErrorCode code = ErrorCode::CudaDriver;
  if (result == CUDA_ERROR_NO_DEVICE || result == CUDA_ERROR_INVALID_DEVICE)
    code = ErrorCode::NoDevice;
  else if (result == CUDA_ERROR_OUT_OF_MEMORY ||
           result == CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)
    code = ErrorCode::OutOfResources;
  return makeError(code, callName(call) + " failed at " + file + ":" +
                             std::to_string(line) + ": " + describe(result));
}

std::string archForComputeCapability(int major, int minor) {
  std::string arch = "sm_" + std::to_string(major * 10 + minor);
  // Hopper and later: the arch-specific target unlocks wgmma/TMA/tcgen05.
  if (major >= 9)
    arch += "a";
  return arch;
}

Expected<int> deviceCount() {
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  int count = 0;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(*drv, deviceGetCount, &count));
  return count;
}

Expected<DeviceInfo> queryDevice(int ordinal) {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  int count = 0;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGetCount, &count));
  if (ordinal < 0 || ordinal >= count)
    return makeError(ErrorCode::NoDevice,
                     "no CUDA device " + std::to_string(ordinal) + ": " +
                         std::to_string(count) + " device(s) found");
  DeviceInfo info;
  info.ordinal = ordinal;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGet, &info.device, ordinal));
  char name[256] = {0};
  ATTNC_RETURN_IF_ERROR(
      ATTNC_CU(drv, deviceGetName, name, int(sizeof(name) - 1), info.device));
  info.name = name;
  struct {
    int *out;
    CUdevice_attribute attr;
  } attrs[] = {
      {&info.ccMajor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR},
      {&info.ccMinor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR},
      {&info.smCount, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT},
      {&info.maxSmemPerBlock, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK},
      {&info.maxSmemPerBlockOptin,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN},
      {&info.maxSmemPerSm,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR},
      {&info.warpSize, CU_DEVICE_ATTRIBUTE_WARP_SIZE},
  };
  for (auto &a : attrs)
    ATTNC_RETURN_IF_ERROR(
        ATTNC_CU(drv, deviceGetAttribute, a.out, a.attr, info.device));
  // Figures attnc can do without: an unsupported attribute reads as 0.
  struct {
    int *out;
    CUdevice_attribute attr;
  } optionalAttrs[] = {
      {&info.regsPerSm, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR},
      {&info.maxThreadsPerSm,
       CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR},
      {&info.maxBlocksPerSm, CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR},
      {&info.l2Bytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE},
      {&info.smClockKHz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE},
      {&info.memClockKHz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE},
      {&info.memBusWidthBits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH},
  };
  for (auto &a : optionalAttrs) {
    int v = 0;
    if (drv.api().deviceGetAttribute(&v, a.attr, info.device) == CUDA_SUCCESS &&
        v > 0)
      *a.out = v;
  }
  info.arch = archForComputeCapability(info.ccMajor, info.ccMinor);
  return info;
}

Expected<CUcontext> ensureContext(int ordinal) {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  CUcontext current = nullptr;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, ctxGetCurrent, &current));
  CUdevice device = 0;
  if (current) {
    CUdevice currentDevice = 0;
    ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, ctxGetDevice, &currentDevice));
    int count = 0;
    ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGetCount, &count));
    if (ordinal >= 0 && ordinal < count) {
      ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGet, &device, ordinal));
      if (device == currentDevice)
        return current;
    }
  }
  int count = 0;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGetCount, &count));
  if (ordinal < 0 || ordinal >= count)
    return makeError(ErrorCode::NoDevice,
                     "no CUDA device " + std::to_string(ordinal) + ": " +
                         std::to_string(count) + " device(s) found");
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGet, &device, ordinal));

  // Primary contexts are retained once per device and never released: they
  // back every module attnc loads for the life of the process.
  static std::mutex mutex;
  static std::vector<std::pair<CUdevice, CUcontext>> retained;
  CUcontext ctx = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto &r : retained)
      if (r.first == device)
        ctx = r.second;
    if (!ctx) {
      ATTNC_RETURN_IF_ERROR(
          ATTNC_CU(drv, devicePrimaryCtxRetain, &ctx, device));
      retained.emplace_back(device, ctx);
    }
  }
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, ctxSetCurrent, ctx));
  return ctx;
}

Expected<DeviceInfo> currentDevice() {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  CUcontext current = nullptr;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, ctxGetCurrent, &current));
  if (!current) {
    auto ctx = ensureContext(0);
    if (!ctx)
      return ctx.takeError();
  }
  CUdevice device = 0;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, ctxGetDevice, &device));
  int count = 0;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGetCount, &count));
  for (int i = 0; i < count; ++i) {
    CUdevice d = 0;
    ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, deviceGet, &d, i));
    if (d == device)
      return queryDevice(i);
  }
  return makeError(ErrorCode::NoDevice,
                   "the current CUDA context's device is not enumerable");
}

//===- DeviceBuffer -------------------------------------------------------===//

DeviceBuffer::~DeviceBuffer() {
  if (!ptr_)
    return;
  auto drv = CudaDriver::get();
  if (drv)
    (void)(*drv)->api().memFree(ptr_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : ptr_(other.ptr_), size_(other.size_) {
  other.ptr_ = 0;
  other.size_ = 0;
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    DeviceBuffer old(std::move(*this));
    ptr_ = other.ptr_;
    size_ = other.size_;
    other.ptr_ = 0;
    other.size_ = 0;
  }
  return *this;
}

/// The driver, with a current context (device 0's primary one if none).
static Expected<CudaDriver *> driverWithContext() {
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  CUcontext current = nullptr;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(*drv, ctxGetCurrent, &current));
  if (!current) {
    auto ctx = ensureContext(0);
    if (!ctx)
      return ctx.takeError();
  }
  return *drv;
}

Expected<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
  auto drv = driverWithContext();
  if (!drv)
    return drv.takeError();
  DeviceBuffer buf;
  if (bytes == 0)
    return buf;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(*drv, memAlloc, &buf.ptr_, bytes));
  buf.size_ = bytes;
  return buf;
}

static Status checkRange(size_t size, size_t bytes, size_t offset,
                         const char *what) {
  if (offset > size || bytes > size - offset)
    return makeError(ErrorCode::InvalidArgument,
                     std::string(what) + ": " + std::to_string(bytes) +
                         " bytes at offset " + std::to_string(offset) +
                         " exceed the buffer of " + std::to_string(size) +
                         " bytes");
  return success();
}

Status DeviceBuffer::copyFromHost(const void *src, size_t bytes,
                                  size_t offset) {
  ATTNC_RETURN_IF_ERROR(checkRange(size_, bytes, offset, "copyFromHost"));
  if (bytes == 0)
    return success();
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  return ATTNC_CU(*drv, memcpyHtoD, ptr_ + offset, src, bytes);
}

Status DeviceBuffer::copyToHost(void *dst, size_t bytes, size_t offset) const {
  ATTNC_RETURN_IF_ERROR(checkRange(size_, bytes, offset, "copyToHost"));
  if (bytes == 0)
    return success();
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  return ATTNC_CU(*drv, memcpyDtoH, dst, ptr_ + offset, bytes);
}

Status DeviceBuffer::fill(unsigned char byte) {
  if (size_ == 0)
    return success();
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  return ATTNC_CU(*drv, memsetD8, ptr_, byte, size_);
}

//===- EventTimer ---------------------------------------------------------===//

EventTimer::~EventTimer() {
  auto drv = CudaDriver::get();
  if (!drv)
    return;
  if (start_)
    (void)(*drv)->api().eventDestroy(start_);
  if (stop_)
    (void)(*drv)->api().eventDestroy(stop_);
}

EventTimer::EventTimer(EventTimer &&other) noexcept
    : start_(other.start_), stop_(other.stop_) {
  other.start_ = other.stop_ = nullptr;
}

EventTimer &EventTimer::operator=(EventTimer &&other) noexcept {
  if (this != &other) {
    EventTimer old(std::move(*this));
    start_ = other.start_;
    stop_ = other.stop_;
    other.start_ = other.stop_ = nullptr;
  }
  return *this;
}

Expected<EventTimer> EventTimer::create() {
  auto drv = driverWithContext();
  if (!drv)
    return drv.takeError();
  EventTimer timer;
  ATTNC_RETURN_IF_ERROR(
      ATTNC_CU(*drv, eventCreate, &timer.start_, CU_EVENT_DEFAULT));
  ATTNC_RETURN_IF_ERROR(
      ATTNC_CU(*drv, eventCreate, &timer.stop_, CU_EVENT_DEFAULT));
  return timer;
}

Status EventTimer::start(CUstream stream) {
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  if (!start_)
    return makeError(ErrorCode::InvalidArgument, "EventTimer not created");
  return ATTNC_CU(*drv, eventRecord, start_, stream);
}

Status EventTimer::stop(CUstream stream) {
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  if (!stop_)
    return makeError(ErrorCode::InvalidArgument, "EventTimer not created");
  return ATTNC_CU(*drv, eventRecord, stop_, stream);
}

Expected<float> EventTimer::elapsedMs() const {
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  if (!start_ || !stop_)
    return makeError(ErrorCode::InvalidArgument, "EventTimer not created");
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(*drv, eventSynchronize, stop_));
  float ms = 0;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(*drv, eventElapsedTime, &ms, start_, stop_));
  return ms;
}

} // namespace attnc
