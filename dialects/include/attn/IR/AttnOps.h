//===- AttnOps.h - attn dialect operations ----------------------*- C++ -*-===//
#ifndef ATTN_IR_ATTNOPS_H
#define ATTN_IR_ATTNOPS_H

#include "attn/IR/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attn/IR/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/IR/AttnAttrs.h.inc"

#define GET_OP_CLASSES
#include "attn/IR/AttnOps.h.inc"

namespace mlir::attn {
/// Argument attributes of the function a spec lowers to, read by code
/// generation: the DSL name of an input, and for a table (an input read
/// with attn.lookup) what each dimension is bound to at run time
/// (attnc::TableInfo::Bind: -1 free, 0 batch, 1 query heads, 2 query
/// length, 3 key/value heads, 4 key length).
inline constexpr const char *kArgNameAttrName = "attn.name";
inline constexpr const char *kTableBindAttrName = "attn.table_bind";
} // namespace mlir::attn

#endif // ATTN_IR_ATTNOPS_H
