// test_specs.h - the Spec structs of device_headers_test.cu.
//
// TestSpec<Element, D, blockM, blockN, warps, stages, features> stands for the
// structs the code generator writes; ContractSpecCausal is the contract's
// example, verbatim, so the test also compiles the exact generated shape.
#pragma once

enum TestFeature : unsigned {
  kCausalF = 1,
  kWindowF = 2,
  kKeyPaddingF = 4,
  kBlockSparseF = 8,
  kScoreModF = 16, // soft cap: 30 * tanh(s / 30)
  kMaskFnF = 32,   // testMaskFn below
  kDropoutF = 64,
};

/// The custom mask of the maskFn cases (host and device): drops a sparse,
/// irregular set of (query, key) pairs that depends on batch and head.
__host__ __device__ inline bool testMaskFn(int b, int h, int i, int j) {
  return ((i * 3 + j * 5 + h + 2 * b) % 7) != 0;
}

template <class T, int D, int BM, int BN, int W, int S, unsigned F>
struct TestSpec {
  using Element = T;
  static constexpr int kHeadDim = D, kHeadDimV = D;
  static constexpr int kBlockM = BM, kBlockN = BN, kWarps = W, kStages = S;
  static constexpr bool kCausal = F & kCausalF, kWindow = F & kWindowF,
                        kKeyPadding = F & kKeyPaddingF,
                        kBlockSparse = F & kBlockSparseF;
  static constexpr bool kScoreMod = F & kScoreModF, kMaskFn = F & kMaskFnF,
                        kDropout = F & kDropoutF;
  // Every mask may skip blocks (what the tile pass asks for).
  static constexpr bool kSkipCausal = kCausal, kSkipWindow = kWindow,
                        kSkipLengths = kKeyPadding, kSkipSparse = kBlockSparse;
  __device__ static float scoreMod(float s, int, int, int, int,
                                   const attnc::FwdParams &) {
    return 30.f * tanhf(s * (1.f / 30.f));
  }
  __device__ static bool maskFn(int b, int h, int q, int k,
                                const attnc::FwdParams &) {
    return testMaskFn(b, h, q, k);
  }
};

// The contract's example, as the generator writes it.
struct ContractSpecCausal {
  using Element = __nv_bfloat16;            // __half, __nv_bfloat16 or float
  static constexpr int kHeadDim = 128, kHeadDimV = 128;   // 32, 64, 96, 128, 192, 256
  static constexpr int kBlockM = 128, kBlockN = 64, kWarps = 4, kStages = 2;
  static constexpr bool kCausal = true, kWindow = false, kKeyPadding = false, kBlockSparse = false;
  static constexpr bool kScoreMod = false, kMaskFn = false, kDropout = false;
  static constexpr bool kSkipCausal = true, kSkipWindow = false, kSkipLengths = false, kSkipSparse = false;
  __device__ static float scoreMod(float s, int b, int h, int q, int k, const attnc::FwdParams &p) { return s; }
  __device__ static bool maskFn(int b, int h, int q, int k, const attnc::FwdParams &p) { return true; }
};
static_assert(attnc::FwdTraits<ContractSpecCausal>::kSmemBytes == 98304, "SRAM model and kernel disagree");

template <class T>
constexpr bool IsTensorCore = attnc::ElementOps<T>::kTensorCore;

template <class Spec>
__global__ void __launch_bounds__(Spec::kWarps * 32)
    fwdKernel(const __grid_constant__ attnc::FwdParams p) {
  attnc::flashFwd<Spec>(p);
}
