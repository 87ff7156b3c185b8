//===- RunCommands.cpp - `attnc run` and `attnc bench` --------------------===//
//
// Both go through the public C++ API (attnc/attnc.h), like a host program.
//
//===----------------------------------------------------------------------===//
#include "RunCommands.h"

#include "attn/Model/IoModel.h"
#include "attn/Model/Target.h"
#include "attnc/Check.h"
#include "attnc/CudaDriver.h"
#include "attnc/Npy.h"
#include "attnc/attnc.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <new>
#include <random>
#include <sstream>

using namespace attnc;
using namespace attnc::tool;

namespace {

int fail(const std::string &msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}
int fail(const Error &e) { return fail(e.str()); }

DType dtypeOf(ElementType e) {
  return e == ElementType::f16 ? DType::F16
         : e == ElementType::bf16 ? DType::BF16
                                  : DType::F32;
}

/// Host tensor in the element type, plus its values as doubles.
struct HostTensor {
  std::vector<int64_t> shape;
  NpyArray raw;              // element-typed bytes, dense
  std::vector<double> value; // the same values, dense
};

HostTensor randomTensor(const std::vector<int64_t> &shape, ElementType e,
                        std::mt19937_64 &rng) {
  HostTensor t;
  t.shape = shape;
  // The product can overflow int64 for absurd --shape values: refuse those
  // as out of memory (main reports it) instead of wrapping.
  unsigned __int128 total = 1;
  for (int64_t d : shape)
    if ((total *= uint64_t(d)) > (unsigned __int128)(int64_t(1) << 40))
      throw std::bad_alloc();
  int64_t n = int64_t(total);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> f(n);
  for (float &x : f)
    x = dist(rng);
  t.raw = fromFloats(f.data(), shape, dtypeOf(e));
  std::vector<float> back = toFloatVector(t.raw);
  t.value.assign(back.begin(), back.end());
  return t;
}

Expected<HostTensor> loadTensor(const std::string &what,
                                const std::string &path, ElementType e,
                                bool bf16AsU2) {
  NpyReadOptions ro;
  ro.u2IsBF16 = bf16AsU2;
  Expected<NpyArray> a = readNpy(path, ro);
  if (!a)
    return a.takeError().addContext("--" + what);
  if (a->shape.size() != 4)
    return makeError(ErrorCode::InvalidArgument,
                     "--" + what + " " + path + ": expected a rank-4 array " +
                         "[batch, heads, seq, dim], got rank " +
                         std::to_string(a->shape.size()));
  if (a->dtype != dtypeOf(e))
    return makeError(ErrorCode::InvalidArgument,
                     "--" + what + " " + path + ": the spec's element type is " +
                         elementTypeName(e) +
                         " but the array is of another dtype" +
                         (e == ElementType::bf16
                              ? " (bf16 is read as <V2, or <u2 with "
                                "--bf16-as-u2)"
                              : ""));
  HostTensor t;
  t.shape = a->shape;
  std::vector<float> f = toFloatVector(*a);
  t.value.assign(f.begin(), f.end());
  t.raw = std::move(*a);
  return t;
}

Expected<DeviceBuffer> upload(const void *data, size_t bytes) {
  Expected<DeviceBuffer> buf = DeviceBuffer::allocate(std::max<size_t>(bytes, 16));
  if (!buf)
    return buf;
  if (bytes) {
    Status st = buf->copyFromHost(data, bytes);
    if (!st)
      return st.takeError();
  }
  return buf;
}

std::string fmtShape(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

} // namespace

bool attnc::tool::parseShape(const std::string &text, Shape &s,
                             std::string &error, const char *flag) {
  std::vector<int64_t> v;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    char *end = nullptr;
    long long x = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end || x <= 0 || x > (1ll << 31) - 1) {
      error = std::string("bad ") + flag + " '" + text + "': '" + part +
              "' is not a positive integer";
      return false;
    }
    v.push_back(x);
  }
  if (v.size() == 3)
    s = {v[0], v[1], v[1], v[2], v[2]};
  else if (v.size() == 5)
    s = {v[0], v[1], v[2], v[3], v[4]};
  else {
    error = std::string("bad ") + flag + " '" + text +
            "': expected b,hq,hk,n,m (or b,h,n), got " +
            std::to_string(v.size()) + " numbers";
    return false;
  }
  return true;
}

/// JIT-compiles the spec as run and bench do; -v routes the cache's
/// messages to stderr.
static Expected<std::shared_ptr<Attention>>
compileForTool(const std::string &spec, CompileOptions co, bool verbose) {
  if (verbose)
    co.log = [](const std::string &m) { std::cerr << "attnc: " << m << "\n"; };
  return compileFile(spec, co);
}

int attnc::tool::runRun(const RunOptions &o) {
  Expected<std::shared_ptr<Attention>> compiled =
      compileForTool(o.spec, o.compile, o.verbose);
  if (!compiled)
    return fail(compiled.error());
  const Attention &attn = **compiled;
  const KernelInfo &info = attn.info();
  ElementType e = info.element;

  // Inputs: .npy files or random normal values of --shape.
  HostTensor q, k, v;
  bool random = !o.shape.empty();
  if (random) {
    if (!o.q.empty() || !o.k.empty() || !o.v.empty())
      return fail("give either --shape (random inputs) or --q/--k/--v");
    Shape s;
    std::string err;
    if (!parseShape(o.shape.front(), s, err))
      return fail(err);
    std::mt19937_64 rng(o.dataSeed);
    q = randomTensor({s.batch, s.headsQ, s.seqQ, info.headDim}, e, rng);
    k = randomTensor({s.batch, s.headsKV, s.seqK, info.headDim}, e, rng);
    v = randomTensor({s.batch, s.headsKV, s.seqK, info.headDimV}, e, rng);
  } else {
    if (o.q.empty() || o.k.empty() || o.v.empty())
      return fail("--q, --k and --v (.npy files) are required unless --shape "
                  "asks for random inputs");
    for (auto [what, path, t] :
         {std::tuple{"q", &o.q, &q}, {"k", &o.k, &k}, {"v", &o.v, &v}}) {
      Expected<HostTensor> r = loadTensor(what, *path, e, o.bf16AsU2);
      if (!r)
        return fail(r.error());
      *t = std::move(*r);
    }
  }
  int64_t b = q.shape[0], hq = q.shape[1], n = q.shape[2];
  int64_t hk = k.shape[1], m = k.shape[2];
  // The files must agree with each other and with the spec: the launch and
  // --check index them by these sizes.
  {
    const char *dimName[4] = {"batch", "heads", "seq", "head dim"};
    struct Want {
      const char *tensor;
      const HostTensor *t;
      int64_t dims[4];
      const char *from[4];
    } wants[] = {
        {"q", &q, {b, hq, n, info.headDim},
         {"q", "q", "q", "the spec"}},
        {"k", &k, {b, hk, m, info.headDim},
         {"q", "k", "k", "the spec"}},
        {"v", &v, {b, hk, m, info.headDimV},
         {"q", "k", "k", "the spec"}},
    };
    for (const Want &w : wants)
      for (int d = 0; d < 4; ++d)
        if (w.t->shape[d] != w.dims[d])
          return fail("--" + std::string(w.tensor) + ": dimension " +
                      std::to_string(d) + " (" + dimName[d] + ") is " +
                      std::to_string(w.t->shape[d]) + " but " +
                      (std::string(w.from[d]) == w.tensor
                           ? std::string("")
                           : std::string(w.from[d]) + "'s is ") +
                      std::to_string(w.dims[d]) + "; " + w.tensor + " " +
                      fmtShape(w.t->shape));
    if (hk <= 0 || hq % hk != 0)
      return fail("--k: " + std::to_string(hk) + " key/value heads do not "
                  "divide q's " + std::to_string(hq) + " query heads");
    for (const HostTensor *t : {&q, &k, &v})
      for (int64_t d : t->shape)
        if (d == 0 || d > std::numeric_limits<int32_t>::max())
          return fail("--" + std::string(t == &q ? "q" : t == &k ? "k" : "v") +
                      ": shape " + fmtShape(t->shape) +
                      " has a dimension of 0 or more than 2^31-1");
  }

  std::vector<int> lengths;
  std::vector<unsigned char> layout;
  int64_t layoutShape[3] = {0, 0, 0};
  if (info.keyPadding) {
    if (o.lengths.empty()) {
      if (!random)
        return fail("the spec masks by key lengths: pass --lengths L.npy "
                    "(int32 [batch])");
      std::mt19937_64 rng(o.dataSeed + 7);
      for (int64_t i = 0; i < b; ++i)
        lengths.push_back(int(rng() % (m + 1)));
    } else {
      Expected<NpyArray> a = readNpy(o.lengths);
      if (!a)
        return fail(a.takeError().addContext("--lengths"));
      if (a->dtype != DType::I32 || a->shape.size() != 1 || a->shape[0] != b)
        return fail("--lengths " + o.lengths + ": expected int32 [" +
                    std::to_string(b) + "], got " + dtypeName(a->dtype) + " " +
                    fmtShape(a->shape));
      lengths.resize(b);
      std::memcpy(lengths.data(), a->data.data(), b * 4);
      for (int64_t i = 0; i < b; ++i)
        if (lengths[i] < 0 || lengths[i] > m)
          return fail("--lengths " + o.lengths + ": entry " +
                      std::to_string(i) + " is " + std::to_string(lengths[i]) +
                      ", outside [0, " + std::to_string(m) + "] (k's seq)");
    }
  }
  if (info.blockSparse) {
    int64_t qb = (n + info.sparseBlockQ - 1) / info.sparseBlockQ;
    int64_t kb = (m + info.sparseBlockK - 1) / info.sparseBlockK;
    if (o.layout.empty()) {
      if (!random)
        return fail("the spec is block-sparse: pass --layout L.npy (int8/uint8 "
                    "[1 or heads, " + std::to_string(qb) + ", " +
                    std::to_string(kb) + "])");
      std::mt19937_64 rng(o.dataSeed + 11);
      layoutShape[0] = 1, layoutShape[1] = qb, layoutShape[2] = kb;
      for (int64_t i = 0; i < qb * kb; ++i)
        layout.push_back(rng() % 2);
    } else {
      Expected<NpyArray> a = readNpy(o.layout);
      if (!a)
        return fail(a.takeError().addContext("--layout"));
      if ((a->dtype != DType::I8 && a->dtype != DType::U8) ||
          a->shape.size() != 3)
        return fail("--layout " + o.layout + ": expected an int8/uint8 array "
                    "[1 or heads, query blocks, key blocks], got shape " +
                    fmtShape(a->shape));
      for (int i = 0; i < 3; ++i)
        layoutShape[i] = a->shape[i];
      layout.assign(a->data.begin(), a->data.end());
    }
  }

  // Device buffers; the output is poisoned (NaN) so unwritten elements show.
  auto dq = upload(q.raw.data.data(), q.raw.data.size());
  auto dk = upload(k.raw.data.data(), k.raw.data.size());
  auto dv = upload(v.raw.data.data(), v.raw.data.size());
  if (!dq || !dk || !dv)
    return fail(!dq ? dq.error() : !dk ? dk.error() : dv.error());
  size_t eb = size_t(elementBytes(e));
  size_t oBytes = size_t(b * hq * n * info.headDimV) * eb;
  auto dout = DeviceBuffer::allocate(oBytes);
  auto dlse = DeviceBuffer::allocate(size_t(b * hq * n) * 4);
  if (!dout || !dlse)
    return fail(!dout ? dout.error() : dlse.error());
  if (Status st = dout->fill(0xff); !st)
    return fail(st.error());
  if (Status st = dlse->fill(0xff); !st)
    return fail(st.error());
  Expected<DeviceBuffer> dlen = upload(lengths.data(), lengths.size() * 4);
  Expected<DeviceBuffer> dlay = upload(layout.data(), layout.size());
  if (!dlen || !dlay)
    return fail(!dlen ? dlen.error() : dlay.error());

  RunArgs args;
  int64_t qs[4] = {b, hq, n, info.headDim}, ks[4] = {b, hk, m, info.headDim},
          vs[4] = {b, hk, m, info.headDimV}, os[4] = {b, hq, n, info.headDimV};
  args.q = TensorArg::contiguous(dq->data(), qs);
  args.k = TensorArg::contiguous(dk->data(), ks);
  args.v = TensorArg::contiguous(dv->data(), vs);
  args.o = TensorArg::contiguous(dout->data(), os);
  args.lse = static_cast<float *>(dlse->data());
  if (info.keyPadding)
    args.kvLengths = static_cast<const int32_t *>(dlen->data());
  if (info.blockSparse) {
    args.blockLayout = static_cast<const uint8_t *>(dlay->data());
    for (int i = 0; i < 3; ++i)
      args.layoutShape[i] = layoutShape[i];
  }
  args.seed = o.seed;
  args.offset = o.offset;
  if (Status st = attn.run(args); !st)
    return fail(st.error());
  NpyArray out;
  out.dtype = dtypeOf(e);
  out.shape = {b, hq, n, info.headDimV};
  out.data.resize(oBytes);
  std::vector<float> lse(size_t(b * hq * n));
  if (Status st = dout->copyToHost(out.data.data(), oBytes); !st)
    return fail(st.error());
  if (Status st = dlse->copyToHost(lse.data(), lse.size() * 4); !st)
    return fail(st.error());

  if (o.verbose)
    std::cerr << "attnc: " << info.kernelName << " tiles " << info.blockM
              << "x" << info.blockN << ", " << info.warps << " warps, "
              << info.stages << " stages, " << info.smemBytes
              << " B shared memory; " << attn.provenance() << "\n";
  NpyWriteOptions wo;
  wo.bf16AsU2 = o.bf16AsU2;
  if (!o.out.empty())
    if (Status st = writeNpy(o.out, out, wo); !st)
      return fail(st.error());
  if (!o.lse.empty()) {
    NpyArray l = fromFloats(lse.data(), {b, hq, n}, DType::F32);
    if (Status st = writeNpy(o.lse, l); !st)
      return fail(st.error());
  }
  if (!o.check) {
    if (o.out.empty())
      std::cout << "ran " << info.kernelName << " on q " << fmtShape(q.shape)
                << "; no -o given, output not written\n";
    return 0;
  }
  std::vector<float> of = toFloatVector(out);
  std::vector<double> od(of.begin(), of.end());
  ref::FwdProblem problem =
      referenceProblem(attn, int(b), int(hq), int(hk), int(n), int(m), lengths,
                       layout, layoutShape, o.seed, o.offset);
  CheckResult r = checkForward(problem, e, q.value, k.value, v.value, od, &lse);
  std::cout << info.specName << " q " << fmtShape(q.shape) << " k "
            << fmtShape(k.shape) << ": " << r.summary() << "\n";
  return r.ok ? 0 : 1;
}

int attnc::tool::runBench(const BenchOptions &o) {
  if (o.shapes.empty())
    return fail("give at least one --shape b,hq,hk,n,m");
  if (o.iters < 1 || o.warmup < 0)
    return fail("--iters must be >= 1 and --warmup >= 0");
  Expected<std::shared_ptr<Attention>> compiled =
      compileForTool(o.spec, o.compile, o.verbose);
  if (!compiled)
    return fail(compiled.error());
  const Attention &attn = **compiled;
  const KernelInfo &info = attn.info();
  if (info.keyPadding || info.blockSparse)
    return fail("attnc bench times specs without key-length or block-layout "
                "inputs for now");
  Expected<DeviceInfo> dev = currentDevice();
  if (!dev)
    return fail(dev.error());
  size_t eb = size_t(elementBytes(info.element));
  if (!o.json)
    std::printf("%-22s %5s %4s %4s %6s %6s %9s %9s %9s %11s\n", "spec", "b",
                "hq", "hk", "n", "m", "ms", "TFLOP/s", "GB/s", "model ms");
  for (const std::string &text : o.shapes) {
    Shape s;
    std::string err;
    if (!parseShape(text, s, err))
      return fail(err);
    // Two input sets, rotated, so no run reads the last one's inputs from L2.
    const int kSets = 2;
    std::vector<DeviceBuffer> bufs;
    size_t qBytes = size_t(s.batch * s.headsQ * s.seqQ * info.headDim) * eb;
    size_t kBytes = size_t(s.batch * s.headsKV * s.seqK * info.headDim) * eb;
    size_t vBytes = size_t(s.batch * s.headsKV * s.seqK * info.headDimV) * eb;
    size_t oBytes = size_t(s.batch * s.headsQ * s.seqQ * info.headDimV) * eb;
    // Inputs: standard normal values (as torch.randn gives the PyTorch side)
    // in the element type, generated once with xorshift + Box-Muller and
    // copied into every buffer (a std::normal_distribution per buffer made
    // large shapes take seconds per process).
    size_t maxBytes = std::max({qBytes, kBytes, vBytes, oBytes});
    std::vector<uint8_t> host(maxBytes);
    uint64_t state = 0x9E3779B97F4A7C15ull;
    auto uniform = [&state] {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      return (float(state >> 40) + 0.5f) * (1.0f / float(1 << 24));
    };
    for (size_t i = 0; i < maxBytes / eb; ++i) {
      float x = std::sqrt(-2.0f * std::log(uniform())) *
                std::cos(6.2831853f * uniform());
      if (info.element == ElementType::f32) {
        std::memcpy(&host[i * 4], &x, 4);
      } else {
        uint16_t bits = info.element == ElementType::bf16 ? floatToBf16(x)
                                                          : floatToHalf(x);
        std::memcpy(&host[i * 2], &bits, 2);
      }
    }
    std::vector<RunArgs> sets;
    for (int i = 0; i < kSets; ++i) {
      for (size_t bytes : {qBytes, kBytes, vBytes, oBytes}) {
        Expected<DeviceBuffer> buf = DeviceBuffer::allocate(bytes);
        if (!buf)
          return fail(buf.error());
        if (Status st = buf->copyFromHost(host.data(), bytes); !st)
          return fail(st.error());
        bufs.push_back(std::move(*buf));
      }
      Expected<DeviceBuffer> lse =
          DeviceBuffer::allocate(size_t(s.batch * s.headsQ * s.seqQ) * 4);
      if (!lse)
        return fail(lse.error());
      bufs.push_back(std::move(*lse));
      DeviceBuffer *b0 = &bufs[bufs.size() - 5];
      RunArgs a;
      int64_t qs[4] = {s.batch, s.headsQ, s.seqQ, info.headDim};
      int64_t ks[4] = {s.batch, s.headsKV, s.seqK, info.headDim};
      int64_t vs[4] = {s.batch, s.headsKV, s.seqK, info.headDimV};
      int64_t os[4] = {s.batch, s.headsQ, s.seqQ, info.headDimV};
      a.q = TensorArg::contiguous(b0[0].data(), qs);
      a.k = TensorArg::contiguous(b0[1].data(), ks);
      a.v = TensorArg::contiguous(b0[2].data(), vs);
      a.o = TensorArg::contiguous(b0[3].data(), os);
      a.lse = static_cast<float *>(b0[4].data());
      sets.push_back(a);
    }
    for (int i = 0; i < o.warmup; ++i)
      if (Status st = attn.run(sets[i % kSets]); !st)
        return fail(st.error());
    std::vector<float> times;
    for (int i = 0; i < o.iters; ++i) {
      Expected<EventTimer> t = EventTimer::create();
      if (!t)
        return fail(t.error());
      if (Status st = t->start(); !st)
        return fail(st.error());
      if (Status st = attn.run(sets[i % kSets]); !st)
        return fail(st.error());
      if (Status st = t->stop(); !st)
        return fail(st.error());
      Expected<float> ms = t->elapsedMs();
      if (!ms)
        return fail(ms.error());
      times.push_back(*ms);
    }
    std::sort(times.begin(), times.end());
    double ms = times[times.size() / 2];
    // FLOPs as the FlashAttention papers count them: 4 b h n m d, halved
    // when causal.
    double flops = 4.0 * s.batch * s.headsQ * s.seqQ * s.seqK * info.headDim;
    if (info.causal)
      flops /= 2;
    double tflops = flops / (ms * 1e-3) / 1e12;
    // Bytes the kernel must move at least: Q, K, V read once, O and LSE
    // written once; the IO model's report has the tiled figure.
    double bytes = double(qBytes + kBytes + vBytes + oBytes) +
                   4.0 * s.batch * s.headsQ * s.seqQ;
    double gbps = bytes / (ms * 1e-3) / 1e9;
    double predicted =
        attn.timeLowerBound(s.batch, s.headsQ, s.headsKV, s.seqQ, s.seqK) *
        1e3;
    if (o.json)
      std::printf("{\"spec\": \"%s\", \"batch\": %lld, \"heads_q\": %lld, "
                  "\"heads_kv\": %lld, \"seq_q\": %lld, \"seq_k\": %lld, "
                  "\"head_dim\": %d, \"causal\": %s, \"tiles\": \"%dx%d w%d s%d\", "
                  "\"median_ms\": %.5f, "
                  "\"tflops\": %.2f, \"gbps\": %.1f, \"predicted_ms\": %.5f, "
                  "\"iters\": %d, \"device_bytes\": %.0f, \"device\": \"%s\"}\n",
                  info.specName.c_str(), (long long)s.batch,
                  (long long)s.headsQ, (long long)s.headsKV, (long long)s.seqQ,
                  (long long)s.seqK, info.headDim,
                  info.causal ? "true" : "false", info.blockM, info.blockN,
                  info.warps, info.stages, ms, tflops, gbps, predicted,
                  o.iters, bytes, dev->name.c_str());
    else
      std::printf("%-22s %5lld %4lld %4lld %6lld %6lld %9.4f %9.1f %9.1f %11.4f\n",
                  info.specName.c_str(), (long long)s.batch,
                  (long long)s.headsQ, (long long)s.headsKV, (long long)s.seqQ,
                  (long long)s.seqK, ms, tflops, gbps, predicted);
    std::fflush(stdout);
  }
  return 0;
}
