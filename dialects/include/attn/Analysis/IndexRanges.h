//===- IndexRanges.h - bounds of a region's integer values ------*- C++ -*-===//
//
// Evaluates a score-modifier or where() region over a box of indices with
// the interval rules of attn/Kernel/Interval.h (the same rules the
// generated kernel uses to classify tiles). Integer values get a Range,
// i1 values a Truth; float values are not bounded.
//
// Arguments: the region's index arguments in order (b, h, q, k; a score
// modifier's leading f32 score is skipped).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ANALYSIS_INDEXRANGES_H
#define ATTN_ANALYSIS_INDEXRANGES_H

#include "attn/Kernel/Interval.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <array>
#include <optional>

namespace mlir::attn {

/// The box: b, h, q_idx, k_idx.
using IndexBox = std::array<::attn::interval::Range, 4>;

class IndexRanges {
public:
  /// Bounds every value of `block` over `box`.
  IndexRanges(Block &block, const IndexBox &box);

  /// The range of an integer (index, i64, i32) value; full() when the
  /// rules could not bound it.
  ::attn::interval::Range range(Value v) const;
  /// What an i1 value can be; unknown() when not bounded.
  ::attn::interval::Truth truth(Value v) const;
  /// The yielded value's truth (a where() predicate).
  ::attn::interval::Truth result() const;

private:
  llvm::DenseMap<Value, ::attn::interval::Range> ranges;
  llvm::DenseMap<Value, ::attn::interval::Truth> truths;
  Value yielded;
  void visit(Operation &op);
};

/// The launch limits the kernels check (attn/Model/KernelFamily.h): the box
/// every index lies in at run time.
IndexBox launchIndexBox();

/// The rule of attn/Kernel/Interval.h that bounds an op's result: the one
/// mapping from ops to rules, read by this evaluator and by the CUDA
/// emitter (which writes `attn::interval::<function>(operands...)` into
/// the kernel's tile classifier).
struct RangeRule {
  enum Kind {
    Constant, // a Range or Truth of the literal
    Copy,     // the operand's bounds (index_cast, extsi)
    Call,     // function(operand bounds...)
  } kind;
  /// Interval.h function for Call ("add", "floorDiv", "lt", "andOf", ...).
  const char *function;
};
/// The rule for `op`, or nothing when its result is not bounded (float
/// ops, unsigned compares, shifts): then an integer result is full() and
/// an i1 result unknown().
std::optional<RangeRule> rangeRuleOf(Operation &op);

} // namespace mlir::attn

#endif // ATTN_ANALYSIS_INDEXRANGES_H
