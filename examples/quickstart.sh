#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, compile a
# DSL file to a kernel; where a GPU is present, also run the kernel and check
# it against a float64 reference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/setup
A=build/bin/attnc
echo "== compile examples/causal.attn (tiled IR + IO report)"
$A compile examples/causal.attn --emit=tiled --target=sm_90a --report
echo "== generated CUDA -> build/causal.cu, PTX -> build/causal.ptx"
$A compile examples/causal.attn --emit=cuda --target=sm_90a -o build/causal.cu
$A compile examples/causal.attn --emit=ptx --target=sm_90a -o build/causal.ptx
head -5 build/causal.cu
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  echo "== run on the GPU and check against float64"
  $A run examples/causal.attn --shape 2,16,16,1024,1024 --check -v
else
  echo "== no GPU here: skipping 'attnc run examples/causal.attn --shape 2,16,16,1024,1024 --check'"
fi
