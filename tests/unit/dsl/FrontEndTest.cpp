//===- FrontEndTest.cpp - parser, sema and diagnostics --------------------===//
#include "attnc/DSL/Sema.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

using namespace attnc::dsl;

namespace {
struct Result {
  bool ok;
  std::string errors;
  ModuleAST module;
};

Result run(const std::string &src) {
  static std::string keep;
  keep = src;
  DiagnosticEngine diags("t.attn", keep);
  Result r;
  r.ok = parseAndAnalyze(keep, "t.attn", diags, r.module);
  std::ostringstream os;
  diags.print(os);
  r.errors = os.str();
  return r;
}

const char *kGood = "attention a {\n"
                    "  q: bf16[b, 8, n, 128]\n  k: bf16[b, 2, m, 128]\n"
                    "  v: bf16[b, 2, m, 64]\n"
                    "  s = matmul(q, k^T) * rsqrt(128)\n"
                    "  s = mask(s, causal, window(8, 0))\n"
                    "  p = softmax(s)\n  p = dropout(p, 0.25)\n"
                    "  o = matmul(p, v)\n  return o, logsumexp\n}\n";
} // namespace

TEST(FrontEnd, ChainOfAGoodSpec) {
  Result r = run(kGood);
  ASSERT_TRUE(r.ok) << r.errors;
  const AttentionSpecAST &s = r.module.specs[0];
  ASSERT_EQ(s.steps.size(), 6u);
  EXPECT_EQ(s.steps[0].kind, ChainStep::QK);
  EXPECT_TRUE(s.steps[0].hasScale);
  EXPECT_EQ(s.steps[1].mask, MaskKind::Causal);
  EXPECT_EQ(s.steps[2].mask, MaskKind::Window);
  EXPECT_EQ(s.steps[2].windowLeft, 8);
  EXPECT_EQ(s.steps[4].kind, ChainStep::Dropout);
  EXPECT_DOUBLE_EQ(s.steps[4].dropout, 0.25);
  EXPECT_TRUE(s.returnsLogSumExp);
  // Implicit seed and offset follow the declared inputs.
  ASSERT_EQ(s.inputs.size(), 5u);
  EXPECT_EQ(s.inputs[3].name, "seed");
  EXPECT_TRUE(s.inputs[3].implicit);
  EXPECT_EQ(s.inputs[4].role, InputRole::Offset);
  EXPECT_EQ(s.headDim(), 128);
}

TEST(FrontEnd, ErrorFormat) {
  Result r =
      run("attention a {\n  q: bf16[b, h, n, 64]\n  s = matmul(q, k^T)\n}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("t.attn:3:17: error: unknown identifier 'k'\n"
                          "  s = matmul(q, k^T)\n"
                          "                ^\n"),
            std::string::npos)
      << r.errors;
}

TEST(FrontEnd, RecoversAtStatements) {
  Result r =
      run("attention a {\n  q: bf16[b, h, n, 64] @\n  k: bf16[b, h, m, 64\n"
          "  v = = 2\n}\nattention b { x }\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("t.attn:2:24:"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("t.attn:4:3:"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("t.attn:4:7:"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("t.attn:6:17:"), std::string::npos) << r.errors;
}

TEST(FrontEnd, DeepNestingIsAnErrorNotACrash) {
  std::string deep =
      "attention a {\n  s = " + std::string(100000, '(') + "\n}\n";
  Result r = run(deep);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("nested too deeply"), std::string::npos);
  std::string unary =
      "attention a {\n  s = " + std::string(100000, '-') + "1\n}\n";
  EXPECT_NE(run(unary).errors.find("nested too deeply"), std::string::npos);
  std::string chain = "attention a {\n  s = 1";
  for (int i = 0; i < 100000; ++i)
    chain += "+1";
  EXPECT_NE(run(chain + "\n}\n").errors.find("nested too deeply"),
            std::string::npos);
}

TEST(FrontEnd, ErrorCountIsCapped) {
  std::string many = "attention a {\n";
  for (int i = 0; i < 1000; ++i)
    many += "  $\n";
  many += "}\n";
  Result r = run(many);
  EXPECT_NE(r.errors.find("too many errors; stopping after 50"),
            std::string::npos);
  EXPECT_LT(r.errors.size(), 20000u);
}

TEST(FrontEnd, EmptyAndBinary) {
  EXPECT_NE(run("").errors.find("t.attn:1:1: error: no attention block"),
            std::string::npos);
  EXPECT_NE(run(std::string("attention \xc0\x80", 12))
                .errors.find("invalid UTF-8 (byte 0xC0)"),
            std::string::npos);
}
