//===- Nvrtc.cpp - NVRTC front end ----------------------------------------===//
#include "attnc/Nvrtc.h"

#include "Hash.h"
#include "attnc/Version.h"

#include <nvrtc.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace attnc {

// Defined in the generated EmbeddedHeaders.cpp; ends with a null entry.
const EmbeddedHeader *embeddedHeaderTable();

const char *attncVersion() { return ATTNC_VERSION_STRING; }

std::vector<EmbeddedHeader> embeddedHeaders() {
  std::vector<EmbeddedHeader> out;
  for (const EmbeddedHeader *h = embeddedHeaderTable(); h->name; ++h)
    out.push_back(*h);
  return out;
}

const std::string &embeddedHeadersDigest() {
  static const std::string digest = [] {
    detail::Sha256 h;
    for (const EmbeddedHeader &e : embeddedHeaders()) {
      h.updateField(e.name);
      h.updateField(std::string(e.contents, e.size));
    }
    auto d = h.finish();
    return detail::toHex(d.data(), d.size());
  }();
  return digest;
}

static bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Expected<std::string> cudaToolkitIncludeDir() {
  std::vector<std::string> tried;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"}) {
    const char *v = std::getenv(var);
    if (!v || !*v)
      continue;
    std::string dir = std::string(v) + "/include";
    if (isDirectory(dir) && ::access((dir + "/cuda_fp16.h").c_str(), R_OK) == 0)
      return dir;
    tried.push_back(dir + " ($" + var + ")");
  }
  std::string fallback = "/usr/local/cuda/include";
  if (::access((fallback + "/cuda_fp16.h").c_str(), R_OK) == 0)
    return fallback;
  tried.push_back(fallback + " (default)");
  std::string list;
  for (const std::string &t : tried)
    list += "\n  " + t;
  return makeError(ErrorCode::NotFound,
                   "CUDA toolkit headers (cuda_fp16.h) not found; set "
                   "CUDA_HOME to the toolkit root. Looked in:" +
                       list);
}

std::pair<int, int> nvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return {0, 0};
  return {major, minor};
}

std::string nvrtcVersionString() {
  auto v = nvrtcVersion();
  return std::to_string(v.first) + "." + std::to_string(v.second);
}

bool isRealArch(const std::string &arch) {
  return arch.compare(0, 3, "sm_") == 0;
}

Expected<std::vector<std::string>> nvrtcOptionList(const NvrtcOptions &opts) {
  if (opts.arch.empty() ||
      (!isRealArch(opts.arch) && opts.arch.compare(0, 8, "compute_") != 0))
    return makeError(ErrorCode::InvalidArgument,
                     "bad GPU architecture '" + opts.arch +
                         "': expected sm_XX, sm_XXa or compute_XX");
  auto include = cudaToolkitIncludeDir();
  if (!include)
    return include.takeError();
  std::vector<std::string> list = {
      "--std=c++17",
      "--gpu-architecture=" + opts.arch,
      "-default-device",
      "--include-path=" + *include,
  };
  // CUDA 13 keeps libcu++ (cuda/std/...) under include/cccl.
  if (isDirectory(*include + "/cccl"))
    list.push_back("--include-path=" + *include + "/cccl");
  if (opts.lineInfo)
    list.push_back("-lineinfo");
  for (const std::string &o : opts.extraOptions)
    list.push_back(o);
  return list;
}

std::string numberSourceLines(const std::string &source) {
  std::ostringstream out;
  std::istringstream in(source);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    char prefix[16];
    std::snprintf(prefix, sizeof(prefix), "%5d | ", ++n);
    out << prefix << line << "\n";
  }
  return out.str();
}

static bool logHasWarning(const std::string &log) {
  return log.find("warning") != std::string::npos;
}

namespace {
// Destroys the program on every path.
struct ProgramGuard {
  nvrtcProgram prog = nullptr;
  ~ProgramGuard() {
    if (prog)
      nvrtcDestroyProgram(&prog);
  }
};
} // namespace

static Error nvrtcError(nvrtcResult r, const char *call, const char *file,
                        int line) {
  return makeError(ErrorCode::Nvrtc, std::string(call) + " failed at " + file +
                                         ":" + std::to_string(line) + ": " +
                                         nvrtcGetErrorString(r));
}

#define ATTNC_NVRTC(call)                                                      \
  do {                                                                         \
    nvrtcResult attncNvrtcResult_ = (call);                                    \
    if (attncNvrtcResult_ != NVRTC_SUCCESS)                                    \
      return nvrtcError(attncNvrtcResult_, #call, __FILE__, __LINE__);         \
  } while (0)

Expected<NvrtcOutput> compileCuda(const std::string &source,
                                  const NvrtcOptions &opts) {
  auto optionsOr = nvrtcOptionList(opts);
  if (!optionsOr)
    return optionsOr.takeError();
  NvrtcOutput out;
  out.options = std::move(*optionsOr);

  auto start = std::chrono::steady_clock::now();
  std::vector<EmbeddedHeader> headers = embeddedHeaders();
  std::vector<const char *> headerNames, headerContents;
  for (const EmbeddedHeader &h : headers) {
    headerNames.push_back(h.name);
    headerContents.push_back(h.contents);
  }

  ProgramGuard guard;
  ATTNC_NVRTC(nvrtcCreateProgram(&guard.prog, source.c_str(),
                                 opts.programName.c_str(), int(headers.size()),
                                 headerContents.data(), headerNames.data()));
  for (const std::string &e : opts.nameExpressions)
    ATTNC_NVRTC(nvrtcAddNameExpression(guard.prog, e.c_str()));

  std::vector<const char *> argv;
  for (const std::string &o : out.options)
    argv.push_back(o.c_str());
  nvrtcResult compiled =
      nvrtcCompileProgram(guard.prog, int(argv.size()), argv.data());

  size_t logSize = 0;
  ATTNC_NVRTC(nvrtcGetProgramLogSize(guard.prog, &logSize));
  if (logSize > 1) {
    out.log.resize(logSize);
    ATTNC_NVRTC(nvrtcGetProgramLog(guard.prog, &out.log[0]));
    out.log.resize(logSize - 1); // drop the NUL
  }
  out.hasWarnings = logHasWarning(out.log);

  if (compiled != NVRTC_SUCCESS || (opts.warningsAsErrors && out.hasWarnings)) {
    std::string opt;
    for (const std::string &o : out.options)
      opt += " " + o;
    std::string what = compiled != NVRTC_SUCCESS
                           ? std::string("NVRTC ") + nvrtcVersionString() +
                                 " failed to compile " + opts.programName +
                                 " (" + nvrtcGetErrorString(compiled) + ")"
                           : "NVRTC reported warnings compiling " +
                                 opts.programName + " (warnings are errors)";
    return makeError(
        ErrorCode::Compile,
        what + "\noptions:" + opt + "\nlog:\n" + out.log +
            (out.log.empty() || out.log.back() == '\n' ? "" : "\n") +
            "source:\n" + numberSourceLines(source));
  }

  size_t ptxSize = 0;
  ATTNC_NVRTC(nvrtcGetPTXSize(guard.prog, &ptxSize));
  out.ptx.resize(ptxSize);
  if (ptxSize)
    ATTNC_NVRTC(nvrtcGetPTX(guard.prog, &out.ptx[0]));
  // nvrtcGetPTXSize counts the trailing NUL; ptxas rejects it in a file.
  while (!out.ptx.empty() && out.ptx.back() == '\0')
    out.ptx.pop_back();

  if (isRealArch(opts.arch)) {
    size_t cubinSize = 0;
    ATTNC_NVRTC(nvrtcGetCUBINSize(guard.prog, &cubinSize));
    out.cubin.resize(cubinSize);
    if (cubinSize)
      ATTNC_NVRTC(nvrtcGetCUBIN(guard.prog, out.cubin.data()));
  }

  for (const std::string &e : opts.nameExpressions) {
    const char *lowered = nullptr;
    ATTNC_NVRTC(nvrtcGetLoweredName(guard.prog, e.c_str(), &lowered));
    out.loweredNames[e] = lowered ? lowered : "";
  }

  out.compileMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  return out;
}

} // namespace attnc
