//===- ReportTest.cpp - the --report table --------------------------------===//
#include "attn/Model/Report.h"

#include "gtest/gtest.h"

using namespace mlir::attn::model;

TEST(Report, SmallCausalCase) {
  AttentionProblem p;
  p.seqQ = 100;
  p.seqK = 160;
  p.headDim = p.headDimV = 32;
  p.causal = true;
  std::string r =
      formatReport("small", *lookupTarget("sm_90a"), p, {64, 64, 4, 1});
  // Figures as in IoModel.SmallCausalHandComputed.
  const char *expected[] = {
      "kernel:        small\n",
      "target:        sm_90a (H100 SXM5 80GB, 132 SMs); HBM 3.00 TB/s "
      "measured copy\n",
      "problem:       batch 1, heads 1/1, seq 100 x 160, head dim 32/32, 2 B, "
      "causal\n",
      // paper: M = 232448 / 2 = 116224; Bc = ceil(116224 / 128) = 908;
      // Br = min(908, 32) = 32.
      "tiles:         block_m 64, block_n 64, warps 4, stages 1 (paper: Br "
      "32, Bc 908)\n",
      // (64*32 + 64*64) * 2 = 12288; 12288 / 232448 = 5.3%
      "sram:          12288 B of 232448 B budget (5.3%)\n",
      "hbm read:      tiled 43264 B (0.04 MiB), L2-aware 26880 B (0.03 MiB); "
      "unfused 154880 B (0.15 MiB); unfused/tiled 3.58x\n",
      "hbm written:   tiled 6800 B (0.01 MiB); unfused 102800 B (0.10 MiB); "
      "unfused/tiled 15.12x\n",
      "flops:         useful 1.414e+06, executed 2.621e+06 (69.06% unmasked; "
      "5.0 of 6 blocks per head)\n",
  };
  for (const char *line : expected)
    EXPECT_NE(r.find(line), std::string::npos) << line << "\nin:\n" << r;
}

TEST(Report, NamesTheBound) {
  AttentionProblem p;
  p.batch = 2;
  p.headsQ = p.headsKV = 16;
  p.seqQ = p.seqK = 8192;
  p.headDim = p.headDimV = 128;
  std::string r =
      formatReport("fwd", *lookupTarget("sm_90a"), p, {128, 64, 4, 2});
  EXPECT_NE(r.find("sram:          98304 B of 232448 B budget (42.3%)\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("registers:     ~240 per thread (estimate)\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("ctas per sm:   2 (smem 2, regs 2, threads 16)\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("(compute), unfused"), std::string::npos) << r;
  EXPECT_NE(r.find("(memory); at 3.00 TB/s, 660.0 TFLOP/s\n"),
            std::string::npos)
      << r;
}

TEST(Report, NamesThePartAndItsBandwidth) {
  AttentionProblem p;
  p.seqQ = p.seqK = 8192;
  p.headDim = p.headDimV = 128;
  std::string r =
      formatReport("fwd", *lookupTarget("sm_90a", "H200"), p, {128, 64, 4, 2});
  EXPECT_NE(r.find("target:        sm_90a (H200 SXM 141GB, 132 SMs); HBM "
                   "4.30 TB/s measured copy\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("; at 4.30 TB/s, 660.0 TFLOP/s\n"), std::string::npos) << r;
  // A part without a measurement says the figure is assumed.
  r = formatReport("fwd", *lookupTarget("sm_80"), p, {128, 64, 4, 2});
  EXPECT_NE(r.find("target:        sm_80 (A100 SXM4 80GB, 108 SMs); HBM 1.84 "
                   "TB/s assumed 90% of spec\n"),
            std::string::npos)
      << r;
}

TEST(Report, SaysWhenTilesDoNotFit) {
  AttentionProblem p;
  p.seqQ = p.seqK = 1024;
  p.headDim = p.headDimV = 256;
  std::string r =
      formatReport("big", *lookupTarget("sm_86"), p, {128, 128, 8, 2});
  EXPECT_NE(r.find("does not fit: 128x128 w8 s2 needs 327680 B of shared "
                   "memory; opt-in limit 101376 B (sm_86)"),
            std::string::npos)
      << r;
}
