//===- IndexRanges.cpp - bounds of a region's integer values --------------===//
#include "attn/Analysis/IndexRanges.h"

#include "attn/IR/AttnOps.h"
#include "attn/Kernel/Params.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;
namespace iv = ::attn::interval;

namespace {
bool isIntLike(Type t) {
  return t.isIndex() || (t.isInteger() && !t.isInteger(1));
}
} // namespace

IndexBox mlir::attn::launchIndexBox() {
  return IndexBox{iv::span(0, attnc::kMaxBatch - 1),
                  iv::span(0, attnc::kMaxHeads - 1),
                  iv::span(0, attnc::kMaxSeqLen - 1),
                  iv::span(0, attnc::kMaxSeqLen - 1)};
}

IndexRanges::IndexRanges(Block &block, const IndexBox &box) {
  unsigned i = 0;
  for (BlockArgument a : block.getArguments())
    if (a.getType().isIndex() && i < 4)
      ranges[a] = box[i++];
  for (Operation &op : block) {
    if (auto y = dyn_cast<YieldOp>(op)) {
      if (!y.getValues().empty())
        yielded = y.getValues()[0];
      continue;
    }
    visit(op);
  }
}

iv::Range IndexRanges::range(Value v) const {
  auto it = ranges.find(v);
  return it == ranges.end() ? iv::full() : it->second;
}

iv::Truth IndexRanges::truth(Value v) const {
  auto it = truths.find(v);
  return it == truths.end() ? iv::unknown() : it->second;
}

iv::Truth IndexRanges::result() const {
  return yielded ? truth(yielded) : iv::unknown();
}

std::optional<RangeRule> mlir::attn::rangeRuleOf(Operation &op) {
  using K = RangeRule::Kind;
  if (op.getNumResults() != 1)
    return std::nullopt;
  Type t = op.getResult(0).getType();
  bool isBool = t.isInteger(1);
  if (!isBool && !isIntLike(t))
    return std::nullopt;
  auto call = [](const char *f) { return RangeRule{K::Call, f}; };
  return llvm::TypeSwitch<Operation *, std::optional<RangeRule>>(&op)
      .Case([&](arith::ConstantOp c) -> std::optional<RangeRule> {
        if (isa<IntegerAttr>(c.getValue()))
          return RangeRule{K::Constant, ""};
        return std::nullopt;
      })
      .Case([&](arith::AddIOp) { return call("add"); })
      .Case([&](arith::SubIOp) { return call("sub"); })
      .Case([&](arith::MulIOp) { return call("mul"); })
      .Case([&](arith::DivSIOp) { return call("truncDiv"); })
      .Case([&](arith::FloorDivSIOp) { return call("floorDiv"); })
      .Case([&](arith::RemSIOp) { return call("truncRem"); })
      .Case([&](arith::MaxSIOp) { return call("maxOf"); })
      .Case([&](arith::MinSIOp) { return call("minOf"); })
      .Case([&](arith::CmpIOp c) -> std::optional<RangeRule> {
        using P = arith::CmpIPredicate;
        switch (c.getPredicate()) {
        case P::eq: return call("eq");
        case P::ne: return call("ne");
        case P::slt: return call("lt");
        case P::sle: return call("le");
        case P::sgt: return call("gt");
        case P::sge: return call("ge");
        default: return std::nullopt; // unsigned
        }
      })
      .Case([&](arith::SelectOp) { return call("select"); })
      .Case([&](arith::AndIOp) -> std::optional<RangeRule> {
        if (isBool) return call("andOf");
        return std::nullopt;
      })
      .Case([&](arith::OrIOp) -> std::optional<RangeRule> {
        if (isBool) return call("orOf");
        return std::nullopt;
      })
      .Case([&](arith::XOrIOp) -> std::optional<RangeRule> {
        if (isBool) return call("xorOf");
        return std::nullopt;
      })
      .Case<arith::IndexCastOp, arith::ExtSIOp>(
          [&](Operation *) -> std::optional<RangeRule> {
            // index <-> i64 and sign extension keep the value; a cast to
            // i32 is bounded only when it keeps the value too (below).
            if (isIntLike(op.getOperand(0).getType()))
              return RangeRule{K::Copy, ""};
            return std::nullopt;
          })
      .Default([](Operation *) { return std::nullopt; });
}

void IndexRanges::visit(Operation &op) {
  // An integer table element: the range of its element type.
  if (auto l = dyn_cast<LookupOp>(op)) {
    auto t = cast<RankedTensorType>(l.getTable().getType());
    if (l.getResult().getType().isIndex()) {
      const unsigned w = t.getElementType().getIntOrFloatBitWidth();
      const long long hi = w >= 32 ? 2147483647LL : (1LL << (w - 1)) - 1;
      ranges[l.getResult()] = iv::span(-hi - 1, hi);
    }
    return;
  }
  std::optional<RangeRule> rule = rangeRuleOf(op);
  if (!rule)
    return;
  Value r = op.getResult(0);
  bool isBool = r.getType().isInteger(1);
  auto R = [&](unsigned i) { return range(op.getOperand(i)); };
  auto T = [&](unsigned i) { return truth(op.getOperand(i)); };
  std::optional<iv::Range> out;
  std::optional<iv::Truth> outT;
  llvm::StringRef f = rule->function;
  switch (rule->kind) {
  case RangeRule::Constant: {
    auto a = cast<IntegerAttr>(cast<arith::ConstantOp>(op).getValue());
    if (isBool)
      outT = iv::known(a.getValue().getBoolValue());
    else
      out = iv::point(a.getValue().getSExtValue());
    break;
  }
  case RangeRule::Copy:
    out = R(0);
    break;
  case RangeRule::Call:
    if (f == "select") {
      if (isBool)
        outT = iv::select(T(0), T(1), T(2));
      else
        out = iv::select(T(0), R(1), R(2));
    } else if (f == "andOf") {
      outT = iv::andOf(T(0), T(1));
    } else if (f == "orOf") {
      outT = iv::orOf(T(0), T(1));
    } else if (f == "xorOf") {
      outT = iv::xorOf(T(0), T(1));
    } else if (isBool) {
      iv::Range a = R(0), b = R(1);
      outT = f == "eq"   ? iv::eq(a, b)
             : f == "ne" ? iv::ne(a, b)
             : f == "lt" ? iv::lt(a, b)
             : f == "le" ? iv::le(a, b)
             : f == "gt" ? iv::gt(a, b)
                         : iv::ge(a, b);
    } else {
      iv::Range a = R(0), b = R(1);
      out = f == "add"        ? iv::add(a, b)
            : f == "sub"      ? iv::sub(a, b)
            : f == "mul"      ? iv::mul(a, b)
            : f == "truncDiv" ? iv::truncDiv(a, b)
            : f == "floorDiv" ? iv::floorDiv(a, b)
            : f == "truncRem" ? iv::truncRem(a, b)
            : f == "maxOf"    ? iv::maxOf(a, b)
                              : iv::minOf(a, b);
    }
    break;
  }
  if (out) {
    // An i32 result outside 32 bits would wrap: not bounded.
    if (r.getType().isInteger(32) && !iv::fitsInt32(*out))
      out = iv::span(-2147483647LL - 1, 2147483647LL);
    ranges[r] = *out;
  }
  if (outT)
    truths[r] = *outT;
}
