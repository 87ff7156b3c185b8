#!/usr/bin/env bash
# Builds the DSL front end (standard C++ only, no MLIR) with clang and
# libFuzzer + ASan + UBSan, then fuzzes it.
#
#   tests/fuzz/run.sh [SECONDS]       # default 600; 0 only builds
#
# Environment: CLANGXX (default clang++-14), FUZZ_BUILD (default
# build-fuzz under the repository), FUZZ_JOBS (default 1).
# New inputs go to $FUZZ_BUILD/corpus (the checked-in seeds in
# tests/fuzz/corpus stay small); crashes to $FUZZ_BUILD/artifacts.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-600}"
cxx="${CLANGXX:-clang++-14}"
out="${FUZZ_BUILD:-$root/build-fuzz}"
mkdir -p "$out/corpus" "$out/artifacts"

srcs=(Builtins Diagnostics Lexer Parser Sema Interpreter ASTDump)
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/compiler/include" -I"$root/dialects/include")
files=()
for s in "${srcs[@]}"; do files+=("$root/compiler/lib/DSL/$s.cpp"); done
"$cxx" "${flags[@]}" "$root/tests/fuzz/dsl_fuzzer.cpp" "${files[@]}" \
  -o "$out/dsl_fuzzer"
echo "built $out/dsl_fuzzer"
[ "$secs" = 0 ] && exit 0

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
jobs=()
if [ "${FUZZ_JOBS:-1}" != 1 ]; then
  jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi
exec "$out/dsl_fuzzer" "$out/corpus" "$root/tests/fuzz/corpus" \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -dict="$root/tests/fuzz/attn.dict" -artifact_prefix="$out/artifacts/" \
  -print_final_stats=1 "${jobs[@]}"
