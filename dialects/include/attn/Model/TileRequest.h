//===- TileRequest.h - what a user may ask of the tile chooser --*- C++ -*-===//
//
// The one description of explicit tile choices, read by the tile pass, the
// compiler driver, the C++ API and the tools. Plain C++ (installed with the
// public API headers).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_TILEREQUEST_H
#define ATTN_MODEL_TILEREQUEST_H

#include <cstdint>
#include <string>

namespace mlir::attn::model {

/// Explicit tile choices; 0 leaves a field to the SRAM model, which fills it
/// from its best-ranked configuration that agrees with the given ones.
struct TileRequest {
  int64_t blockM = 0; ///< query rows per thread block (Br)
  int64_t blockN = 0; ///< key rows per K/V block (Bc)
  int64_t warps = 0;  ///< warps per thread block
  int64_t stages = 0; ///< K/V buffers in the copy pipeline
  /// Shared memory per thread block in bytes; 0: the target's opt-in limit.
  int64_t sramBudgetBytes = 0;
  /// The kernel family ("fwd.mma_sync", "fwd.split_kv"); empty: the first
  /// that supports the spec (attn/Model/KernelFamily.h, kKernelFamilies).
  std::string family;
  /// fwd.split_kv: the packed query rows per K/V head (query heads per K/V
  /// head x query length) to choose tiles for; 0: 16 (one-token decode).
  int64_t packedRows = 0;

  /// Whether any tile dimension (not the budget) is fixed.
  bool anyTile() const { return blockM || blockN || warps || stages; }
};

} // namespace mlir::attn::model

#endif // ATTN_MODEL_TILEREQUEST_H
