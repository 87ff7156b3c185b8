//===- GpuHarness.cpp - Run a compiled spec and check it in float64 -------===//
#include "GpuHarness.h"

#include "attnc/Check.h"

#include "attnc/Npy.h"
#include "attnc/Reference.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#ifndef ATTNC_EXAMPLES_DIR
#define ATTNC_EXAMPLES_DIR "examples"
#endif

namespace attnc {
namespace gputest {

//===- Example files ------------------------------------------------------===//

static bool isDirectory(const std::string &p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string examplesDir() {
  if (const char *env = std::getenv("ATTNC_EXAMPLES_DIR"))
    if (*env)
      return env;
  if (isDirectory(ATTNC_EXAMPLES_DIR))
    return ATTNC_EXAMPLES_DIR;
  return "examples";
}

std::vector<std::string> exampleFiles() {
  std::vector<std::string> files;
  if (DIR *d = opendir(examplesDir().c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".attn") == 0)
        files.push_back(n);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool returnsLse(const std::string &specText) {
  static const std::regex re(R"(return\s+\w+\s*,\s*(logsumexp|lse)\b)");
  return std::regex_search(specText, re);
}

//===- Specs --------------------------------------------------------------===//

std::string SpecText::str() const {
  std::ostringstream s;
  const std::string d = std::to_string(headDim),
                    dv = std::to_string(headDimV > 0 ? headDimV : headDim);
  s << "attention " << name << " {\n"
    << "  q: " << dtype << "[b, " << headsQ << ", " << seqQ << ", " << d
    << "]\n"
    << "  k: " << dtype << "[b, " << headsKV << ", " << seqK << ", " << d
    << "]\n"
    << "  v: " << dtype << "[b, " << headsKV << ", " << seqK << ", " << dv
    << "]\n";
  for (const std::string &in : inputs)
    s << "  " << in << "\n";
  s << "  s = matmul(q, k^T) * rsqrt(" << d << ")\n";
  for (const std::string &line : scores)
    s << "  " << line << "\n";
  s << "  p = softmax(s" << (softmaxArgs.empty() ? "" : ", " + softmaxArgs)
    << ")\n";
  if (!dropout.empty())
    s << "  " << dropout << "\n";
  s << "  o = matmul(p, v)\n"
    << "  return o" << (lse ? ", logsumexp" : "") << "\n}\n";
  return s.str();
}

SpecText makeSpec(const std::string &name, const std::string &dtype, int d,
                  std::vector<std::string> inputs,
                  std::vector<std::string> scores) {
  SpecText s;
  s.name = name;
  s.dtype = dtype;
  s.headDim = d;
  s.inputs = std::move(inputs);
  s.scores = std::move(scores);
  return s;
}

Case makeCase(const std::string &label, int b, int h, int n, int m) {
  Case c;
  c.label = label;
  c.batch = b;
  c.headsQ = c.headsKV = h;
  c.seqQ = n;
  c.seqK = m;
  c.inputSeed = (uint64_t)b * 7919 + h * 104729 + n * 31 + m;
  return c;
}

void makePaged(Case &c, int64_t pageSize, const std::vector<int32_t> &lens,
               uint64_t seed, int spare) {
  c.batch = int(lens.size());
  const int32_t longest = *std::max_element(lens.begin(), lens.end());
  const int64_t maxPages =
      std::max<int64_t>(1, (longest + pageSize - 1) / pageSize);
  c.seqK = int(maxPages * pageSize);
  c.pageSize = pageSize;
  c.seqLensK = lens;
  int64_t used = 0;
  for (int32_t len : lens)
    used += (len + pageSize - 1) / pageSize;
  c.pages = used + spare;
  std::vector<int32_t> ids(size_t(c.pages));
  std::iota(ids.begin(), ids.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  c.blockTable.assign(size_t(c.batch * maxPages), -1);
  size_t next = 0;
  for (int i = 0; i < c.batch; ++i)
    for (int64_t j = 0; j < (lens[i] + pageSize - 1) / pageSize; ++j)
      c.blockTable[size_t(i * maxPages + j)] = ids[next++];
}

void makePacked(Case &c, const std::vector<int32_t> &lensQ,
                const std::vector<int32_t> &lensK) {
  c.batch = int(lensQ.size());
  c.seqQ = std::max(1, *std::max_element(lensQ.begin(), lensQ.end()));
  c.seqK = std::max(1, *std::max_element(lensK.begin(), lensK.end()));
  for (auto [lens, cu] : {std::pair{&lensQ, &c.cuSeqlensQ}, {&lensK, &c.cuSeqlensK}}) {
    cu->assign(1, 0);
    for (int32_t l : *lens)
      cu->push_back(cu->back() + l);
  }
}

std::shared_ptr<Attention> compileSpec(const std::string &text,
                                       const std::string &filename,
                                       const CompileOptions &options) {
  Expected<std::shared_ptr<Attention>> attn =
      compile(text, options, filename);
  if (!attn) {
    ADD_FAILURE() << "compile failed: " << attn.error().str()
                  << "\nspec:\n"
                  << text;
    return nullptr;
  }
  return *attn;
}

std::vector<std::shared_ptr<Attention>>
compileSpecs(const std::vector<std::string> &texts) {
  std::vector<std::future<Expected<std::shared_ptr<Attention>>>> jobs;
  for (const std::string &t : texts)
    jobs.push_back(std::async(std::launch::async, [t] {
      // The primary context is current per thread; compile() for the
      // current device makes it current on this one.
      return compile(t, CompileOptions{});
    }));
  std::vector<std::shared_ptr<Attention>> out;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Expected<std::shared_ptr<Attention>> r = jobs[i].get();
    if (!r) {
      ADD_FAILURE() << "compile failed: " << r.error().str() << "\nspec:\n"
                    << texts[i];
      out.push_back(nullptr);
    } else {
      out.push_back(*r);
    }
  }
  return out;
}

//===- Helpers ------------------------------------------------------------===//

void parallelFor(long long n,
                 const std::function<void(long long, long long)> &fn) {
  long long threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max(1ll, n / 4));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  // Interleaved chunks balance rows of unequal cost (causal masks).
  const long long chunk = std::max(1ll, n / (threads * 8));
  std::atomic<long long> next{0};
  std::vector<std::thread> pool;
  for (long long t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (;;) {
        long long begin = next.fetch_add(chunk);
        if (begin >= n)
          return;
        fn(begin, std::min(n, begin + chunk));
      }
    });
  for (std::thread &th : pool)
    th.join();
}

namespace {

/// Every checked case of this process, printed as a table at the end.
struct SummaryRow {
  std::string test, label, shape;
  double errO, boundO, errLse, boundLse;
  bool lse;
  long long maskedRows;
};
std::mutex summaryMutex;
std::vector<SummaryRow> &summaryRows() {
  static std::vector<SummaryRow> rows;
  return rows;
}

class SummaryEnvironment : public ::testing::Environment {
public:
  void TearDown() override {
    std::lock_guard<std::mutex> lock(summaryMutex);
    const std::vector<SummaryRow> &rows = summaryRows();
    if (rows.empty())
      return;
    std::printf("\n[    attnc ] summary: %zu checked cases (error / bound; "
                "ratio <= 1 passes)\n",
                rows.size());
    std::printf("%-44s %-34s %10s %10s %6s %10s %10s %8s\n", "test", "case",
                "O err", "O bound", "ratio", "LSE err", "LSE bound", "masked");
    for (const SummaryRow &r : rows) {
      std::printf("%-44s %-34s %10.3g %10.3g %6.2f ", r.test.c_str(),
                  r.label.c_str(), r.errO, r.boundO, r.errO / r.boundO);
      if (r.lse)
        std::printf("%10.3g %10.3g", r.errLse, r.boundLse);
      else
        std::printf("%10s %10s", "-", "-");
      std::printf(" %8lld\n", r.maskedRows);
    }
    std::fflush(stdout);
  }
};

::testing::Environment *const summaryEnvironment =
    ::testing::AddGlobalTestEnvironment(new SummaryEnvironment);

} // namespace

void report(const std::string &label, const std::string &key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  ::testing::Test::RecordProperty(label + "." + key, buf);
}

Status synchronize() {
  Expected<CudaDriver *> drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  return ATTNC_CU(*drv, ctxSynchronize);
}

std::vector<uint8_t> randomBlockLayout(int heads, int qBlocks, int kBlocks,
                                       double density, int zeroRow,
                                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(density);
  std::vector<uint8_t> layout((size_t)heads * qBlocks * kBlocks);
  for (uint8_t &x : layout)
    x = keep(rng) ? 1 : 0;
  if (zeroRow >= 0 && zeroRow < qBlocks)
    std::fill_n(layout.begin() + (size_t)zeroRow * kBlocks, kBlocks, 0);
  return layout;
}

std::string Layout::str() const {
  std::string s = bshd ? "bshd" : "bhsd";
  if (pad)
    s += "+pad" + std::to_string(pad);
  return s;
}

namespace {

/// Element type on the host: rounding, encoding, decoding.
struct Element {
  ElementType type;
  size_t bytes() const { return (size_t)elementBytes(type); }
  float round(float x) const {
    switch (type) {
    case ElementType::f16:
      return halfToFloat(floatToHalf(x));
    case ElementType::bf16:
      return bf16ToFloat(floatToBf16(x));
    case ElementType::f32:
      return x;
    }
    return x;
  }
  void store(uint8_t *p, double x) const {
    if (type == ElementType::f32) {
      float f = (float)x;
      std::memcpy(p, &f, 4);
      return;
    }
    uint16_t bits = type == ElementType::f16 ? floatToHalf((float)x)
                                             : floatToBf16((float)x);
    std::memcpy(p, &bits, 2);
  }
  double load(const uint8_t *p) const {
    if (type == ElementType::f32) {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    return type == ElementType::f16 ? halfToFloat(bits) : bf16ToFloat(bits);
  }
};

/// A tensor on the device in a given layout, with its TensorArg.
struct DeviceTensor {
  int64_t shape[4]; // logical [b, h, s, d]
  int64_t strides[4];
  size_t elements = 0; // of the whole buffer
  DeviceBuffer buffer;

  void plan(const int64_t (&s)[4], const Layout &layout) {
    std::copy(s, s + 4, shape);
    const int64_t row = s[3] + layout.pad;
    strides[3] = 1;
    if (layout.bshd) {
      strides[1] = row;
      strides[2] = s[1] * row;
      strides[0] = s[2] * strides[2];
    } else {
      strides[2] = row;
      strides[1] = s[2] * row;
      strides[0] = s[1] * strides[1];
    }
    elements = (size_t)(s[0] * strides[0]);
  }
  size_t offset(int64_t b, int64_t h, int64_t i, int64_t d) const {
    return (size_t)(b * strides[0] + h * strides[1] + i * strides[2] + d);
  }
  TensorArg arg() const {
    TensorArg t;
    t.data = buffer.data();
    std::copy(shape, shape + 4, t.shape);
    std::copy(strides, strides + 4, t.strides);
    return t;
  }
};

#define HARNESS_CHECK(expr, what)                                              \
  do {                                                                         \
    const auto &st_ = (expr);                                                  \
    if (!st_) {                                                                \
      ADD_FAILURE() << c.label << ": " << what << ": " << st_.error().str();    \
      return false;                                                            \
    }                                                                          \
  } while (0)

/// Dense [b][h][s][d] double values (exact in the element type) -> device.
bool upload(const Case &c, const Element &el, const std::vector<double> &dense,
            const int64_t (&shape)[4], const Layout &layout,
            DeviceTensor &t) {
  t.plan(shape, layout);
  std::vector<uint8_t> host(t.elements * el.bytes(), 0xFF); // NaN padding
  size_t idx = 0;
  for (int64_t b = 0; b < shape[0]; ++b)
    for (int64_t h = 0; h < shape[1]; ++h)
      for (int64_t i = 0; i < shape[2]; ++i)
        for (int64_t d = 0; d < shape[3]; ++d)
          el.store(&host[t.offset(b, h, i, d) * el.bytes()], dense[idx++]);
  Expected<DeviceBuffer> buf = DeviceBuffer::allocate(host.size());
  HARNESS_CHECK(buf, "allocating " << host.size() << " B");
  t.buffer = std::move(*buf);
  HARNESS_CHECK(t.buffer.copyFromHost(host.data(), host.size()),
                "copying an input to the device");
  return true;
}

std::vector<double> randomTensor(const Element &el, size_t n, uint64_t seed,
                                 double scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<double> x(n);
  for (double &v : x) {
    float r;
    do
      r = el.round((float)(normal(rng) * scale));
    while (r == 0.f); // never zeros
    v = r;
  }
  return x;
}

/// The float64 reference problem for `attn` and the case.
ref::FwdProblem referenceProblem(const Attention &attn, const Case &c,
                                 const std::vector<HostTable> *tables) {
  ref::FwdProblem pr = attnc::referenceProblem(
      attn, c.batch, c.headsQ, c.headsKV, c.seqQ, c.seqK, c.kvLengths,
      c.blockLayout, c.layoutShape, c.seed, c.offset, tables);
  // Without a score modifier, take the spec's own scale from the front end's
  // interpreter rather than the kernel's (an independent check of it).
  if (!attn.info().scoreMod)
    pr.scale = attn.evalScore(1.0, 0, 0, 0, 0);
  return pr;
}



double maxAbsDiff(const std::vector<double> &a, const std::vector<double> &b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isinf(a[i]) && std::isinf(b[i]) && (a[i] < 0) == (b[i] < 0))
      continue; // -inf LSE of a masked row on both sides
    double e = std::fabs(a[i] - b[i]);
    if (!(e <= m))
      m = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
  }
  return m;
}

std::string caseShape(const Case &c, const KernelInfo &info) {
  std::ostringstream s;
  s << info.specName << " " << elementTypeName(info.element) << " d"
    << info.headDim << " b=" << c.batch << " hq=" << c.headsQ
    << " hk=" << c.headsKV << " n=" << c.seqQ << " m=" << c.seqK;
  if (c.q.bshd || c.q.pad || c.k.bshd || c.k.pad || c.v.bshd || c.v.pad ||
      c.o.bshd || c.o.pad)
    s << " q:" << c.q.str() << " k:" << c.k.str() << " v:" << c.v.str()
      << " o:" << c.o.str();
  return s.str();
}

} // namespace

bool runCase(const Attention &attn, const Case &c, Outcome *out) {
  Outcome local;
  Outcome &res = out ? *out : local;
  res = Outcome();
  const KernelInfo &info = attn.info();
  const Element el{info.element};
  const int d = info.headDim, dv = info.headDimV;
  const auto start = std::chrono::steady_clock::now();

  // Inputs: random normal, rounded to the element type.
  const int64_t qShape[4] = {c.batch, c.headsQ, c.seqQ, d};
  const int64_t kShape[4] = {c.batch, c.headsKV, c.seqK, d};
  const int64_t vShape[4] = {c.batch, c.headsKV, c.seqK, dv};
  const int64_t oShape[4] = {c.batch, c.headsQ, c.seqQ, dv};
  const size_t qN = (size_t)c.batch * c.headsQ * c.seqQ * d;
  const size_t kN = (size_t)c.batch * c.headsKV * c.seqK * d;
  const size_t vN = (size_t)c.batch * c.headsKV * c.seqK * dv;
  std::vector<double> q = randomTensor(el, qN, c.inputSeed * 3 + 0, c.qScale);
  std::vector<double> k = randomTensor(el, kN, c.inputSeed * 3 + 1, 1.0);
  std::vector<double> v;
  if (c.vValue) {
    v.resize(vN);
    size_t idx = 0;
    for (int b = 0; b < c.batch; ++b)
      for (int h = 0; h < c.headsKV; ++h)
        for (int j = 0; j < c.seqK; ++j)
          for (int e = 0; e < dv; ++e)
            v[idx++] = el.round((float)c.vValue(b, h, j, e));
  } else {
    v = randomTensor(el, vN, c.inputSeed * 3 + 2, 1.0);
  }

  DeviceTensor dq, dk, dvT, dO;
  const bool packed = info.packed;
  // Packed: token tensors [rows, heads, dim] with kSpare NaN rows after the
  // last sequence, viewed as [1, heads, rows, dim] (TensorArg::packed).
  constexpr int kSpare = 3;
  if (packed && (c.cuSeqlensQ.size() != size_t(c.batch + 1) ||
                 c.cuSeqlensK.size() != size_t(c.batch + 1))) {
    ADD_FAILURE() << c.label << ": the spec reads packed sequences; make the "
                  << "case with makePacked";
    return false;
  }
  const int64_t rowsQ = packed ? int64_t(c.cuSeqlensQ.back()) + kSpare : 0;
  const int64_t rowsK = packed ? int64_t(c.cuSeqlensK.back()) + kSpare : 0;
  auto packUpload = [&](const std::vector<double> &dense, int heads, int dim,
                        int maxLen, const std::vector<int32_t> &cu,
                        int64_t rows, DeviceTensor &t) {
    const int64_t ps[4] = {1, heads, rows, dim};
    t.plan(ps, Layout::bshdLayout());
    std::vector<uint8_t> host(t.elements * el.bytes(), 0xFF);
    for (int b = 0; b < c.batch; ++b)
      for (int i = 0; i < cu[b + 1] - cu[b]; ++i)
        for (int h = 0; h < heads; ++h)
          for (int e = 0; e < dim; ++e)
            el.store(&host[t.offset(0, h, cu[b] + i, e) * el.bytes()],
                     dense[((size_t(b) * heads + h) * maxLen + i) * dim + e]);
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(host.size());
    HARNESS_CHECK(buf, "allocating packed tokens");
    t.buffer = std::move(*buf);
    HARNESS_CHECK(t.buffer.copyFromHost(host.data(), host.size()),
                  "copying packed tokens");
    return true;
  };
  if (packed) {
    if (!packUpload(q, c.headsQ, d, c.seqQ, c.cuSeqlensQ, rowsQ, dq) ||
        !packUpload(k, c.headsKV, d, c.seqK, c.cuSeqlensK, rowsK, dk) ||
        !packUpload(v, c.headsKV, dv, c.seqK, c.cuSeqlensK, rowsK, dvT))
      return false;
  } else if (!upload(c, el, q, qShape, c.q, dq)) {
    return false;
  }
  if (info.paged && (c.pageSize < 1 || c.seqLensK.size() != size_t(c.batch))) {
    ADD_FAILURE() << c.label << ": the spec reads paged K/V; make the case "
                  << "with makePaged";
    return false;
  }
  if (info.paged) {
    // Scatter the logical K/V into NaN-poisoned caches through the table.
    const int64_t P = c.pageSize, maxPages = c.seqK / P;
    EXPECT_EQ(maxPages * P, c.seqK) << c.label << ": seqK = maxPages * pageSize";
    EXPECT_EQ((int64_t)c.blockTable.size(), c.batch * maxPages) << c.label;
    for (auto [dense, t, dim] : {std::tuple{&k, &dk, d}, {&v, &dvT, dv}}) {
      const int64_t cs[4] = {c.pages, P, c.headsKV, dim};
      t->plan(cs, Layout{});
      std::vector<uint8_t> host(t->elements * el.bytes(), 0xFF);
      for (int b = 0; b < c.batch; ++b)
        for (int64_t j = 0; j < std::min<int64_t>(c.seqLensK[b], c.seqK); ++j) {
          const int64_t page = c.blockTable[b * maxPages + j / P];
          if (page < 0 || page >= c.pages)
            continue; // an invalid table (the run must reject it)
          for (int h = 0; h < c.headsKV; ++h)
            for (int e = 0; e < dim; ++e)
              el.store(&host[t->offset(page, j % P, h, e) * el.bytes()],
                       (*dense)[((size_t(b) * c.headsKV + h) * c.seqK + j) * dim +
                                e]);
        }
      Expected<DeviceBuffer> buf = DeviceBuffer::allocate(host.size());
      HARNESS_CHECK(buf, "allocating a paged cache");
      t->buffer = std::move(*buf);
      HARNESS_CHECK(t->buffer.copyFromHost(host.data(), host.size()),
                    "copying a paged cache");
    }
  } else if (!packed && (!upload(c, el, k, kShape, c.k, dk) ||
                         !upload(c, el, v, vShape, c.v, dvT))) {
    return false;
  }
  if (packed) {
    const int64_t ps[4] = {1, c.headsQ, rowsQ, dv};
    dO.plan(ps, Layout::bshdLayout());
  } else {
    dO.plan(oShape, c.o);
  }
  {
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(dO.elements * el.bytes());
    HARNESS_CHECK(buf, "allocating O");
    dO.buffer = std::move(*buf);
    HARNESS_CHECK(dO.buffer.fill(0xFF), "poisoning O with NaN");
  }
  const size_t rows = (size_t)c.batch * c.headsQ * c.seqQ;
  // Packed: LSE is [headsQ, rowsQ].
  const size_t lseEntries = packed ? size_t(c.headsQ * rowsQ) : rows;
  DeviceBuffer dLse, dLengths, dLayout, dTable, dSeqLens, dCuQ, dCuK;
  if (c.lse) {
    Expected<DeviceBuffer> buf =
        DeviceBuffer::allocate(lseEntries * sizeof(float));
    HARNESS_CHECK(buf, "allocating LSE");
    dLse = std::move(*buf);
    HARNESS_CHECK(dLse.fill(0xFF), "poisoning LSE with NaN");
  }
  RunArgs args;
  args.q = dq.arg();
  args.k = dk.arg();
  args.v = dvT.arg();
  args.o = dO.arg();
  args.lse = c.lse ? static_cast<float *>(dLse.data()) : nullptr;
  if (!c.kvLengths.empty()) {
    Expected<DeviceBuffer> buf =
        DeviceBuffer::allocate(c.kvLengths.size() * sizeof(int32_t));
    HARNESS_CHECK(buf, "allocating kvLengths");
    dLengths = std::move(*buf);
    std::vector<int32_t> lens(c.kvLengths.begin(), c.kvLengths.end());
    HARNESS_CHECK(dLengths.copyFromHost(lens.data(), lens.size() * 4),
                  "copying kvLengths");
    args.kvLengths = static_cast<const int32_t *>(dLengths.data());
  }
  if (!c.blockLayout.empty()) {
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(c.blockLayout.size());
    HARNESS_CHECK(buf, "allocating the block layout");
    dLayout = std::move(*buf);
    HARNESS_CHECK(dLayout.copyFromHost(c.blockLayout.data(), c.blockLayout.size()),
                  "copying the block layout");
    args.blockLayout = static_cast<const uint8_t *>(dLayout.data());
    std::copy(c.layoutShape, c.layoutShape + 3, args.layoutShape);
  }
  // An int32 index input on the device (paged tables, prefix sums).
  auto uploadInts = [&](const std::vector<int32_t> &src, DeviceBuffer &dst,
                        const char *what) {
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(src.size() * 4);
    HARNESS_CHECK(buf, std::string("allocating ") + what);
    dst = std::move(*buf);
    HARNESS_CHECK(dst.copyFromHost(src.data(), src.size() * 4),
                  std::string("copying ") + what);
    return true;
  };
  if (info.paged) {
    if (!uploadInts(c.blockTable, dTable, "the block table") ||
        !uploadInts(c.seqLensK, dSeqLens, "the sequence lengths"))
      return false;
    args.blockTable = static_cast<const int32_t *>(dTable.data());
    args.seqLensK = static_cast<const int32_t *>(dSeqLens.data());
    args.maxPages = c.seqK / c.pageSize;
    args.trustIndices = c.trustIndices;
  }
  if (packed) {
    const std::vector<int32_t> &runQ =
        c.runCuSeqlensQ.empty() ? c.cuSeqlensQ : c.runCuSeqlensQ;
    const std::vector<int32_t> &runK =
        c.runCuSeqlensK.empty() ? c.cuSeqlensK : c.runCuSeqlensK;
    if (!uploadInts(runQ, dCuQ, "cuSeqlensQ") ||
        !uploadInts(runK, dCuK, "cuSeqlensK"))
      return false;
    args.cuSeqlensQ = static_cast<const int32_t *>(dCuQ.data());
    args.cuSeqlensK = static_cast<const int32_t *>(dCuK.data());
    args.sequences = c.batch;
    args.maxSeqlenQ = c.maxSeqlenQ;
    args.maxSeqlenK = c.maxSeqlenK;
    args.trustIndices = c.trustIndices;
  }
  // Attention sinks: the case's, or random logits around the scores' size.
  std::vector<float> sinks = c.sinks;
  DeviceBuffer dSinks;
  if (info.sinks) {
    if (sinks.empty())
      for (double x : randomTensor(Element{ElementType::f32}, size_t(c.headsQ),
                                   c.inputSeed * 3 + 7, 2.0))
        sinks.push_back(float(x));
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(sinks.size() * 4);
    HARNESS_CHECK(buf, "allocating sinks");
    dSinks = std::move(*buf);
    HARNESS_CHECK(dSinks.copyFromHost(sinks.data(), sinks.size() * 4),
                  "copying sinks");
    args.sinks = static_cast<const float *>(dSinks.data());
  }
  // Tables: the case's, or random ones of the sizes the spec binds.
  std::vector<HostTable> tables = c.tables;
  std::vector<DeviceBuffer> dTables;
  if (tables.empty())
    for (size_t i = 0; i < info.tables.size(); ++i) {
      const TableInfo &t = info.tables[i];
      const int64_t bound[] = {c.batch, c.headsQ, c.seqQ, c.headsKV, c.seqK};
      HostTable h;
      h.dims = t.shapeFor(bound, /*freeSize=*/5);
      size_t n = 1;
      for (int64_t x : h.dims)
        n *= size_t(x);
      const uint64_t seed = c.inputSeed * 3 + 11 + i;
      if (t.isInteger()) {
        std::mt19937_64 rng(seed);
        const int lo = t.element == "i32" ? 0 : -3;
        std::uniform_int_distribution<int> pick(lo, 3);
        for (size_t e = 0; e < n; ++e)
          h.data.push_back(pick(rng));
      } else {
        h.data = randomTensor(Element{t.floatElement()}, n, seed, 1.0);
      }
      tables.push_back(std::move(h));
    }
  for (size_t i = 0; i < tables.size() && i < info.tables.size(); ++i) {
    const TableInfo &t = info.tables[i];
    const HostTable &h = tables[i];
    std::vector<uint8_t> bytes(h.data.size() * size_t(t.elementBytes()));
    for (size_t e = 0; e < h.data.size(); ++e) {
      uint8_t *at = bytes.data() + e * size_t(t.elementBytes());
      if (t.element == "i32") {
        const int32_t x = int32_t(h.data[e]);
        std::memcpy(at, &x, 4);
      } else if (t.element == "i8") {
        const int8_t x = int8_t(h.data[e]);
        std::memcpy(at, &x, 1);
      } else {
        Element{t.floatElement()}.store(at, h.data[e]);
      }
    }
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(std::max<size_t>(bytes.size(), 1));
    HARNESS_CHECK(buf, "allocating table " << t.name);
    HARNESS_CHECK(buf->copyFromHost(bytes.data(), bytes.size()),
                  "copying table " << t.name);
    args.tables.push_back(TensorArg::ofShape(buf->data(), h.dims));
    dTables.push_back(std::move(*buf));
  }
  args.seed = c.seed;
  args.offset = c.offset;
  args.stream = c.stream;
  args.report = c.report;

  if (c.runError) {
    Status st = attn.run(args);
    if (!st) {
      *c.runError = st.error().str();
      return false;
    }
  } else {
    HARNESS_CHECK(attn.run(args), "run");
  }
  HARNESS_CHECK(synchronize(), "the kernel (cuCtxSynchronize)");

  // Outputs.
  res.oBytes.resize(dO.elements * el.bytes());
  HARNESS_CHECK(dO.buffer.copyToHost(res.oBytes.data(), res.oBytes.size()),
                "copying O back");
  res.o.assign(rows * dv, 0.0);
  std::vector<uint8_t> covered(dO.elements, 0);
  {
    size_t idx = 0;
    for (int b = 0; b < c.batch; ++b)
      for (int h = 0; h < c.headsQ; ++h)
        for (int i = 0; i < c.seqQ; ++i)
          for (int e = 0; e < dv; ++e) {
            if (packed) { // rows past a sequence do not exist: 0 as the ref
              const int row = c.cuSeqlensQ[b] + i;
              if (row >= c.cuSeqlensQ[b + 1]) {
                res.o[idx++] = 0.0;
                continue;
              }
              size_t off = dO.offset(0, h, row, e);
              covered[off] = 1;
              res.o[idx++] = el.load(&res.oBytes[off * el.bytes()]);
              continue;
            }
            size_t off = dO.offset(b, h, i, e);
            covered[off] = 1;
            res.o[idx++] = el.load(&res.oBytes[off * el.bytes()]);
          }
  }
  // Padding of a strided O must keep its poison: the kernel writes only O.
  size_t paddingWritten = 0;
  for (size_t off = 0; off < dO.elements; ++off)
    if (!covered[off])
      for (size_t byte = 0; byte < el.bytes(); ++byte)
        if (res.oBytes[off * el.bytes() + byte] != 0xFF) {
          ++paddingWritten;
          break;
        }
  EXPECT_EQ(paddingWritten, 0u)
      << c.label << ": the kernel wrote into O's row padding";
  if (c.lse) {
    res.lse.resize(lseEntries);
    HARNESS_CHECK(dLse.copyToHost(res.lse.data(), lseEntries * sizeof(float)),
                  "copying LSE back");
    if (packed) { // [headsQ, rowsQ] -> dense [batch, headsQ, seqQ]
      std::vector<float> dense(rows, -std::numeric_limits<float>::infinity());
      for (int b = 0; b < c.batch; ++b)
        for (int h = 0; h < c.headsQ; ++h)
          for (int i = 0; i < c.cuSeqlensQ[b + 1] - c.cuSeqlensQ[b]; ++i)
            dense[(size_t(b) * c.headsQ + h) * c.seqQ + i] =
                res.lse[size_t(h * rowsQ + c.cuSeqlensQ[b] + i)];
      res.lse = std::move(dense);
    }
  }
  if (!c.check)
    return true;

  // References.
  ref::FwdProblem pr = referenceProblem(attn, c, &tables);
  pr.sinks.assign(sinks.begin(), sinks.end());
  if (info.paged)
    pr.seqLensK.assign(c.seqLensK.begin(), c.seqLensK.end());
  if (packed) {
    pr.seqLensQ.clear();
    pr.seqLensK.clear();
    for (int b = 0; b < c.batch; ++b) {
      pr.seqLensQ.push_back(c.cuSeqlensQ[b + 1] - c.cuSeqlensQ[b]);
      pr.seqLensK.push_back(c.cuSeqlensK[b + 1] - c.cuSeqlensK[b]);
    }
  }
  if (!info.scoreMod) {
    EXPECT_NEAR(info.scale, pr.scale, 1e-12 * pr.scale)
        << "the kernel's scale differs from the spec's";
  }
  std::vector<double> refLse, lowO, lowLse;
  referenceForward(pr, q, k, v, res.ref, refLse);
  naiveLowPrecision(pr, el.type, q, k, v, lowO, lowLse);
  if (pr.dropout) {
    ref::FwdProblem plain = pr;
    plain.dropout = false;
    std::vector<double> o0, l0;
    referenceForward(plain, q, k, v, o0, l0);
    res.errNoDropout = maxAbsDiff(res.o, o0);
  }

  // Fully masked rows: O == 0 exactly and LSE == -inf (with sinks: exactly
  // the head's sink, which the reference gives only to those rows).
  long long maskedBad = 0;
  std::string firstBad;
  res.maskedRows = 0;
  for (size_t row = 0; row < rows; ++row) {
    // -inf (no sink, or a packed row past its sequence), or the sink with
    // O exactly 0 (a sink far above the scores rounds a visible row's LSE
    // to the sink, not its O to 0).
    const double negInf = -std::numeric_limits<double>::infinity();
    double none = negInf;
    if (refLse[row] != negInf) {
      none = sinks.empty() ? negInf : double(sinks[(row / c.seqQ) % c.headsQ]);
      if (refLse[row] != none)
        continue;
      bool zero = true;
      for (int e = 0; e < dv; ++e)
        zero = zero && res.ref[row * dv + e] == 0.0;
      if (!zero)
        continue;
    }
    ++res.maskedRows;
    bool ok = true;
    for (int e = 0; e < dv; ++e)
      ok = ok && res.o[row * dv + e] == 0.0;
    if (c.lse)
      ok = ok && double(res.lse[row]) == none;
    if (!ok && maskedBad++ == 0) {
      std::ostringstream s;
      s << "row " << row << ": O[0] = " << res.o[row * dv]
        << (c.lse ? ", LSE = " + std::to_string(res.lse[row]) : "");
      firstBad = s.str();
    }
  }
  EXPECT_EQ(maskedBad, 0) << c.label
                          << ": fully masked rows must give O == 0 and "
                             "LSE == -inf (or the sink); first: "
                          << firstBad;

  // The rule.
  const double naiveErr = maxAbsDiff(lowO, res.ref);
  res.errO = maxAbsDiff(res.o, res.ref);
  res.boundO = 2 * naiveErr + 1e-5;
  size_t worst = 0;
  {
    double w = -1;
    for (size_t i = 0; i < res.o.size(); ++i) {
      double e = std::fabs(res.o[i] - res.ref[i]);
      if (std::isnan(e))
        e = std::numeric_limits<double>::infinity();
      if (e > w)
        w = e, worst = i;
    }
  }
  EXPECT_LE(res.errO, res.boundO)
      << c.label << ": O max error " << res.errO << " > bound " << res.boundO
      << " (naive low-precision error " << naiveErr << "); worst at flat index "
      << worst << " (row " << worst / dv << ", col " << worst % dv
      << "): got " << (res.o.empty() ? 0 : res.o[worst]) << ", want "
      << (res.ref.empty() ? 0 : res.ref[worst]);

  if (c.lse) {
    std::vector<double> gotLse(res.lse.begin(), res.lse.end());
    const double naiveLseErr = maxAbsDiff(lowLse, refLse);
    const double floor = info.element == ElementType::f32 ? 1e-4 : 1e-3;
    res.errLse = maxAbsDiff(gotLse, refLse);
    res.boundLse = std::max(2 * naiveLseErr + 1e-5, floor);
    EXPECT_LE(res.errLse, res.boundLse)
        << c.label << ": LSE max error " << res.errLse << " > bound "
        << res.boundLse;
  }

  const double secs = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  std::printf("[    attnc ] %s [%s]: O err %.3g (bound %.3g)", c.label.c_str(),
              caseShape(c, info).c_str(), res.errO, res.boundO);
  if (c.lse)
    std::printf(", LSE err %.3g (bound %.3g)", res.errLse, res.boundLse);
  if (res.maskedRows)
    std::printf(", %lld fully masked rows", res.maskedRows);
  if (pr.dropout)
    std::printf(", err vs undropped ref %.3g", res.errNoDropout);
  std::printf(", %.1f s\n", secs);
  std::fflush(stdout);
  {
    const ::testing::TestInfo *t =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = t ? std::string(t->test_suite_name()) + "." + t->name()
                         : std::string();
    std::lock_guard<std::mutex> lock(summaryMutex);
    summaryRows().push_back({test, c.label, caseShape(c, info), res.errO,
                             res.boundO, res.errLse, res.boundLse, c.lse,
                             res.maskedRows});
  }
  report(c.label, "o_err", res.errO);
  report(c.label, "o_bound", res.boundO);
  if (c.lse) {
    report(c.label, "lse_err", res.errLse);
    report(c.label, "lse_bound", res.boundLse);
  }
  if (res.maskedRows)
    report(c.label, "masked_rows", (double)res.maskedRows);
  return true;
}

bool smallRunArgs(int b, int hq, int hk, int n, int d,
                  const std::vector<size_t> &extraBytes,
                  std::vector<DeviceBuffer> &bufs, RunArgs &args) {
  std::vector<size_t> sizes = {size_t(b) * hq * n * d * 2,
                               size_t(b) * hk * n * d * 2,
                               size_t(b) * hk * n * d * 2,
                               size_t(b) * hq * n * d * 2, size_t(b) * hq * n * 4};
  sizes.insert(sizes.end(), extraBytes.begin(), extraBytes.end());
  for (size_t bytes : sizes) {
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(bytes);
    if (!buf) {
      ADD_FAILURE() << "allocating " << bytes << " B: " << buf.error().str();
      return false;
    }
    if (Status st = buf->fill(0x3C); !st) { // 0x3C3C: a normal bf16
      ADD_FAILURE() << "filling a buffer: " << st.error().str();
      return false;
    }
    bufs.push_back(std::move(*buf));
  }
  args.q = TensorArg::contiguous(bufs[0].data(), {b, hq, n, d});
  args.k = TensorArg::contiguous(bufs[1].data(), {b, hk, n, d});
  args.v = TensorArg::contiguous(bufs[2].data(), {b, hk, n, d});
  args.o = TensorArg::contiguous(bufs[3].data(), {b, hq, n, d});
  args.lse = static_cast<float *>(bufs[4].data());
  return true;
}

} // namespace gputest
} // namespace attnc
