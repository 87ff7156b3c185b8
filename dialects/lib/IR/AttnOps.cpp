//===- AttnOps.cpp - attn dialect operations ------------------------------===//
//
// Verifiers name the problem the way a user states it: which operand, which
// dimension, what was expected and what was found.
//
//===----------------------------------------------------------------------===//
#include "attn/IR/AttnOps.h"
#include "attn/Kernel/Params.h"
#include "attn/Model/KernelFamily.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

static bool compatible(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

static const char *kDimNames[] = {"batch", "heads", "sequence", "head"};

/// Checks that `found` has dims compatible with `expected` (dynamic matches
/// anything) and names the first one that differs.
static LogicalResult checkShape(Operation *op, StringRef what,
                                ArrayRef<int64_t> found,
                                ArrayRef<int64_t> expected) {
  if (found.size() != expected.size())
    return op->emitOpError() << what << " must have rank " << expected.size()
                             << ", got rank " << found.size();
  for (auto [i, f, e] : llvm::enumerate(found, expected))
    if (!compatible(f, e))
      return op->emitOpError()
             << what << " dimension " << i << " ("
             << (i < 4 ? kDimNames[i] : "?") << ") is " << dimStr(f)
             << ", expected " << dimStr(e);
  return success();
}

/// Verifies the signature of a score-modifier region: (f32, index x 4) -> f32.
/// The region's trailing arguments stand for the op's tables, in order.
static LogicalResult verifyTableArguments(Operation *op, Block &block,
                                          unsigned fixed, TypeRange tables,
                                          const char *what) {
  if (block.getNumArguments() != fixed + tables.size())
    return op->emitOpError()
           << what << " region takes " << fixed << " arguments and one per "
           << "table (" << tables.size() << "), got "
           << block.getNumArguments();
  for (unsigned i = 0; i < tables.size(); ++i)
    if (block.getArgument(fixed + i).getType() != tables[i])
      return op->emitOpError()
             << what << " region argument " << fixed + i << " must be table "
             << i << "'s type " << tables[i] << ", got "
             << block.getArgument(fixed + i).getType();
  return success();
}

static LogicalResult verifyScoreModRegion(Operation *op, Region &region,
                                          TypeRange tables = {}) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() < 5 ||
      !block.getArgument(0).getType().isF32() ||
      !llvm::all_of(llvm::drop_begin(block.getArgumentTypes()),
                    [](Type t) { return t.isIndex() || isa<TensorType>(t); }) ||
      !llvm::all_of(llvm::make_range(std::next(block.args_begin()),
                                     std::next(block.args_begin(), 5)),
                    [](BlockArgument a) { return a.getType().isIndex(); }))
    return op->emitOpError()
           << "score modifier region must take (f32, index, index, index, "
              "index) for the score and b, h, q, k";
  if (failed(verifyTableArguments(op, block, 5, tables, "score modifier")))
    return failure();
  auto yield = block.empty() ? YieldOp() : dyn_cast<YieldOp>(block.back());
  if (!yield || yield.getValues().size() != 1 ||
      !yield.getValues()[0].getType().isF32())
    return op->emitOpError() << "score modifier region must yield one f32";
  return success();
}

/// Verifies the signature of a mask predicate region: (index x 4) -> i1.
static LogicalResult verifyMaskRegion(Operation *op, Region &region,
                                     TypeRange tables = {}) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() < 4 ||
      !llvm::all_of(llvm::make_range(block.args_begin(),
                                     std::next(block.args_begin(), 4)),
                    [](BlockArgument a) { return a.getType().isIndex(); }))
    return op->emitOpError()
           << "mask predicate region must take (index, index, index, index) "
              "for b, h, q, k";
  if (failed(verifyTableArguments(op, block, 4, tables, "mask predicate")))
    return failure();
  auto yield = block.empty() ? YieldOp() : dyn_cast<YieldOp>(block.back());
  if (!yield || yield.getValues().size() != 1 ||
      !yield.getValues()[0].getType().isInteger(1))
    return op->emitOpError() << "mask predicate region must yield one i1";
  return success();
}

static LogicalResult verifyWindow(Operation *op, std::optional<int64_t> left,
                                  std::optional<int64_t> right) {
  if (left.has_value() != right.has_value())
    return op->emitOpError()
           << "a window needs both window_left and window_right";
  if (left && (*left < 0 || *right < 0))
    return op->emitOpError() << "window sizes must be >= 0, got left "
                             << *left << " and right " << *right;
  return success();
}

static LogicalResult verifyBlockSizes(Operation *op, std::optional<int64_t> bq,
                                      std::optional<int64_t> bk) {
  if (!bq || !bk)
    return op->emitOpError()
           << "a block-sparse mask needs block_q and block_k";
  if (*bq <= 0 || *bk <= 0)
    return op->emitOpError() << "block sizes must be positive, got "
                             << *bq << " x " << *bk;
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType(), rhs = getRhs().getType();
  auto res = getResult().getType();
  Type le = lhs.getElementType(), re = rhs.getElementType();
  if (!le.isF32() && !re.isF32() && le != re)
    return emitOpError() << "operand element types differ: " << le << " and "
                         << re;
  if (!compatible(lhs.getDimSize(0), rhs.getDimSize(0)))
    return emitOpError() << "batch sizes differ: " << dimStr(lhs.getDimSize(0))
                         << " and " << dimStr(rhs.getDimSize(0));
  int64_t hl = lhs.getDimSize(1), hr = rhs.getDimSize(1);
  if (!ShapedType::isDynamic(hl) && !ShapedType::isDynamic(hr) &&
      (hr == 0 || hl % hr != 0))
    return emitOpError() << "lhs has " << hl << " heads, not a multiple of the "
                         << hr << " heads of rhs (grouped-query attention "
                         << "needs heads(lhs) % heads(rhs) == 0)";
  bool t = getTransposeRhs();
  int64_t kl = lhs.getDimSize(3), kr = rhs.getDimSize(t ? 3 : 2);
  if (!compatible(kl, kr))
    return emitOpError() << "contraction dimensions differ: lhs has "
                         << dimStr(kl) << ", rhs has " << dimStr(kr)
                         << (t ? " (head dims of Q and K must match)" : "");
  int64_t cols = rhs.getDimSize(t ? 2 : 3);
  if (failed(checkShape(*this, "result", res.getShape(),
                        {lhs.getDimSize(0), hl, lhs.getDimSize(2), cols})))
    return failure();
  if (!res.getElementType().isF32() && res.getElementType() != re)
    return emitOpError() << "result element type must be f32 or " << re
                         << ", got " << res.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// ScaleOp, ScoreModOp, SoftmaxOp, DropoutOp
//===----------------------------------------------------------------------===//

LogicalResult ScaleOp::verify() {
  double f = getFactor().convertToDouble();
  if (!std::isfinite(f) || f <= 0.0)
    return emitOpError() << "scale factor must be finite and positive, got "
                         << f;
  return success();
}

LogicalResult ScoreModOp::verifyRegions() {
  if (getBody().empty())
    return emitOpError() << "needs a body";
  return verifyScoreModRegion(*this, getBody());
}

LogicalResult LookupOp::verify() {
  auto t = cast<RankedTensorType>(getTable().getType());
  if (int64_t(getIndices().size()) != t.getRank())
    return emitOpError() << "table of rank " << t.getRank() << " read with "
                         << getIndices().size() << " indices";
  const bool isFloat = isa<FloatType>(t.getElementType());
  if (isFloat != getResult().getType().isF32())
    return emitOpError() << (isFloat ? "a float" : "an integer")
                         << " table yields " << (isFloat ? "f32" : "index")
                         << ", not " << getResult().getType();
  return success();
}

/// Sinks hold one logit per query head (dimension 1 of the scores or Q).
static LogicalResult verifySinks(Operation *op, Value sinks, int64_t heads) {
  if (!sinks)
    return success();
  int64_t n = cast<RankedTensorType>(sinks.getType()).getDimSize(0);
  if (!compatible(n, heads))
    return op->emitOpError() << "sinks has " << dimStr(n)
                             << " entries for " << dimStr(heads)
                             << " query heads";
  return success();
}

LogicalResult SoftmaxOp::verify() {
  if (!getInput().getType().getElementType().isF32())
    return emitOpError() << "softmax works on f32 scores, got "
                         << getInput().getType().getElementType();
  return verifySinks(*this, getSinks(), getInput().getType().getDimSize(1));
}

LogicalResult DropoutOp::verify() {
  double p = getProbability().convertToDouble();
  if (!(p >= 0.0 && p < 1.0))
    return emitOpError() << "dropout probability must be in [0, 1), got " << p;
  return success();
}

//===----------------------------------------------------------------------===//
// MaskOp
//===----------------------------------------------------------------------===//

void MaskOp::build(OpBuilder &builder, OperationState &state, MaskKind kind,
                   Value input, Value aux) {
  state.addOperands(input);
  if (aux)
    state.addOperands(aux);
  state.addAttribute(getKindAttrName(state.name),
                     MaskKindAttr::get(builder.getContext(), kind));
  state.addRegion();
  state.addTypes(input.getType());
}

LogicalResult PagedKvOp::verify() {
  auto cache = getCache().getType(), table = getBlockTable().getType();
  auto lens = getSeqLens().getType(), result = getResult().getType();
  int64_t page = cache.getDimSize(1);
  if (ShapedType::isDynamic(page) || page < 1 || page > attnc::kMaxPageSize)
    return emitOpError() << "page size (cache dimension 1) must be a number in "
                            "[1, "
                         << attnc::kMaxPageSize << "], got " << dimStr(page);
  if (result.getElementType() != cache.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " differs from the cache's "
                         << cache.getElementType();
  if (!compatible(lens.getDimSize(0), table.getDimSize(0)))
    return emitOpError() << "seq_lens has " << dimStr(lens.getDimSize(0))
                         << " entries for a block table of "
                         << dimStr(table.getDimSize(0)) << " rows";
  return checkShape(*this, "result", result.getShape(),
                    {table.getDimSize(0), cache.getDimSize(2),
                     ShapedType::kDynamic, cache.getDimSize(3)});
}

LogicalResult PackedSeqOp::verify() {
  auto tokens = getTokens().getType(), result = getResult().getType();
  if (result.getElementType() != tokens.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " differs from the tokens' "
                         << tokens.getElementType();
  int64_t cu = getCuSeqlens().getType().getDimSize(0);
  if (!ShapedType::isDynamic(cu) && cu < 2)
    return emitOpError() << "cu_seqlens needs batch + 1 >= 2 entries, got "
                         << cu;
  return checkShape(*this, "result", result.getShape(),
                    {ShapedType::isDynamic(cu) ? ShapedType::kDynamic : cu - 1,
                     tokens.getDimSize(1), ShapedType::kDynamic,
                     tokens.getDimSize(2)});
}

LogicalResult MaskOp::verify() {
  MaskKind kind = getKind();
  bool needsAux = kind == MaskKind::lengths || kind == MaskKind::blocks;
  if (needsAux && !getAux())
    return emitOpError() << "'" << stringifyMaskKind(kind)
                         << "' mask needs an operand ("
                         << (kind == MaskKind::lengths ? "per-batch key lengths"
                                                       : "block layout")
                         << ")";
  if (!needsAux && getAux())
    return emitOpError() << "'" << stringifyMaskKind(kind)
                         << "' mask takes no operand";
  bool hasWindow = getWindowLeft() || getWindowRight();
  if (kind == MaskKind::window) {
    if (!getWindowLeft() || !getWindowRight())
      return emitOpError() << "a window mask needs window_left and window_right";
    if (failed(verifyWindow(*this, getWindowLeft(), getWindowRight())))
      return failure();
  } else if (hasWindow) {
    return emitOpError() << "window sizes given for a '"
                         << stringifyMaskKind(kind) << "' mask";
  }
  bool hasBlocks = getBlockQ() || getBlockK();
  if (kind == MaskKind::blocks) {
    if (failed(verifyBlockSizes(*this, getBlockQ(), getBlockK())))
      return failure();
  } else if (hasBlocks) {
    return emitOpError() << "block sizes given for a '"
                         << stringifyMaskKind(kind) << "' mask";
  }
  if (kind == MaskKind::lengths) {
    auto t = dyn_cast<RankedTensorType>(getAux().getType());
    if (!t || t.getRank() != 1 || !t.getElementType().isInteger(32))
      return emitOpError() << "key lengths must be a tensor<?xi32>, got "
                           << getAux().getType();
    if (!compatible(t.getDimSize(0), getInput().getType().getDimSize(0)))
      return emitOpError() << "key lengths has " << dimStr(t.getDimSize(0))
                           << " entries for a batch of "
                           << dimStr(getInput().getType().getDimSize(0));
  }
  if (kind == MaskKind::blocks) {
    auto t = dyn_cast<RankedTensorType>(getAux().getType());
    if (!t || t.getRank() != 3 ||
        !(t.getElementType().isInteger(8) || t.getElementType().isInteger(1)))
      return emitOpError()
             << "block layout must be a rank-3 tensor of i8 [heads or 1, "
                "query blocks, key blocks], got "
             << getAux().getType();
  }
  return success();
}

LogicalResult MaskOp::verifyRegions() {
  if (getKind() == MaskKind::where) {
    if (getPredicate().empty())
      return emitOpError() << "a 'where' mask needs a predicate region";
    return verifyMaskRegion(*this, getPredicate());
  }
  if (!getPredicate().empty())
    return emitOpError() << "only a 'where' mask has a predicate region";
  return success();
}

//===----------------------------------------------------------------------===//
// FusedAttentionOp, TiledAttentionOp
//===----------------------------------------------------------------------===//

template <typename OpT>
static int64_t groupSizeOf(OpT op) {
  int64_t hq = op.getQuery().getType().getDimSize(1);
  int64_t hk = op.getKey().getType().getDimSize(1);
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hk) || hk == 0)
    return 0;
  return hq / hk;
}

int64_t FusedAttentionOp::getGroupSize() { return groupSizeOf(*this); }
int64_t TiledAttentionOp::getGroupSize() { return groupSizeOf(*this); }

template <typename OpT>
static LogicalResult verifyAttention(OpT op) {
  Operation *o = op.getOperation();
  auto q = op.getQuery().getType(), k = op.getKey().getType(),
       v = op.getValue().getType();
  Type e = q.getElementType();
  if (k.getElementType() != e || v.getElementType() != e)
    return op.emitOpError() << "query, key and value must have one element "
                               "type, got "
                            << e << ", " << k.getElementType() << ", "
                            << v.getElementType();
  int64_t d = q.getDimSize(3), dv = v.getDimSize(3);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(dv) ||
      ShapedType::isDynamic(k.getDimSize(3)))
    return op.emitOpError() << "head dimensions must be static";
  if (k.getDimSize(3) != d)
    return op.emitOpError() << "head dim of key (" << k.getDimSize(3)
                            << ") differs from query (" << d << ")";
  if (failed(checkShape(o, "key", k.getShape(),
                        {q.getDimSize(0), k.getDimSize(1), k.getDimSize(2), d})))
    return failure();
  if (failed(checkShape(o, "value", v.getShape(),
                        {q.getDimSize(0), k.getDimSize(1), k.getDimSize(2),
                         dv})))
    return failure();
  int64_t hq = q.getDimSize(1), hk = k.getDimSize(1);
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hk) &&
      (hk == 0 || hq % hk != 0))
    return op.emitOpError() << "query has " << hq
                            << " heads, not a multiple of the " << hk
                            << " key/value heads";
  auto out = op.getOutput().getType();
  if (out.getElementType() != e)
    return op.emitOpError() << "output element type must be " << e << ", got "
                            << out.getElementType();
  if (failed(checkShape(o, "output", out.getShape(),
                        {q.getDimSize(0), hq, q.getDimSize(2), dv})))
    return failure();
  auto lse = op.getLogsumexp().getType();
  if (failed(checkShape(o, "logsumexp", lse.getShape(),
                        {q.getDimSize(0), hq, q.getDimSize(2)})))
    return failure();
  double scale = op.getScale().convertToDouble();
  if (!std::isfinite(scale) || scale <= 0.0)
    return op.emitOpError() << "scale must be finite and positive, got "
                            << scale;
  if (failed(verifyWindow(o, op.getWindowLeft(), op.getWindowRight())))
    return failure();
  if (op.getBlockLayout()) {
    if (failed(verifyBlockSizes(o, op.getBlockQ(), op.getBlockK())))
      return failure();
  } else if (op.getBlockQ() || op.getBlockK()) {
    return op.emitOpError() << "block sizes given without a block layout";
  }
  if (auto len = op.getKvLengths())
    if (!compatible(len.getType().getDimSize(0), q.getDimSize(0)))
      return op.emitOpError()
             << "key lengths has " << dimStr(len.getType().getDimSize(0))
             << " entries for a batch of " << dimStr(q.getDimSize(0));
  double p = op.getDropout().convertToDouble();
  if (!(p >= 0.0 && p < 1.0))
    return op.emitOpError() << "dropout probability must be in [0, 1), got "
                            << p;
  if (static_cast<bool>(op.getSeed()) != static_cast<bool>(op.getOffset()))
    return op.emitOpError() << "seed and offset come together";
  if (p > 0.0 && !op.getSeed())
    return op.emitOpError() << "dropout needs a seed and an offset";
  if (failed(verifySinks(o, op.getSinks(), hq)))
    return failure();
  if (failed(verifyScoreModRegion(o, op.getScoreMod(),
                                  op.getTables().getTypes())) ||
      failed(verifyMaskRegion(o, op.getMask(), op.getTables().getTypes())))
    return failure();
  return success();
}

LogicalResult FusedAttentionOp::verify() { return verifyAttention(*this); }

LogicalResult TiledAttentionOp::verify() {
  if (failed(verifyAttention(*this)))
    return failure();
  TilingAttr t = getTiling();
  if (t.getBlockM() <= 0 || t.getBlockN() <= 0 || t.getWarps() <= 0 ||
      t.getStages() <= 0)
    return emitOpError() << "tile sizes, warps and stages must be positive";
  if (t.getBlockM() % 16 != 0 || t.getBlockN() % 16 != 0)
    return emitOpError() << "block_m and block_n must be multiples of 16, got "
                         << t.getBlockM() << " x " << t.getBlockN();
  if (!model::lookupFamily(t.getFamily().str()))
    return emitOpError() << "unknown kernel family '" << t.getFamily()
                         << "'; known: " << model::knownFamilyList();
  BlockSkip skip = getBlockSkip();
  if (bitEnumContainsAny(skip, BlockSkip::causal) && !getCausal())
    return emitOpError() << "causal block skipping needs a causal mask";
  if (bitEnumContainsAny(skip, BlockSkip::window) && !getWindowLeft())
    return emitOpError() << "window block skipping needs a window";
  if (bitEnumContainsAny(skip, BlockSkip::lengths) && !getKvLengths())
    return emitOpError() << "lengths block skipping needs key lengths";
  if (bitEnumContainsAny(skip, BlockSkip::sparse) && !getBlockLayout())
    return emitOpError() << "sparse block skipping needs a block layout";
  if (bitEnumContainsAny(skip, BlockSkip::where) && !hasMaskPredicate())
    return emitOpError() << "where block skipping needs a mask predicate";
  return success();
}

#define GET_OP_CLASSES
#include "attn/IR/AttnOps.cpp.inc"
