#!/usr/bin/env bash
# Builds a libFuzzer target with clang + ASan + UBSan, then fuzzes it.
#
#   tests/fuzz/run.sh [TARGET] [SECONDS]   # TARGET: dsl (default), npy, cache
#                                          # SECONDS: default 600; 0 only builds
#
#   dsl    the DSL front end (lexer, parser, Sema, interpreter; standard C++)
#   npy    the .npy reader (runtime/lib/Npy.cpp)
#   cache  the kernel cache's disk-entry reader (runtime/lib/KernelCache.cpp;
#          needs NVRTC and LLVM's Support library, linked uninstrumented)
#
# Environment: CLANGXX (default clang++-14), FUZZ_BUILD (default
# build-fuzz under the repository), FUZZ_JOBS (default 1), FUZZ_GEN (a build
# directory holding runtime/EmbeddedHeaders.cpp, default build).
# New inputs go to $FUZZ_BUILD/corpus-TARGET (the checked-in seeds in
# tests/fuzz/corpus*/ stay small); crashes to $FUZZ_BUILD/artifacts-TARGET.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target=dsl
if [ $# -gt 0 ] && ! [[ "$1" =~ ^[0-9]+$ ]]; then target="$1"; shift; fi
secs="${1:-600}"
cxx="${CLANGXX:-clang++-14}"
out="${FUZZ_BUILD:-$root/build-fuzz}"
mkdir -p "$out/corpus-$target" "$out/artifacts-$target"

flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/compiler/include" -I"$root/dialects/include"
       -I"$root/runtime/include" -I"$root/codegen/include")
files=()
libs=()
extra=()
case "$target" in
  dsl)
    for s in Builtins Diagnostics Lexer Parser Sema Interpreter ASTDump; do
      files+=("$root/compiler/lib/DSL/$s.cpp")
    done
    seeds="$root/tests/fuzz/corpus"
    extra=(-dict="$root/tests/fuzz/attn.dict" -max_len=65536) ;;
  npy)
    for s in Npy Half Status; do files+=("$root/runtime/lib/$s.cpp"); done
    seeds="$root/tests/fuzz/corpus-npy"
    extra=(-max_len=4096) ;;
  cache)
    gen="${FUZZ_GEN:-$root/build}/runtime/EmbeddedHeaders.cpp"
    [ -f "$gen" ] || { echo "error: $gen not found; build attnc first (or set FUZZ_GEN)" >&2; exit 1; }
    for s in Status CudaDriver Nvrtc KernelCache Kernel Hash; do
      files+=("$root/runtime/lib/$s.cpp")
    done
    files+=("$gen")
    cuda="${CUDA_HOME:-/usr/local/cuda}"
    llvm=/usr/lib/llvm-22
    flags+=(-I"$cuda/include" -isystem "$llvm/include" -DATTNC_VERSION_STRING='"fuzz"')
    libs=(-L"$cuda/lib64" -L"$cuda/lib" -lnvrtc -Wl,-rpath,"$cuda/lib64:$cuda/lib"
          "$llvm/lib/libLLVMSupport.a" "$llvm/lib/libLLVMDemangle.a" -lz -lpthread -ldl)
    seeds="$root/tests/fuzz/corpus-cache"
    extra=(-max_len=8192) ;;
  *) echo "error: unknown fuzz target '$target' (dsl, npy, cache)" >&2; exit 2 ;;
esac
bin="$out/${target}_fuzzer"
"$cxx" "${flags[@]}" "$root/tests/fuzz/${target}_fuzzer.cpp" "${files[@]}" \
  "${libs[@]}" -o "$bin"
echo "built $bin"
[ "$secs" = 0 ] && exit 0

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
jobs=()
if [ "${FUZZ_JOBS:-1}" != 1 ]; then
  jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi
exec "$bin" "$out/corpus-$target" "$seeds" \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/artifacts-$target/" \
  -print_final_stats=1 "${extra[@]}" "${jobs[@]}"
