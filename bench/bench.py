#!/usr/bin/env python3
"""attnc vs PyTorch SDPA, side by side, on the FlashAttention benchmark protocol.

Run on the GPU machine from the repository root, after building attnc:

    python3 bench/bench.py --attnc build/bin/attnc --out bench/results

Protocol (docs/testing.md, "The benchmark protocol"): bf16, batch x seqlen = 16384 tokens,
heads x head_dim = 2048, N in {512, 1k, 2k, 4k, 8k, 16k}, D in {64, 128},
causal and not. FLOPs: forward 4*B*H*N^2*D (halved when causal). Every backend
is timed in this same process run on this same GPU with CUDA events after a
warm-up, median of >= 20 runs, inputs rotated between runs (so no run reads
the previous run's inputs from L2).

attnc is timed by `attnc bench --json` (its own CUDA-event loop); PyTorch's
flash (FlashAttention-2), cuDNN and naive (matmul -> softmax -> matmul)
backends are timed here. Ratios are attnc / backend.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

TOKENS = 16384
HIDDEN = 2048


def spec_text(d, causal):
    mask = "  s = mask(s, causal)\n" if causal else ""
    name = f"bench_d{d}{'_causal' if causal else ''}"
    return (f"attention {name} {{\n"
            f"  q: bf16[b, h, n, {d}]\n  k: bf16[b, h, n, {d}]\n  v: bf16[b, h, n, {d}]\n"
            f"  s = matmul(q, k^T) * rsqrt({d})\n{mask}"
            f"  p = softmax(s)\n  o = matmul(p, v)\n  return o, logsumexp\n}}\n")


def flops(b, h, n, d, causal):
    f = 4.0 * b * h * n * n * d
    return f / 2 if causal else f


def time_torch(fn, inputs, iters):
    """Median ms of fn over rotated inputs, CUDA events around each call."""
    for i in range(3):
        fn(*inputs[i % len(inputs)])
    torch.cuda.synchronize()
    times = []
    for i in range(iters):
        a = inputs[i % len(inputs)]
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn(*a)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def naive(q, k, v, causal):
    s = torch.matmul(q, k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if causal:
        n = q.shape[-2]
        s.masked_fill_(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return torch.matmul(torch.softmax(s.float(), dim=-1).to(q.dtype), v)


def sdpa(backend):
    def run(q, k, v, causal):
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return run


def attnc_bench(attnc, d, causal, shapes, iters, workdir):
    path = os.path.join(workdir, f"bench_d{d}_{int(causal)}.attn")
    with open(path, "w") as f:
        f.write(spec_text(d, causal))
    cmd = [attnc, "bench", path, "--json", "--iters", str(iters)]
    for (b, h, n) in shapes:
        cmd += ["--shape", f"{b},{h},{h},{n},{n}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(f"attnc bench failed: {' '.join(cmd)}")
    rows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    return {(r["batch"], r["heads_q"], r["seq_q"]): r for r in rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnc", default="build/bin/attnc")
    ap.add_argument("--baseline", default=None,
                    help="another attnc binary (e.g. the previous commit's) timed in the same run, "
                         "shape by shape, alternating with --attnc; the table gains its column and the ratio")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory sweep")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--dims", default="64,128")
    ap.add_argument("--backward", action="store_true", help="also time the backward pass (not built in attnc yet)")
    ap.add_argument("--memory-max", type=int, default=65536, help="largest N for the memory sweep")
    ap.add_argument("--only-memory", action="store_true", help="run only the memory sweep")
    ap.add_argument("--compile-times", action="store_true",
                    help="only measure JIT compile times: cold (NVRTC) and disk-cache hit, per example")
    args = ap.parse_args()
    if args.backward:
        raise SystemExit("attnc has no backward kernel yet; --backward times nothing (see docs/performance.md)")
    os.makedirs(args.out, exist_ok=True)
    dev = torch.cuda.get_device_name()
    seqlens = [int(x) for x in args.seqlens.split(",")]
    dims = [int(x) for x in args.dims.split(",")]
    if args.compile_times:
        compile_times(args)
        return
    if args.only_memory:
        memory_sweep(args, work_dir=args.out)
        return
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for d in dims:
            h = HIDDEN // d
            for causal in (False, True):
                shapes = [(TOKENS // n, h, n) for n in seqlens]
                ours = attnc_bench(args.attnc, d, causal, shapes, args.iters, work)
                base = (attnc_bench(args.baseline, d, causal, shapes, args.iters, work)
                        if args.baseline else None)
                if args.baseline:  # again after the baseline: noise shows as a spread
                    again = attnc_bench(args.attnc, d, causal, shapes, args.iters, work)
                for (b, h_, n) in shapes:
                    inputs = [tuple(torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
                              for _ in range(2)]
                    fl = flops(b, h, n, d, causal)
                    row = {"d": d, "n": n, "b": b, "h": h, "causal": causal}
                    r = ours[(b, h, n)]
                    row["attnc"] = fl / (r["median_ms"] * 1e-3) / 1e12
                    if base:
                        row["baseline"] = fl / (base[(b, h, n)]["median_ms"] * 1e-3) / 1e12
                        row["attnc_again"] = fl / (again[(b, h, n)]["median_ms"] * 1e-3) / 1e12
                    for name, fn in (("flash", sdpa(SDPBackend.FLASH_ATTENTION)),
                                     ("cudnn", sdpa(SDPBackend.CUDNN_ATTENTION)),
                                     ("naive", naive)):
                        try:
                            ms = time_torch(lambda q, k, v: fn(q, k, v, causal), inputs, args.iters)
                            row[name] = fl / (ms * 1e-3) / 1e12
                        except (RuntimeError, torch.OutOfMemoryError) as e:
                            row[name] = None
                            torch.cuda.empty_cache()
                    del inputs
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    # Table.
    lines = [f"# attnc forward vs PyTorch SDPA ({dev}, {datetime.date.today()}, torch {torch.__version__})", "",
             "TFLOP/s; ratio = attnc / backend.", "",
             "| D | N | causal | attnc | FA2 (flash) | cuDNN | naive | vs FA2 | vs cuDNN | vs naive |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda x: "–" if x is None else f"{x:.0f}"
    ratio = lambda a, b: "–" if not b else f"{a / b:.2f}x"
    for r in rows:
        lines.append(f"| {r['d']} | {r['n']} | {'yes' if r['causal'] else 'no'} | {fmt(r['attnc'])} | {fmt(r['flash'])} | "
                     f"{fmt(r['cudnn'])} | {fmt(r['naive'])} | {ratio(r['attnc'], r['flash'])} | "
                     f"{ratio(r['attnc'], r['cudnn'])} | {ratio(r['attnc'], r['naive'])} |")
    if args.baseline:
        lines += ["", f"attnc ({args.attnc}, timed twice) against the baseline ({args.baseline}), same run; "
                  "new / baseline uses the mean of the two timings of the new binary.", "",
                  "| D | N | causal | new | new again | baseline | new / baseline |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            mean = (r["attnc"] + r["attnc_again"]) / 2
            lines.append(f"| {r['d']} | {r['n']} | {'yes' if r['causal'] else 'no'} | {r['attnc']:.1f} | "
                         f"{r['attnc_again']:.1f} | {r['baseline']:.1f} | {mean / r['baseline']:.3f} |")
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "forward.md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.out, "forward.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(table)
    plot(rows, args.out)
    if not args.no_memory:
        memory_sweep(args, work_dir=args.out)


def compile_times(args):
    """Cold compile (front end + passes + codegen + NVRTC + load) and a warm
    disk-cache hit in a new process, for every example, as `attnc run -v`
    prints them."""
    import glob
    import re
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, ATTNC_CACHE_DIR=cache)
        for spec in sorted(glob.glob("examples/*.attn")):
            name = os.path.basename(spec)[:-5]
            shape = "1,16,16,128,128" if name == "alibi" else "1,32,8,128,128" if name == "gqa" else "1,2,2,128,128"
            row = {"spec": name}
            for key in ("cold", "disk"):
                out = subprocess.run([args.attnc, "run", spec, "--shape", shape, "-v"],
                                     capture_output=True, text=True, env=env)
                m = re.search(r"(compiled|disk|memory) in ([0-9.]+) ms", out.stderr)
                row[key] = f"{m.group(1)} {float(m.group(2)):.1f} ms" if m else out.stderr.strip()[-200:]
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = ["| spec | cold compile | disk-cache hit (new process) |", "|---|---|---|"]
    lines += [f"| {r['spec']} | {r['cold']} | {r['disk']} |" for r in rows]
    with open(os.path.join(args.out, "compile.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def memory_sweep(args, work_dir):
    """Peak device memory against N (B=1, H=16, D=128, bf16): PyTorch's naive
    chain (torch.cuda.max_memory_allocated) until it runs out, and attnc up to
    --memory-max. attnc needs only Q, K, V, O and the LSE: `attnc bench`
    reports the bytes it allocated for one input set and whether it ran."""
    h, d = 16, 128
    ns = [1024 << i for i in range(8) if (1024 << i) <= args.memory_max]
    path = os.path.join(work_dir, "mem_d128.attn")
    with open(path, "w") as f:
        f.write(spec_text(d, False))
    rows = []
    for n in ns:
        row = {"n": n}
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            q, k, v = (torch.randn(1, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            base = torch.cuda.memory_allocated()
            naive(q, k, v, False)
            torch.cuda.synchronize()
            row["naive_gib"] = torch.cuda.max_memory_allocated() / 2**30
            del q, k, v
        except (RuntimeError, torch.OutOfMemoryError):
            row["naive_gib"] = None
        torch.cuda.empty_cache()
        out = subprocess.run([args.attnc, "bench", path, "--json", "--iters", "3", "--warmup", "1",
                              "--shape", f"1,{h},{h},{n},{n}"], capture_output=True, text=True)
        r = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
        row["attnc_gib"] = r[0]["device_bytes"] / 2**30 if out.returncode == 0 and r else None
        row["attnc_ms"] = r[0]["median_ms"] if r else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    lines = ["| N | naive peak GiB | attnc GiB (Q,K,V,O,LSE) | attnc ms |", "|---|---|---|---|"]
    for r in rows:
        f = lambda x: "OOM" if x is None else f"{x:.3f}"
        lines.append(f"| {r['n']} | {f(r['naive_gib'])} | {f(r['attnc_gib'])} | {f(r['attnc_ms'])} |")
    with open(os.path.join(args.out, "memory.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "memory.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for key, label in (("naive_gib", "naive (PyTorch)"), ("attnc_gib", "attnc")):
        ax.plot([r["n"] for r in rows], [r[key] if r[key] is not None else float("nan") for r in rows],
                marker="o", label=label)
    ax.set_xscale("log", base=2); ax.set_yscale("log"); ax.set_xlabel("N (B=1, H=16, D=128, bf16)")
    ax.set_ylabel("peak device memory (GiB)"); ax.grid(True, alpha=.3); ax.legend()
    fig.tight_layout(); fig.savefig(os.path.join(args.out, "memory.png"), dpi=100)


def plot(rows, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not available: no plots written", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
    i = 0
    for d in sorted({r["d"] for r in rows}):
        for causal in (False, True):
            ax = axes[i]; i += 1
            sel = [r for r in rows if r["d"] == d and r["causal"] == causal]
            ns = [r["n"] for r in sel]
            for key, label in (("attnc", "attnc"), ("flash", "FA2"), ("cudnn", "cuDNN"), ("naive", "naive")):
                ys = [r[key] if r[key] is not None else float("nan") for r in sel]
                ax.plot(ns, ys, marker="o", label=label)
            ax.set_xscale("log", base=2); ax.set_xlabel("N"); ax.set_ylabel("TFLOP/s")
            ax.set_title(f"D={d}{' causal' if causal else ''}"); ax.grid(True, alpha=.3); ax.legend()
    fig.tight_layout(); fig.savefig(os.path.join(out, "forward.png"), dpi=100)


if __name__ == "__main__":
    main()
