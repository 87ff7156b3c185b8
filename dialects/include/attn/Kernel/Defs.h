// attn/Kernel/Defs.h - what lets one header compile for the host (g++,
// clang) and for the device (nvcc, NVRTC). Every header in attn/Kernel/ is
// part of the kernel contract: the host models, the float64 reference and
// the device code include the same text, so a fact is written once.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define ATTN_HD __host__ __device__ __forceinline__
#else
#define ATTN_HD inline
#endif
