//===- Launch.cpp - launch a generated kernel as its family says ----------===//
#include "attnc/Launch.h"

#include "attn/Model/KernelFamily.h"

using namespace attnc;
namespace model = mlir::attn::model;

Status attnc::launchForward(const Kernel &kernel, const KernelInfo &info,
                            const FwdParams &params, CUstream stream) {
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
  model::LaunchGeometry g = model::launchGeometry(*family, shape, tile, sizes);
  if (g.smemBytes != info.smemBytes)
    return makeError(ErrorCode::Unknown,
                     "kernel " + info.kernelName + ": the family says " +
                         std::to_string(g.smemBytes) +
                         " B of shared memory, the compiled kernel " +
                         std::to_string(info.smemBytes) + " B");
  return kernel.launch(params, Dim3(g.grid[0], g.grid[1], g.grid[2]),
                       Dim3(g.threads), size_t(g.smemBytes), stream);
}
