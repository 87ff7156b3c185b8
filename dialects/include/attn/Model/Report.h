//===- Report.h - human-readable model report for one kernel ----*- C++ -*-===//
//
// The table `attnc compile --report` prints: tiles, SRAM used of the
// budget, registers, occupancy, predicted HBM bytes of the tiled kernel vs
// the unfused chain, FLOPs, intensity and the time bound. Formatting is
// fixed (integers, fixed decimals) so lit tests can FileCheck it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_REPORT_H
#define ATTN_MODEL_REPORT_H

#include "attn/Model/IoModel.h"
#include "attn/Model/SramModel.h"
#include "attn/Model/Target.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::attn::model {

/// One line per item, `name: value`, e.g.
///
///   kernel:        attn_fwd
///   target:        sm_90a (H100 SXM5 80GB, 132 SMs); HBM 3.00 TB/s measured copy
///   problem:       batch 2, heads 16/16, seq 8192 x 8192, head dim 128/128, 2 B, causal
///   tiles:         block_m 128, block_n 64, warps 4, stages 2 (paper: Br 128, Bc 227)
///   sram:          98304 B of 232448 B budget (42.3%)
///   registers:     ~240 per thread (estimate)
///   ctas per sm:   2 (smem 2, regs 2, threads 16)
///   hbm read:      tiled 4429185024 B (4224.00 MiB), L2-aware 201326592 B (192.00 MiB); unfused ...; unfused/tiled 3.92x
///   hbm written:   ...
///   hbm total:     ...
///   flops:         useful 5.498e+11, executed 5.583e+11 (50.01% unmasked; 4160.0 of 8192 blocks per head)
///   intensity:     tiled 122.26 FLOP/B, unfused 36.25 FLOP/B
///   time bound:    tiled 845.90 us (compute), unfused 10111.42 us (memory); at 3.00 TB/s, 660.0 TFLOP/s
///
/// sramBudgetBytes = 0 uses the target's opt-in limit.
std::string formatReport(llvm::StringRef kernelName, const TargetInfo &target,
                         const AttentionProblem &problem,
                         const TileConfig &tile, int64_t sramBudgetBytes = 0,
                         const KernelFamily &family = kFwdMmaSync);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_REPORT_H
