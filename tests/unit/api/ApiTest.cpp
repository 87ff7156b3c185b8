// The one driver behind attnc compile and the C++ API: both see every
// attention block of a spec, the API refuses to guess which one to load,
// and targets resolve to an arch plus a part.
#include "attnc/Driver/Driver.h"
#include "attnc/attnc.h"

#include "gtest/gtest.h"

#include <string>

using namespace attnc;

namespace {

const char *kTwoBlocks = R"(attention first {
  q: bf16[b, h, n, 64]
  k: bf16[b, h, m, 64]
  v: bf16[b, h, m, 64]
  s = matmul(q, k^T) * rsqrt(64)
  p = softmax(s)
  o = matmul(p, v)
  return o
}
attention second {
  q: f16[b, h, n, 128]
  k: f16[b, h, m, 128]
  v: f16[b, h, m, 128]
  s = matmul(q, k^T) * rsqrt(128)
  s = mask(s, causal)
  p = softmax(s)
  o = matmul(p, v)
  return o, logsumexp
}
)";

mlir::attn::model::TargetInfo sm90a() {
  return *mlir::attn::model::lookupTarget("sm_90a");
}

TEST(Driver, CompilesEveryBlockOfASpec) {
  CompileOptions options;
  SpecCompilation out;
  std::string diag;
  llvm::raw_string_ostream errs(diag);
  ASSERT_TRUE(compileSpec(kTwoBlocks, "two.attn", options, sm90a(), out, errs))
      << diag;
  ASSERT_EQ(out.kernels.size(), 2u);
  EXPECT_EQ(out.kernels[0].info.specName, "first");
  EXPECT_EQ(out.kernels[1].info.specName, "second");
  for (const KernelSource &k : out.kernels) {
    EXPECT_EQ(k.info.family, "fwd.mma_sync");
    EXPECT_NE(k.source.find("// family: fwd.mma_sync"), std::string::npos);
  }
  EXPECT_EQ(out.kernels[1].info.blockSkip, "causal");
}

TEST(Driver, CompilesOnlyTheNamedBlock) {
  CompileOptions options;
  options.kernel = "second";
  SpecCompilation out;
  std::string diag;
  llvm::raw_string_ostream errs(diag);
  ASSERT_TRUE(compileSpec(kTwoBlocks, "two.attn", options, sm90a(), out, errs))
      << diag;
  ASSERT_EQ(out.kernels.size(), 1u);
  EXPECT_EQ(out.kernels[0].info.specName, "second");
}

TEST(Api, RefusesToGuessAmongSeveralBlocks) {
  CompileOptions options;
  options.target = "sm_90a";
  auto r = attnc::compile(kTwoBlocks, options, "two.attn");
  ASSERT_FALSE(r.hasValue());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("2 attention blocks ('first', 'second')"),
            std::string::npos)
      << r.error().str();
  EXPECT_NE(r.error().message().find("CompileOptions::kernel"),
            std::string::npos);
}

TEST(Api, NamedBlockGetsPastTheCompiler) {
  CompileOptions options;
  options.target = "sm_90a";
  options.kernel = "second";
  options.noDiskCache = true;
  auto r = attnc::compile(kTwoBlocks, options, "two.attn");
  // Without a GPU the load fails (no driver or no device); with one it
  // loads. Either way the spec itself was accepted.
  if (!r.hasValue())
    EXPECT_NE(r.error().code(), ErrorCode::InvalidArgument) << r.error().str();
  else
    EXPECT_EQ((*r)->info().specName, "second");
}

TEST(Targets, NamedArchWithoutPartIsItsDefaultPart) {
  CompileOptions options;
  options.target = "sm_80";
  std::string remark;
  auto t = resolveTarget(options, &remark);
  ASSERT_TRUE(t.hasValue()) << t.error().str();
  EXPECT_EQ(t->name, "sm_80");
  EXPECT_FALSE(t->part.empty());
  EXPECT_FALSE(remark.empty());
}

TEST(Targets, UnknownArchAndPartAreErrors) {
  CompileOptions options;
  options.target = "sm_70";
  auto t = resolveTarget(options, nullptr);
  ASSERT_FALSE(t.hasValue());
  EXPECT_EQ(t.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(t.error().message().find("unknown target 'sm_70'"),
            std::string::npos);
  options.target = "sm_90a";
  options.part = "Z9000";
  t = resolveTarget(options, nullptr);
  ASSERT_FALSE(t.hasValue());
  EXPECT_NE(t.error().message().find("unknown part 'Z9000'"),
            std::string::npos)
      << t.error().str();
}

TEST(Targets, FallbackArchWithoutDevice) {
  // With no target and no GPU, the CLI falls back to its default arch; the
  // API (no fallback) reports why there is no target.
  CompileOptions options;
  if (resolveTarget(options, nullptr).hasValue())
    GTEST_SKIP() << "a GPU is present; the no-device path is not reachable";
  auto cli = resolveTarget(options, nullptr, kDefaultTarget);
  ASSERT_TRUE(cli.hasValue()) << cli.error().str();
  EXPECT_EQ(cli->name, kDefaultTarget);
  auto api = resolveTarget(options, nullptr);
  ASSERT_FALSE(api.hasValue());
  EXPECT_NE(api.error().message().find("no target given and no GPU"),
            std::string::npos);
}

} // namespace
