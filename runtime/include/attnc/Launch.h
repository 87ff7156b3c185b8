//===- Launch.h - launch a generated kernel as its family says ---*- C++ -*-===//
//
// The grid, block and shared memory of a launch come from the kernel's
// family (attn/Model/KernelFamily.h, launchGeometry), never from a formula
// restated here. A split-KV launch (fwd.split_kv with more than one split)
// also allocates its f32 workspace stream-ordered, launches the combine
// kernel after the main one and frees the workspace on the same stream.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_LAUNCH_H
#define ATTNC_LAUNCH_H

#include "attn/Kernel/Params.h"
#include "attnc/Codegen/KernelInfo.h"
#include "attnc/Kernel.h"
#include "attnc/Status.h"

namespace attnc {

/// What a launch did (for logs and tests).
struct LaunchReport {
  unsigned grid[3] = {1, 1, 1};
  int splits = 1;
  int64_t workspaceBytes = 0;
};

/// Launches `kernel` (compiled from `info`) on `params` asynchronously on
/// `stream`, with the launch geometry of info.family for the sizes in
/// `params`. `combine` is the module's combine kernel (needed when the
/// family has one). The split fields of `params` are filled here.
Status launchForward(const Kernel &kernel, const Kernel *combine,
                     const KernelInfo &info, const FwdParams &params,
                     CUstream stream, LaunchReport *report = nullptr);

/// Copies `bytes` from device memory to the host once the work queued on
/// `stream` so far has finished (index inputs the runtime validates before a
/// launch: a block table may have been written by an earlier kernel).
Status readDevice(const Kernel &kernel, void *dst, const void *src,
                  size_t bytes, CUstream stream);

} // namespace attnc

#endif // ATTNC_LAUNCH_H
