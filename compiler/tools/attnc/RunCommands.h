//===- RunCommands.h - `attnc run` and `attnc bench` ------------*- C++ -*-===//
#ifndef ATTNC_TOOLS_RUNCOMMANDS_H
#define ATTNC_TOOLS_RUNCOMMANDS_H

#include "attnc/Options.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnc::tool {

/// b, hq, hk, n, m
struct Shape {
  int64_t batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
};
/// Parses "b,hq,hk,n,m" (or "b,h,n" for hq == hk and n == m).
bool parseShape(const std::string &text, Shape &shape, std::string &error,
                const char *flag = "--shape");

struct RunOptions {
  std::string spec;
  CompileOptions compile; // target, part, kernel, tiles, cache
  std::string q, k, v, out, lse; // .npy paths
  std::string lengths, layout;   // .npy paths, when the spec needs them
  std::string blockTable, seqLens; // .npy paths for paged(...) K/V
  std::string cuSeqlensQ, cuSeqlensK; // .npy paths for packed(...) views
  std::string sinks;                  // .npy path: f32 [hq] attention sinks
  std::vector<std::string> tables;    // NAME=FILE.npy, one per table x[...]
  bool bf16AsU2 = false;         // read/write bf16 as <u2 (plain NumPy)
  std::vector<std::string> shape; // random inputs instead of files
  uint64_t seed = 0, offset = 0;  // dropout
  uint64_t dataSeed = 1;          // random inputs
  bool check = false, verbose = false;
};
int runRun(const RunOptions &options);

struct BenchOptions {
  std::string spec;
  CompileOptions compile; // target, part, kernel, tiles
  std::vector<std::string> shapes;
  std::string varlen; // packed specs: sequence lengths "L1,L2,..."
  int iters = 30, warmup = 5;
  bool json = false, verbose = false;
};
int runBench(const BenchOptions &options);

} // namespace attnc::tool

#endif // ATTNC_TOOLS_RUNCOMMANDS_H
