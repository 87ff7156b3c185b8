#include "attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
namespace mlir::attn {
#define GEN_PASS_DEF_ATTNFUSEATTENTIONPASS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn
namespace {
struct FuseAttention : mlir::attn::impl::AttnFuseAttentionPassBase<FuseAttention> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
