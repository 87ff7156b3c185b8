//===- Transforms.h - reusable attn rewrites --------------------*- C++ -*-===//
//
// The passes are thin wrappers around these functions so tools and tests can
// call them directly.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TRANSFORMS_TRANSFORMS_H
#define ATTN_TRANSFORMS_TRANSFORMS_H

#include "attn/IR/AttnOps.h"
#include "attn/Model/SramModel.h"
#include "attn/Model/Target.h"
#include "attn/Model/TileRequest.h"
#include "mlir/IR/PatternMatch.h"

#include <string>

namespace mlir {
namespace attn {

/// Fuses the chain that ends in `pv` (the P x V matmul) into one
/// attn.fused_attention. On failure the IR is unchanged and `whyNot` says why
/// the chain cannot be fused.
FailureOr<FusedAttentionOp> fuseAttentionChain(RewriterBase &rewriter,
                                               MatmulOp pv,
                                               std::string &whyNot);

/// What the tile chooser works against: the target (arch + part figures)
/// and the user's explicit choices.
struct TileOptions {
  model::TargetInfo target;
  model::TileRequest tiles;
};

/// Chooses tiles for `op` against the target's SRAM budget (or takes the
/// explicit ones) and rewrites it into attn.tiled_attention. Emits an error
/// on `op` naming the numbers when nothing fits.
FailureOr<TiledAttentionOp> tileAttention(RewriterBase &rewriter,
                                          FusedAttentionOp op,
                                          const TileOptions &options);

/// The tile pass with a full target description (the driver's, which may
/// come from the live device) instead of the string options.
std::unique_ptr<Pass> createTileAttentionPass(const TileOptions &options);

/// The kernel shape (head dims, element size) of an attention op.
model::KernelShape kernelShapeOf(Type elementType, int64_t headDim,
                                 int64_t headDimV);

} // namespace attn
} // namespace mlir

#endif // ATTN_TRANSFORMS_TRANSFORMS_H
