//===- Target.cpp - GPU targets the attention compiler knows --------------===//
//
// Figures are the vendors' published specifications for the named part
// unless a comment says they were measured (the H100 copy bandwidth, on the
// lent machine, see docs TARGETS.md) or assumed (stated next to the number).
//
//===----------------------------------------------------------------------===//
#include "attn/Model/Target.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir::attn::model;

static constexpr int64_t KiB = 1024;
static constexpr int64_t MiB = 1024 * 1024;
static constexpr double TB = 1e12;   // bytes/s
static constexpr double TFLOP = 1e12; // FLOP/s

/// Achievable fraction of specified HBM bandwidth where we have no
/// measurement (a device-to-device copy usually reaches ~90%; the H100 here
/// measured 3.0 of 3.35 TB/s).
static constexpr double kAssumedHbmEfficiency = 0.9;

static TargetInfo makeSm80() {
  TargetInfo t;
  t.name = "sm_80";
  t.part = "A100 SXM4 80GB";
  t.ccMajor = 8, t.ccMinor = 0;
  t.smCount = 108;
  t.smemPerSmBytes = 164 * KiB;         // 167936
  t.smemOptinPerBlockBytes = 163 * KiB; // 166912
  t.maxThreadsPerSm = 2048;
  t.maxBlocksPerSm = 32;
  t.hbmSpecBytesPerSec = 2.039 * TB;
  t.hbmBytesPerSec = t.hbmSpecBytesPerSec * kAssumedHbmEfficiency;
  t.l2Bytes = 40 * MiB;
  t.l2BytesPerSec = 5.0 * TB; // rough, assumed
  // 108 SMs x 1.41 GHz x 2048 FLOP/clk: mma.sync is the A100's full-rate path.
  t.mmaPeakFlops = 312 * TFLOP;
  t.mmaFlopsPerClockPerSm = 2048;
  t.simtF32PeakFlops = 19.5 * TFLOP;
  t.notes = "A100 SXM4 80GB spec; HBM achievable assumed 90% of 2.039 TB/s";
  return t;
}

static TargetInfo makeSm86() {
  TargetInfo t;
  // 84 SMs is the full GA102: RTX A6000 (and RTX 3090 Ti). The A10 has 72
  // and the RTX 3090 82; the smem/register limits are the same for all.
  t.name = "sm_86";
  t.part = "RTX A6000 (GA102, 84 SMs)";
  t.ccMajor = 8, t.ccMinor = 6;
  t.smCount = 84;
  t.smemPerSmBytes = 100 * KiB;         // 102400
  t.smemOptinPerBlockBytes = 99 * KiB;  // 101376
  t.maxThreadsPerSm = 1536;
  t.maxBlocksPerSm = 16;
  t.hbmSpecBytesPerSec = 0.768 * TB; // GDDR6, not HBM; the model calls it HBM
  t.hbmBytesPerSec = t.hbmSpecBytesPerSec * kAssumedHbmEfficiency;
  t.l2Bytes = 6 * MiB;
  t.l2BytesPerSec = 2.0 * TB; // rough, assumed
  // 84 SMs x 1.80 GHz x 1024 FLOP/clk (dense, f32 accumulation; the A6000
  // runs f32-accumulate at full rate, GeForce GA102 at half).
  t.mmaPeakFlops = 154.8 * TFLOP;
  t.mmaFlopsPerClockPerSm = 1024;
  t.simtF32PeakFlops = 38.7 * TFLOP;
  t.notes = "RTX A6000 spec; bandwidth achievable assumed 90% of 768 GB/s";
  return t;
}

static TargetInfo makeSm89() {
  TargetInfo t;
  // RTX 4090 (AD102, 128 SMs). The L4 (58 SMs, 300 GB/s, 48 MiB L2,
  // 121 TFLOP/s bf16) is the other common sm_89 part; fromDevice() rescales.
  t.name = "sm_89";
  t.part = "RTX 4090 (AD102, 128 SMs)";
  t.ccMajor = 8, t.ccMinor = 9;
  t.smCount = 128;
  t.smemPerSmBytes = 100 * KiB;
  t.smemOptinPerBlockBytes = 99 * KiB;
  t.maxThreadsPerSm = 1536;
  t.maxBlocksPerSm = 24;
  t.hbmSpecBytesPerSec = 1.008 * TB; // GDDR6X
  t.hbmBytesPerSec = t.hbmSpecBytesPerSec * kAssumedHbmEfficiency;
  t.l2Bytes = 72 * MiB;
  t.l2BytesPerSec = 5.0 * TB; // rough, assumed
  // 128 SMs x 2.52 GHz x 512 FLOP/clk: GeForce runs f16/bf16 with f32
  // accumulation at half the f16-accumulate rate.
  t.mmaPeakFlops = 165.2 * TFLOP;
  t.mmaFlopsPerClockPerSm = 512;
  t.simtF32PeakFlops = 82.6 * TFLOP;
  t.notes = "RTX 4090 spec; bandwidth achievable assumed 90% of 1008 GB/s";
  return t;
}

static TargetInfo makeSm90(const char *name) {
  TargetInfo t;
  t.name = name;
  t.part = "H100 SXM5 80GB";
  t.ccMajor = 9, t.ccMinor = 0;
  t.smCount = 132;
  t.smemPerSmBytes = 228 * KiB;         // 233472
  t.smemOptinPerBlockBytes = 227 * KiB; // 232448
  t.maxThreadsPerSm = 2048;
  t.maxBlocksPerSm = 32;
  t.hbmSpecBytesPerSec = 3.35 * TB;
  t.hbmBytesPerSec = 3.0 * TB; // measured device-to-device copy, lent H100
  t.l2Bytes = 50 * MiB;
  t.l2BytesPerSec = 10.0 * TB; // rough, assumed
  // wgmma peak is 989 TFLOP/s dense bf16 (132 SMs x 1.83 GHz x 4096
  // FLOP/clk); 767 TFLOP/s was measured for a cuBLAS matmul here. mma.sync
  // issues per warp from registers and cannot keep Hopper's tensor cores
  // busy: microbenchmarks (and FA2 at ~350 vs FA3 at ~740 TFLOP/s) put it at
  // about 2/3 of the wgmma rate, so we assume 2/3 x 989 = 660 TFLOP/s.
  t.mmaPeakFlops = 660 * TFLOP;
  t.mmaFlopsPerClockPerSm = 4096.0 * 2 / 3;
  t.simtF32PeakFlops = 66.9 * TFLOP;
  t.notes = "H100 SXM5 spec; HBM 3.0 TB/s measured copy; mma.sync assumed "
            "2/3 of the wgmma peak";
  return t;
}

static TargetInfo makeSm100a() {
  TargetInfo t;
  t.name = "sm_100a";
  t.part = "B200 (148 SMs)";
  t.ccMajor = 10, t.ccMinor = 0;
  t.smCount = 148;
  t.smemPerSmBytes = 228 * KiB;
  t.smemOptinPerBlockBytes = 227 * KiB;
  t.maxThreadsPerSm = 2048;
  t.maxBlocksPerSm = 32;
  t.hbmSpecBytesPerSec = 8.0 * TB;
  t.hbmBytesPerSec = t.hbmSpecBytesPerSec * kAssumedHbmEfficiency;
  t.l2Bytes = 126 * MiB; // as published; not verified here
  t.l2BytesPerSec = 20.0 * TB; // rough, assumed
  // Assumption, not measured: tcgen05 is Blackwell's tensor path (~2.25
  // PFLOP/s dense bf16); legacy mma.sync is taken to run at Hopper's
  // mma.sync rate per SM and clock: 148 x ~1.9 GHz x 2731 = ~770 TFLOP/s.
  t.mmaPeakFlops = 770 * TFLOP;
  t.mmaFlopsPerClockPerSm = 4096.0 * 2 / 3;
  t.simtF32PeakFlops = 80 * TFLOP;
  t.notes = "B200 spec; mma.sync rate assumed equal to Hopper's per SM-clock";
  return t;
}

const std::vector<TargetInfo> &mlir::attn::model::knownTargets() {
  static const std::vector<TargetInfo> targets = {
      makeSm80(), makeSm86(), makeSm89(), makeSm90("sm_90"),
      makeSm90("sm_90a"), makeSm100a()};
  return targets;
}

std::vector<std::string> mlir::attn::model::knownTargetNames() {
  std::vector<std::string> names;
  for (const TargetInfo &t : knownTargets())
    names.push_back(t.name);
  return names;
}

std::string mlir::attn::model::knownTargetList() {
  std::string list;
  for (const TargetInfo &t : knownTargets()) {
    if (!list.empty())
      list += ", ";
    list += t.name;
  }
  return list;
}

std::string mlir::attn::model::unknownTargetMessage(llvm::StringRef name) {
  return "unknown target '" + name.str() + "'; known: " + knownTargetList();
}

std::optional<TargetInfo> mlir::attn::model::lookupTarget(llvm::StringRef name) {
  for (const TargetInfo &t : knownTargets())
    if (t.name == name)
      return t;
  return std::nullopt;
}

TargetInfo mlir::attn::model::fromDevice(int major, int minor, int smCount,
                                         int smemOptinBytes,
                                         int smemPerSmBytes, int regsPerSm,
                                         int maxThreadsPerSm,
                                         int maxBlocksPerSm, int64_t l2Bytes,
                                         double hbmBytesPerSec) {
  int cc = major * 10 + minor;
  // The known target of this capability, else the newest one below it, else
  // the oldest one we know.
  const TargetInfo *base = &knownTargets().front();
  for (const TargetInfo &t : knownTargets())
    if (t.computeCapability() <= cc &&
        t.computeCapability() >= base->computeCapability())
      base = &t;
  TargetInfo t = *base;
  bool exact = base->computeCapability() == cc;
  t.ccMajor = major;
  t.ccMinor = minor;
  // The kernel never uses the arch-specific features of sm_90a/sm_100a, but
  // name the target the way NVRTC takes it for the part.
  t.name = "sm_" + std::to_string(cc) + (major >= 9 ? "a" : "");
  t.part = exact ? base->part + " (figures), live device" : "live device";
  if (smCount > 0 && base->smCount > 0 && smCount != base->smCount) {
    double f = double(smCount) / base->smCount;
    t.mmaPeakFlops *= f;
    t.simtF32PeakFlops *= f;
    t.hbmSpecBytesPerSec *= f; // rough: smaller dies have narrower buses
    t.hbmBytesPerSec *= f;
    t.l2BytesPerSec *= f;
  }
  if (smCount > 0)
    t.smCount = smCount;
  if (smemOptinBytes > 0)
    t.smemOptinPerBlockBytes = smemOptinBytes;
  if (smemPerSmBytes > 0)
    t.smemPerSmBytes = smemPerSmBytes;
  if (regsPerSm > 0)
    t.regsPerSm = regsPerSm;
  if (maxThreadsPerSm > 0)
    t.maxThreadsPerSm = maxThreadsPerSm;
  if (maxBlocksPerSm > 0)
    t.maxBlocksPerSm = maxBlocksPerSm;
  if (l2Bytes > 0)
    t.l2Bytes = l2Bytes;
  if (hbmBytesPerSec > 0)
    t.hbmBytesPerSec = hbmBytesPerSec;
  t.notes = "from the driver; peaks from " + base->name + " (" + base->part +
            ")" + (exact ? "" : ", a lower capability") +
            (smCount > 0 && smCount != base->smCount ? ", scaled by SM count"
                                                     : "");
  return t;
}

std::optional<TargetInfo> mlir::attn::model::lookupTarget(llvm::StringRef arch,
                                                          llvm::StringRef part) {
  std::optional<TargetInfo> t = lookupTarget(arch);
  if (t && llvm::StringRef(t->part).starts_with_insensitive(part))
    return t;
  return std::nullopt;
}

std::string mlir::attn::model::unknownPartMessage(llvm::StringRef arch,
                                                  llvm::StringRef part) {
  std::optional<TargetInfo> t = lookupTarget(arch);
  if (!t)
    return unknownTargetMessage(arch);
  return "unknown part '" + part.str() + "' for " + arch.str() + "; known: " +
         t->part;
}
