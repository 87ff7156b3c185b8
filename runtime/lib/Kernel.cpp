//===- Kernel.cpp - Loaded modules and kernel launches --------------------===//
#include "attnc/Kernel.h"

#include <algorithm>
#include <string>

namespace attnc {

namespace {
constexpr size_t kDefaultSmemLimit = 48 * 1024;
} // namespace

Expected<std::shared_ptr<Module>> Module::load(const void *image, size_t size,
                                               PayloadKind kind) {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  if (!image || size == 0)
    return makeError(ErrorCode::InvalidArgument, "empty module image");

  auto deviceOr = currentDevice(); // makes a context current if none is
  if (!deviceOr)
    return deviceOr.takeError();

  std::shared_ptr<Module> module(new Module());
  module->device_ = std::move(*deviceOr);
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, ctxGetCurrent, &module->context_));
  if (kind == PayloadKind::Ptx) {
    // cuModuleLoadData reads PTX as a C string.
    std::string text(static_cast<const char *>(image), size);
    ATTNC_RETURN_IF_ERROR(
        ATTNC_CU(drv, moduleLoadData, &module->module_, text.c_str()));
  } else {
    ATTNC_RETURN_IF_ERROR(
        ATTNC_CU(drv, moduleLoadData, &module->module_, image));
  }
  return module;
}

Module::~Module() {
  if (!module_)
    return;
  auto drv = CudaDriver::get();
  if (!drv)
    return;
  ScopedContext scope(**drv, context_);
  (void)(*drv)->api().moduleUnload(module_);
}

Expected<std::shared_ptr<Kernel>> Kernel::load(std::shared_ptr<Module> module,
                                               const std::string &name) {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  if (!module)
    return makeError(ErrorCode::InvalidArgument, "null module");

  std::shared_ptr<Kernel> kernel(new Kernel());
  kernel->name_ = name;
  ScopedContext scope(drv, module->context());
  CUresult r = drv.api().moduleGetFunction(&kernel->function_, module->handle(),
                                           name.c_str());
  if (r == CUDA_ERROR_NOT_FOUND)
    return makeError(ErrorCode::NotFound,
                     "kernel '" + name + "' not found in the module " +
                         "(is it extern \"C\" __global__?)");
  ATTNC_RETURN_IF_ERROR(
      drv.check(r, "cuModuleGetFunction", __FILE__, __LINE__));
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, funcGetAttribute, &kernel->staticSmem_,
                                 CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                                 kernel->function_));
  // attnc kernels take one by-value struct; its size is checked at launch.
  // (Probing a second parameter would be an API error that
  // compute-sanitizer reports, so only the first is queried.)
  if (drv.api().funcGetParamInfo) {
    size_t offset = 0, bytes = 0;
    if (drv.api().funcGetParamInfo(kernel->function_, 0, &offset, &bytes) ==
        CUDA_SUCCESS)
      kernel->paramBytes_ = static_cast<long long>(bytes);
  }
  kernel->dynamicSmemLimit_ =
      size_t(kernel->staticSmem_) < kDefaultSmemLimit
          ? kDefaultSmemLimit - size_t(kernel->staticSmem_)
          : 0;
  kernel->module_ = std::move(module);
  return kernel;
}

int Kernel::residentBlocksPerSm(unsigned threads,
                                size_t dynamicSmemBytes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (resident_ > 0 && residentThreads_ == threads &&
      residentSmem_ == dynamicSmemBytes)
    return resident_;
  int n = 0;
  auto drvOr = CudaDriver::get();
  if (drvOr && (*drvOr)->api().occupancyMaxActiveBlocksPerMultiprocessor) {
    ScopedContext scope(**drvOr, module_->context());
    if ((*drvOr)->api().occupancyMaxActiveBlocksPerMultiprocessor(
            &n, function_, int(threads), dynamicSmemBytes) != CUDA_SUCCESS)
      n = 0;
  }
  if (n <= 0) {
    const DeviceInfo &dev = module_->device();
    const size_t perBlock = dynamicSmemBytes + size_t(staticSmem_) + 1024;
    n = dev.maxSmemPerSm > 0 ? std::max<int>(1, int(size_t(dev.maxSmemPerSm) /
                                                     perBlock))
                             : 1;
  }
  residentThreads_ = threads;
  residentSmem_ = dynamicSmemBytes;
  resident_ = n;
  return n;
}

Expected<int> Kernel::attribute(CUfunction_attribute attr) const {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  int value = 0;
  ATTNC_RETURN_IF_ERROR(
      ATTNC_CU(*drvOr, funcGetAttribute, &value, attr, function_));
  return value;
}

Status Kernel::launch(const void *paramsBlock, size_t paramsSize, Dim3 grid,
                      Dim3 block, size_t dynamicSmemBytes, CUstream stream,
                      bool dependent) const {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  if (!paramsBlock || paramsSize == 0)
    return makeError(ErrorCode::InvalidArgument,
                     "kernel '" + name_ + "': no argument block");
  if (paramBytes_ >= 0 && static_cast<size_t>(paramBytes_) != paramsSize)
    return makeError(ErrorCode::InvalidArgument,
                     "kernel '" + name_ + "' takes a " +
                         std::to_string(paramBytes_) +
                         "-byte argument but the launch passed " +
                         std::to_string(paramsSize) + " bytes");

  const DeviceInfo &dev = module_->device();
  size_t optin = static_cast<size_t>(dev.maxSmemPerBlockOptin);
  size_t staticSmem = static_cast<size_t>(staticSmem_);
  if (dynamicSmemBytes + staticSmem > optin)
    return makeError(
        ErrorCode::OutOfResources,
        "kernel '" + name_ + "' needs " + std::to_string(dynamicSmemBytes) +
            " B of dynamic shared memory" +
            (staticSmem ? " (+ " + std::to_string(staticSmem) + " B static)"
                        : std::string()) +
            " but " + dev.name + " (" + dev.arch + ") allows at most " +
            std::to_string(optin) + " B per block (opt-in)");

  ScopedContext scope(drv, module_->context());
  {
    // Above 48 KiB (static + dynamic) a function must opt in; raise its limit
    // once, to the largest size launched so far.
    std::lock_guard<std::mutex> lock(mutex_);
    if (dynamicSmemBytes > dynamicSmemLimit_) {
      ATTNC_RETURN_IF_ERROR(
          ATTNC_CU(drv, funcSetAttribute, function_,
                   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                   static_cast<int>(dynamicSmemBytes)));
      dynamicSmemLimit_ = dynamicSmemBytes;
    }
  }

  void *args[] = {const_cast<void *>(paramsBlock)};
  Status launched = success();
  if (dependent && dev.ccMajor >= 9 && drv.api().launchKernelEx) {
    CUlaunchAttribute attr{};
    attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attr.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config{};
    config.gridDimX = grid.x, config.gridDimY = grid.y, config.gridDimZ = grid.z;
    config.blockDimX = block.x, config.blockDimY = block.y,
    config.blockDimZ = block.z;
    config.sharedMemBytes = static_cast<unsigned>(dynamicSmemBytes);
    config.hStream = stream;
    config.attrs = &attr;
    config.numAttrs = 1;
    launched = ATTNC_CU(drv, launchKernelEx, &config, function_, args, nullptr);
  } else {
    launched = ATTNC_CU(drv, launchKernel, function_, grid.x, grid.y, grid.z,
                        block.x, block.y, block.z,
                        static_cast<unsigned>(dynamicSmemBytes), stream, args,
                        nullptr);
  }
  if (!launched)
    return launched.takeError().addContext(
        "launching '" + name_ + "' grid (" + std::to_string(grid.x) + "," +
        std::to_string(grid.y) + "," + std::to_string(grid.z) + ") block (" +
        std::to_string(block.x) + "," + std::to_string(block.y) + "," +
        std::to_string(block.z) + ") smem " + std::to_string(dynamicSmemBytes) +
        " B");
  return success();
}

} // namespace attnc
