//===- attnc/Kernel.h - A loaded CUDA kernel -------------------*- C++ -*-===//
//
// Module: a CUmodule loaded from a CUBIN or PTX image in one context.
// Kernel: one __global__ function of a Module, launched with a single
// by-value argument block (attnc::FwdParams from attn/Kernel/Params.h).
// Both are shared (std::shared_ptr) and thread-safe; launches go to the
// caller's stream.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnc/CudaDriver.h"
#include "attnc/Status.h"

#include <cuda.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

namespace attnc {

/// Makes `ctx` current for the scope and restores the previous context.
class ScopedContext {
public:
  ScopedContext(const CudaDriver &drv, CUcontext ctx) : drv_(drv) {
    if (drv_.api().ctxGetCurrent(&previous_) != CUDA_SUCCESS)
      previous_ = nullptr;
    if (previous_ != ctx && drv_.api().ctxSetCurrent(ctx) == CUDA_SUCCESS)
      switched_ = true;
  }
  ~ScopedContext() {
    if (switched_)
      (void)drv_.api().ctxSetCurrent(previous_);
  }
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;

private:
  const CudaDriver &drv_;
  CUcontext previous_ = nullptr;
  bool switched_ = false;
};

/// What a compiled binary holds.
enum class PayloadKind : unsigned { Cubin = 1, Ptx = 2 };

/// A grid or block size.
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  Dim3() = default;
  Dim3(unsigned x, unsigned y = 1, unsigned z = 1) : x(x), y(y), z(z) {}
};

/// A CUmodule, unloaded when the last reference goes.
class Module {
public:
  /// Loads `image` (a CUBIN, or NUL-terminated PTX text) into the current
  /// context (ensureContext(0) when none is current).
  static Expected<std::shared_ptr<Module>> load(const void *image, size_t size,
                                                PayloadKind kind);

  ~Module();
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  CUmodule handle() const { return module_; }
  CUcontext context() const { return context_; }
  const DeviceInfo &device() const { return device_; }

private:
  Module() = default;
  CUmodule module_ = nullptr;
  CUcontext context_ = nullptr;
  DeviceInfo device_;
};

/// A kernel ready to launch.
class Kernel {
public:
  /// Looks up `name` (the extern "C" or lowered name) in `module`.
  static Expected<std::shared_ptr<Kernel>> load(std::shared_ptr<Module> module,
                                                const std::string &name);

  /// Launches with one by-value argument of `paramsSize` bytes at
  /// `paramsBlock`. When dynamicSmemBytes > 48 KiB the function's
  /// MAX_DYNAMIC_SHARED_SIZE_BYTES is raised first; more than the device's
  /// opt-in maximum (minus the kernel's static shared memory) is an
  /// OutOfResources error naming both numbers. Asynchronous on `stream`.
  /// With `dependent`, the launch is a programmatic dependent of the
  /// previous kernel on the stream (sm_90+ with cuLaunchKernelEx; else an
  /// ordinary launch): its blocks may start before that kernel ends and
  /// must call griddepcontrol.wait before reading its results.
  Status launch(const void *paramsBlock, size_t paramsSize, Dim3 grid,
                Dim3 block, size_t dynamicSmemBytes, CUstream stream,
                bool dependent = false) const;

  /// launch() for a struct argument, e.g. attnc::FwdParams.
  template <typename Params>
  Status launch(const Params &params, Dim3 grid, Dim3 block,
                size_t dynamicSmemBytes, CUstream stream,
                bool dependent = false) const {
    return launch(&params, sizeof(Params), grid, block, dynamicSmemBytes,
                  stream, dependent);
  }

  /// cuFuncGetAttribute, e.g. CU_FUNC_ATTRIBUTE_NUM_REGS.
  Expected<int> attribute(CUfunction_attribute attr) const;

  /// Thread blocks of `threads` threads and `dynamicSmemBytes` that fit on
  /// one SM at once (the driver's occupancy query, remembered per size;
  /// without the query, the shared-memory bound).
  int residentBlocksPerSm(unsigned threads, size_t dynamicSmemBytes) const;

  const std::string &name() const { return name_; }
  CUfunction handle() const { return function_; }
  const Module &module() const { return *module_; }
  const std::shared_ptr<Module> &sharedModule() const { return module_; }
  /// Static shared memory of the function, bytes.
  int staticSmemBytes() const { return staticSmem_; }

private:
  Kernel() = default;
  std::shared_ptr<Module> module_;
  CUfunction function_ = nullptr;
  std::string name_;
  int staticSmem_ = 0;
  long long paramBytes_ = -1; // from cuFuncGetParamInfo when available
  mutable std::mutex mutex_;
  mutable size_t dynamicSmemLimit_ = 0; // dynamic smem the function allows now
  mutable unsigned residentThreads_ = 0; // residentBlocksPerSm's last query
  mutable size_t residentSmem_ = 0;
  mutable int resident_ = 0;
};

} // namespace attnc
