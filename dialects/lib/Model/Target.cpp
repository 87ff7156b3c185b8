//===- Target.cpp - GPU targets the attention compiler knows --------------===//
//
// Two tables, each written once: the arches (what NVRTC compiles for, with
// the limits every part of them shares) and the parts (products). Figures
// are the vendors' published specifications unless a comment says they were
// measured (on the lent machines) or assumed (stated next to the number).
//
//===----------------------------------------------------------------------===//
#include "attn/Model/Target.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir::attn::model;

static constexpr int64_t KiB = 1024;
static constexpr int64_t MiB = 1024 * 1024;
static constexpr double TB = 1e12;    // bytes/s
static constexpr double TFLOP = 1e12; // FLOP/s

/// Achievable fraction of specified HBM bandwidth where we have no
/// measurement (a device-to-device copy usually reaches ~90%; the H100 here
/// measured 3.0 of 3.35 TB/s, the H200 4.3 of 4.8).
static constexpr double kAssumedHbmEfficiency = 0.9;
static constexpr const char *kAssumedHbmBasis = "assumed 90% of spec";

/// mma.sync on Hopper and Blackwell: 2/3 of Hopper's wgmma rate of 4096
/// dense bf16 FLOP per SM and clock. mma.sync issues per warp from registers
/// and cannot keep Hopper's tensor cores busy: microbenchmarks (and FA2 at
/// ~350 vs FA3 at ~740 TFLOP/s) put it at about 2/3 of the wgmma rate.
static constexpr double kHopperMmaSyncPerClock = 4096.0 * 2 / 3;

static ArchInfo arch(const char *name, int major, int minor, int64_t smemPerSm,
                     int64_t smemOptin, int maxThreadsPerSm, int maxBlocksPerSm,
                     double mmaPerClock, double simtPerClock,
                     const char *defaultPart) {
  ArchInfo a;
  a.name = name;
  a.ccMajor = major, a.ccMinor = minor;
  a.smemPerSmBytes = smemPerSm;
  a.smemOptinPerBlockBytes = smemOptin;
  a.maxThreadsPerSm = maxThreadsPerSm;
  a.maxBlocksPerSm = maxBlocksPerSm;
  a.mmaFlopsPerClockPerSm = mmaPerClock;
  a.simtF32FlopsPerClockPerSm = simtPerClock;
  a.defaultPart = defaultPart;
  return a;
}

const std::vector<ArchInfo> &mlir::attn::model::knownArches() {
  // FLOP per SM and clock: mma.sync f16/bf16 with f32 accumulation, then
  // FFMA (2 x the f32 lanes). sm_86: 1024 is the rate of the professional
  // and data-centre GA10x parts (A6000, A10); GeForce runs f32-accumulate
  // at half of it. sm_89: 512 is GeForce's (RTX 4090); the L4 runs 1024.
  static const std::vector<ArchInfo> arches = {
      arch("sm_80", 8, 0, 164 * KiB, 163 * KiB, 2048, 32, 2048, 128,
           "A100 SXM4 80GB"),
      arch("sm_86", 8, 6, 100 * KiB, 99 * KiB, 1536, 16, 1024, 256,
           "RTX A6000"),
      arch("sm_89", 8, 9, 100 * KiB, 99 * KiB, 1536, 24, 512, 256, "RTX 4090"),
      arch("sm_90", 9, 0, 228 * KiB, 227 * KiB, 2048, 32,
           kHopperMmaSyncPerClock, 256, "H100 SXM5 80GB"),
      arch("sm_90a", 9, 0, 228 * KiB, 227 * KiB, 2048, 32,
           kHopperMmaSyncPerClock, 256, "H100 SXM5 80GB"),
      // Assumption, not measured: tcgen05 is Blackwell's tensor path; legacy
      // mma.sync is taken to run at Hopper's mma.sync rate per SM and clock.
      arch("sm_100a", 10, 0, 228 * KiB, 227 * KiB, 2048, 32,
           kHopperMmaSyncPerClock, 256, "B200"),
  };
  return arches;
}

const std::vector<PartInfo> &mlir::attn::model::knownParts() {
  static const std::vector<PartInfo> parts = [] {
    std::vector<PartInfo> v;
    PartInfo *p;

    p = &v.emplace_back();
    p->name = "A100 SXM4 80GB";
    p->aliases = {"A100"};
    p->deviceNames = {"A100-SXM4-80GB"}; // "NVIDIA A100-SXM4-80GB"
    p->arch = "sm_80";
    p->smCount = 108;
    p->l2Bytes = 40 * MiB;
    p->smClockMHz = 1410;
    p->memClockMHz = 1593, p->memBusWidthBits = 5120;
    p->hbmSpecBytesPerSec = 2.039 * TB;
    p->hbmBytesPerSec = p->hbmSpecBytesPerSec * kAssumedHbmEfficiency;
    p->hbmBasis = kAssumedHbmBasis;
    p->l2BytesPerSec = 5.0 * TB; // rough, assumed
    // 108 SMs x 1.41 GHz x 2048 FLOP/clk: mma.sync is the A100's full-rate
    // path.
    p->mmaPeakFlops = 312 * TFLOP;
    p->simtF32PeakFlops = 19.5 * TFLOP;
    p->notes = "A100 SXM4 80GB spec; HBM achievable assumed 90% of 2.039 TB/s";

    // 84 SMs is the full GA102: RTX A6000 (and RTX 3090 Ti). The A10 has 72
    // and the RTX 3090 82; fromDevice() derives their figures.
    p = &v.emplace_back();
    p->name = "RTX A6000";
    p->aliases = {"A6000"};
    p->deviceNames = {"RTX A6000"};
    p->arch = "sm_86";
    p->smCount = 84;
    p->l2Bytes = 6 * MiB;
    p->smClockMHz = 1800;
    p->memClockMHz = 8001, p->memBusWidthBits = 384;
    p->hbmSpecBytesPerSec =
        0.768 * TB; // GDDR6, not HBM; the model calls it HBM
    p->hbmBytesPerSec = p->hbmSpecBytesPerSec * kAssumedHbmEfficiency;
    p->hbmBasis = kAssumedHbmBasis;
    p->l2BytesPerSec = 2.0 * TB; // rough, assumed
    // 84 SMs x 1.80 GHz x 1024 FLOP/clk (dense, f32 accumulation).
    p->mmaPeakFlops = 154.8 * TFLOP;
    p->simtF32PeakFlops = 38.7 * TFLOP;
    p->notes = "RTX A6000 spec; bandwidth achievable assumed 90% of 768 GB/s";

    // RTX 4090 (AD102, 128 SMs). The L4 (58 SMs, 300 GB/s, 48 MiB L2) is
    // the other common sm_89 part; fromDevice() derives its figures.
    p = &v.emplace_back();
    p->name = "RTX 4090";
    p->aliases = {"4090"};
    p->deviceNames = {"RTX 4090"}; // "NVIDIA GeForce RTX 4090"
    p->arch = "sm_89";
    p->smCount = 128;
    p->l2Bytes = 72 * MiB;
    p->smClockMHz = 2520;
    p->memClockMHz = 10501, p->memBusWidthBits = 384;
    p->hbmSpecBytesPerSec = 1.008 * TB; // GDDR6X
    p->hbmBytesPerSec = p->hbmSpecBytesPerSec * kAssumedHbmEfficiency;
    p->hbmBasis = kAssumedHbmBasis;
    p->l2BytesPerSec = 5.0 * TB; // rough, assumed
    // 128 SMs x 2.52 GHz x 512 FLOP/clk: GeForce runs f16/bf16 with f32
    // accumulation at half the f16-accumulate rate.
    p->mmaPeakFlops = 165.2 * TFLOP;
    p->simtF32PeakFlops = 82.6 * TFLOP;
    p->notes = "RTX 4090 spec; bandwidth achievable assumed 90% of 1008 GB/s";

    p = &v.emplace_back();
    p->name = "H100 SXM5 80GB";
    p->aliases = {"H100"};
    p->deviceNames = {"H100 80GB HBM3", "H100 SXM"}; // "NVIDIA H100 80GB HBM3"
    p->arch = "sm_90a";
    p->smCount = 132;
    p->l2Bytes = 50 * MiB;
    p->smClockMHz = 1980;
    p->memClockMHz = 2619, p->memBusWidthBits = 5120;
    p->hbmSpecBytesPerSec = 3.35 * TB;
    p->hbmBytesPerSec = 3.0 * TB; // measured device-to-device copy, lent H100
    p->hbmBasis = "measured copy";
    p->l2BytesPerSec = 10.0 * TB; // rough, assumed
    // wgmma peak is 989 TFLOP/s dense bf16 (132 SMs x 1.83 GHz x 4096
    // FLOP/clk); 767 TFLOP/s was measured for a cuBLAS matmul here. mma.sync
    // is assumed at 2/3 of it: 660 TFLOP/s.
    p->mmaPeakFlops = 660 * TFLOP;
    p->simtF32PeakFlops = 66.9 * TFLOP;
    p->notes = "H100 SXM5 spec; HBM 3.0 TB/s measured copy; mma.sync assumed "
               "2/3 of the wgmma peak";

    // Measured on the lent H200 on 2026-12-02 (driver 13000, "NVIDIA H200"):
    // 132 SMs, 232448 B opt-in shared memory per block, 233472 B (228 KiB)
    // per SM, 62914560 B (60 MiB) L2, 1980 MHz SM clock, 3201 MHz memory
    // clock on a 6016-bit bus (2 x 3201 MHz x 752 B = 4.81 TB/s, the 4.8
    // TB/s HBM3e spec); a device-to-device copy reached 4.3 TB/s and
    // a bf16 dense matmul 770-800 TFLOP/s (wgmma spec 989). The same GH100
    // die as the H100, so mma.sync is assumed at 2/3 of 989 as there.
    p = &v.emplace_back();
    p->name = "H200 SXM 141GB";
    p->aliases = {"H200"};
    p->deviceNames = {"H200"}; // "NVIDIA H200"
    p->arch = "sm_90a";
    p->smCount = 132;
    p->l2Bytes = 60 * MiB;
    p->smClockMHz = 1980;
    p->memClockMHz = 3201, p->memBusWidthBits = 6016;
    p->hbmSpecBytesPerSec = 4.8 * TB;
    p->hbmBytesPerSec = 4.3 * TB; // measured device-to-device copy, lent H200
    p->hbmBasis = "measured copy";
    p->l2BytesPerSec = 10.0 * TB; // rough, assumed as for the H100
    p->mmaPeakFlops = 660 * TFLOP;
    p->simtF32PeakFlops = 66.9 * TFLOP;
    p->notes = "H200 SXM spec; HBM 4.3 TB/s measured copy; mma.sync assumed "
               "2/3 of the wgmma peak";

    p = &v.emplace_back();
    p->name = "B200";
    p->deviceNames = {"B200"}; // "NVIDIA B200"
    p->arch = "sm_100a";
    p->smCount = 148;
    p->l2Bytes = 126 * MiB; // as published; not verified here
    p->smClockMHz = 1965;   // as published; not verified here
    p->memBusWidthBits = 8192;
    p->hbmSpecBytesPerSec = 8.0 * TB;
    p->hbmBytesPerSec = p->hbmSpecBytesPerSec * kAssumedHbmEfficiency;
    p->hbmBasis = kAssumedHbmBasis;
    p->l2BytesPerSec = 20.0 * TB; // rough, assumed
    // tcgen05 reaches ~2.25 PFLOP/s dense bf16; mma.sync at Hopper's rate
    // per SM and clock: 148 x ~1.9 GHz x 2731 = ~770 TFLOP/s (assumed).
    p->mmaPeakFlops = 770 * TFLOP;
    p->simtF32PeakFlops = 80 * TFLOP;
    p->notes =
        "B200 spec; mma.sync rate assumed equal to Hopper's per SM-clock";
    return v;
  }();
  return parts;
}

/// `arch` with the figures of `part`.
static TargetInfo combine(const ArchInfo &a, const PartInfo &p) {
  TargetInfo t;
  t.name = a.name;
  t.part = p.name;
  t.ccMajor = a.ccMajor, t.ccMinor = a.ccMinor;
  t.smCount = p.smCount;
  t.smemPerSmBytes = p.smemPerSmBytes ? p.smemPerSmBytes : a.smemPerSmBytes;
  t.smemOptinPerBlockBytes = p.smemOptinPerBlockBytes
                                 ? p.smemOptinPerBlockBytes
                                 : a.smemOptinPerBlockBytes;
  t.smemReservedPerBlockBytes = a.smemReservedPerBlockBytes;
  t.regsPerSm = a.regsPerSm;
  t.maxRegsPerThread = a.maxRegsPerThread;
  t.maxThreadsPerBlock = a.maxThreadsPerBlock;
  t.maxThreadsPerSm = a.maxThreadsPerSm;
  t.maxBlocksPerSm = a.maxBlocksPerSm;
  t.warpSize = a.warpSize;
  t.mma = a.mma;
  t.mmaInstruction = a.mmaInstruction;
  t.smClockMHz = p.smClockMHz;
  t.memClockMHz = p.memClockMHz;
  t.memBusWidthBits = p.memBusWidthBits;
  t.hbmSpecBytesPerSec = p.hbmSpecBytesPerSec;
  t.hbmBytesPerSec = p.hbmBytesPerSec;
  t.hbmBasis = p.hbmBasis;
  t.l2Bytes = p.l2Bytes;
  t.l2BytesPerSec = p.l2BytesPerSec;
  t.mmaPeakFlops = p.mmaPeakFlops;
  t.simtF32PeakFlops = p.simtF32PeakFlops;
  t.smemBytesPerClockPerSm = a.smemBytesPerClockPerSm;
  t.mmaFlopsPerClockPerSm = p.mmaFlopsPerClockPerSm ? p.mmaFlopsPerClockPerSm
                                                    : a.mmaFlopsPerClockPerSm;
  t.notes = p.notes;
  return t;
}

const ArchInfo *mlir::attn::model::findArch(llvm::StringRef name) {
  for (const ArchInfo &a : knownArches())
    if (a.name == name)
      return &a;
  return nullptr;
}

/// Lower case, '-' and '_' as spaces, runs of spaces as one, trimmed.
static std::string normalize(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    c = (c == '-' || c == '_') ? ' ' : llvm::toLower(c);
    if (c == ' ' && (out.empty() || out.back() == ' '))
      continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

const PartInfo *mlir::attn::model::findPart(llvm::StringRef name) {
  std::string q = normalize(name);
  if (q.empty())
    return nullptr;
  for (const PartInfo &p : knownParts()) {
    std::string n = normalize(p.name);
    if (llvm::StringRef(n).starts_with(q) &&
        (n.size() == q.size() || n[q.size()] == ' '))
      return &p;
    for (const std::string &alias : p.aliases)
      if (normalize(alias) == q)
        return &p;
  }
  return nullptr;
}

static const ArchInfo &archOf(const PartInfo &p) { return *findArch(p.arch); }

const std::vector<TargetInfo> &mlir::attn::model::knownTargets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> v;
    for (const ArchInfo &a : knownArches())
      v.push_back(combine(a, *findPart(a.defaultPart)));
    return v;
  }();
  return targets;
}

std::vector<std::string> mlir::attn::model::knownTargetNames() {
  std::vector<std::string> names;
  for (const ArchInfo &a : knownArches())
    names.push_back(a.name);
  return names;
}

std::string mlir::attn::model::knownTargetList() {
  return llvm::join(knownTargetNames(), ", ");
}

std::string mlir::attn::model::unknownTargetMessage(llvm::StringRef name) {
  return "unknown target '" + name.str() + "'; known: " + knownTargetList();
}

std::vector<std::string> mlir::attn::model::knownPartNames() {
  std::vector<std::string> names;
  for (const PartInfo &p : knownParts())
    names.push_back(p.name);
  return names;
}

std::string mlir::attn::model::knownPartList(llvm::StringRef arch) {
  const ArchInfo *a = findArch(arch);
  std::vector<std::string> names;
  for (const PartInfo &p : knownParts()) {
    const ArchInfo &pa = archOf(p);
    if (!a || (pa.ccMajor == a->ccMajor && pa.ccMinor == a->ccMinor))
      names.push_back(p.name);
  }
  return llvm::join(names, ", ");
}

std::optional<TargetInfo>
mlir::attn::model::lookupTarget(llvm::StringRef name) {
  for (const TargetInfo &t : knownTargets())
    if (t.name == name)
      return t;
  return std::nullopt;
}

std::optional<TargetInfo>
mlir::attn::model::lookupTarget(llvm::StringRef arch, llvm::StringRef part) {
  const ArchInfo *a = findArch(arch);
  const PartInfo *p = findPart(part);
  if (!a || !p)
    return std::nullopt;
  const ArchInfo &pa = archOf(*p);
  if (pa.ccMajor != a->ccMajor || pa.ccMinor != a->ccMinor)
    return std::nullopt;
  return combine(*a, *p);
}

std::optional<TargetInfo> mlir::attn::model::lookupPart(llvm::StringRef part) {
  const PartInfo *p = findPart(part);
  if (!p)
    return std::nullopt;
  return combine(archOf(*p), *p);
}

std::string mlir::attn::model::unknownPartMessage(llvm::StringRef arch,
                                                  llvm::StringRef part) {
  const ArchInfo *a = findArch(arch);
  if (!a)
    return unknownTargetMessage(arch);
  const PartInfo *p = findPart(part);
  if (!p)
    return "unknown part '" + part.str() + "'; known: " + knownPartList();
  const ArchInfo &pa = archOf(*p);
  return "part '" + p->name + "' is compute capability " +
         std::to_string(pa.ccMajor) + "." + std::to_string(pa.ccMinor) +
         ", not " + a->name + " (" + std::to_string(a->ccMajor) + "." +
         std::to_string(a->ccMinor) + "); parts of " + a->name + ": " +
         knownPartList(a->name);
}

//===- fromDevice ---------------------------------------------------------===//

static std::string tbPerSec(double bytesPerSec) {
  std::string s;
  llvm::raw_string_ostream(s)
      << llvm::format("%.2f", bytesPerSec / TB) << " TB/s";
  return s;
}

TargetInfo mlir::attn::model::fromDevice(const DeviceProperties &d,
                                         std::string *remark) {
  int cc = d.ccMajor * 10 + d.ccMinor;
  std::string ccText =
      std::to_string(d.ccMajor) + "." + std::to_string(d.ccMinor);
  // From 9.0 on the arch-specific variant, as archForComputeCapability().
  std::string archName =
      "sm_" + std::to_string(cc) + (d.ccMajor >= 9 ? "a" : "");
  std::string deviceName = d.name.empty() ? "the device" : d.name;
  std::vector<std::string> said;

  const ArchInfo *a = findArch(archName);
  bool knownArch = a != nullptr;
  if (!a) {
    // The newest known arch below this capability, else the oldest known.
    for (const ArchInfo &k : knownArches())
      if (k.ccMajor * 10 + k.ccMinor <= cc)
        a = &k;
    if (!a)
      a = &knownArches().front();
    said.push_back("compute capability " + ccText +
                   " is not in the table: the limits of " + a->name +
                   (a->ccMajor * 10 + a->ccMinor <= cc
                        ? " (the newest known arch below it)"
                        : " (the oldest known arch)") +
                   " are assumed");
  }

  // A known part: same compute capability and a device-name match.
  const PartInfo *part = nullptr;
  if (knownArch) {
    std::string n = normalize(d.name);
    for (const PartInfo &p : knownParts()) {
      const ArchInfo &pa = archOf(p);
      if (pa.ccMajor != d.ccMajor || pa.ccMinor != d.ccMinor)
        continue;
      for (const std::string &pattern : p.deviceNames)
        if (!n.empty() && n.find(normalize(pattern)) != std::string::npos)
          part = &p;
    }
  }
  const PartInfo &base = part ? *part : *findPart(a->defaultPart);
  TargetInfo t = combine(*a, base);
  t.name = archName;
  t.ccMajor = d.ccMajor, t.ccMinor = d.ccMinor;

  // What the driver reads exactly overrides the table.
  int tableSms = t.smCount;
  if (d.smCount > 0)
    t.smCount = d.smCount;
  if (d.smemOptinPerBlockBytes > 0)
    t.smemOptinPerBlockBytes = d.smemOptinPerBlockBytes;
  if (d.smemPerSmBytes > 0)
    t.smemPerSmBytes = d.smemPerSmBytes;
  if (d.regsPerSm > 0)
    t.regsPerSm = d.regsPerSm;
  if (d.maxThreadsPerSm > 0)
    t.maxThreadsPerSm = d.maxThreadsPerSm;
  if (d.maxBlocksPerSm > 0)
    t.maxBlocksPerSm = d.maxBlocksPerSm;
  if (d.l2Bytes > 0)
    t.l2Bytes = d.l2Bytes;
  std::string read = "SM count, shared memory and L2 size read from the driver";

  if (part) {
    said.push_back(deviceName + " is the " + part->name + " (" + a->name +
                   "): table figures, HBM " + tbPerSec(t.hbmBytesPerSec) + " " +
                   t.hbmBasis);
    said.push_back(read);
    if (t.smCount != tableSms) {
      // A cut-down variant: peaks scale with the SM count.
      double f = double(t.smCount) / tableSms;
      t.mmaPeakFlops *= f;
      t.simtF32PeakFlops *= f;
      said.push_back("peaks scaled by the SM count (" +
                     std::to_string(t.smCount) + " of the table's " +
                     std::to_string(tableSms) + ")");
    }
  } else {
    t.part = d.name.empty() ? "unknown " + archName + " part" : d.name;
    said.push_back(deviceName + " is not in the table (" + a->name +
                   " parts: " + knownPartList(a->name) + ")");
    said.push_back(read);
    if (d.memClockKHz > 0 && d.memBusWidthBits > 0) {
      t.memClockMHz = d.memClockKHz / 1000;
      t.memBusWidthBits = d.memBusWidthBits;
      t.hbmSpecBytesPerSec = 2.0 * d.memClockKHz * 1e3 * d.memBusWidthBits / 8;
      t.hbmBytesPerSec = t.hbmSpecBytesPerSec * kAssumedHbmEfficiency;
      t.hbmBasis = "assumed 90% of 2 x memory clock x bus width";
      said.push_back(
          "HBM " + tbPerSec(t.hbmSpecBytesPerSec) + " derived as 2 x " +
          std::to_string(t.memClockMHz) + " MHz memory clock x " +
          std::to_string(d.memBusWidthBits) + "-bit bus / 8, 90% of it (" +
          tbPerSec(t.hbmBytesPerSec) + ") assumed achievable");
    } else {
      t.hbmBasis = "of the " + base.name + ", assumed";
      said.push_back("the driver gave no memory clock or bus width: HBM " +
                     tbPerSec(t.hbmBytesPerSec) + " of the " + base.name +
                     " assumed");
    }
    int clockMHz = d.smClockKHz > 0 ? d.smClockKHz / 1000 : base.smClockMHz;
    t.smClockMHz = clockMHz;
    double smClocks = double(t.smCount) * clockMHz * 1e6;
    t.mmaFlopsPerClockPerSm = a->mmaFlopsPerClockPerSm;
    t.mmaPeakFlops = smClocks * a->mmaFlopsPerClockPerSm;
    t.simtF32PeakFlops = smClocks * a->simtF32FlopsPerClockPerSm;
    t.l2BytesPerSec = base.l2BytesPerSec * smClocks /
                      (double(base.smCount) * base.smClockMHz * 1e6);
    std::string s;
    llvm::raw_string_ostream os(s);
    os << "peaks derived as " << t.smCount << " SMs x " << clockMHz
       << " MHz SM clock"
       << (d.smClockKHz > 0 ? "" : " (the " + base.name + "'s)") << " x "
       << llvm::format("%.0f", a->mmaFlopsPerClockPerSm) << " mma.sync / "
       << llvm::format("%.0f", a->simtF32FlopsPerClockPerSm)
       << " f32 FLOP per SM and clock (" << a->name
       << "): " << llvm::format("%.1f", t.mmaPeakFlops / TFLOP) << " / "
       << llvm::format("%.1f", t.simtF32PeakFlops / TFLOP) << " TFLOP/s";
    said.push_back(s);
    said.push_back("L2 bandwidth scaled from the " + base.name);
  }
  if (part && d.smClockKHz > 0)
    t.smClockMHz = d.smClockKHz / 1000;
  if (part && d.memClockKHz > 0)
    t.memClockMHz = d.memClockKHz / 1000;
  if (part && d.memBusWidthBits > 0)
    t.memBusWidthBits = d.memBusWidthBits;
  t.notes = llvm::join(said, "; ");
  if (remark)
    *remark = t.notes;
  return t;
}
