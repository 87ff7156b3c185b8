//===- Target.h - GPU targets the attention compiler knows ------*- C++ -*-===//
//
// What the tile chooser and the IO model need to know about a GPU: on-chip
// memory (the "SRAM" of the FlashAttention paper), registers, thread limits,
// the tensor-core instruction the kernel uses, HBM bandwidth and peak rates.
//
// Plain C++ (no MLIR) so the runtime can link it and fill a TargetInfo from
// the live driver with fromDevice().
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_TARGET_H
#define ATTN_MODEL_TARGET_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::attn::model {

/// Shape of one warp-level tensor-core instruction (mma.sync.m16n8k16 for
/// f16/bf16 inputs with f32 accumulation).
struct MmaShape {
  int m = 16, n = 8, k = 16;
};

struct TargetInfo {
  /// Target name as NVRTC spells the architecture: "sm_80", "sm_90a", ...
  std::string name;
  /// The part whose numbers are recorded here ("A100 SXM4 80GB", ...).
  std::string part;
  int ccMajor = 0, ccMinor = 0;
  int smCount = 0;

  /// Shared memory per SM (the carve-out maximum) and the most one thread
  /// block may opt in to (cudaFuncAttributeMaxDynamicSharedMemorySize). The
  /// difference is the 1 KiB the driver reserves per resident block.
  int64_t smemPerSmBytes = 0;
  int64_t smemOptinPerBlockBytes = 0;
  int64_t smemReservedPerBlockBytes = 1024;

  int regsPerSm = 65536;
  int maxRegsPerThread = 255;
  int maxThreadsPerBlock = 1024;
  int maxThreadsPerSm = 2048;
  int maxBlocksPerSm = 32;
  int warpSize = 32;

  /// The tensor-core instruction the generated kernel uses (mma.sync on every
  /// target; wgmma/tcgen05 are not used by the kernel today).
  MmaShape mma;
  std::string mmaInstruction = "mma.sync.aligned.m16n8k16 (f16/bf16 -> f32)";

  /// HBM bandwidth in bytes/s: the part's specification and what the IO
  /// model uses (a measured or assumed achievable device-to-device copy rate,
  /// read + write).
  double hbmSpecBytesPerSec = 0;
  double hbmBytesPerSec = 0;
  int64_t l2Bytes = 0;
  /// L2 read bandwidth in bytes/s (rough, from published microbenchmarks;
  /// used only to weigh K/V re-reads when ranking tiles).
  double l2BytesPerSec = 0;

  /// Dense f16/bf16 FLOP/s reachable with mma.sync (f32 accumulation), and
  /// the f32 SIMT (FFMA) peak used for f32 kernels.
  double mmaPeakFlops = 0;
  double simtF32PeakFlops = 0;
  /// Shared memory bandwidth of one SM in bytes per clock (128 on sm_80+).
  int smemBytesPerClockPerSm = 128;
  /// mma.sync FLOP per clock per SM (mmaPeakFlops / (smCount * clock)); the
  /// tile ranking uses it for the shared-memory ridge point.
  double mmaFlopsPerClockPerSm = 0;

  /// Where the numbers come from (and what is assumed), for reports.
  std::string notes;

  int computeCapability() const { return ccMajor * 10 + ccMinor; }
  /// Peak FLOP/s of the kernel for an element size (2: mma.sync, 4: SIMT).
  double peakFlops(int elementBytes) const {
    return elementBytes == 4 ? simtF32PeakFlops : mmaPeakFlops;
  }
};

/// The targets attnc knows, in a fixed order.
const std::vector<TargetInfo> &knownTargets();

/// Names of the known targets ("sm_80", "sm_86", ...).
std::vector<std::string> knownTargetNames();

/// "sm_80, sm_86, sm_89, sm_90, sm_90a, sm_100a".
std::string knownTargetList();

/// "unknown target 'sm_70'; known: sm_80, sm_86, ...".
std::string unknownTargetMessage(llvm::StringRef name);

/// The target of that name, or std::nullopt.
std::optional<TargetInfo> lookupTarget(llvm::StringRef name);
/// The architecture `arch` with the figures of `part`, or std::nullopt.
std::optional<TargetInfo> lookupTarget(llvm::StringRef arch,
                                       llvm::StringRef part);
/// "unknown part 'X' for sm_90a; known: ...".
std::string unknownPartMessage(llvm::StringRef arch, llvm::StringRef part);

/// A target described by the live driver. Known figures of the same compute
/// capability (peaks, bandwidth, L2) are the starting point, scaled by the SM
/// count when it differs; every argument that is > 0 overrides the table.
/// Unknown capabilities start from the newest known target of a lower one.
TargetInfo fromDevice(int major, int minor, int smCount, int smemOptinBytes,
                      int smemPerSmBytes, int regsPerSm = 0,
                      int maxThreadsPerSm = 0, int maxBlocksPerSm = 0,
                      int64_t l2Bytes = 0, double hbmBytesPerSec = 0);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_TARGET_H
