//===- FrontEndTest.cpp - parser, sema and diagnostics --------------------===//
#include "attnc/DSL/Builtins.h"
#include "attnc/DSL/Sema.h"

#include <gtest/gtest.h>

#include <fstream>
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

// The builtin table is the one definition: docs/dsl.md lists exactly its
// rows, and Sema types and checks every call by it.
namespace {
std::string typingText(BuiltinTyping t) {
  switch (t) {
  case BuiltinTyping::Float:
    return "float";
  case BuiltinTyping::Numeric:
    return "integer if every argument is, else float";
  case BuiltinTyping::Int:
    return "integer (integer arguments)";
  case BuiltinTyping::Choice:
    return "the type of the branches";
  }
  return "?";
}

/// `NAME(args)` with `n` arguments a builtin of this typing accepts.
std::string sampleCall(const BuiltinInfo &b, unsigned n) {
  std::string s = std::string(b.name) + "(";
  for (unsigned i = 0; i < n; ++i)
    s += (i ? ", " : "") +
         std::string(b.typing == BuiltinTyping::Choice && i == 0
                         ? "q_idx < k_idx"
                         : "3");
  return s + ")";
}
} // namespace

TEST(Builtins, DocsListTheTable) {
  std::ifstream in(std::string(ATTNC_DOCS_DIR) + "/dsl.md");
  ASSERT_TRUE(in) << "cannot read docs/dsl.md";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string docs = ss.str();
  size_t rows = 0;
  for (const BuiltinInfo &b : allBuiltins()) {
    std::string meaning = b.meaning;
    size_t colon = meaning.find(": ");
    ASSERT_NE(colon, std::string::npos) << meaning;
    std::string call = meaning.substr(0, colon), what;
    for (char c : meaning.substr(colon + 2))
      what += c == '|' ? std::string("\\|") : std::string(1, c);
    EXPECT_EQ(call.substr(0, call.find('(')), b.name);
    std::string row =
        "| `" + call + "` | " + what + " | " + typingText(b.typing) + " |";
    EXPECT_NE(docs.find(row), std::string::npos)
        << "docs/dsl.md lacks the row\n"
        << row;
    EXPECT_EQ(lookupBuiltin(b.name), &b);
    EXPECT_EQ(&builtinInfo(b.id), &b);
    ++rows;
  }
  // No documented builtin is missing from the table.
  size_t start = docs.find("| Call | Computes | Result |");
  ASSERT_NE(start, std::string::npos);
  size_t end = docs.find("\n\n", start);
  std::string table = docs.substr(start, end - start);
  size_t documented = 0;
  for (size_t at = table.find("\n| `"); at != std::string::npos;
       at = table.find("\n| `", at + 1))
    ++documented;
  EXPECT_EQ(documented, rows);
}

TEST(Builtins, SemaChecksArityAndTypesFromTheTable) {
  for (const BuiltinInfo &b : allBuiltins()) {
    SCOPED_TRACE(b.name);
    auto spec = [&](const std::string &call) {
      return std::string("attention a {\n  q: f32[b, h, n, 64]\n"
                         "  k: f32[b, h, m, 64]\n  v: f32[b, h, m, 64]\n"
                         "  s = matmul(q, k^T)\n  s = s + ") +
             call + "\n  p = softmax(s)\n  o = matmul(p, v)\n  return o\n}\n";
    };
    Result good = run(spec(sampleCall(b, b.arity)));
    EXPECT_TRUE(good.ok) << good.errors;
    Result bad = run(spec(sampleCall(b, b.arity + 1)));
    EXPECT_FALSE(bad.ok);
    EXPECT_NE(bad.errors.find("t.attn:6:11: error: '" + std::string(b.name) +
                              "' takes " + std::to_string(b.arity)),
              std::string::npos)
        << bad.errors;
  }
}

TEST(Builtins, TypoSuggestions) {
  ASSERT_NE(suggestBuiltin("tanhh"), nullptr);
  EXPECT_STREQ(suggestBuiltin("tanhh")->name, "tanh");
  EXPECT_STREQ(suggestBuiltin("sigmod")->name, "sigmoid");
  EXPECT_EQ(suggestBuiltin("mix"), nullptr); // not 'min'
  EXPECT_EQ(suggestBuiltin(std::string(1000, 'x')), nullptr);
}
