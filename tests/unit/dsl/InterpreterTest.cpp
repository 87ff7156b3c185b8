//===- InterpreterTest.cpp - evaluating specs on the CPU ------------------===//
#include "attnc/DSL/Interpreter.h"
#include "attnc/DSL/Sema.h"

#include "attn/Kernel/IntMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace attnc::dsl;

namespace {

/// Parses and analyzes `body` inside a block with the usual q, k, v.
ModuleAST analyze(const std::string &body,
                  const std::string &extraInputs = "") {
  static std::string source; // diagnostics refer to it
  source = "attention t {\n"
           "  q: f32[b, h, n, 64]\n  k: f32[b, h, m, 64]\n"
           "  v: f32[b, h, m, 64]\n" +
           extraInputs + body +
           "  p = softmax(s)\n  o = matmul(p, v)\n  return o\n}\n";
  DiagnosticEngine diags("t.attn", source);
  ModuleAST m;
  bool ok = parseAndAnalyze(source, "t.attn", diags, m);
  std::ostringstream os;
  diags.print(os);
  EXPECT_TRUE(ok) << os.str();
  return m;
}

std::string readExample(const std::string &name) {
  std::ifstream in(std::string(ATTNC_EXAMPLES_DIR) + "/" + name + ".attn");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST(Interpreter, ScaleOnQkLine) {
  ModuleAST m = analyze("  s = matmul(q, k^T) * rsqrt(64)\n");
  ASSERT_EQ(m.specs.size(), 1u);
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 8.0, 0, 0, 0, 0), 1.0);
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 8.0, 0, 0, 0, 0, false), 8.0);
}

TEST(Interpreter, SoftCap) {
  ModuleAST m = analyze("  s = matmul(q, k^T)\n  s = 30.0 * tanh(s / 30.0)\n");
  const AttentionSpecAST &spec = m.specs[0];
  for (double s : {-100.0, -1.0, 0.0, 2.5, 1000.0})
    EXPECT_DOUBLE_EQ(evalScoreMod(spec, s, 0, 0, 0, 0),
                     30.0 * std::tanh(s / 30.0));
}

TEST(Interpreter, AlibiExample) {
  std::string src = readExample("alibi");
  DiagnosticEngine diags("alibi.attn", src);
  ModuleAST m;
  ASSERT_TRUE(parseAndAnalyze(src, "alibi.attn", diags, m));
  const AttentionSpecAST &spec = m.specs[0];
  double scale = 1.0 / std::sqrt(128.0);
  for (long h : {0L, 3L, 15L}) {
    double slope = std::exp2(-8.0 * (h + 1) / 16.0);
    EXPECT_NEAR(evalScoreMod(spec, 2.0, 0, h, 10, 3), 2.0 * scale - slope * 7.0,
                1e-12);
  }
  MaskContext ctx;
  ctx.n = ctx.m = 16;
  EXPECT_TRUE(evalMask(spec, 0, 0, 5, 5, ctx));
  EXPECT_FALSE(evalMask(spec, 0, 0, 5, 6, ctx));
}

TEST(Interpreter, IntegerAndFloatArithmetic) {
  // `/` is float division; div() floors; % keeps the sign of the dividend.
  ModuleAST m =
      analyze("  s = matmul(q, k^T)\n"
              "  s = s + (q_idx - k_idx) / 2 + div(q_idx - k_idx, 2) * 10"
              " + (q_idx - k_idx) % 3 * 100\n");
  // q - k = -3: -1.5 + (-2 * 10) + (0 * 100)
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 0.0, 0, 0, 1, 4), -21.5);
  // q - k = -4: -2 + (-2 * 10) + (-1 * 100)
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 0.0, 0, 0, 1, 5), -122.0);
}

TEST(Interpreter, TernaryAndInf) {
  ModuleAST m =
      analyze("  s = matmul(q, k^T)\n  s = q_idx >= k_idx ? s : -inf\n");
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 3.0, 0, 0, 4, 2), 3.0);
  EXPECT_EQ(evalScoreMod(m.specs[0], 3.0, 0, 0, 2, 4), -INFINITY);
}

TEST(Interpreter, MasksAlignBottomRight) {
  ModuleAST m = analyze("  s = matmul(q, k^T)\n  s = mask(s, causal)\n");
  MaskContext ctx;
  ctx.n = 2, ctx.m = 5; // query 0 sees keys 0..3
  EXPECT_TRUE(evalMask(m.specs[0], 0, 0, 0, 3, ctx));
  EXPECT_FALSE(evalMask(m.specs[0], 0, 0, 0, 4, ctx));
  EXPECT_TRUE(evalMask(m.specs[0], 0, 0, 1, 4, ctx));
}

TEST(Interpreter, Window) {
  ModuleAST m = analyze("  s = matmul(q, k^T)\n  s = mask(s, window(2, 1))\n");
  MaskContext ctx;
  ctx.n = ctx.m = 10;
  for (long k = 0; k < 10; ++k)
    EXPECT_EQ(evalMask(m.specs[0], 0, 0, 5, k, ctx), k >= 3 && k <= 6) << k;
}

TEST(Interpreter, LengthsAndBlocks) {
  ModuleAST m = analyze(
      "  s = matmul(q, k^T)\n  s = mask(s, lengths(len), blocks(lay, 4, 2))\n",
      "  len: i32[b]\n  lay: i8[1, qb, kb]\n");
  int32_t lengths[] = {3, 8};
  MaskContext ctx;
  ctx.n = ctx.m = 8;
  ctx.kvLengths = lengths;
  ctx.numKvLengths = 2;
  ctx.layoutAt = [](long, long qb, long kb) { return qb == kb ? 1 : 0; };
  EXPECT_TRUE(evalMask(m.specs[0], 1, 0, 0, 1, ctx));  // block (0, 0)
  EXPECT_FALSE(evalMask(m.specs[0], 1, 0, 0, 2, ctx)); // block (0, 1)
  EXPECT_TRUE(evalMask(m.specs[0], 1, 0, 5, 2, ctx));  // block (1, 1)
  EXPECT_FALSE(evalMask(m.specs[0], 0, 0, 5, 3, ctx)); // k >= len[0]
}

TEST(Interpreter, CustomWhereExample) {
  std::string src = readExample("custom_mask");
  DiagnosticEngine diags("custom_mask.attn", src);
  ModuleAST m;
  ASSERT_TRUE(parseAndAnalyze(src, "custom_mask.attn", diags, m));
  const AttentionSpecAST &spec = m.specs[0];
  EXPECT_TRUE(evalWhere(spec, 0, 0, 1000, 2));    // a sink
  EXPECT_TRUE(evalWhere(spec, 0, 0, 1000, 600));  // same document, causal
  EXPECT_FALSE(evalWhere(spec, 0, 0, 1000, 400)); // earlier document
  EXPECT_FALSE(evalWhere(spec, 0, 0, 600, 601));  // future key
}

TEST(Interpreter, DivisionByZeroIsZero) {
  ModuleAST m = analyze(
      "  s = matmul(q, k^T)\n  s = s + div(q_idx, k_idx) + q_idx % k_idx\n");
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 1.0, 0, 0, 7, 0), 1.0);
}

// The integer semantics the interpreter and the generated kernels share
// (attn/Kernel/IntMath.h), including what C++ leaves undefined.
TEST(IntMath, FloorAndTruncatedDivision) {
  struct Case {
    long long a, b, floorDiv, floorMod, truncDiv, truncRem;
  } cases[] = {
      {7, 2, 3, 1, 3, 1},
      {-7, 2, -4, 1, -3, -1},
      {7, -2, -4, -1, -3, 1},
      {-7, -2, 3, -1, 3, -1},
      {6, 3, 2, 0, 2, 0},
      {-6, 3, -2, 0, -2, 0},
      {0, 5, 0, 0, 0, 0},
      {-1, 64, -1, 63, 0, -1},
      {5, 0, 0, 0, 0, 0},
      {-5, 0, 0, 0, 0, 0},
      {0, 0, 0, 0, 0, 0},
      {attn::kInt64Min, 0, 0, 0, 0, 0},
      {5, -1, -5, 0, -5, 0},
      {-5, -1, 5, 0, 5, 0},
      // INT64_MIN / -1 = 2^63 wraps to INT64_MIN; its remainder is 0.
      {attn::kInt64Min, -1, attn::kInt64Min, 0, attn::kInt64Min, 0},
      {attn::kInt64Min, 2, attn::kInt64Min / 2, 0, attn::kInt64Min / 2, 0},
      {attn::kInt64Min, 3, -3074457345618258603LL, 1, -3074457345618258602LL,
       -2},
      {9223372036854775807LL, -1, -9223372036854775807LL, 0,
       -9223372036854775807LL, 0},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(std::to_string(c.a) + " by " + std::to_string(c.b));
    EXPECT_EQ(attn::floorDiv(c.a, c.b), c.floorDiv);
    EXPECT_EQ(attn::floorMod(c.a, c.b), c.floorMod);
    EXPECT_EQ(attn::truncDiv(c.a, c.b), c.truncDiv);
    EXPECT_EQ(attn::truncRem(c.a, c.b), c.truncRem);
    if (c.b != 0 && !(c.a == attn::kInt64Min && c.b == -1)) {
      // a = b * q + r for both pairs where the quotient is representable.
      // (in the wrapping arithmetic the DSL defines, so the check itself
      // has no signed overflow)
      EXPECT_EQ(attn::wrapAdd(attn::wrapMul(c.b, c.floorDiv), c.floorMod), c.a);
      EXPECT_EQ(attn::wrapAdd(attn::wrapMul(c.b, c.truncDiv), c.truncRem), c.a);
    }
  }
}

TEST(IntMath, WrapsInsteadOfOverflowing) {
  constexpr long long kMax = 9223372036854775807LL;
  EXPECT_EQ(attn::wrapAdd(kMax, 1), attn::kInt64Min);
  EXPECT_EQ(attn::wrapSub(attn::kInt64Min, 1), kMax);
  EXPECT_EQ(attn::wrapMul(attn::kInt64Min, -1), attn::kInt64Min);
  EXPECT_EQ(attn::wrapMul(1LL << 32, 1LL << 32), 0);
  EXPECT_EQ(attn::wrapNeg(attn::kInt64Min), attn::kInt64Min);
  EXPECT_EQ(attn::wrapNeg(-3), 3);
  // Usable in constant expressions (and so folded by nvcc for constants).
  static_assert(attn::floorDiv(-7, 2) == -4 && attn::truncRem(-7, 2) == -1);
}

TEST(Interpreter, IntegerSemanticsAreIntMath) {
  // big = 2^63 wraps to INT64_MIN; q_idx - k_idx = -1 at (q, k) = (0, 1).
  ModuleAST m = analyze(
      "  s = matmul(q, k^T)\n"
      "  s = s + div(1024 * 1024 * 1024 * 1024 * 1024 * 1024 * 8, q_idx - "
      "k_idx) + (1024 * 1024 * 1024 * 1024 * 1024 * 1024 * 8) % (q_idx - "
      "k_idx)\n");
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 0.0, 0, 0, 0, 1),
                   static_cast<double>(attn::kInt64Min));
  // Negative operands: div floors, % keeps the sign of the dividend.
  ModuleAST n = analyze("  s = matmul(q, k^T)\n"
                        "  s = s + div(q_idx - k_idx, 4) * 100 + (q_idx - "
                        "k_idx) % 4 + div(q_idx, -3) * 10000\n");
  // q - k = -5: -2 * 100 + -1; div(1, -3) = -1
  EXPECT_DOUBLE_EQ(evalScoreMod(n.specs[0], 0.0, 0, 0, 1, 6), -10201.0);
  // A divisor that is zero at run time gives 0 for both.
  EXPECT_DOUBLE_EQ(evalScoreMod(m.specs[0], 0.0, 0, 0, 3, 3), 0.0);
}

TEST(Interpreter, TablesAreReadWithClampedIndices) {
  ModuleAST m = analyze(
      "  s = matmul(q, k^T)\n"
      "  s = s + rel[h, clamp(q_idx - k_idx + 2, 0, 4)] - slope[h]\n"
      "  s = mask(s, where(doc[b, q_idx] == doc[b, k_idx]))\n",
      "  slope: f32[h]\n  rel: f32[h, 5]\n  doc: i32[b, n]\n");
  ASSERT_EQ(m.specs.size(), 1u);
  const AttentionSpecAST &spec = m.specs[0];
  // Declaration order: slope, rel, doc.
  ASSERT_EQ(spec.tables.size(), 3u);
  EXPECT_EQ(spec.inputs[spec.tables[0]].name, "slope");
  EXPECT_EQ(spec.inputs[spec.tables[2]].name, "doc");
  Tables t(3);
  t[0] = {{0.5, 1.5}, {2}};
  t[1] = {{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}, {2, 5}};
  t[2] = {{7, 7, 8, 8}, {1, 4}};
  // h = 1: rel row 1, slope 1.5; q - k + 2 = 3 -> 13.
  EXPECT_DOUBLE_EQ(evalScoreMod(spec, 1.0, 0, 1, 2, 1, true, &t),
                   1.0 + 13.0 - 1.5);
  // q - k + 2 = -3 clamps (by the spec) to 0; h = 0.
  EXPECT_DOUBLE_EQ(evalScoreMod(spec, 0.0, 0, 0, 0, 5, true, &t), 0.0 - 0.5);
  // An index past a table is clamped into it: h = 9 reads row 1.
  EXPECT_DOUBLE_EQ(evalScoreMod(spec, 0.0, 0, 9, 2, 2, true, &t),
                   12.0 - 1.5);
  // doc ids: queries 0, 1 in document 7, 2, 3 in document 8.
  EXPECT_TRUE(evalWhere(spec, 0, 0, 0, 1, &t));
  EXPECT_FALSE(evalWhere(spec, 0, 0, 1, 2, &t));
  EXPECT_TRUE(evalWhere(spec, 0, 0, 3, 2, &t));
  // Without the tables a table element is NaN (never a silent value).
  EXPECT_TRUE(std::isnan(evalScoreMod(spec, 1.0, 0, 1, 2, 1)));
}
