//===- FuseAttention.cpp - fuse the attention chain into one op -----------===//
//
// Walks back from every P x V matmul through dropout, softmax, masks, score
// modifiers and scales to the Q x K^T matmul and replaces the chain with one
// attn.fused_attention, so the N x N scores are never materialised.
//
//===----------------------------------------------------------------------===//
#include "attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "attn/Transforms/Transforms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "attn-fuse-attention"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNFUSEATTENTIONPASS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// What the chain between the two matmuls says, in application order.
struct ChainSummary {
  double scale = 1.0;
  bool causal = false;
  std::optional<int64_t> windowLeft, windowRight;
  Value kvLengths, blockLayout;
  std::optional<int64_t> blockQ, blockK;
  /// Score modifiers and scales that follow a modifier, in order. A ScaleOp
  /// in this list multiplies the modified score.
  SmallVector<Operation *> scoreMods;
  SmallVector<MaskOp> predicates;
  DropoutOp dropout;
};

/// Where an SSA value of the chain is used by more than its successor, fusing
/// would have to keep it alive; say which.
static bool singleUse(Value v, std::string &whyNot, StringRef what) {
  if (v.hasOneUse())
    return true;
  whyNot = ("the " + what + " has other users; fusing would have to "
            "materialise it").str();
  return false;
}

/// Reads the chain from the Q x K^T matmul to softmax (in order) into `sum`.
static LogicalResult summarise(ArrayRef<Operation *> chain, ChainSummary &sum,
                               std::string &whyNot) {
  bool sawMask = false;
  for (Operation *op : chain) {
    if (auto scale = dyn_cast<ScaleOp>(op)) {
      // A positive scale maps -inf to -inf, so it commutes with masks. After a
      // score modifier it must stay after it.
      if (sum.scoreMods.empty())
        sum.scale *= scale.getFactor().convertToDouble();
      else
        sum.scoreMods.push_back(op);
      continue;
    }
    if (auto mod = dyn_cast<ScoreModOp>(op)) {
      if (sawMask) {
        whyNot = "a score modifier follows a mask; it would change the masked "
                 "(-inf) scores, so the order cannot be kept in one op";
        return failure();
      }
      sum.scoreMods.push_back(op);
      continue;
    }
    auto mask = cast<MaskOp>(op);
    sawMask = true;
    switch (mask.getKind()) {
    case MaskKind::causal:
      sum.causal = true;
      break;
    case MaskKind::window:
      // Two windows intersect.
      sum.windowLeft = std::min<int64_t>(sum.windowLeft.value_or(INT64_MAX),
                                *mask.getWindowLeft());
      sum.windowRight = std::min<int64_t>(sum.windowRight.value_or(INT64_MAX),
                                 *mask.getWindowRight());
      break;
    case MaskKind::lengths:
      if (sum.kvLengths && sum.kvLengths != mask.getAux()) {
        whyNot = "two different key-length masks";
        return failure();
      }
      sum.kvLengths = mask.getAux();
      break;
    case MaskKind::blocks:
      if (sum.blockLayout) {
        whyNot = "two block-sparse masks";
        return failure();
      }
      sum.blockLayout = mask.getAux();
      sum.blockQ = mask.getBlockQ();
      sum.blockK = mask.getBlockK();
      break;
    case MaskKind::where:
      sum.predicates.push_back(mask);
      break;
    }
  }
  return success();
}

/// Builds the fused score_mod region: (s, b, h, q, k) -> f32, applying each
/// modifier (and each scale that follows one) in order.
/// The tables (attn.lookup operands defined outside) the score modifiers
/// and where() predicates read, each once, function arguments in their
/// order.
static SmallVector<Value> collectTables(Operation *anchor,
                                        ArrayRef<Operation *> scoreMods,
                                        ArrayRef<MaskOp> predicates) {
  SmallVector<Value> tables;
  // Every argument the front end marked as a table, read or not (a fold
  // may have removed a read): the kernel's table list is then the spec's,
  // in declaration order, which the runtime and references rely on.
  if (auto func = anchor->getParentOfType<func::FuncOp>())
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (func.getArgAttr(i, kTableBindAttrName))
        tables.push_back(func.getArgument(i));
  auto visit = [&](Region &r) {
    r.walk([&](LookupOp l) {
      if (!llvm::is_contained(tables, l.getTable()))
        tables.push_back(l.getTable());
    });
  };
  for (Operation *op : scoreMods)
    if (auto mod = dyn_cast<ScoreModOp>(op))
      visit(mod.getBody());
  for (MaskOp m : predicates)
    visit(m.getPredicate());
  llvm::stable_sort(tables, [](Value a, Value b) {
    auto x = dyn_cast<BlockArgument>(a), y = dyn_cast<BlockArgument>(b);
    return x && y && x.getArgNumber() < y.getArgNumber();
  });
  return tables;
}

/// The fused region's block: `fixed` arguments, then one per table; `map`
/// sends each table to its argument.
static Block *createRegionBlock(RewriterBase &rewriter, Location loc,
                                Region &region, SmallVector<Type> types,
                                ArrayRef<Value> tables, IRMapping &map) {
  const unsigned fixed = types.size();
  for (Value t : tables)
    types.push_back(t.getType());
  Block *block = rewriter.createBlock(&region, {}, types,
                                      SmallVector<Location>(types.size(), loc));
  for (unsigned i = 0; i < tables.size(); ++i)
    map.map(tables[i], block->getArgument(fixed + i));
  return block;
}

static void buildScoreModRegion(RewriterBase &rewriter, Location loc,
                                Region &region,
                                ArrayRef<Operation *> scoreMods,
                                ArrayRef<Value> tables) {
  if (scoreMods.empty())
    return;
  OpBuilder::InsertionGuard guard(rewriter);
  Type f32 = rewriter.getF32Type(), idx = rewriter.getIndexType();
  IRMapping tableMap;
  Block *block = createRegionBlock(rewriter, loc, region,
                                   {f32, idx, idx, idx, idx}, tables, tableMap);
  Value score = block->getArgument(0);
  for (Operation *op : scoreMods) {
    if (auto scale = dyn_cast<ScaleOp>(op)) {
      // score = factor * score
      Value c = arith::ConstantOp::create(
          rewriter, op->getLoc(),
          rewriter.getF32FloatAttr(scale.getFactor().convertToDouble()));
      score = arith::MulFOp::create(rewriter, op->getLoc(), c, score);
      continue;
    }
    Block &body = cast<ScoreModOp>(op).getBody().front();
    IRMapping map = tableMap;
    map.map(body.getArgument(0), score);
    for (unsigned i = 1; i < 5; ++i)
      map.map(body.getArgument(i), block->getArgument(i));
    for (Operation &inner : body.without_terminator())
      rewriter.clone(inner, map);
    score = map.lookup(cast<YieldOp>(body.getTerminator()).getValues()[0]);
  }
  YieldOp::create(rewriter, loc, ValueRange{score});
}

/// Builds the fused mask region: (b, h, q, k) -> i1, the conjunction of every
/// `where` predicate.
static void buildMaskRegion(RewriterBase &rewriter, Location loc,
                            Region &region, ArrayRef<MaskOp> predicates,
                            ArrayRef<Value> tables) {
  if (predicates.empty())
    return;
  OpBuilder::InsertionGuard guard(rewriter);
  Type idx = rewriter.getIndexType();
  IRMapping tableMap;
  Block *block = createRegionBlock(rewriter, loc, region, {idx, idx, idx, idx},
                                   tables, tableMap);
  Value keep;
  for (MaskOp mask : predicates) {
    Block &body = mask.getPredicate().front();
    IRMapping map = tableMap;
    for (unsigned i = 0; i < 4; ++i)
      map.map(body.getArgument(i), block->getArgument(i));
    for (Operation &inner : body.without_terminator())
      rewriter.clone(inner, map);
    Value v = map.lookup(cast<YieldOp>(body.getTerminator()).getValues()[0]);
    // keep = keep && v
    keep = keep ? arith::AndIOp::create(rewriter, mask.getLoc(), keep, v)
                      .getResult()
                : v;
  }
  YieldOp::create(rewriter, loc, ValueRange{keep});
}

} // namespace

FailureOr<FusedAttentionOp>
mlir::attn::fuseAttentionChain(RewriterBase &rewriter, MatmulOp pv,
                               std::string &whyNot) {
  if (pv.getTransposeRhs()) {
    whyNot = "the second matmul must not transpose V";
    return failure();
  }
  // Walk back: [dropout] <- softmax <- {scale, score_mod, mask}* <- Q K^T.
  Value p = pv.getLhs();
  DropoutOp dropout = p.getDefiningOp<DropoutOp>();
  if (dropout) {
    if (!singleUse(p, whyNot, "dropout result"))
      return failure();
    p = dropout.getInput();
  }
  auto softmax = p.getDefiningOp<SoftmaxOp>();
  if (!softmax) {
    whyNot = "the left operand of the P x V matmul is not a softmax (or a "
             "dropout of one)";
    return failure();
  }
  if (!singleUse(p, whyNot, "softmax result"))
    return failure();

  SmallVector<Operation *> chain; // softmax input back to the scores
  Value s = softmax.getInput();
  MatmulOp qk;
  while (true) {
    Operation *def = s.getDefiningOp();
    if (!def) {
      whyNot = "the softmax input does not come from a Q x K^T matmul";
      return failure();
    }
    if (!singleUse(s, whyNot, "intermediate score tensor"))
      return failure();
    if (auto mm = dyn_cast<MatmulOp>(def)) {
      qk = mm;
      break;
    }
    if (!isa<ScaleOp, ScoreModOp, MaskOp>(def)) {
      whyNot = ("'" + def->getName().getStringRef() +
                "' between the matmul and the softmax cannot be fused")
                   .str();
      return failure();
    }
    chain.push_back(def);
    s = def->getOperand(0);
  }
  if (!qk.getTransposeRhs()) {
    whyNot = "the first matmul must be Q x K^T (transpose_rhs)";
    return failure();
  }
  std::reverse(chain.begin(), chain.end());

  ChainSummary sum;
  if (failed(summarise(chain, sum, whyNot)))
    return failure();

  Value q = qk.getLhs(), k = qk.getRhs(), v = pv.getRhs();
  auto qType = cast<RankedTensorType>(q.getType());
  auto outType = cast<RankedTensorType>(pv.getResult().getType());
  if (outType.getElementType() != qType.getElementType()) {
    whyNot = "the output element type differs from the inputs'";
    return failure();
  }
  if (cast<RankedTensorType>(k.getType()).getElementType() !=
          qType.getElementType() ||
      cast<RankedTensorType>(v.getType()).getElementType() !=
          qType.getElementType()) {
    whyNot = "Q, K and V have different element types";
    return failure();
  }
  auto lseType = RankedTensorType::get(
      {qType.getDimSize(0), qType.getDimSize(1), qType.getDimSize(2)},
      rewriter.getF32Type());

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(pv);
  Location loc = rewriter.getFusedLoc(
      {qk.getLoc(), softmax.getLoc(), pv.getLoc()});
  Value seed = dropout ? dropout.getSeed() : Value();
  Value offset = dropout ? dropout.getOffset() : Value();
  const SmallVector<Value> tables =
      collectTables(pv, sum.scoreMods, sum.predicates);
  auto opt = [&](std::optional<int64_t> x) {
    return x ? rewriter.getI64IntegerAttr(*x) : IntegerAttr();
  };
  auto fused = FusedAttentionOp::create(
      rewriter, loc, TypeRange{outType, lseType}, q, k, v, sum.kvLengths,
      sum.blockLayout, seed, offset, softmax.getSinks(), tables,
      rewriter.getF64FloatAttr(sum.scale),
      sum.causal ? rewriter.getUnitAttr() : UnitAttr(), opt(sum.windowLeft),
      opt(sum.windowRight), opt(sum.blockQ), opt(sum.blockK),
      rewriter.getF64FloatAttr(
          dropout ? dropout.getProbability().convertToDouble() : 0.0));
  buildScoreModRegion(rewriter, loc, fused.getScoreMod(), sum.scoreMods,
                      tables);
  buildMaskRegion(rewriter, loc, fused.getMask(), sum.predicates, tables);

  rewriter.replaceAllUsesWith(pv.getResult(), fused.getOutput());
  rewriter.eraseOp(pv);
  if (dropout)
    rewriter.eraseOp(dropout);
  rewriter.eraseOp(softmax);
  for (Operation *op : llvm::reverse(chain))
    rewriter.eraseOp(op);
  rewriter.eraseOp(qk);
  return fused;
}

/// The DSL marks functions whose spec returns the log-sum-exp with
/// `attn.returns_lse`; once fused, the op's logsumexp result is appended to
/// the function's results.
static void returnLogSumExp(FusedAttentionOp fused) {
  auto func = fused->getParentOfType<func::FuncOp>();
  if (!func || !func->hasAttr("attn.returns_lse"))
    return;
  func::ReturnOp ret;
  for (Operation *user : fused.getOutput().getUsers())
    if (auto r = dyn_cast<func::ReturnOp>(user))
      ret = r;
  if (!ret)
    return;
  ret->insertOperands(ret->getNumOperands(), fused.getLogsumexp());
  func.setFunctionType(FunctionType::get(
      func.getContext(), func.getFunctionType().getInputs(),
      ret->getOperandTypes()));
  func->removeAttr("attn.returns_lse");
}

namespace {
struct FuseAttention
    : public mlir::attn::impl::AttnFuseAttentionPassBase<FuseAttention> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<MatmulOp> candidates;
    getOperation()->walk([&](MatmulOp op) {
      if (!op.getTransposeRhs())
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (MatmulOp pv : candidates) {
      std::string whyNot;
      FailureOr<FusedAttentionOp> fused =
          fuseAttentionChain(rewriter, pv, whyNot);
      if (failed(fused)) {
        LLVM_DEBUG(llvm::dbgs() << "not fused: " << whyNot << "\n");
        if (remarks)
          pv.emitRemark() << "not fused: " << whyNot;
        continue;
      }
      returnLogSumExp(*fused);
      if (remarks)
        fused->emitRemark() << "fused attention chain";
    }
  }
};
} // namespace
