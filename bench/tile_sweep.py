#!/usr/bin/env python3
"""Time every tile configuration the kernel supports against the SRAM model's
pick, per head dim (bf16, N = 4096, B*N = 16384 tokens, H*D = 2048).

    python3 bench/tile_sweep.py --attnc build/bin/attnc --out bench/results

Compiles run in parallel first (filling the disk cache), then each
configuration is timed alone with `attnc bench` (median of 20). This is the
data an `attnc tune` pass would act on.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench import spec_text  # noqa: E402

CONFIGS = [(bm, bn, w, s) for bm in (64, 128) for bn in (32, 64, 128) for w in (4, 8)
           for s in (1, 2) if bm % (16 * w) == 0]


def bench(attnc, spec, shape, cfg, iters, env):
    cmd = [attnc, "bench", spec, "--json", "--iters", str(iters), "--warmup", "2" if iters > 1 else "0",
           "--shape", shape]
    if cfg:
        cmd += ["--block-m", str(cfg[0]), "--block-n", str(cfg[1]), "--warps", str(cfg[2]), "--stages", str(cfg[3])]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    return rows[0] if r.returncode == 0 and rows else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnc", default="build/bin/attnc")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--dims", default="32,64,96,128,192,256")
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--causal", default="no,yes", help="which of no,yes to sweep")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lines = ["| D | causal | SRAM model's pick | TFLOP/s | best measured | TFLOP/s | pick / best |",
             "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, ATTNC_CACHE_DIR=os.path.join(work, "cache"))
        jobs = []
        for d in (int(x) for x in args.dims.split(",")):
            for causal in (c == "yes" for c in args.causal.split(",")):
                spec = os.path.join(work, f"d{d}_{int(causal)}.attn")
                with open(spec, "w") as f:
                    f.write(spec_text(d, causal))
                shape = f"{16384 // args.n},{2048 // d},{2048 // d},{args.n},{args.n}"
                jobs.append((d, causal, spec, shape))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:  # compile everything once
            list(pool.map(lambda a: bench(args.attnc, a[0], a[1], a[2], 1, env),
                          [(spec, shape, cfg) for (_, _, spec, shape) in jobs for cfg in CONFIGS + [None]]))
        results = []
        for d, causal, spec, shape in jobs:
            pick = bench(args.attnc, spec, shape, None, 20, env)
            timed = [r for r in (bench(args.attnc, spec, shape, cfg, 20, env) for cfg in CONFIGS) if r]
            best = max(timed, key=lambda r: r["tflops"])
            results.append({"d": d, "causal": causal, "pick": pick, "all": timed})
            lines.append(f"| {d} | {'yes' if causal else 'no'} | {pick['tiles']} | {pick['tflops']:.0f} | "
                         f"{best['tiles']} | {best['tflops']:.0f} | {pick['tflops'] / best['tflops']:.2f} |")
            print(lines[-1], flush=True)
    with open(os.path.join(args.out, "tiles.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "tiles.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
