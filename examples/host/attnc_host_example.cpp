//===- attnc_host_example.cpp - using attnc from a C++ program ------------===//
//
// JIT-compiles two attention variants from DSL text, runs them on random
// data, checks them against the float64 CPU reference and times them:
//
//   1. causal attention, bf16, head dim 128;
//   2. soft-capped (Gemma 2) sliding-window attention, f16, head dim 64.
//
// Build: the CMake target `attnc-host-example` (links attnc_lib). Run:
//   ./bin/attnc-host-example
// Exit status: 0 all checks passed, 1 a check or a call failed, 2 no GPU.
//
//===----------------------------------------------------------------------===//
#include "attnc/CudaDriver.h"
#include "attnc/Npy.h"       // floatToBf16, halfToFloat, ...
#include "attnc/Reference.h" // attnc::ref::forward (float64)
#include "attnc/attnc.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *kCausalBf16 = R"(
attention causal_bf16 {
  q: bf16[b, h, n, 128]
  k: bf16[b, h, m, 128]
  v: bf16[b, h, m, 128]
  s = matmul(q, k^T) * rsqrt(128)
  s = mask(s, causal)
  p = softmax(s)
  o = matmul(p, v)
  return o, logsumexp
}
)";

const char *kSoftcapWindowF16 = R"(
attention softcap_window_f16 {
  q: f16[b, h, n, 64]
  k: f16[b, h, m, 64]
  v: f16[b, h, m, 64]
  cap = 30.0
  s = matmul(q, k^T) * rsqrt(64)
  s = cap * tanh(s / cap)
  s = mask(s, window(256, 0))
  p = softmax(s)
  o = matmul(p, v)
  return o, logsumexp
}
)";

/// Prints the error of a failed call and returns false.
template <typename T> bool ok(const T &result, const char *what) {
  if (result)
    return true;
  std::fprintf(stderr, "error: %s: %s\n", what, result.error().str().c_str());
  return false;
}

/// Host <-> device element conversion for the spec's element type.
uint16_t toBits(attnc::ElementType t, float x) {
  return t == attnc::ElementType::bf16 ? attnc::floatToBf16(x)
                                       : attnc::floatToHalf(x);
}
float fromBits(attnc::ElementType t, uint16_t b) {
  return t == attnc::ElementType::bf16 ? attnc::bf16ToFloat(b)
                                       : attnc::halfToFloat(b);
}

/// Runs one variant end to end. Returns false when anything fails.
bool runVariant(const char *specText, int B, int H, int N, int M) {
  // 1. Compile: DSL -> MLIR passes -> CUDA -> NVRTC -> loaded kernel. The
  //    second compile of the same text is served from the in-memory cache.
  attnc::CompileOptions options; // target: the current GPU
  auto first = attnc::compile(specText, options);
  if (!ok(first, "compile"))
    return false;
  auto again = attnc::compile(specText, options);
  if (!ok(again, "compile (again)"))
    return false;
  const attnc::Attention &attn = **first;
  const attnc::KernelInfo &info = attn.info();
  std::printf("\n== %s (%s, head dim %d, %s)\n", info.specName.c_str(),
              attnc::elementTypeName(info.element), info.headDim,
              info.target.c_str());
  std::printf("   tiles: blockM %d x blockN %d, %d warps, %d stages, %lld B "
              "shared memory\n",
              info.blockM, info.blockN, info.warps, info.stages,
              (long long)info.smemBytes);
  std::printf("   first compile:  %s\n", attn.provenance().c_str());
  std::printf("   second compile: %s\n", (*again)->provenance().c_str());
  bool passed = true;
  if ((*again)->provenance().rfind("memory", 0) != 0) {
    std::printf("   FAIL: the second compile was not a memory-cache hit\n");
    passed = false;
  }

  // 2. Random inputs in [B, H, seq, D] layout, element type of the spec.
  const int D = info.headDim;
  const size_t qn = (size_t)B * H * N * D, kn = (size_t)B * H * M * D;
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<uint16_t> hq(qn), hk(kn), hv(kn);
  std::vector<double> rq(qn), rk(kn), rv(kn); // the same values, for the CPU
  auto fill = [&](std::vector<uint16_t> &bits, std::vector<double> &ref) {
    for (size_t i = 0; i < bits.size(); ++i) {
      bits[i] = toBits(info.element, normal(rng));
      ref[i] = fromBits(info.element, bits[i]);
    }
  };
  fill(hq, rq);
  fill(hk, rk);
  fill(hv, rv);

  // 3. Device buffers (freed by their destructors).
  auto dq = attnc::DeviceBuffer::allocate(qn * 2);
  auto dk = attnc::DeviceBuffer::allocate(kn * 2);
  auto dv = attnc::DeviceBuffer::allocate(kn * 2);
  auto dO = attnc::DeviceBuffer::allocate(qn * 2);
  auto dLse = attnc::DeviceBuffer::allocate((size_t)B * H * N * 4);
  if (!ok(dq, "alloc q") || !ok(dk, "alloc k") || !ok(dv, "alloc v") ||
      !ok(dO, "alloc o") || !ok(dLse, "alloc lse"))
    return false;
  if (!ok(dq->copyFromHost(hq.data(), qn * 2), "copy q") ||
      !ok(dk->copyFromHost(hk.data(), kn * 2), "copy k") ||
      !ok(dv->copyFromHost(hv.data(), kn * 2), "copy v") ||
      !ok(dO->fill(0xFF), "poison o") || !ok(dLse->fill(0xFF), "poison lse"))
    return false;

  attnc::RunArgs args;
  args.q = attnc::TensorArg::contiguous(dq->data(), {B, H, N, D});
  args.k = attnc::TensorArg::contiguous(dk->data(), {B, H, M, D});
  args.v = attnc::TensorArg::contiguous(dv->data(), {B, H, M, D});
  args.o = attnc::TensorArg::contiguous(dO->data(), {B, H, N, D});
  args.lse = static_cast<float *>(dLse->data());

  // 4. Run once and fetch the result.
  auto drv = attnc::CudaDriver::get();
  if (!ok(drv, "CUDA driver") || !ok(attn.run(args), "run") ||
      !ok(ATTNC_CU(*drv, ctxSynchronize), "kernel"))
    return false;
  std::vector<uint16_t> ho(qn);
  std::vector<float> hl((size_t)B * H * N);
  if (!ok(dO->copyToHost(ho.data(), qn * 2), "copy o back") ||
      !ok(dLse->copyToHost(hl.data(), hl.size() * 4), "copy lse back"))
    return false;

  // 5. The float64 reference. The spec's score modifier (and scale) come
  //    from the compiled Attention, so the reference follows the DSL.
  attnc::ref::FwdProblem pr;
  pr.batch = B;
  pr.headsQ = pr.headsKV = H;
  pr.seqQ = N;
  pr.seqK = M;
  pr.headDim = pr.headDimV = D;
  pr.causal = info.causal;
  pr.window = info.window;
  pr.windowLeft = info.windowLeft;
  pr.windowRight = info.windowRight;
  if (info.scoreMod) {
    pr.scale = 1.0; // evalScore applies the scale itself
    pr.scoreMod = [&attn](double s, int b, int h, int i, int j) {
      return attn.evalScore(s, b, h, i, j);
    };
  } else {
    pr.scale = info.scale;
  }
  std::vector<double> ro(qn), rl((size_t)B * H * N);
  const long long rows = (long long)B * H * N;
  const int threads = (int)std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      attnc::ref::forwardRows(pr, rq.data(), rk.data(), rv.data(), ro.data(),
                              rl.data(), rows * t / threads,
                              rows * (t + 1) / threads);
    });
  for (std::thread &th : pool)
    th.join();

  // 6. Compare: |o - ref| <= 2 eps (1 + |ref|), eps of the element type
  //    (the test suite applies the stricter FlashAttention rule).
  const double eps = info.element == attnc::ElementType::bf16 ? 1.0 / 128
                                                              : 1.0 / 1024;
  double maxErr = 0, maxLseErr = 0, worstRatio = 0;
  for (size_t i = 0; i < qn; ++i) {
    double got = fromBits(info.element, ho[i]);
    double err = std::fabs(got - ro[i]);
    if (std::isnan(err))
      err = INFINITY;
    maxErr = std::max(maxErr, err);
    worstRatio = std::max(worstRatio, err / (2 * eps * (1 + std::fabs(ro[i]))));
  }
  for (size_t i = 0; i < rl.size(); ++i) {
    double err = std::isinf(rl[i]) && std::isinf(hl[i]) ? 0.0
                                                         : std::fabs(hl[i] - rl[i]);
    if (std::isnan(err))
      err = INFINITY;
    maxLseErr = std::max(maxLseErr, err);
  }
  const bool accurate = worstRatio <= 1.0 && maxLseErr <= 1e-3;
  std::printf("   max |O - ref| = %.3g (worst error / tolerance %.2f), "
              "max |LSE - ref| = %.3g: %s\n",
              maxErr, worstRatio, maxLseErr, accurate ? "ok" : "FAIL");
  passed = passed && accurate;

  // 7. Timing: CUDA events around each run after a warm-up; the median of 20.
  for (int i = 0; i < 3; ++i)
    if (!ok(attn.run(args), "warm-up run"))
      return false;
  auto timer = attnc::EventTimer::create();
  if (!ok(timer, "event timer"))
    return false;
  std::vector<float> ms;
  for (int i = 0; i < 20; ++i) {
    if (!ok(timer->start(), "event record") || !ok(attn.run(args), "run") ||
        !ok(timer->stop(), "event record"))
      return false;
    auto t = timer->elapsedMs();
    if (!ok(t, "elapsed time"))
      return false;
    ms.push_back(*t);
  }
  std::sort(ms.begin(), ms.end());
  const double median = 0.5 * (ms[9] + ms[10]);
  // FLOPs of the visible scores: 4 * D per (query, key) pair that is kept.
  double pairs = 0;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < M; ++j)
      pairs += attnc::ref::allowed(pr, 0, 0, i, j) ? 1 : 0;
  const double flops = 4.0 * B * H * pairs * D;
  std::printf("   time: median %.4f ms of 20 (min %.4f, max %.4f), %.1f "
              "TFLOP/s on visible scores, B=%d H=%d N=%d M=%d\n",
              median, ms.front(), ms.back(), flops / (median * 1e-3) / 1e12, B,
              H, N, M);
  return passed;
}

} // namespace

int main() {
  // Without a GPU (no driver, or no device) say so and exit 2: compiling
  // for the live device needs one.
  auto device = attnc::currentDevice();
  if (!device) {
    std::fprintf(stderr, "no CUDA device: %s\n", device.error().str().c_str());
    return 2;
  }
  std::printf("attnc %s on %s (%s, %d SMs, %d B shared memory per block)\n",
              attnc::version(), device->name.c_str(), device->arch.c_str(),
              device->smCount, device->maxSmemPerBlockOptin);

  bool passed = runVariant(kCausalBf16, 2, 16, 2048, 2048);
  passed = runVariant(kSoftcapWindowF16, 3, 8, 2048, 2048) && passed;
  std::printf("\n%s\n", passed ? "all checks passed" : "FAILED");
  return passed ? 0 : 1;
}
