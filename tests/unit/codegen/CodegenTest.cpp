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
#include "attnc/Driver/Backend.h"
#include "attnc/Nvrtc.h"

#include "llvm/Support/raw_ostream.h"
#include <gtest/gtest.h>

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
};

void PrintTo(const Case &c, std::ostream *os) {
  *os << c.file << " for " << c.target;
}

class ExampleCodegen : public ::testing::TestWithParam<Case> {};

TEST_P(ExampleCodegen, CompilesWithNvrtc) {
  const Case &c = GetParam();
  std::string path = std::string(ATTNC_EXAMPLES_DIR) + "/" + c.file;
  std::string source = readFile(path);
  ASSERT_FALSE(source.empty()) << path;
  BackendOptions options;
  options.target = c.target;
  SpecCompilation out;
  std::string diag;
  llvm::raw_string_ostream errs(diag);
  ASSERT_TRUE(compileSpecToCuda(source, path, "", options, out, errs)) << diag;
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
    EXPECT_EQ(k.info.smemBytes,
              mlir::attn::model::forwardSmemBytes(shape, tile));
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
    // ptxas: "Used N registers, used 0 barriers, ..." and spill stores.
    std::smatch m;
    std::regex spill("([0-9]+) bytes spill stores");
    std::string log = r->log;
    for (std::sregex_iterator it(log.begin(), log.end(), spill), end;
         it != end; ++it)
      EXPECT_EQ((*it)[1].str(), "0")
          << k.info.kernelName << " spills registers on " << c.target
          << ":\n"
          << log;
    std::regex regs("Used ([0-9]+) registers");
    if (std::regex_search(log, m, regs))
      RecordProperty("registers", m[1].str());
  }
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  for (const std::string &f : exampleFiles())
    for (const char *t : {"sm_80", "sm_90a"})
      cs.push_back({f, t});
  return cs;
}

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  std::string n = info.param.file.substr(0, info.param.file.size() - 5) +
                  "_" + info.param.target;
  for (char &ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleCodegen, ::testing::ValuesIn(cases()),
                         caseName);

TEST(Codegen, ExamplesArePresent) { EXPECT_GE(exampleFiles().size(), 10u); }

} // namespace
