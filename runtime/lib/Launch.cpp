//===- Launch.cpp - launch a generated kernel as its family says ----------===//
#include "attnc/Launch.h"

#include "attn/Kernel/FwdSplitKv.h"
#include "attn/Model/KernelFamily.h"
#include "attnc/CudaDriver.h"

#include <climits>
#include <map>
#include <mutex>

using namespace attnc;
namespace model = mlir::attn::model;

namespace {

/// A stream-ordered memory pool per device for split-KV workspaces, owned
/// by attnc (the device's default pool and the caller's allocator are left
/// alone). It keeps what it has allocated (release threshold: unlimited),
/// so a launch after a synchronization does not map memory again; it holds
/// at most the largest workspace in flight. Null when the driver has no
/// stream-ordered allocator.
CUmemoryPool workspacePool(const CudaDriver &drv, const DeviceInfo &dev) {
  const auto &a = drv.api();
  if (!a.memPoolCreate || !a.memPoolSetAttribute || !a.memAllocFromPoolAsync ||
      !a.memFreeAsync)
    return nullptr;
  static std::mutex mutex;
  static std::map<int, CUmemoryPool> pools; // by device ordinal; never freed
  std::lock_guard<std::mutex> lock(mutex);
  auto it = pools.find(dev.ordinal);
  if (it != pools.end())
    return it->second;
  CUmemPoolProps props{};
  props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
  props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  props.location.id = dev.ordinal;
  CUmemoryPool pool = nullptr;
  if (a.memPoolCreate(&pool, &props) != CUDA_SUCCESS)
    pool = nullptr;
  if (pool) {
    cuuint64_t keep = ~cuuint64_t(0);
    (void)a.memPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keep);
  }
  pools[dev.ordinal] = pool; // a failure is remembered: synchronous path
  return pool;
}

} // namespace

Status attnc::launchForward(const Kernel &kernel, const Kernel *combine,
                            const KernelInfo &info, const FwdParams &params,
                            CUstream stream, LaunchReport *report) {
  const model::KernelFamily *family = model::lookupFamily(info.family);
  if (!family)
    return makeError(ErrorCode::Unsupported,
                     "kernel " + info.kernelName + ": unknown kernel family '" +
                         info.family + "'; known: " +
                         model::knownFamilyList());
  model::KernelShape shape{info.headDim, info.headDimV,
                           elementBytes(info.element), true};
  model::TileConfig tile{info.blockM, info.blockN, info.warps, info.stages};
  model::LaunchShape sizes;
  sizes.batch = params.batch;
  sizes.headsQ = params.headsQ;
  sizes.headsKV = params.headsKV;
  sizes.seqQ = params.seqQ;
  sizes.seqK = params.seqK;
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  if (family->decode) {
    if (int64_t(params.seqQ) * (params.headsQ / params.headsKV) > kMaxSeqLen)
      return makeError(ErrorCode::InvalidArgument,
                       "kernel " + info.kernelName + " (" + info.family +
                           "): seqQ x query heads per K/V head = " +
                           std::to_string(int64_t(params.seqQ) *
                                          (params.headsQ / params.headsKV)) +
                           " packed rows exceed the limit 2^30");
    sizes.smCount = kernel.module().device().smCount;
    sizes.ctasPerSm = kernel.residentBlocksPerSm(unsigned(info.warps * 32),
                                                 size_t(info.smemBytes));
  }
  model::LaunchGeometry g = model::launchGeometry(*family, shape, tile, sizes);
  if (g.smemBytes != info.smemBytes)
    return makeError(ErrorCode::Unknown,
                     "kernel " + info.kernelName + ": the family says " +
                         std::to_string(g.smemBytes) +
                         " B of shared memory, the compiled kernel " +
                         std::to_string(info.smemBytes) + " B");
  if (report) {
    for (int i = 0; i < 3; ++i)
      report->grid[i] = g.grid[i];
    report->splits = g.splits;
    report->workspaceBytes = g.workspaceBytes;
  }
  FwdParams p = params;
  p.numSplits = g.splits;
  p.blocksPerSplit = g.blocksPerSplit;
  p.oAccum = nullptr;
  p.lseAccum = nullptr;
  const Dim3 grid(g.grid[0], g.grid[1], g.grid[2]);
  if (g.splits <= 1)
    return kernel.launch(p, grid, Dim3(g.threads), size_t(g.smemBytes),
                         stream);

  if (int64_t(g.combineGrid) != int64_t(p.batch) * p.headsQ * p.seqQ ||
      g.combineGrid > unsigned(INT32_MAX))
    return makeError(ErrorCode::InvalidArgument,
                     "kernel " + info.kernelName + ": batch x heads x seqQ = " +
                         std::to_string(int64_t(p.batch) * p.headsQ * p.seqQ) +
                         " output rows exceed the combine grid's 2^31 - 1");
  if (!combine)
    return makeError(ErrorCode::Unknown,
                     "kernel " + info.kernelName + ": " + info.family +
                         " launch with " + std::to_string(g.splits) +
                         " splits but no combine kernel");
  // The workspace, stream-ordered from attnc's pool when the driver can (no
  // synchronization); otherwise allocated and freed around a synchronized
  // launch.
  ScopedContext scope(drv, kernel.module().context());
  CUmemoryPool pool = workspacePool(drv, kernel.module().device());
  CUdeviceptr ws = 0;
  if (pool)
    ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, memAllocFromPoolAsync, &ws,
                                   size_t(g.workspaceBytes), pool, stream));
  else
    ATTNC_RETURN_IF_ERROR(
        ATTNC_CU(drv, memAlloc, &ws, size_t(g.workspaceBytes)));
  const int64_t rows = int64_t(p.batch) * p.headsQ * p.seqQ;
  p.oAccum = reinterpret_cast<float *>(ws);
  p.lseAccum = p.oAccum + fwd_split_kv::lseAccumOffset(g.splits, rows,
                                                       info.headDimV);
  Status st = kernel.launch(p, grid, Dim3(g.threads), size_t(g.smemBytes),
                            stream);
  if (st)
    st = combine->launch(p, Dim3(g.combineGrid), Dim3(g.combineThreads), 0,
                         stream, /*dependent=*/true);
  if (pool) {
    Status freed = ATTNC_CU(drv, memFreeAsync, ws, stream);
    return st ? freed : st;
  }
  Status synced = ATTNC_CU(drv, streamSynchronize, stream);
  Status freed = ATTNC_CU(drv, memFree, ws);
  if (!st)
    return st;
  return synced ? freed : synced;
}

Status attnc::readDevice(const Kernel &kernel, void *dst, const void *src,
                         size_t bytes, CUstream stream) {
  auto drvOr = CudaDriver::get();
  if (!drvOr)
    return drvOr.takeError();
  const CudaDriver &drv = **drvOr;
  ScopedContext scope(drv, kernel.module().context());
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(drv, streamSynchronize, stream));
  return ATTNC_CU(drv, memcpyDtoH, dst,
                  reinterpret_cast<CUdeviceptr>(src), bytes);
}
