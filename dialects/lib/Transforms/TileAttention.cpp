#include "attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILEATTENTIONPASS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn
namespace {
struct TileAttention : mlir::attn::impl::AttnTileAttentionPassBase<TileAttention> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
