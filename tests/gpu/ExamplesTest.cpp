//===- ExamplesTest.cpp - every examples/*.attn on the GPU ----------------===//
//
// Each spec in examples/ (read at run time) is compiled for the live GPU and
// run at a size chosen from its declared shapes: symbols get sizes that are
// not powers of two, static dims keep their value. Whatever inputs the spec
// needs are made up: key lengths with an empty batch entry, a per-head block
// layout with an all-zero block row, a dropout seed and offset.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <algorithm>

using namespace attnc;
using namespace attnc::gputest;

namespace {

class ExampleTest : public GpuParamTest<std::string> {};

/// A case for `attn` at batch x heads x n x n (n == m: specs may use one
/// symbol for both sequence lengths).
Case exampleCase(const Attention &attn, const std::string &file, int batch,
                 int heads, int n, bool lse) {
  const KernelInfo &info = attn.info();
  Case c;
  c.label = file + " n=" + std::to_string(n);
  c.batch = info.qShape[0] >= 0 ? (int)info.qShape[0] : batch;
  c.headsQ = info.qShape[1] >= 0 ? (int)info.qShape[1] : heads;
  // A symbolic KV head count may or may not be the query's symbol: equal
  // counts are valid either way.
  c.headsKV = info.kShape[1] >= 0 ? (int)info.kShape[1] : c.headsQ;
  c.seqQ = info.qShape[2] >= 0 ? (int)info.qShape[2] : n;
  c.seqK = info.kShape[2] >= 0 ? (int)info.kShape[2] : c.seqQ;
  c.lse = lse;
  c.inputSeed = std::hash<std::string>()(file) + n;
  if (info.keyPadding) {
    // Entry 0 has no keys at all (its rows are fully masked).
    for (int b = 0; b < c.batch; ++b)
      c.kvLengths.push_back(b == 0 ? 0 : b == 1 ? c.seqK : c.seqK * 2 / 3 + 1);
  }
  if (info.blockSparse) {
    const int qb = (int)((c.seqQ + info.sparseBlockQ - 1) / info.sparseBlockQ);
    const int kb = (int)((c.seqK + info.sparseBlockK - 1) / info.sparseBlockK);
    c.layoutShape[0] = c.headsQ;
    c.layoutShape[1] = qb;
    c.layoutShape[2] = kb;
    c.blockLayout = randomBlockLayout(c.headsQ, qb, kb, 0.6,
                                      /*zeroRow=*/std::min(1, qb - 1), 11);
  }
  if (info.paged) {
    // Caches [pages, page size, hk, d]: sequence lengths n, 1 (causal shows
    // its key to the last query only), about 2n/3; a shuffled table.
    c.headsKV = info.kShape[2] >= 0 ? (int)info.kShape[2] : c.headsQ;
    std::vector<int32_t> lens;
    for (int b = 0; b < c.batch; ++b)
      lens.push_back(b == 0 ? c.seqQ : b == 1 ? 1 : c.seqQ * 2 / 3 + 1);
    makePaged(c, info.pageSize, lens, c.inputSeed);
  }
  if (info.packed) {
    // Packed sequences of n, 1 and about 2n/3 queries against n, 3 and
    // n/2 + 7 keys (causal: the short ones see few keys or none).
    std::vector<int32_t> lq, lk;
    for (int b = 0; b < c.batch; ++b) {
      lq.push_back(b == 0 ? n : b == 1 ? 1 : n * 2 / 3 + 1);
      lk.push_back(b == 0 ? n : b == 1 ? 3 : n / 2 + 7);
    }
    makePacked(c, lq, lk);
  }
  if (info.dropout > 0) {
    c.seed = 0x1234567890abull;
    c.offset = 7;
  }
  return c;
}

TEST_P(ExampleTest, MatchesReference) {
  const std::string file = GetParam();
  const std::string path = examplesDir() + "/" + file;
  const std::string text = readText(path);
  ASSERT_FALSE(text.empty()) << "cannot read " << path;
  std::shared_ptr<Attention> attn = compileSpec(text, path);
  ASSERT_TRUE(attn);
  const KernelInfo &info = attn->info();
  std::printf("[    attnc ] %s: kernel %s %s d=%d tiles %dx%d, %d warps, %d "
              "stages, %lld B smem, %s\n",
              file.c_str(), info.kernelName.c_str(), info.target.c_str(),
              info.headDim, info.blockM, info.blockN, info.warps, info.stages,
              (long long)info.smemBytes, attn->provenance().c_str());
  const bool lse = returnsLse(text);

  // Many static heads: batch 1; otherwise b = 3, h = 5 (not powers of two).
  const bool manyHeads = info.qShape[1] >= 16;
  Case c = exampleCase(*attn, file, manyHeads ? 1 : 3, 5, 1100, lse);
  ASSERT_TRUE(runCase(*attn, c));

  // A window wider than the sequence is only causal: run one that is not.
  if (info.window && info.windowLeft < 8192) {
    Case w = exampleCase(*attn, file, 1, 2,
                         (int)(info.windowLeft + info.windowRight) + 300, lse);
    ASSERT_TRUE(runCase(*attn, w));
  }
}

std::string exampleName(const ::testing::TestParamInfo<std::string> &info) {
  std::string n = info.param.substr(0, info.param.size() - 5);
  for (char &ch : n)
    if (!isalnum((unsigned char)ch))
      ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleTest,
                         ::testing::ValuesIn(exampleFiles()), exampleName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ExampleTest);

/// Guards the sweep above: without the folder it would be empty.
class Examples : public GpuTest {};
TEST_F(Examples, FolderHasSpecs) {
  EXPECT_GE(exampleFiles().size(), 1u)
      << "no *.attn in " << examplesDir()
      << " (set ATTNC_EXAMPLES_DIR to the repository's examples/)";
}

} // namespace
