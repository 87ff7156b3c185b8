//===- Options.h - how to compile a spec: the one options struct -*- C++ -*-===//
//
// attnc::CompileOptions is what `attnc compile/run/bench`, the compiler
// driver and the C++ API (attnc::compile) all take; the tools add only their
// own I/O settings around it. Plain C++ (installed).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_OPTIONS_H
#define ATTNC_OPTIONS_H

#include "attn/Model/TileRequest.h"

#include <functional>
#include <string>

namespace attnc {

using TileRequest = mlir::attn::model::TileRequest;

struct CompileOptions {
  /// GPU architecture as NVRTC names it ("sm_80", "sm_90a", ...). Empty:
  /// the current device's (the C++ API needs a driver then; `attnc compile`
  /// falls back to kDefaultTarget without one).
  std::string target;
  /// The part whose figures (SM count, bandwidth, L2, clocks) the models use
  /// ("H200", "H100", ...). Empty: the live device's part when it has the
  /// target's architecture, else the architecture's default part.
  std::string part;
  /// Which `attention` block of the spec; empty: every block (the API then
  /// needs the spec to have exactly one).
  std::string kernel;
  /// Explicit tiles and the shared-memory budget (0 = the SRAM model).
  TileRequest tiles;
  /// Keep the exact (libdevice) forms of tanh, exp, log, pow and float
  /// division in score modifiers and masks. By default they map to the
  /// hardware approximations (the attn-approximate-math pass), which keep
  /// FlashAttention's error rule.
  bool preciseMath = false;
  /// Skip the disk cache (the in-memory cache is always used).
  bool noDiskCache = false;
  /// Treat NVRTC warnings as errors.
  bool warningsAsErrors = false;
  /// Progress and timing messages ("-v"): target, cache hits, compile times.
  std::function<void(const std::string &)> log;
};

/// The architecture `attnc compile` uses without --target and without a GPU.
inline constexpr const char *kDefaultTarget = "sm_80";

} // namespace attnc

#endif // ATTNC_OPTIONS_H
