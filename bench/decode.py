#!/usr/bin/env python3
"""attnc's split-KV decode kernel against PyTorch SDPA, same run.

Run on the GPU machine from the repository root, after building attnc:

    python3 bench/decode.py --attnc build/bin/attnc --out bench/results

Protocol (the inference issue): bf16, D = 128, 32 query heads, 8 K/V heads
(GQA 4:1), N query tokens per sequence (1 = decode, 2..16 = speculative
decoding) against M cached keys, batch B. The figure is the K/V bandwidth:
bytes of K and V the backend reads (each K/V element once) / median time.
attnc reads the 8-head K/V once per group; a PyTorch backend that needs the
K/V expanded to 32 heads (no native GQA) reads 4x those bytes, and its
figure counts the bytes it actually reads. The best PyTorch figure per
shape is the anchor; the measured copy bandwidth (read + write of a 4 GiB
tensor, torch copy_) is the ceiling.

Every backend is timed in this process run on this GPU with CUDA events,
median of --iters runs after a warm-up, inputs rotated over two sets (attnc
by `attnc bench --json`, its own CUDA-event loop with two rotated sets).
Shapes whose inputs would not fit (--memory-gib) are skipped and listed.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from bench import time_torch  # bench/bench.py: CUDA events, rotated inputs

D = 128
HQ = 32
HK = 8

SPEC = f"""attention decode {{
  q: bf16[b, {HQ}, n, {D}]
  k: bf16[b, {HK}, m, {D}]
  v: bf16[b, {HK}, m, {D}]
  s = matmul(q, k^T) * rsqrt({D})
  p = softmax(s)
  o = matmul(p, v)
  return o, logsumexp
}}
"""

BACKENDS = [
    ("flash", SDPBackend.FLASH_ATTENTION),
    ("cudnn", SDPBackend.CUDNN_ATTENTION),
    ("efficient", SDPBackend.EFFICIENT_ATTENTION),
]


def kv_bytes(b, m, heads):
    return 2.0 * b * heads * m * D * 2  # K and V, bf16


def copy_bandwidth(iters):
    n = (4 << 30) // 2
    x = torch.empty(n, dtype=torch.bfloat16, device="cuda").normal_()
    y = torch.empty_like(x)
    ms = time_torch(lambda a, b_: b_.copy_(a), [(x, y)], iters)
    del x, y
    torch.cuda.empty_cache()
    return 2.0 * n * 2 / (ms * 1e-3) / 1e9


def attnc_runs(attnc, path, shapes, iters, extra):
    cmd = [attnc, "bench", path, "--json", "--iters", str(iters)] + extra
    for (b, n, m) in shapes:
        cmd += ["--shape", f"{b},{HQ},{HK},{n},{m}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(f"attnc bench failed: {' '.join(cmd)}")
    rows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    return {(r["batch"], r["seq_q"], r["seq_k"]): r for r in rows}


def torch_runs(b, n, m, iters, memory_gib):
    """{backend: (ms, GB/s of the K/V bytes it reads, how)}."""
    res = {}
    sets = []
    for s in range(2):
        g = torch.Generator(device="cuda").manual_seed(s)
        q = torch.randn(b, HQ, n, D, device="cuda", dtype=torch.bfloat16, generator=g)
        k = torch.randn(b, HK, m, D, device="cuda", dtype=torch.bfloat16, generator=g)
        v = torch.randn(b, HK, m, D, device="cuda", dtype=torch.bfloat16, generator=g)
        sets.append((q, k, v))
    expanded = None
    for name, backend in BACKENDS:
        def native(q, k, v, backend=backend):
            with sdpa_kernel(backend):
                return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        try:
            ms = time_torch(native, sets, iters)
            res[name] = (ms, kv_bytes(b, m, HK) / (ms * 1e-3) / 1e9, "gqa")
            continue
        except RuntimeError:
            pass
        # No native GQA: the K/V expanded to the query heads (made outside
        # the timed region), 4x the bytes.
        if kv_bytes(b, m, HQ) * 2 / 2**30 > memory_gib / 2:
            res[name] = (None, None, "skipped: expanded K/V too large")
            continue
        if expanded is None:
            expanded = [(q, k.repeat_interleave(HQ // HK, 1), v.repeat_interleave(HQ // HK, 1))
                        for (q, k, v) in sets]
        def mha(q, k, v, backend=backend):
            with sdpa_kernel(backend):
                return F.scaled_dot_product_attention(q, k, v)
        try:
            ms = time_torch(mha, expanded, iters)
            res[name] = (ms, kv_bytes(b, m, HQ) / (ms * 1e-3) / 1e9, "expanded")
        except RuntimeError as e:
            res[name] = (None, None, f"unsupported: {str(e).splitlines()[0][:60]}")
    del sets, expanded
    torch.cuda.empty_cache()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnc", default="build/bin/attnc")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--seqk", default="4096,65536")
    ap.add_argument("--seqq", default="1")
    ap.add_argument("--memory-gib", type=float, default=100.0,
                    help="skip shapes whose two input sets need more than this")
    ap.add_argument("--tag", default="decode")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dev = torch.cuda.get_device_name()
    copy = copy_bandwidth(args.iters)
    shapes, skipped = [], []
    for b in [int(x) for x in args.batches.split(",")]:
        for n in [int(x) for x in args.seqq.split(",")]:
            for m in [int(x) for x in args.seqk.split(",")]:
                if 2 * kv_bytes(b, m, HK) / 2**30 > args.memory_gib:
                    skipped.append((b, n, m))
                else:
                    shapes.append((b, n, m))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "decode.attn")
        with open(path, "w") as f:
            f.write(SPEC)
        for (b, n, m) in shapes:
            # Shape by shape: attnc (its own process) then PyTorch.
            a = attnc_runs(args.attnc, path, [(b, n, m)], args.iters, [])[(b, n, m)]
            pre = attnc_runs(args.attnc, path, [(b, n, m)], args.iters,
                             ["--family", "fwd.mma_sync"])[(b, n, m)]
            t = torch_runs(b, n, m, args.iters, args.memory_gib)
            a_bw = kv_bytes(b, m, HK) / (a["median_ms"] * 1e-3) / 1e9
            pre_bw = kv_bytes(b, m, HK) / (pre["median_ms"] * 1e-3) / 1e9
            best = max((v[1] for v in t.values() if v[1]), default=None)
            rows.append(dict(b=b, n=n, m=m, attnc_ms=a["median_ms"], attnc_gbps=a_bw,
                             attnc_family=a.get("family"), attnc_tiles=a.get("launched_tiles"),
                             splits=a.get("splits"), prefill_ms=pre["median_ms"], prefill_gbps=pre_bw,
                             torch={k: dict(ms=v[0], gbps=v[1], how=v[2]) for k, v in t.items()},
                             best_torch_gbps=best,
                             vs_best=a_bw / best if best else None, vs_copy=a_bw / copy))
            print(json.dumps(rows[-1]), flush=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Decode K/V bandwidth, {dev}, {stamp}", "",
             f"bf16, D={D}, GQA {HQ}:{HK}; GB/s = K+V bytes read / median time; "
             f"measured copy bandwidth {copy:.0f} GB/s (read + write).", "",
             "| B | N | M | attnc ms | attnc GB/s | splits | prefill kernel GB/s | "
             + " | ".join(f"{n} GB/s" for n, _ in BACKENDS)
             + " | attnc / best torch | attnc / copy |",
             "|---|---|---|---|---|---|---|" + "---|" * len(BACKENDS) + "---|---|"]
    for r in rows:
        cells = []
        for name, _ in BACKENDS:
            v = r["torch"][name]
            cells.append(f"{v['gbps']:.0f}" + (" (expanded)" if v["how"] == "expanded" else "")
                         if v["gbps"] else v["how"])
        lines.append(f"| {r['b']} | {r['n']} | {r['m']} | {r['attnc_ms']:.4f} | {r['attnc_gbps']:.0f} | "
                     f"{r['splits']} | {r['prefill_gbps']:.0f} | " + " | ".join(cells) + " | "
                     + (f"{r['vs_best']:.2f}" if r["vs_best"] else "-") + f" | {r['vs_copy']:.2f} |")
    for (b, n, m) in skipped:
        lines.append(f"| {b} | {n} | {m} | skipped: inputs over --memory-gib | | | | " + "| " * len(BACKENDS) + "| |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.out, f"{args.tag}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, f"{args.tag}.json"), "w") as f:
        json.dump(dict(device=dev, copy_gbps=copy, rows=rows, skipped=skipped), f, indent=1)


if __name__ == "__main__":
    main()
