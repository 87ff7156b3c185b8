//===- Launch.h - launch a generated kernel as its family says ---*- C++ -*-===//
//
// The grid, block and shared memory of a launch come from the kernel's
// family (attn/Model/KernelFamily.h, launchGeometry), never from a formula
// restated here.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_LAUNCH_H
#define ATTNC_LAUNCH_H

#include "attn/Kernel/Params.h"
#include "attnc/Codegen/KernelInfo.h"
#include "attnc/Kernel.h"
#include "attnc/Status.h"

namespace attnc {

/// Launches `kernel` (compiled from `info`) on `params` asynchronously on
/// `stream`, with the launch geometry of info.family for the sizes in
/// `params`.
Status launchForward(const Kernel &kernel, const KernelInfo &info,
                     const FwdParams &params, CUstream stream);

} // namespace attnc

#endif // ATTNC_LAUNCH_H
