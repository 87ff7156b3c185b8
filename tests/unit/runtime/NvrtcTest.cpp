//===- NvrtcTest.cpp - NVRTC compiles without a GPU -----------------------===//
#include "attnc/Nvrtc.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace attnc;

namespace {

const char *kParamsKernel = R"(#include "attn/Kernel/Params.h"
extern "C" __global__ void scale_o(attnc::FwdParams p) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < p.seqQ)
    static_cast<float *>(p.o)[i] = p.scale * i;
}
)";

bool isElf(const std::vector<char> &image) {
  return image.size() > 4 && std::memcmp(image.data(),
                                         "\x7f"
                                         "ELF",
                                         4) == 0;
}

} // namespace

TEST(Nvrtc, Version) {
  auto v = nvrtcVersion();
  EXPECT_GE(v.first, 12);
  EXPECT_EQ(nvrtcVersionString(),
            std::to_string(v.first) + "." + std::to_string(v.second));
}

TEST(Nvrtc, EmbeddedHeadersMatchTheSourceTree) {
  auto headers = embeddedHeaders();
  bool sawParams = false, sawRandom = false;
  for (const EmbeddedHeader &h : headers) {
    // Device templates under codegen/device, the kernel contract under
    // dialects/include, the runtime's own kernel code under runtime/device.
    std::string name = h.name;
    std::string root = name.rfind("attn/", 0) == 0 ? ATTNC_TEST_CONTRACT_DIR
                       : name.rfind("attnc/rt/", 0) == 0
                           ? ATTNC_TEST_RUNTIME_DEVICE_DIR
                           : ATTNC_TEST_DEVICE_DIR;
    std::string onDisk = test::readFile(root + "/" + name);
    EXPECT_EQ(std::string(h.contents, h.size), onDisk) << h.name;
    EXPECT_EQ(std::strlen(h.contents), h.size) << h.name;
    sawParams |= std::string(h.name) == "attn/Kernel/Params.h";
    sawRandom |= std::string(h.name) == "attnc/rt/RandomNormal.h";
  }
  EXPECT_TRUE(sawParams);
  EXPECT_TRUE(sawRandom);
  EXPECT_EQ(embeddedHeadersDigest().size(), 64u);
}

TEST(Nvrtc, OptionList) {
  NvrtcOptions opts;
  opts.arch = "sm_90a";
  opts.lineInfo = true;
  opts.extraOptions = {"-DFOO=1"};
  auto list = nvrtcOptionList(opts);
  ASSERT_TRUE(list) << list.error().str();
  ASSERT_GE(list->size(), 6u);
  EXPECT_EQ((*list)[0], "--std=c++17");
  EXPECT_EQ((*list)[1], "--gpu-architecture=sm_90a");
  EXPECT_EQ((*list)[2], "-default-device");
  EXPECT_EQ((*list)[3].rfind("--include-path=", 0), 0u);
  EXPECT_EQ(list->back(), "-DFOO=1");
  EXPECT_NE(std::find(list->begin(), list->end(), "-lineinfo"), list->end());

  opts.arch = "gfx90a";
  auto bad = nvrtcOptionList(opts);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("bad GPU architecture 'gfx90a'"),
            std::string::npos);
}

TEST(Nvrtc, ToolkitFromCudaHome) {
  test::TempDir fake;
  ASSERT_EQ(mkdir((fake.path() + "/include").c_str(), 0755), 0);
  test::writeFile(fake.path() + "/include/cuda_fp16.h", "// fake\n");
  {
    test::ScopedEnv home("CUDA_HOME", fake.path().c_str());
    auto dir = cudaToolkitIncludeDir();
    ASSERT_TRUE(dir);
    EXPECT_EQ(*dir, fake.path() + "/include");
  }
  {
    // A CUDA_HOME without headers is skipped; CUDA_PATH is next.
    test::ScopedEnv home("CUDA_HOME", "/nonexistent-cuda");
    test::ScopedEnv path("CUDA_PATH", fake.path().c_str());
    auto dir = cudaToolkitIncludeDir();
    ASSERT_TRUE(dir);
    EXPECT_EQ(*dir, fake.path() + "/include");
  }
}

TEST(Nvrtc, CompilesParamsKernelForSm80) {
  NvrtcOptions opts;
  opts.arch = "sm_80";
  auto out = compileCuda(kParamsKernel, opts);
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_NE(out->ptx.find(".entry scale_o"), std::string::npos);
  EXPECT_NE(out->ptx.find(".target sm_80"), std::string::npos);
  EXPECT_FALSE(out->ptx.empty());
  EXPECT_NE(out->ptx.back(), '\0');
  EXPECT_TRUE(isElf(out->cubin));
  EXPECT_GT(out->compileMs, 0.0);
  EXPECT_EQ(out->options[1], "--gpu-architecture=sm_80");
}

TEST(Nvrtc, CompilesParamsKernelForSm90a) {
  NvrtcOptions opts;
  opts.arch = "sm_90a";
  opts.lineInfo = true;
  auto out = compileCuda(kParamsKernel, opts);
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_NE(out->ptx.find(".target sm_90a"), std::string::npos);
  EXPECT_TRUE(isElf(out->cubin));
}

TEST(Nvrtc, VirtualArchGivesPtxOnly) {
  NvrtcOptions opts;
  opts.arch = "compute_80";
  auto out = compileCuda(kParamsKernel, opts);
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_NE(out->ptx.find(".entry scale_o"), std::string::npos);
  EXPECT_TRUE(out->cubin.empty());
  EXPECT_FALSE(isRealArch("compute_80"));
  EXPECT_TRUE(isRealArch("sm_100a"));
}

TEST(Nvrtc, LoweredNames) {
  NvrtcOptions opts;
  opts.nameExpressions = {"twice<float>"};
  auto out = compileCuda(
      "template <typename T> __global__ void twice(T *x) { x[0] *= 2; }\n",
      opts);
  ASSERT_TRUE(out) << out.error().str();
  ASSERT_EQ(out->loweredNames.count("twice<float>"), 1u);
  EXPECT_EQ(out->loweredNames["twice<float>"].rfind("_Z", 0), 0u);
}

TEST(Nvrtc, CompileErrorHasOptionsLogAndNumberedSource) {
  NvrtcOptions opts;
  opts.programName = "broken.cu";
  auto out =
      compileCuda("#include \"attn/Kernel/Params.h\"\n"
                  "extern \"C\" __global__ void k(attnc::FwdParams p) {\n"
                  "  int x = p.nonexistentField;\n"
                  "}\n",
                  opts);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ErrorCode::Compile);
  const std::string &m = out.error().message();
  EXPECT_NE(m.find("failed to compile broken.cu"), std::string::npos) << m;
  EXPECT_NE(m.find("options: --std=c++17 --gpu-architecture=sm_80"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("log:\nbroken.cu(3)"), std::string::npos) << m;
  EXPECT_NE(m.find("nonexistentField"), std::string::npos) << m;
  EXPECT_NE(m.find("source:\n    1 | #include \"attn/Kernel/Params.h\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("    3 |   int x = p.nonexistentField;"), std::string::npos)
      << m;
}

TEST(Nvrtc, WarningsAreReportedAndCanBeErrors) {
  const char *src = "extern \"C\" __global__ void k(float *x) {\n"
                    "  int unused;\n"
                    "  x[0] = 1.0f;\n"
                    "}\n";
  NvrtcOptions opts;
  auto out = compileCuda(src, opts);
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_TRUE(out->hasWarnings) << out->log;
  EXPECT_NE(out->log.find("warning"), std::string::npos);

  opts.warningsAsErrors = true;
  auto strict = compileCuda(src, opts);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code(), ErrorCode::Compile);
  EXPECT_NE(strict.error().message().find("warnings are errors"),
            std::string::npos);
  EXPECT_NE(strict.error().message().find("    2 |   int unused;"),
            std::string::npos);
}

TEST(Nvrtc, NumberSourceLines) {
  EXPECT_EQ(numberSourceLines("a\nb\n"), "    1 | a\n    2 | b\n");
  EXPECT_EQ(numberSourceLines("x"), "    1 | x\n");
}
