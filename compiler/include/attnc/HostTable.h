//===- HostTable.h - a table's host copy for float64 references -*- C++ -*-===//
//
// A table is an input a spec reads as x[...] in a score modifier or a
// where() mask. References evaluate those on the CPU from this copy: the
// elements as doubles, row-major, with the table's sizes. An index outside
// [0, size) of its dimension is clamped into it, as in the kernels.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_HOSTTABLE_H
#define ATTNC_HOSTTABLE_H

#include <cstdint>
#include <vector>

namespace attnc {

struct HostTable {
  std::vector<double> data;
  std::vector<int64_t> dims;
};

} // namespace attnc

#endif // ATTNC_HOSTTABLE_H
