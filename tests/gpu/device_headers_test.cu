// device_headers_test.cu - correctness and speed of codegen/device/attnc/*.cuh.
//
//   nvcc -std=c++17 -arch=sm_90a -O3 -I codegen/device -I dialects/include \
//        tests/gpu/device_headers_test.cu -o dht
//   ./dht            # every case against the float64 reference (Reference.h)
//   ./dht --small [--filter STR]   # a subset, e.g. under compute-sanitizer
//   ./dht --bench    # the protocol of docs/testing.md shapes, TFLOP/s per tile config
//
// Rule (docs/testing.md): max|out - ref| <= 2 * max|naive_lowp - ref| + 1e-5, where
// naive_lowp is matmul-softmax-matmul in the element precision (emulated on
// the CPU: fp32 S, P rounded to Element before P V, O rounded to Element).
#include "attnc/flash_fwd.cuh"

#ifdef DHT_BENCH_ONLY // quick bench build: the test helpers stay unused
#pragma nv_diag_suppress 177
#endif

#include "../../compiler/include/attnc/Reference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "device_headers/test_specs.h"

#define CUDA_CHECK(call)                                                       \
  do {                                                                         \
    cudaError_t err_ = (call);                                                 \
    if (err_ != cudaSuccess) {                                                 \
      std::fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__,  \
                   #call, cudaGetErrorName(err_), cudaGetErrorString(err_));   \
      std::exit(2);                                                            \
    }                                                                          \
  } while (0)

namespace {

// ---------------------------------------------------------------------------
// Host element conversions.
// ---------------------------------------------------------------------------
template <class T> float toFloat(T x);
template <> float toFloat(__half x) { return __half2float(x); }
template <> float toFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
template <> float toFloat(float x) { return x; }
template <class T> T fromFloat(float x);
template <> __half fromFloat(float x) { return __float2half_rn(x); }
template <> __nv_bfloat16 fromFloat(float x) { return __float2bfloat16_rn(x); }
template <> float fromFloat(float x) { return x; }
template <class T> float roundTo(float x) { return toFloat(fromFloat<T>(x)); }
template <class T> const char *typeName();
template <> const char *typeName<__half>() { return "f16"; }
template <> const char *typeName<__nv_bfloat16>() { return "bf16"; }
template <> const char *typeName<float>() { return "f32"; }

void parallelFor(long long n, const std::function<void(long long, long long)> &fn) {
  int threads = std::max(1u, std::thread::hardware_concurrency());
  threads = (int)std::min<long long>(threads, std::max(1ll, n / 16));
  std::vector<std::thread> pool;
  long long chunk = (n + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    long long b = t * chunk, e = std::min(n, b + chunk);
    if (b < e)
      pool.emplace_back(fn, b, e);
  }
  for (auto &th : pool)
    th.join();
}

// ---------------------------------------------------------------------------
// One test case: shapes and feature parameters (the Spec says which features).
// ---------------------------------------------------------------------------
struct Case {
  int batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
  bool bshd = false; // [b, s, h, d] layout (non-contiguous heads) for Q K V O
  int windowLeft = 37, windowRight = 5;
  std::vector<int> kvLengths;
  int sparseBlockQ = 32, sparseBlockK = 48;
  bool sharedLayout = false;
  float dropoutP = 0.17f;
  unsigned long long seed = 0x1234abcd5678ull, offset = 77;
};

int gPassed = 0, gFailed = 0;
// --small: only cases with batch * headsQ * seqQ * seqK <= 2^21 (for
// compute-sanitizer); --filter STR: only specs whose name contains STR.
bool gSmall = false;
const char *gFilter = nullptr;

template <class Spec> void setKernelSmem() {
  CUDA_CHECK(cudaFuncSetAttribute(fwdKernel<Spec>,
                                  cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  attnc::FwdTraits<Spec>::kSmemBytes));
}

template <class Spec> void launch(const attnc::FwdParams &p, cudaStream_t s = 0) {
  using Tr = attnc::FwdTraits<Spec>;
  dim3 grid((p.seqQ + Tr::kBlockM - 1) / Tr::kBlockM, p.headsQ, p.batch);
  fwdKernel<Spec><<<grid, Tr::kThreads, Tr::kSmemBytes, s>>>(p);
  CUDA_CHECK(cudaGetLastError());
}

/// The float emulation of plain attention in the element precision.
template <class Spec>
void naiveLowp(const attnc::ref::FwdProblem &pr, const std::vector<float> &q,
               const std::vector<float> &k, const std::vector<float> &v,
               std::vector<float> &o, std::vector<float> &lse) {
  using T = typename Spec::Element;
  const int D = pr.headDim, DV = pr.headDimV, groups = pr.headsQ / pr.headsKV;
  const float scale = (float)pr.scale;
  parallelFor((long long)pr.batch * pr.headsQ * pr.seqQ, [&](long long r0,
                                                               long long r1) {
    std::vector<float> s(pr.seqK), acc(DV);
    for (long long row = r0; row < r1; ++row) {
      int i = (int)(row % pr.seqQ), h = (int)((row / pr.seqQ) % pr.headsQ);
      int b = (int)(row / ((long long)pr.seqQ * pr.headsQ)), hk = h / groups;
      const float *qi = &q[row * D];
      const float *kb = &k[((long long)b * pr.headsKV + hk) * pr.seqK * D];
      const float *vb = &v[((long long)b * pr.headsKV + hk) * pr.seqK * DV];
      float mx = -INFINITY;
      for (int j = 0; j < pr.seqK; ++j) {
        float a = 0;
        for (int d = 0; d < D; ++d)
          a += qi[d] * kb[(long long)j * D + d];
        float x = a * scale;
        if (Spec::kScoreMod)
          x = 30.f * std::tanh(x / 30.f);
        if (!attnc::ref::allowed(pr, b, h, i, j))
          x = -INFINITY;
        s[j] = x;
        mx = std::max(mx, x);
      }
      std::fill(acc.begin(), acc.end(), 0.f);
      if (mx == -INFINITY) {
        lse[row] = -INFINITY;
      } else {
        float sum = 0;
        for (int j = 0; j < pr.seqK; ++j)
          sum += (s[j] = std::exp(s[j] - mx));
        lse[row] = mx + std::log(sum);
        for (int j = 0; j < pr.seqK; ++j) {
          float pj = s[j] / sum;
          if (pr.dropout)
            pj = attnc::ref::dropoutKeep(pr, b, h, i, j)
                     ? pj * (float)pr.dropoutScale
                     : 0.f;
          pj = roundTo<T>(pj);
          for (int d = 0; d < DV; ++d)
            acc[d] += pj * vb[(long long)j * DV + d];
        }
      }
      for (int d = 0; d < DV; ++d)
        o[row * DV + d] = roundTo<T>(acc[d]);
    }
  });
}

template <class Spec> std::string specName() {
  using Tr = attnc::FwdTraits<Spec>;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s d%d %dx%d w%d s%d%s%s%s%s%s%s%s",
                typeName<typename Spec::Element>(), Tr::kHeadDim, Tr::kBlockM,
                Tr::kBlockN, Tr::kWarps, Tr::kStages,
                Spec::kCausal ? " causal" : "", Spec::kWindow ? " window" : "",
                Spec::kKeyPadding ? " keypad" : "",
                Spec::kBlockSparse ? " sparse" : "",
                Spec::kScoreMod ? " softcap" : "", Spec::kMaskFn ? " maskfn" : "",
                Spec::kDropout ? " dropout" : "");
  return buf;
}

template <class Spec> void runCase(const Case &c) {
  using T = typename Spec::Element;
  constexpr int D = Spec::kHeadDim, DV = Spec::kHeadDimV;
  const int B = c.batch, HQ = c.headsQ, HK = c.headsKV, N = c.seqQ, M = c.seqK;
  if (gSmall && (long long)B * HQ * N * M > (1ll << 21))
    return;
  if (gFilter && !std::strstr(specName<Spec>().c_str(), gFilter))
    return;
  std::mt19937_64 rng(0x5eed + N * 131 + M * 7 + D + HQ * 1000 + B * 17);
  std::normal_distribution<float> normal(0.f, 1.f);

  // Problem (reference side).
  attnc::ref::FwdProblem pr;
  pr.batch = B, pr.headsQ = HQ, pr.headsKV = HK, pr.seqQ = N, pr.seqK = M;
  pr.headDim = D, pr.headDimV = DV;
  pr.scale = (double)(1.f / std::sqrt((float)D));
  pr.causal = Spec::kCausal;
  pr.window = Spec::kWindow;
  pr.windowLeft = c.windowLeft, pr.windowRight = c.windowRight;
  if (Spec::kKeyPadding) {
    pr.kvLengths = c.kvLengths;
    pr.kvLengths.resize(B, M);
  }
  std::vector<int> layoutDims(2, 0);
  if (Spec::kBlockSparse) {
    pr.blockSparse = true;
    pr.sparseBlockQ = c.sparseBlockQ, pr.sparseBlockK = c.sparseBlockK;
    int qb = (N + c.sparseBlockQ - 1) / c.sparseBlockQ;
    int kb = (M + c.sparseBlockK - 1) / c.sparseBlockK;
    layoutDims = {qb, kb};
    int heads = c.sharedLayout ? 1 : HQ;
    pr.layoutStrideQ = kb;
    pr.layoutStrideH = c.sharedLayout ? 0 : (long long)qb * kb;
    pr.blockLayout.resize((size_t)heads * qb * kb);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (int h = 0; h < heads; ++h)
      for (int r = 0; r < qb; ++r) {
        bool emptyRow = (r % 5 == 3); // some fully masked query rows
        for (int cc = 0; cc < kb; ++cc)
          pr.blockLayout[(size_t)h * qb * kb + r * kb + cc] =
              !emptyRow && (u(rng) < 0.55f || cc == r % kb);
      }
  }
  if (Spec::kDropout) {
    pr.dropout = true;
    pr.dropoutP = c.dropoutP;
    pr.dropoutScale = (double)(1.f / (1.f - c.dropoutP));
    pr.seed = c.seed, pr.offset = c.offset;
  }
  if (Spec::kScoreMod)
    pr.scoreMod = [](double s, int, int, int, int) {
      return 30.0 * std::tanh(s / 30.0);
    };
  if (Spec::kMaskFn)
    pr.maskFn = [](int b, int h, int i, int j) { return testMaskFn(b, h, i, j); };

  // Inputs: random normal, rounded to Element; dense [b,h,s,d] copies.
  auto fill = [&](std::vector<float> &x, size_t n) {
    x.resize(n);
    for (auto &e : x)
      e = roundTo<T>(normal(rng));
  };
  std::vector<float> q, k, v;
  fill(q, (size_t)B * HQ * N * D);
  fill(k, (size_t)B * HK * M * D);
  fill(v, (size_t)B * HK * M * DV);

  // Device layout: [b,h,s,d] or [b,s,h,d].
  auto strides = [&](int H, int S, int Dim, long long &sb, long long &sh,
                     long long &ss) {
    if (c.bshd) {
      ss = (long long)H * Dim, sh = Dim, sb = (long long)S * H * Dim;
    } else {
      ss = Dim, sh = (long long)S * Dim, sb = (long long)H * S * Dim;
    }
  };
  attnc::FwdParams p{};
  strides(HQ, N, D, p.qStrideB, p.qStrideH, p.qStrideS);
  strides(HK, M, D, p.kStrideB, p.kStrideH, p.kStrideS);
  strides(HK, M, DV, p.vStrideB, p.vStrideH, p.vStrideS);
  strides(HQ, N, DV, p.oStrideB, p.oStrideH, p.oStrideS);
  const long long lseStrideH = N + 3; // padded: gaps must stay untouched
  p.lseStrideH = lseStrideH, p.lseStrideB = lseStrideH * HQ;
  auto toDevice = [&](const std::vector<float> &x, int H, int S, int Dim,
                      long long sb, long long sh, long long ss) {
    std::vector<T> host((size_t)B * H * S * Dim);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        for (int s = 0; s < S; ++s)
          for (int d = 0; d < Dim; ++d)
            host[b * sb + h * sh + s * ss + d] =
                fromFloat<T>(x[(((size_t)b * H + h) * S + s) * Dim + d]);
    T *dev;
    CUDA_CHECK(cudaMalloc(&dev, host.size() * sizeof(T)));
    CUDA_CHECK(cudaMemcpy(dev, host.data(), host.size() * sizeof(T),
                          cudaMemcpyHostToDevice));
    return dev;
  };
  T *dq = toDevice(q, HQ, N, D, p.qStrideB, p.qStrideH, p.qStrideS);
  T *dk = toDevice(k, HK, M, D, p.kStrideB, p.kStrideH, p.kStrideS);
  T *dv = toDevice(v, HK, M, DV, p.vStrideB, p.vStrideH, p.vStrideS);
  const size_t oElems = (size_t)B * HQ * N * DV, oGuard = 4096;
  const size_t lseElems = (size_t)B * HQ * lseStrideH, lseGuard = 256;
  T *dout;
  float *dlse;
  CUDA_CHECK(cudaMalloc(&dout, (oElems + oGuard) * sizeof(T)));
  CUDA_CHECK(cudaMalloc(&dlse, (lseElems + lseGuard) * sizeof(float)));
  int *dlen = nullptr;
  unsigned char *dlayout = nullptr;
  if (Spec::kKeyPadding) {
    CUDA_CHECK(cudaMalloc(&dlen, B * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(dlen, pr.kvLengths.data(), B * sizeof(int),
                          cudaMemcpyHostToDevice));
  }
  if (Spec::kBlockSparse) {
    CUDA_CHECK(cudaMalloc(&dlayout, pr.blockLayout.size()));
    CUDA_CHECK(cudaMemcpy(dlayout, pr.blockLayout.data(), pr.blockLayout.size(),
                          cudaMemcpyHostToDevice));
  }
  p.q = dq, p.k = dk, p.v = dv, p.o = dout, p.lse = dlse;
  p.batch = B, p.headsQ = HQ, p.headsKV = HK, p.seqQ = N, p.seqK = M;
  p.scale = (float)pr.scale;
  p.scaleLog2 = p.scale * 1.4426950408889634f;
  p.windowLeft = c.windowLeft, p.windowRight = c.windowRight;
  p.kvLengths = dlen;
  p.blockLayout = dlayout;
  p.layoutStrideH = pr.layoutStrideH, p.layoutStrideQ = pr.layoutStrideQ;
  p.layoutQBlocks = layoutDims[0], p.layoutKBlocks = layoutDims[1];
  p.sparseBlockQ = c.sparseBlockQ, p.sparseBlockK = c.sparseBlockK;
  p.dropoutP = c.dropoutP;
  p.dropoutScale = (float)pr.dropoutScale;
  p.seed = c.seed, p.offset = c.offset;

  setKernelSmem<Spec>();
  auto runOnce = [&](std::vector<T> &o, std::vector<float> &lse) {
    CUDA_CHECK(cudaMemset(dout, 0xff, (oElems + oGuard) * sizeof(T))); // NaN
    CUDA_CHECK(cudaMemset(dlse, 0xff, (lseElems + lseGuard) * sizeof(float)));
    launch<Spec>(p);
    CUDA_CHECK(cudaDeviceSynchronize());
    o.resize(oElems + oGuard);
    lse.resize(lseElems + lseGuard);
    CUDA_CHECK(cudaMemcpy(o.data(), dout, o.size() * sizeof(T),
                          cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(lse.data(), dlse, lse.size() * sizeof(float),
                          cudaMemcpyDeviceToHost));
  };
  std::vector<T> out, out2;
  std::vector<float> lseOut, lseOut2;
  runOnce(out, lseOut);
  bool reproducible = true;
  if (Spec::kDropout) { // same seed / offset: bit-identical
    runOnce(out2, lseOut2);
    reproducible = std::memcmp(out.data(), out2.data(), out.size() * sizeof(T)) == 0;
  }

  // References.
  std::vector<double> qd(q.begin(), q.end()), kd(k.begin(), k.end()),
      vd(v.begin(), v.end()), oRef(oElems), lseRef((size_t)B * HQ * N);
  parallelFor((long long)B * HQ * N, [&](long long r0, long long r1) {
    attnc::ref::forwardRows(pr, qd.data(), kd.data(), vd.data(), oRef.data(),
                            lseRef.data(), r0, r1);
  });
  std::vector<float> oNaive(oElems), lseNaive((size_t)B * HQ * N);
  naiveLowp<Spec>(pr, q, k, v, oNaive, lseNaive);

  double errOut = 0, errNaive = 0, errLse = 0, errLseNaive = 0;
  long long bad = 0, badLseInf = 0, guardBad = 0;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < HQ; ++h)
      for (int i = 0; i < N; ++i) {
        size_t row = ((size_t)b * HQ + h) * N + i;
        for (int d = 0; d < DV; ++d) {
          double got = toFloat(out[b * p.oStrideB + h * p.oStrideH +
                                   i * p.oStrideS + d]);
          double ref = oRef[row * DV + d];
          if (std::isnan(got))
            ++bad;
          else
            errOut = std::max(errOut, std::fabs(got - ref));
          errNaive = std::max(errNaive, std::fabs(oNaive[row * DV + d] - ref));
        }
        double gotL = lseOut[b * p.lseStrideB + h * p.lseStrideH + i];
        double refL = lseRef[row];
        if (std::isinf(refL) || std::isinf(gotL) || std::isnan(gotL)) {
          if (!(std::isinf(refL) && std::isinf(gotL) && gotL < 0))
            ++badLseInf;
        } else {
          errLse = std::max(errLse, std::fabs(gotL - refL));
          errLseNaive = std::max(errLseNaive, std::fabs(lseNaive[row] - refL));
        }
      }
  // Guards: the lse gaps and the tails past O and LSE stay poisoned.
  for (size_t e = oElems; e < oElems + oGuard; ++e)
    guardBad += !std::isnan(toFloat(out[e]));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < HQ; ++h)
      for (long long i = N; i < lseStrideH; ++i)
        guardBad += !std::isnan(lseOut[b * p.lseStrideB + h * p.lseStrideH + i]);
  for (size_t e = lseElems; e < lseElems + lseGuard; ++e)
    guardBad += !std::isnan(lseOut[e]);

  const double tol = 2 * errNaive + 1e-5, tolLse = 2 * errLseNaive + 1e-4;
  bool ok = bad == 0 && badLseInf == 0 && guardBad == 0 && errOut <= tol &&
            errLse <= tolLse && reproducible;
  std::printf("%s  %-44s b%d hq%d hk%d n%-5d m%-5d %s  err %.3g (tol %.3g) "
              "lse %.3g (tol %.3g)%s%s%s%s\n",
              ok ? "PASS" : "FAIL", specName<Spec>().c_str(), B, HQ, HK, N, M,
              c.bshd ? "bshd" : "bhsd", errOut, tol, errLse, tolLse,
              bad ? " NaN-in-O" : "", badLseInf ? " lse-inf-mismatch" : "",
              guardBad ? " wrote-outside" : "",
              reproducible ? "" : " not-reproducible");
  (ok ? gPassed : gFailed)++;
  cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(dlse);
  if (dlen)
    cudaFree(dlen);
  if (dlayout)
    cudaFree(dlayout);
}

// ---------------------------------------------------------------------------
// Philox: known answers, host == device == Reference.h, keep rate.
// ---------------------------------------------------------------------------
__global__ void philoxKernel(unsigned long long seed, unsigned long long offset,
                             int B, int H, int N, int M, unsigned *words) {
  long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  long long total = (long long)B * H * N * M;
  if (idx >= total)
    return;
  int j = idx % M, i = (idx / M) % N, h = (idx / M / N) % H, b = idx / M / N / H;
  words[idx] = attnc::pickWord(attnc::dropoutWords(seed, offset, b, h, i, j), i, j);
}

void testPhilox() {
  struct Kat {
    unsigned c[4], k[2], out[4];
  } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  bool katOk = true;
  for (auto &t : kats) {
    attnc::PhiloxWords w =
        attnc::philox4x32_10(t.c[0], t.c[1], t.c[2], t.c[3], t.k[0], t.k[1]);
    unsigned got[4] = {w.x, w.y, w.z, w.w};
    for (int e = 0; e < 4; ++e)
      katOk &= got[e] == t.out[e];
  }
  std::printf("%s  philox4x32-10 known-answer vectors (Random123)\n",
              katOk ? "PASS" : "FAIL");
  (katOk ? gPassed : gFailed)++;

  const int B = 3, H = 5, N = 67, M = 301;
  const float pDrop = 0.17f;
  const unsigned long long seed = 0xdeadbeefcafeull, offset = 0x100000003ull;
  long long total = (long long)B * H * N * M;
  unsigned *dw;
  CUDA_CHECK(cudaMalloc(&dw, total * sizeof(unsigned)));
  philoxKernel<<<(total + 255) / 256, 256>>>(seed, offset, B, H, N, M, dw);
  CUDA_CHECK(cudaGetLastError());
  std::vector<unsigned> words(total);
  CUDA_CHECK(cudaMemcpy(words.data(), dw, total * sizeof(unsigned),
                        cudaMemcpyDeviceToHost));
  cudaFree(dw);
  long long mismatch = 0, kept = 0;
  unsigned thr = attnc::dropoutThreshold(pDrop);
  bool thrOk = thr == (unsigned)(pDrop * 65536.0);
  for (long long idx = 0; idx < total; ++idx) {
    int j = idx % M, i = (idx / M) % N, h = (idx / M / N) % H, b = idx / M / N / H;
    unsigned host = attnc::pickWord(attnc::dropoutWords(seed, offset, b, h, i, j), i, j);
    mismatch += host != words[idx];
    kept += attnc::dropoutKeepBits(words[idx], j & 1, thr);
  }
  double expect = total * (1.0 - pDrop), sigma = std::sqrt(total * pDrop * (1 - pDrop));
  bool rateOk = std::fabs(kept - expect) <= 3 * sigma;
  bool ok = mismatch == 0 && rateOk && thrOk;
  std::printf("%s  philox dropout mapping: device == host (attn/Kernel/Philox.h) on %lld "
              "elements (%lld mismatches); keep rate %.5f vs %.5f (3 sigma %.5f)\n",
              ok ? "PASS" : "FAIL", total, mismatch, (double)kept / total,
              1.0 - pDrop, 3 * sigma / total);
  (ok ? gPassed : gFailed)++;
}

// ---------------------------------------------------------------------------
// Case lists (left out of the quick -DDHT_BENCH_ONLY build).
// ---------------------------------------------------------------------------
#ifndef DHT_BENCH_ONLY
Case mk(int b, int hq, int hk, int n, int m, bool bshd = false) {
  Case c;
  c.batch = b, c.headsQ = hq, c.headsKV = hk, c.seqQ = n, c.seqK = m;
  c.bshd = bshd;
  return c;
}

template <class T, int D, int BM, int BN, int W, int S> void plainShapes() {
  using Sp = TestSpec<T, D, BM, BN, W, S, 0>;
  runCase<Sp>(mk(2, 3, 3, 128, 1000, true));
  runCase<Sp>(mk(1, 2, 2, 1000, 17));
  runCase<Sp>(mk(3, 1, 1, 17, 1));
}

template <class T> void elementSweep() {
  if constexpr (IsTensorCore<T>) {
    plainShapes<T, 32, 128, 64, 4, 2>();
    plainShapes<T, 64, 128, 64, 4, 2>();
    plainShapes<T, 96, 128, 64, 4, 2>();
    plainShapes<T, 128, 128, 64, 4, 2>();
    plainShapes<T, 192, 128, 64, 8, 2>();
    plainShapes<T, 256, 64, 64, 4, 2>();
  } else {
    plainShapes<T, 32, 64, 64, 4, 2>();
    plainShapes<T, 64, 64, 64, 4, 2>();
    plainShapes<T, 96, 64, 32, 4, 2>();
    plainShapes<T, 128, 64, 32, 4, 1>();
    plainShapes<T, 192, 64, 32, 4, 1>();
    plainShapes<T, 256, 64, 32, 4, 1>();
  }
}

/// Every feature on its own (bf16, d64) and all of them together.
void featureCases() {
  using T = __nv_bfloat16;
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kCausalF>;
    runCase<Sp>(mk(1, 2, 2, 1000, 1000));
    runCase<Sp>(mk(1, 1, 1, 4096, 4096));
    runCase<Sp>(mk(2, 3, 3, 128, 1000, true));
    runCase<Sp>(mk(2, 3, 3, 1000, 128, true)); // rows before the diagonal: O=0
    runCase<Sp>(mk(1, 1, 1, 17, 4096));
    runCase<Sp>(mk(3, 1, 1, 1, 17));
    runCase<Sp>(mk(3, 1, 1, 17, 1));
    runCase<ContractSpecCausal>(mk(1, 3, 3, 1000, 4096));
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kWindowF>;
    runCase<Sp>(mk(1, 2, 2, 1000, 1000));
    runCase<Sp>(mk(2, 3, 3, 1000, 128, true));
    runCase<Sp>(mk(1, 3, 3, 128, 1000));
    Case wide = mk(1, 1, 1, 1000, 4096);
    wide.windowLeft = 300, wide.windowRight = 0;
    runCase<Sp>(wide);
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kKeyPaddingF>;
    Case c = mk(3, 2, 2, 128, 1000);
    c.kvLengths = {0, 17, 1000};
    runCase<Sp>(c);
    c = mk(3, 1, 1, 1000, 4096, true);
    c.kvLengths = {4096, 5, 0};
    runCase<Sp>(c);
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kBlockSparseF>;
    runCase<Sp>(mk(1, 3, 3, 1000, 1000));
    Case c = mk(2, 2, 2, 1000, 4096, true);
    c.sparseBlockQ = 128, c.sparseBlockK = 64, c.sharedLayout = true;
    runCase<Sp>(c);
    c = mk(1, 2, 2, 128, 1000);
    c.sparseBlockQ = 16, c.sparseBlockK = 16;
    runCase<Sp>(c);
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kScoreModF>;
    runCase<Sp>(mk(1, 2, 2, 1000, 1000));
    runCase<Sp>(mk(2, 3, 3, 17, 1000, true));
    using Sc = TestSpec<T, 128, 128, 64, 4, 2, kScoreModF | kCausalF>;
    runCase<Sc>(mk(1, 2, 2, 1000, 4096));
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kMaskFnF>;
    runCase<Sp>(mk(1, 2, 2, 1000, 1000));
    using Sc = TestSpec<T, 64, 128, 64, 4, 2, kMaskFnF | kCausalF>;
    runCase<Sc>(mk(2, 3, 3, 1000, 128, true));
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, kDropoutF>;
    runCase<Sp>(mk(1, 3, 3, 1000, 1000));
    Case c = mk(2, 2, 2, 128, 1000, true);
    c.dropoutP = 0.5f, c.seed = 42, c.offset = (1ull << 33) + 5;
    runCase<Sp>(c);
    using Sc = TestSpec<T, 128, 128, 64, 4, 1, kDropoutF | kCausalF>;
    runCase<Sc>(mk(1, 2, 2, 1000, 4096));
  }
  {
    using Sp = TestSpec<T, 64, 128, 64, 4, 2, 0>;
    runCase<Sp>(mk(2, 6, 2, 1000, 1000, true)); // GQA
    runCase<Sp>(mk(1, 6, 1, 128, 4096));         // MQA
    using Sc = TestSpec<T, 128, 128, 64, 4, 2, kCausalF>;
    runCase<Sc>(mk(3, 6, 2, 1000, 128, true));
  }
  // Everything at once, each element type.
  constexpr unsigned kAll = kCausalF | kWindowF | kKeyPaddingF | kBlockSparseF |
                            kScoreModF | kMaskFnF | kDropoutF;
  {
    Case c = mk(3, 6, 2, 1000, 4096, true);
    c.windowLeft = 2000, c.windowRight = 64;
    c.kvLengths = {3000, 0, 4096};
    runCase<TestSpec<__nv_bfloat16, 128, 128, 64, 4, 2, kAll>>(c);
    runCase<TestSpec<__half, 64, 64, 32, 4, 1, kAll>>(c);
    c = mk(3, 6, 2, 300, 128, true);
    c.windowLeft = 50, c.windowRight = 3;
    c.kvLengths = {128, 0, 100};
    runCase<TestSpec<float, 64, 64, 32, 4, 2, kAll>>(c);
    runCase<TestSpec<float, 128, 128, 64, 8, 1, kAll>>(c);
  }
  // f16 / f32 features individually (a smaller set).
  runCase<TestSpec<__half, 128, 128, 64, 4, 2, kCausalF>>(mk(1, 2, 2, 1000, 128));
  runCase<TestSpec<float, 64, 64, 64, 4, 2, kCausalF>>(mk(1, 2, 2, 1000, 1017));
  runCase<TestSpec<float, 64, 64, 64, 4, 2, kDropoutF>>(mk(1, 3, 3, 300, 300));
}

/// Every supported tile config (d64, d128), causal, n != m.
template <int D, int BM, int BN, int W, int S> void configCase() {
  using T = __nv_bfloat16;
  if constexpr ((BM * D + S * BN * 2 * D) * 2 <= 227 * 1024) {
    runCase<TestSpec<T, D, BM, BN, W, S, kCausalF>>(mk(1, 2, 2, 1000, 1017, true));
    runCase<TestSpec<T, D, BM, BN, W, S, 0>>(mk(2, 1, 1, 300, 129));
  }
}
template <int D> void configSweep() {
  configCase<D, 64, 32, 4, 1>(), configCase<D, 64, 32, 4, 2>();
  configCase<D, 64, 64, 4, 1>(), configCase<D, 64, 64, 4, 2>();
  configCase<D, 64, 128, 4, 1>(), configCase<D, 64, 128, 4, 2>();
  configCase<D, 128, 32, 4, 1>(), configCase<D, 128, 32, 4, 2>();
  configCase<D, 128, 64, 4, 1>(), configCase<D, 128, 64, 4, 2>();
  configCase<D, 128, 128, 4, 1>(), configCase<D, 128, 128, 4, 2>();
  configCase<D, 128, 32, 8, 1>(), configCase<D, 128, 32, 8, 2>();
  configCase<D, 128, 64, 8, 1>(), configCase<D, 128, 64, 8, 2>();
  configCase<D, 128, 128, 8, 1>(), configCase<D, 128, 128, 8, 2>();
}
#endif // DHT_BENCH_ONLY

} // namespace

#include "device_headers/bench.h"

int main(int argc, char **argv) {
  bool bench = argc > 1 && std::strcmp(argv[1], "--bench") == 0;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--small") == 0)
      gSmall = true;
    else if (std::strcmp(argv[a], "--filter") == 0 && a + 1 < argc)
      gFilter = argv[++a];
  }
  int dev = 0;
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major,
              prop.minor, prop.multiProcessorCount);
  if (bench)
    return runBench(argc > 2 ? argv[2] : "");
#ifdef DHT_BENCH_ONLY
  std::printf("built with -DDHT_BENCH_ONLY: run --bench\n");
  return 1;
#else
  testPhilox();
  featureCases();
  elementSweep<__nv_bfloat16>();
  elementSweep<__half>();
  elementSweep<float>();
  configSweep<64>();
  configSweep<128>();
  std::printf("%d passed, %d failed\n", gPassed, gFailed);
  return gFailed == 0 ? 0 : 1;
#endif
}
