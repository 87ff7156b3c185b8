//===- Target.h - GPU targets the attention compiler knows ------*- C++ -*-===//
//
// What the tile chooser and the IO model need to know about a GPU: on-chip
// memory (the "SRAM" of the FlashAttention paper), registers, thread limits,
// the tensor-core instruction the kernel uses, HBM bandwidth and peak rates.
//
// A target is an arch (what NVRTC compiles for, with its architectural
// limits) and a part (the product: SM count, L2, clocks, HBM bandwidth,
// peaks). Plain C++ (no MLIR) so the runtime can link it and fill a
// TargetInfo from the live driver with fromDevice().
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

/// What NVRTC compiles for, with the limits every part of it shares: the
/// compute capability, shared memory and register limits, the tensor-core
/// instruction and its rate per SM and clock.
struct ArchInfo {
  /// As NVRTC spells it: "sm_80", "sm_90a", ...
  std::string name;
  int ccMajor = 0, ccMinor = 0;
  /// Shared memory per SM (the carve-out maximum) and the most one thread
  /// block may opt in to; the difference is what the driver reserves per
  /// resident block.
  int64_t smemPerSmBytes = 0;
  int64_t smemOptinPerBlockBytes = 0;
  int64_t smemReservedPerBlockBytes = 1024;
  int regsPerSm = 65536;
  int maxRegsPerThread = 255;
  int maxThreadsPerBlock = 1024;
  int maxThreadsPerSm = 2048;
  int maxBlocksPerSm = 32;
  int warpSize = 32;
  MmaShape mma;
  std::string mmaInstruction = "mma.sync.aligned.m16n8k16 (f16/bf16 -> f32)";
  /// Dense f16/bf16 mma.sync FLOP (f32 accumulation) and f32 FFMA FLOP per
  /// SM and clock, used to derive the peaks of a part not in the table.
  double mmaFlopsPerClockPerSm = 0;
  double simtF32FlopsPerClockPerSm = 0;
  int smemBytesPerClockPerSm = 128;
  /// The part lookupTarget(name) models ("H100 SXM5 80GB" for sm_90a).
  std::string defaultPart;
};

/// One GPU product: its SM count, memory system, clocks and peaks.
struct PartInfo {
  /// "H200 SXM 141GB": what reports print and --part accepts (any prefix,
  /// case-insensitive, e.g. "h200", "H200 SXM").
  std::string name;
  /// Further names --part accepts ("A6000").
  std::vector<std::string> aliases;
  /// Substrings of cuDeviceGetName() that identify the part ("H200").
  std::vector<std::string> deviceNames;
  /// The arch it is compiled for by default (whose compute capability it has).
  std::string arch;
  int smCount = 0;
  /// Zero: the arch's limits.
  int64_t smemPerSmBytes = 0, smemOptinPerBlockBytes = 0;
  int64_t l2Bytes = 0;
  int smClockMHz = 0;  // the maximum (boost) SM clock
  int memClockMHz = 0; // as the driver reports it (x2 for DDR)
  int memBusWidthBits = 0;
  double hbmSpecBytesPerSec = 0;
  /// What the IO model uses and where it comes from ("measured copy",
  /// "assumed 90% of spec").
  double hbmBytesPerSec = 0;
  std::string hbmBasis;
  double l2BytesPerSec = 0;
  double mmaPeakFlops = 0;
  double mmaFlopsPerClockPerSm = 0; // 0: the arch's
  double simtF32PeakFlops = 0;
  std::string notes;
};

/// An arch with the figures of one part: what the tile chooser and the IO
/// model take.
struct TargetInfo {
  /// The arch, as NVRTC spells it: "sm_80", "sm_90a", ...
  std::string name;
  /// The part whose figures are used: a PartInfo::name, or the driver's
  /// device name for a part not in the table.
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

  /// Clocks and memory bus (0 = not known).
  int smClockMHz = 0;
  int memClockMHz = 0;
  int memBusWidthBits = 0;

  /// HBM bandwidth in bytes/s: the part's specification and what the IO
  /// model uses (a measured or assumed achievable device-to-device copy rate,
  /// read + write), with where the latter comes from ("measured copy").
  double hbmSpecBytesPerSec = 0;
  double hbmBytesPerSec = 0;
  std::string hbmBasis;
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

/// The arches attnc compiles for, in a fixed order (sm_80 ... sm_100a).
const std::vector<ArchInfo> &knownArches();
/// The parts in the table (A100 ... B200).
const std::vector<PartInfo> &knownParts();

/// Each known arch with its default part, in knownArches() order.
const std::vector<TargetInfo> &knownTargets();

/// Names of the known arches ("sm_80", "sm_86", ...).
std::vector<std::string> knownTargetNames();
/// "sm_80, sm_86, sm_89, sm_90, sm_90a, sm_100a".
std::string knownTargetList();
/// "unknown target 'sm_70'; known: sm_80, sm_86, ...".
std::string unknownTargetMessage(llvm::StringRef name);

/// Names of the known parts ("A100 SXM4 80GB", ..., "H200 SXM 141GB", ...).
std::vector<std::string> knownPartNames();
/// The known parts of arch `arch` (all of them when empty), comma-separated.
std::string knownPartList(llvm::StringRef arch = "");

/// The arch or part of that name, or null. Part names match
/// case-insensitively as a prefix of the name on word boundaries ("h200",
/// "H200 SXM") or an alias.
const ArchInfo *findArch(llvm::StringRef name);
const PartInfo *findPart(llvm::StringRef name);

/// The arch `arch` with its default part's figures, or std::nullopt.
std::optional<TargetInfo> lookupTarget(llvm::StringRef arch);
/// The arch `arch` with the figures of part `part`, or std::nullopt when
/// either is unknown or the part is not of that compute capability.
std::optional<TargetInfo> lookupTarget(llvm::StringRef arch,
                                       llvm::StringRef part);
/// Part `part` on its own arch (PartInfo::arch), or std::nullopt.
std::optional<TargetInfo> lookupPart(llvm::StringRef part);
/// Why lookupTarget(arch, part) failed: "unknown target ...", "unknown part
/// 'X'; known: ..." or "part 'H200 SXM 141GB' is compute capability 9.0, not
/// sm_80 (8.0); parts of sm_80: A100 SXM4 80GB".
std::string unknownPartMessage(llvm::StringRef arch, llvm::StringRef part);

/// What the driver says about a device (plain data; 0 or empty = unknown).
struct DeviceProperties {
  std::string name; // cuDeviceGetName: "NVIDIA H200"
  int ccMajor = 0, ccMinor = 0;
  int smCount = 0;
  int64_t smemOptinPerBlockBytes = 0;
  int64_t smemPerSmBytes = 0;
  int regsPerSm = 0;
  int maxThreadsPerSm = 0;
  int maxBlocksPerSm = 0;
  int64_t l2Bytes = 0;
  int smClockKHz = 0;      // CU_DEVICE_ATTRIBUTE_CLOCK_RATE
  int memClockKHz = 0;     // CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE
  int memBusWidthBits = 0; // CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH
};

/// The target of a live device. The arch is the device's compute capability
/// (the "a" variant from 9.0 on); an unknown capability takes the limits of
/// the newest known arch below it. A part in the table (matched by device
/// name and capability) keeps its figures, except the SM count, shared
/// memory, L2 size and per-SM limits the driver reads exactly; any other part
/// gets HBM bandwidth 2 x memory clock x bus width / 8 (achievable: 90% of
/// that) and peaks SM count x SM clock x the arch's rate per SM and clock.
/// `remark` (may be null) says which part was recognised and which figures
/// were read, derived or assumed.
TargetInfo fromDevice(const DeviceProperties &device, std::string *remark);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_TARGET_H
