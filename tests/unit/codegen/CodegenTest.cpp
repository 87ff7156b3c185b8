//===- CodegenTest.cpp - every example through the compiler and NVRTC -----===//
//
// For each examples/*.attn and each target: front end, passes, CUDA emission,
// then NVRTC to PTX and CUBIN with warnings as errors. The generated source
// static_asserts that the kernel's shared memory equals the SRAM model's
// figure, so a disagreement fails here. ptxas's report (registers, spills)
// is checked too: no local-memory spills.
//
//===----------------------------------------------------------------------===//
#include "attn/Model/SramModel.h"
#include "attn/Model/Target.h"
#include "attnc/Driver/Driver.h"
#include "attnc/Nvrtc.h"

#include "llvm/Support/raw_ostream.h"
#include <gtest/gtest.h>

#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <regex>
#include <sstream>

using namespace attnc;

namespace {

std::vector<std::string> exampleFiles() {
  std::vector<std::string> files;
  if (DIR *d = opendir(ATTNC_EXAMPLES_DIR)) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".attn")
        files.push_back(n);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Case {
  std::string file, target;
  std::string family; // "": the default (fwd.mma_sync)
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.file << " for " << c.target
      << (c.family.empty() ? "" : " (" + c.family + ")");
}

class ExampleCodegen : public ::testing::TestWithParam<Case> {};

TEST_P(ExampleCodegen, CompilesWithNvrtc) {
  const Case &c = GetParam();
  std::string path = std::string(ATTNC_EXAMPLES_DIR) + "/" + c.file;
  std::string source = readFile(path);
  ASSERT_FALSE(source.empty()) << path;
  CompileOptions options;
  options.target = c.target;
  options.tiles.family = c.family;
  auto resolved = mlir::attn::model::lookupTarget(c.target);
  ASSERT_TRUE(resolved.has_value());
  SpecCompilation out;
  std::string diag;
  llvm::raw_string_ostream errs(diag);
  // f32 attention tensors: three dimensions or more (f32[h] sinks and
  // f32[h, 257] tables are not the dtype).
  const bool f32 = std::regex_search(
      source, std::regex(R"(:\s*f32\[[^\],]*,[^\],]*,[^\]]*\])"));
  if (c.family == "fwd.split_kv" && f32) {
    // f32 has no split-KV kernel: a clear error naming the family.
    EXPECT_FALSE(compileSpec(source, path, options, *resolved, out, errs));
    EXPECT_NE(diag.find("fwd.split_kv: element size 4 B"), std::string::npos)
        << diag;
    return;
  }
  if (c.family == "fwd.split_kv" &&
      source.find("packed(") != std::string::npos) {
    // Packed sequences run on the prefill family only: a clear error
    // (the family lacks the feature, attn/Model/KernelFamily.h).
    EXPECT_FALSE(compileSpec(source, path, options, *resolved, out, errs));
    EXPECT_NE(diag.find("fwd.split_kv: does not support packed sequences"),
              std::string::npos)
        << diag;
    return;
  }
  ASSERT_TRUE(compileSpec(source, path, options, *resolved, out, errs)) << diag;
  ASSERT_FALSE(out.kernels.empty());
  for (const KernelSource &k : out.kernels) {
    // The SRAM model's figure is what the kernel declares (the static_assert
    // in the source makes NVRTC check it) and fits the target.
    auto target = mlir::attn::model::lookupTarget(c.target);
    ASSERT_TRUE(target.has_value());
    mlir::attn::model::KernelShape shape{k.info.headDim, k.info.headDimV,
                                         elementBytes(k.info.element), true};
    mlir::attn::model::TileConfig tile{k.info.blockM, k.info.blockN,
                                       k.info.warps, k.info.stages};
    const mlir::attn::model::KernelFamily *family =
        mlir::attn::model::lookupFamily(k.info.family);
    ASSERT_NE(family, nullptr) << k.info.family;
    EXPECT_EQ(k.info.smemBytes,
              mlir::attn::model::smemBytes(*family, shape, tile));
    EXPECT_LE(k.info.smemBytes, target->smemOptinPerBlockBytes);
    EXPECT_NE(k.source.find("static_assert(attnc::FwdTraits<"),
              std::string::npos);

    NvrtcOptions nv;
    nv.arch = c.target;
    nv.warningsAsErrors = true;
    nv.programName = k.info.specName + ".cu";
    nv.extraOptions = {"--ptxas-options=-v"};
    Expected<NvrtcOutput> r = compileCuda(k.source, nv);
    ASSERT_TRUE(r.hasValue()) << r.error().str();
    EXPECT_FALSE(r->ptx.empty());
    EXPECT_FALSE(r->cubin.empty());
    // ptxas: "Used N registers, ..." and "N bytes spill stores". The
    // register model is an estimate; it must not promise more headroom than
    // ptxas finds (within 48 registers) and the kernel may not exceed 255.
    // Spills: the feature-heavy specs spill a few hundred bytes to local
    // memory (L1-resident); more than 512 B would mean the tiles are wrong.
    // ptxas reports each entry function; the main kernel's report runs
    // from its name to the next function's.
    std::string log = r->log;
    {
      size_t at = log.find("'" + k.info.kernelName + "'");
      ASSERT_NE(at, std::string::npos) << "no ptxas report:\n" << log;
      size_t next = log.find("Compiling entry function", at);
      log = log.substr(at, next == std::string::npos ? std::string::npos
                                                     : next - at);
    }
    if (!k.info.combineKernelName.empty())
      EXPECT_NE(r->log.find("'" + k.info.combineKernelName + "'"),
                std::string::npos)
          << "the combine kernel is missing:\n" << r->log;
    std::smatch m;
    std::regex spill("([0-9]+) bytes spill stores");
    for (std::sregex_iterator it(log.begin(), log.end(), spill), end;
         it != end; ++it) {
      int bytes = std::stoi((*it)[1].str());
      EXPECT_LE(bytes, 512) << k.info.kernelName << " spills " << bytes
                            << " B on " << c.target << ":\n"
                            << log;
      RecordProperty("spill_bytes", std::to_string(bytes));
    }
    std::regex regs("Used ([0-9]+) registers");
    ASSERT_TRUE(std::regex_search(log, m, regs)) << "no ptxas report:\n" << log;
    int used = std::stoi(m[1].str());
    int estimate = mlir::attn::model::estimateRegisters(*family, shape, tile);
    RecordProperty("registers", std::to_string(used));
    RecordProperty("registers_model", std::to_string(estimate));
    EXPECT_LE(used, 255);
    if (k.info.element != ElementType::f32)
      EXPECT_GE(used + 48, estimate)
          << "the register model (" << estimate << ") is far above ptxas ("
          << used << ") for " << k.info.kernelName;
    std::printf("%-16s %-7s tiles %dx%d w%d s%d: smem %lld B, %d registers "
                "(model %d)\n",
                k.info.specName.c_str(), c.target.c_str(), k.info.blockM,
                k.info.blockN, k.info.warps, k.info.stages,
                (long long)k.info.smemBytes, used, estimate);
  }
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  for (const std::string &f : exampleFiles())
    for (const char *t : {"sm_80", "sm_90a"})
      for (const char *family : {"", "fwd.split_kv"})
        cs.push_back({f, t, family});
  return cs;
}

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  std::string n = info.param.file.substr(0, info.param.file.size() - 5) +
                  "_" + info.param.target +
                  (info.param.family.empty() ? "" : "_" + info.param.family);
  for (char &ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleCodegen, ::testing::ValuesIn(cases()),
                         caseName);

TEST(Codegen, ExamplesArePresent) { EXPECT_GE(exampleFiles().size(), 10u); }

} // namespace
