// attn/Kernel/Tables.h - how an index reads a table (an input read as
// x[i, ...] in a score modifier or a where() mask): the one rule the kernels
// (attnc/math.cuh, tableRead) and the float64 reference (the DSL
// interpreter) share.
#pragma once

#include "attn/Kernel/Defs.h"

namespace attnc {
namespace tables {

/// Index i of a dimension of n >= 1 elements reads element clamp(i, 0,
/// n - 1): any index expression stays inside the table.
template <class I> ATTN_HD constexpr I clampIndex(I i, I n) {
  return i < I(0) ? I(0) : i >= n ? n - I(1) : i;
}

} // namespace tables
} // namespace attnc
