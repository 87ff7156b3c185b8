//===- ApproximateMath.cpp - fastmath<afn> in modifier and mask regions ---===//
#include "attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPROXIMATEMATHPASS
#include "attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The ops whose CUDA form has a faster hardware approximation.
bool hasApproximation(Operation *op) {
  return isa<math::TanhOp, math::ExpOp, math::Exp2Op, math::LogOp,
             math::Log2Op, math::PowFOp, arith::DivFOp>(op);
}

struct ApproximateMath
    : public mlir::attn::impl::AttnApproximateMathPassBase<ApproximateMath> {
  void runOnOperation() override {
    getOperation()->walk([](TiledAttentionOp tiled) {
      for (Region *r : {&tiled.getScoreMod(), &tiled.getMask()})
        r->walk([](Operation *op) {
          auto fm = dyn_cast<arith::ArithFastMathInterface>(op);
          if (!fm || !hasApproximation(op))
            return;
          arith::FastMathFlags flags = fm.getFastMathFlagsAttr()
                                           ? fm.getFastMathFlagsAttr().getValue()
                                           : arith::FastMathFlags::none;
          op->setAttr(fm.getFastMathAttrName(),
                      arith::FastMathFlagsAttr::get(
                          op->getContext(), flags | arith::FastMathFlags::afn));
        });
    });
  }
};

} // namespace
