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

#include <algorithm>
#include <cstdint>

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

/// Which masks the kernel may use to skip key blocks no query of a tile can
/// see: every built-in mask that bounds or thins the key range. The kernel
/// reads this attribute (kSkip* in the generated code); a mask not listed is
/// still applied element by element.
static BlockSkip blockSkipOf(FusedAttentionOp op) {
  BlockSkip skip = BlockSkip::none;
  if (op.getCausal())
    skip = skip | BlockSkip::causal;
  if (op.getWindowLeft())
    skip = skip | BlockSkip::window;
  if (op.getKvLengths())
    skip = skip | BlockSkip::lengths;
  if (op.getBlockLayout())
    skip = skip | BlockSkip::sparse;
  // A where() predicate classifies each tile at run time by interval
  // arithmetic over the tile's indices (attn/Kernel/Interval.h).
  if (op.hasMaskPredicate())
    skip = skip | BlockSkip::where;
  return skip;
}

/// The features of the family that `op` needs and it lacks, or "".
static std::string missingFeature(const model::KernelFamily &f,
                                  FusedAttentionOp op) {
  const model::FeatureSet &has = f.features;
  if (op.getCausal() && !has.causal)
    return "a causal mask";
  if (op.getWindowLeft() && !has.window)
    return "a window mask";
  if (op.getKvLengths() && !has.keyLengths)
    return "key lengths";
  if (op.getBlockLayout() && !has.blockSparse)
    return "a block-sparse layout";
  if (op.hasMaskPredicate() && !has.where)
    return "a where() mask";
  if (op.hasScoreMod() && !has.scoreMod)
    return "a score modifier";
  if (op.getDropout().convertToDouble() > 0 && !has.dropout)
    return "dropout";
  if (op.getKey().getDefiningOp<PagedKvOp>() && !has.paged)
    return "paged K/V";
  if (op.getQuery().getDefiningOp<PackedSeqOp>() && !has.packed)
    return "packed sequences";
  if (op.getSinks() && !has.sinks)
    return "attention sinks";
  auto heads = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getDimSize(1);
  };
  int64_t hq = heads(op.getQuery()), hk = heads(op.getKey());
  if ((ShapedType::isDynamic(hq) || ShapedType::isDynamic(hk) || hq != hk) &&
      !has.gqa)
    return "grouped-query attention";
  return "";
}

/// The first forward family that runs on the target and supports the op's
/// shape and features; null with `why` naming each family's reason.
static const model::KernelFamily *
chooseFamily(FusedAttentionOp op, const model::TargetInfo &target,
             const model::KernelShape &shape, const std::string &wanted,
             std::string &why) {
  for (const model::KernelFamily *f : model::kKernelFamilies) {
    if (f->direction != model::Direction::Forward)
      continue;
    // A decode family only when asked for (by name, or by the runtime's
    // dispatch on a short query length).
    if (wanted.empty() ? f->decode : wanted != f->name)
      continue;
    std::string reason;
    if (target.computeCapability() < f->minComputeCapability)
      reason = "needs compute capability >= " +
               std::to_string(f->minComputeCapability) + ", " + target.name +
               " has " + std::to_string(target.computeCapability());
    else if (!model::supportsShape(*f, shape, &reason))
      ;
    else if (std::string m = missingFeature(*f, op); !m.empty())
      reason = "does not support " + m;
    else
      return f;
    why += (why.empty() ? "" : "; ") + std::string(f->name) + ": " + reason;
  }
  return nullptr;
}

FailureOr<TiledAttentionOp>
mlir::attn::tileAttention(RewriterBase &rewriter, FusedAttentionOp op,
                          const TileOptions &options) {
  const model::TargetInfo &target = options.target;
  const model::TileRequest &req = options.tiles;
  model::KernelShape shape =
      kernelShapeOf(op.getElementType(), op.getHeadDim(), op.getHeadDimV());
  shape.packedRows = int(std::clamp<int64_t>(req.packedRows, 0, 1 << 20));
  std::string whyNot;
  if (!req.family.empty() && !model::lookupFamily(req.family))
    return op.emitOpError() << "unknown kernel family '" << req.family
                            << "'; known: " << model::knownFamilyList();
  const model::KernelFamily *family =
      chooseFamily(op, target, shape, req.family, whyNot);
  if (!family) {
    if (!model::forwardHeadDimSupported(int(op.getHeadDim())) ||
        !model::forwardHeadDimSupported(int(op.getHeadDimV())))
      return op.emitOpError()
             << "head dim " << op.getHeadDim() << "/" << op.getHeadDimV()
             << " is not supported by the tiled kernel; each must be "
             << model::forwardHeadDimsText();
    return op.emitOpError() << "no kernel family can tile this attention on "
                            << target.name << ": " << whyNot;
  }
  int64_t budget = req.sramBudgetBytes > 0 ? req.sramBudgetBytes
                                           : target.smemOptinPerBlockBytes;

  model::TileConfig chosen;
  std::vector<model::TileConfig> ranked =
      model::rankCandidates(target, shape, budget, *family);
  if (req.anyTile()) {
    // Fill what was not given from the best candidate that agrees with what
    // was given, else from the family's smallest configuration.
    const model::TileConfig *base = nullptr;
    for (const model::TileConfig &c : ranked)
      if ((!req.blockM || c.blockM == req.blockM) &&
          (!req.blockN || c.blockN == req.blockN) &&
          (!req.warps || c.warps == req.warps) &&
          (!req.stages || c.stages == req.stages)) {
        base = &c;
        break;
      }
    model::TileConfig smallest{family->blockM.data[0], family->blockN.data[0],
                               family->warps.data[0], family->stages.data[0]};
    if (!base)
      base = &smallest;
    auto pick = [](int64_t want, int fallback) {
      return want ? int(std::clamp<int64_t>(want, INT32_MIN, INT32_MAX))
                  : fallback;
    };
    chosen.blockM = pick(req.blockM, base->blockM);
    chosen.blockN = pick(req.blockN, base->blockN);
    chosen.warps = pick(req.warps, base->warps);
    chosen.stages = pick(req.stages, base->stages);
    std::string why;
    if (!model::supportsTile(*family, chosen, &why))
      return op.emitOpError() << "tile configuration " << chosen.blockM << "x"
                              << chosen.blockN << ", " << chosen.warps
                              << " warps, " << chosen.stages
                              << " stages is not supported: " << why;
  } else {
    if (ranked.empty()) {
      // Name the smallest configuration's needs against the budget.
      model::TileConfig smallest{family->blockM.data[0],
                                 family->blockN.data[0], family->warps.data[0],
                                 family->stages.data[0]};
      model::Usage u =
          model::estimate(target, shape, smallest, budget, *family);
      return op.emitOpError()
             << "needs " << u.smemBytes << " B of shared memory (smallest "
             << "tiles " << smallest.blockM << "x" << smallest.blockN << ", "
             << smallest.stages << " stage, head dim " << shape.headDim << ", "
             << shape.elementBytes << "-byte elements); budget " << budget
             << " B on " << target.name;
    }
    chosen = ranked.front();
  }
  model::Usage usage = model::estimate(target, shape, chosen, budget, *family);
  if (usage.smemBytes > budget)
    return op.emitOpError()
           << "needs " << usage.smemBytes << " B of shared memory; budget "
           << budget << " B on " << target.name;
  if (!usage.fits)
    return op.emitOpError() << "tiles " << chosen.blockM << "x"
                            << chosen.blockN << " do not fit on "
                            << target.name << ": " << usage.reason;
  LLVM_DEBUG(llvm::dbgs() << family->name << " tiles " << chosen.str()
                          << " smem " << usage.smemBytes << "\n");

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  auto tiling = TilingAttr::get(op.getContext(), family->name, chosen.blockM,
                                chosen.blockN, chosen.warps, chosen.stages,
                                usage.smemBytes);
  auto tiled = TiledAttentionOp::create(
      rewriter, op.getLoc(), op->getResultTypes(), op.getQuery(), op.getKey(),
      op.getValue(), op.getKvLengths(), op.getBlockLayout(), op.getSeed(),
      op.getOffset(), op.getSinks(), op.getTables(), op.getScaleAttr(),
      op.getCausalAttr(),
      op.getWindowLeftAttr(), op.getWindowRightAttr(), op.getBlockQAttr(),
      op.getBlockKAttr(), op.getDropoutAttr(), tiling,
      BlockSkipAttr::get(op.getContext(), blockSkipOf(op)));
  tiled.getScoreMod().takeBody(op.getScoreMod());
  tiled.getMask().takeBody(op.getMask());
  rewriter.replaceOp(op, tiled->getResults());
  return tiled;
}

/// Tiles every fused op under `root`; false when one failed.
static bool tileAll(Operation *root, const TileOptions &options) {
  SmallVector<FusedAttentionOp> ops;
  root->walk([&](FusedAttentionOp op) { ops.push_back(op); });
  IRRewriter rewriter(root->getContext());
  bool ok = true;
  for (FusedAttentionOp op : ops)
    if (failed(tileAttention(rewriter, op, options)))
      ok = false;
  return ok;
}

namespace {
/// The registered pass: the target from its string options.
struct TileAttention
    : public mlir::attn::impl::AttnTileAttentionPassBase<TileAttention> {
  using Base::Base;
  void runOnOperation() override {
    std::optional<model::TargetInfo> t =
        part.empty() ? model::lookupTarget(target)
                     : model::lookupTarget(target, part);
    if (!t) {
      getOperation()->emitError()
          << (part.empty() ? model::unknownTargetMessage(target)
                           : model::unknownPartMessage(target, part));
      return signalPassFailure();
    }
    TileOptions options;
    options.target = *t;
    options.tiles = {blockM, blockN, warps, stages, sramBudgetBytes, family};
    if (!tileAll(getOperation(), options))
      signalPassFailure();
  }
};

/// The same pass with a full target description (the driver's).
struct TileAttentionWithTarget
    : public PassWrapper<TileAttentionWithTarget, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TileAttentionWithTarget)
  explicit TileAttentionWithTarget(TileOptions options)
      : options(std::move(options)) {}
  StringRef getArgument() const final { return "attn-tile-attention"; }
  void runOnOperation() override {
    if (!tileAll(getOperation(), options))
      signalPassFailure();
  }
  TileOptions options;
};
} // namespace

std::unique_ptr<Pass>
mlir::attn::createTileAttentionPass(const TileOptions &options) {
  return std::make_unique<TileAttentionWithTarget>(options);
}
