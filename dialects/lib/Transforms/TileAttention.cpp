//===- TileAttention.cpp - tile fused attention against the SRAM budget ---===//
//
// Picks (blockM, blockN, warps, stages) for every attn.fused_attention from
// the SRAM budget model of the target, or takes explicit ones, and rewrites
// the op into attn.tiled_attention, the form code generation consumes.
//
//===----------------------------------------------------------------------===//
#include "attn/IR/AttnOps.h"
#include "attn/Model/SramModel.h"
#include "attn/Model/Target.h"
#include "attn/Transforms/Passes.h"
#include "attn/Transforms/Transforms.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "attn-tile-attention"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILEATTENTIONPASS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

model::KernelShape mlir::attn::kernelShapeOf(Type elementType, int64_t headDim,
                                             int64_t headDimV) {
  model::KernelShape shape;
  shape.headDim = headDim;
  shape.headDimV = headDimV;
  shape.elementBytes = elementType.isF32() ? 4 : 2;
  shape.forward = true;
  return shape;
}

/// How the K/V loop can skip blocks no query of the tile may see.
static BlockSkip blockSkipOf(FusedAttentionOp op) {
  if (op.getCausal())
    return BlockSkip::causal;
  if (op.getWindowLeft())
    return BlockSkip::window;
  if (op.getBlockLayout())
    return BlockSkip::sparse;
  return BlockSkip::none;
}

FailureOr<TiledAttentionOp>
mlir::attn::tileAttention(RewriterBase &rewriter, FusedAttentionOp op,
                          const TileOptions &options) {
  std::optional<model::TargetInfo> target = model::lookupTarget(options.target);
  if (!target)
    return op.emitOpError() << "unknown target '" << options.target
                            << "'; known targets: "
                            << model::knownTargetList();
  static const int64_t kHeadDims[] = {32, 64, 96, 128, 192, 256};
  if (!llvm::is_contained(kHeadDims, op.getHeadDim()) ||
      op.getHeadDimV() != op.getHeadDim())
    return op.emitOpError() << "head dim " << op.getHeadDim() << "/"
                            << op.getHeadDimV()
                            << " is not supported by the tiled kernel; "
                               "supported: 32, 64, 96, 128, 192, 256 (equal "
                               "for Q/K and V)";
  model::KernelShape shape =
      kernelShapeOf(op.getElementType(), op.getHeadDim(), op.getHeadDimV());
  int64_t budget = options.sramBudgetBytes > 0 ? options.sramBudgetBytes
                                               : target->smemOptinPerBlockBytes;

  model::TileConfig chosen;
  bool explicitTiles = options.blockM || options.blockN || options.warps ||
                       options.stages;
  std::vector<model::TileConfig> ranked =
      model::rankCandidates(*target, shape, budget);
  if (explicitTiles) {
    // Fill what was not given from the best candidate that agrees with what
    // was given.
    const model::TileConfig *base = nullptr;
    for (const model::TileConfig &c : ranked)
      if ((!options.blockM || c.blockM == options.blockM) &&
          (!options.blockN || c.blockN == options.blockN) &&
          (!options.warps || c.warps == options.warps) &&
          (!options.stages || c.stages == options.stages)) {
        base = &c;
        break;
      }
    chosen.blockM = options.blockM ? options.blockM : (base ? base->blockM : 64);
    chosen.blockN = options.blockN ? options.blockN : (base ? base->blockN : 64);
    chosen.warps = options.warps ? options.warps : (base ? base->warps : 4);
    chosen.stages = options.stages ? options.stages : (base ? base->stages : 1);
    std::string why;
    if (!model::isSupported(shape, chosen, &why))
      return op.emitOpError() << "tile configuration " << chosen.blockM << "x"
                              << chosen.blockN << ", " << chosen.warps
                              << " warps, " << chosen.stages
                              << " stages is not supported: " << why;
  } else {
    if (ranked.empty()) {
      // Name the smallest configuration's needs against the budget.
      model::TileConfig smallest{64, 32, 4, 1};
      model::Usage u = model::estimate(*target, shape, smallest, budget);
      return op.emitOpError()
             << "needs " << u.smemBytes << " B of shared memory (smallest "
             << "tiles 64x32, 1 stage, head dim " << shape.headDim
             << ", " << shape.elementBytes << "-byte elements); budget "
             << budget << " B on " << target->name;
    }
    chosen = ranked.front();
  }
  model::Usage usage = model::estimate(*target, shape, chosen, budget);
  if (usage.smemBytes > budget)
    return op.emitOpError()
           << "needs " << usage.smemBytes << " B of shared memory; budget "
           << budget << " B on " << target->name;
  if (!usage.fits)
    return op.emitOpError() << "tiles " << chosen.blockM << "x"
                            << chosen.blockN << " do not fit on "
                            << target->name << ": " << usage.reason;
  LLVM_DEBUG(llvm::dbgs() << "tiles " << chosen.blockM << "x" << chosen.blockN
                          << " warps " << chosen.warps << " stages "
                          << chosen.stages << " smem " << usage.smemBytes
                          << "\n");

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  auto tiling = TilingAttr::get(op.getContext(), chosen.blockM, chosen.blockN,
                                chosen.warps, chosen.stages, usage.smemBytes);
  auto tiled = TiledAttentionOp::create(
      rewriter, op.getLoc(), op->getResultTypes(), op.getQuery(), op.getKey(),
      op.getValue(), op.getKvLengths(), op.getBlockLayout(), op.getSeed(),
      op.getOffset(), op.getScaleAttr(), op.getCausalAttr(),
      op.getWindowLeftAttr(), op.getWindowRightAttr(), op.getBlockQAttr(),
      op.getBlockKAttr(), op.getDropoutAttr(), tiling,
      BlockSkipAttr::get(op.getContext(), blockSkipOf(op)));
  tiled.getScoreMod().takeBody(op.getScoreMod());
  tiled.getMask().takeBody(op.getMask());
  rewriter.replaceOp(op, tiled->getResults());
  return tiled;
}

namespace {
struct TileAttention
    : public mlir::attn::impl::AttnTileAttentionPassBase<TileAttention> {
  using Base::Base;
  void runOnOperation() override {
    TileOptions options;
    options.target = target;
    options.sramBudgetBytes = sramBudgetBytes;
    options.blockM = blockM;
    options.blockN = blockN;
    options.warps = warps;
    options.stages = stages;
    SmallVector<FusedAttentionOp> ops;
    getOperation()->walk([&](FusedAttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    bool anyFailed = false;
    for (FusedAttentionOp op : ops)
      if (failed(tileAttention(rewriter, op, options)))
        anyFailed = true;
    if (anyFailed)
      signalPassFailure();
  }
};
} // namespace
