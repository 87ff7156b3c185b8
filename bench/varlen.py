#!/usr/bin/env python3
"""attnc's packed variable-length prefill against one dense batch, same run.

Run on the GPU machine from the repository root, after building attnc:

    python3 bench/varlen.py --attnc build/bin/attnc --out bench/results

Protocol (the inference issue): bf16, D = 128, 16 heads (H x D = 2048, as
the FlashAttention protocol), causal and not. A varlen batch is a mix of
sequence lengths from 128 to 8192 summing to 32768 tokens, packed into one
[total, heads, dim] tensor with int32 prefix sums (FlashAttention's varlen
layout); two mixes: a fixed one (1 x 8k, 2 x 4k, 3 x 2k, 4 x 1k, 8 x 512,
4 x 256, 8 x 128) and a seeded random one (uniform lengths in [128, 8192],
the last cut to reach 32768). Its FLOPs are sum over sequences of
4 H n_i^2 D (halved when causal), the visible scores only. The dense
anchors hold the same 32768 tokens as B sequences of one length N: B=4
N=8192 (the longest sequence of the mix: the strict comparison) and B=16
N=2048. The target is varlen TFLOP/s >= 0.9 x the dense TFLOP/s.

attnc is timed by `attnc bench --json` (`--varlen` for the packed spec);
PyTorch's FlashAttention-2 varlen (aten._flash_attention_forward with
cum_seq_q/k) and dense SDPA flash are timed here with CUDA events, median of
--iters runs after a warm-up, two rotated input sets.
"""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from bench import spec_text, time_torch  # bench/bench.py

D = 128
H = 16
TOKENS = 32768


def varlen_spec(causal):
    mask = "  s = mask(s, causal)\n" if causal else ""
    return (f"attention varlen_d{D}{'_causal' if causal else ''} {{\n"
            f"  qt: bf16[tq, {H}, {D}]\n  kt: bf16[tk, {H}, {D}]\n"
            f"  vt: bf16[tk, {H}, {D}]\n  cu_q: i32[b1]\n  cu_k: i32[b1]\n"
            f"  q = packed(qt, cu_q)\n  k = packed(kt, cu_k)\n  v = packed(vt, cu_k)\n"
            f"  s = matmul(q, k^T) * rsqrt({D})\n{mask}"
            f"  p = softmax(s)\n  o = matmul(p, v)\n  return o, logsumexp\n}}\n")


def mixes(seed):
    fixed = [8192] + [4096] * 2 + [2048] * 3 + [1024] * 4 + [512] * 8 + [256] * 4 + [128] * 8
    assert sum(fixed) == TOKENS
    rng = random.Random(seed)
    rand, left = [], TOKENS
    while left > 0:
        n = min(rng.randint(128, 8192), left)
        if left - n < 128 and left - n > 0:
            n = left  # never a last piece under 128
        rand.append(n)
        left -= n
    rng.shuffle(rand)
    return {"fixed": fixed, f"random(seed {seed})": rand}


def flops_of(lens, causal):
    f = sum(4.0 * H * n * n * D for n in lens)
    return f / 2 if causal else f


def attnc_bench(attnc, text, name, shapes, iters, work, extra=()):
    path = os.path.join(work, name + ".attn")
    with open(path, "w") as f:
        f.write(text)
    cmd = [attnc, "bench", path, "--json", "--iters", str(iters), *extra]
    for s in shapes:
        cmd += ["--shape", s]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(f"attnc bench failed: {' '.join(cmd)}")
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def torch_varlen(lens, causal, iters):
    """FlashAttention-2 varlen through aten (None when this build lacks it)."""
    cu = torch.tensor([0] + list(torch.tensor(lens).cumsum(0).tolist()),
                      dtype=torch.int32, device="cuda")
    sets = []
    for s in range(2):
        g = torch.Generator(device="cuda").manual_seed(s)
        sets.append(tuple(torch.randn(TOKENS, H, D, device="cuda", dtype=torch.bfloat16,
                                      generator=g) for _ in range(3)))
    mx = max(lens)

    def run(q, k, v):
        return torch.ops.aten._flash_attention_forward(
            q, k, v, cu, cu, mx, mx, 0.0, causal, False, scale=D ** -0.5)
    try:
        return time_torch(run, sets, iters)
    except (RuntimeError, AttributeError, TypeError) as e:
        print(f"torch varlen unavailable: {str(e).splitlines()[0][:100]}", file=sys.stderr)
        return None


def torch_dense(b, n, causal, iters):
    sets = []
    for s in range(2):
        g = torch.Generator(device="cuda").manual_seed(s)
        sets.append(tuple(torch.randn(b, H, n, D, device="cuda", dtype=torch.bfloat16,
                                      generator=g) for _ in range(3)))

    def run(q, k, v):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return time_torch(run, sets, iters)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnc", default="build/bin/attnc")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tag", default="varlen")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dev = torch.cuda.get_device_name()
    rows = []
    dense_shapes = [(4, 8192), (16, 2048)]
    with tempfile.TemporaryDirectory() as work:
        for causal in (False, True):
            dense = attnc_bench(args.attnc, spec_text(D, causal), f"dense{int(causal)}",
                                [f"{b},{H},{H},{n},{n}" for b, n in dense_shapes],
                                args.iters, work)
            dense_tf = {(r["batch"], r["seq_q"]): r["tflops"] for r in dense}
            for b, n in dense_shapes:
                ms = torch_dense(b, n, causal, args.iters)
                rows.append(dict(kind="dense", causal=causal, lens=f"{b} x {n}",
                                 attnc_tflops=dense_tf[(b, n)],
                                 fa2_tflops=flops_of([n] * b, causal) / (ms * 1e-3) / 1e12))
                print(json.dumps(rows[-1]), flush=True)
            for name, lens in mixes(args.seed).items():
                r = attnc_bench(args.attnc, varlen_spec(causal), f"varlen{int(causal)}",
                                [f"1,{H},{H},1,1"], args.iters, work,
                                ["--varlen", ",".join(map(str, lens))])[0]
                ms = torch_varlen(lens, causal, args.iters)
                row = dict(kind="varlen", causal=causal, mix=name, sequences=len(lens),
                           lens=",".join(map(str, lens)), attnc_ms=r["median_ms"],
                           attnc_tflops=r["tflops"], tokens=r["tokens_q"],
                           fa2_tflops=flops_of(lens, causal) / (ms * 1e-3) / 1e12 if ms else None)
                for b, n in dense_shapes:
                    row[f"vs_dense_{b}x{n}"] = r["tflops"] / dense_tf[(b, n)]
                rows.append(row)
                print(json.dumps(row), flush=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Packed varlen prefill vs dense, {dev}, {stamp}", "",
             f"bf16, D={D}, H={H}, {TOKENS} tokens; TFLOP/s on visible scores "
             "(sum of 4 H n^2 D per sequence, halved when causal).", "",
             "| causal | batch | attnc TFLOP/s | FA2 TFLOP/s | attnc / FA2 | attnc / dense 4x8192 | attnc / dense 16x2048 |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        fa2 = r["fa2_tflops"]
        vs = (f"{r['vs_dense_4x8192']:.2f} | {r['vs_dense_16x2048']:.2f}"
              if r["kind"] == "varlen" else "- | -")
        what = (f"varlen {r['mix']}, {r['sequences']} sequences" if r["kind"] == "varlen"
                else f"dense {r['lens']}")
        lines.append(f"| {r['causal']} | {what} | {r['attnc_tflops']:.1f} | "
                     + (f"{fa2:.1f} | {r['attnc_tflops'] / fa2:.2f}" if fa2 else "- | -")
                     + f" | {vs} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.out, f"{args.tag}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, f"{args.tag}.json"), "w") as f:
        json.dump(dict(device=dev, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
