#!/usr/bin/env python3
"""attnc's variants against FlexAttention (and dropout against SDPA flash), same run.

Run on the GPU machine from the repository root, after building attnc:

    python3 bench/variants.py --attnc build/bin/attnc --out bench/results

Protocol: bf16, D = 128, H = 16 (H x D = 2048), B x N = 16384 tokens,
N in {4096, 16384}. TFLOP/s count *visible* scores only:
4 * D * (number of (b, h, i, j) the mask keeps), computed here from the mask
itself. Every backend is timed in this process run on this GPU with CUDA
events after a warm-up, median of --iters runs, inputs rotated (attnc by
`attnc bench --json`, its own CUDA-event loop with rotated inputs).

FlexAttention is `torch.compile(flex_attention)` with a `score_mod` and a
`BlockMask` from `create_block_mask` (built outside the timed region, as its
users do). Dropout is compared with SDPA's flash backend (FlashAttention-2)
with `dropout_p`.

Each variant is compared with attnc's own plain kernel (the causal one for
causal-shaped masks) at the same shape: the variants issue asks for >= 0.9x.
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

TOKENS = 16384
D = 128
H = 16
CAP = 30.0
ALIBI_H = 16
DOC = 512
PREFIX = 1024
WINDOW = 256


def alibi_slope(h):
    # attnc's alibi_slope(h, H) = 2^(-8 (h + 1) / H)
    return 2.0 ** (-8.0 * (h + 1) / ALIBI_H)


# name -> (DSL body lines, flex score_mod or None, flex mask_mod or None,
#          reference kernel for the 0.9x rule, query heads per kv head, dropout)
def variants():
    causal_mm = lambda b, h, q, k: k <= q
    return {
        "plain": ([], None, None, "plain", 1, 0.0),
        "causal": (["s = mask(s, causal)"], None, causal_mm, "causal", 1, 0.0),
        "softcap": ([f"s = {CAP} * tanh(s / {CAP})"],
                    lambda s, b, h, q, k: CAP * torch.tanh(s / CAP), None, "plain", 1, 0.0),
        "alibi": ([f"s = s - alibi_slope(h, {ALIBI_H}) * abs(q_idx - k_idx)"],
                  "alibi", None, "plain", 1, 0.0),
        "alibi_causal": ([f"s = s - alibi_slope(h, {ALIBI_H}) * abs(q_idx - k_idx)",
                          "s = mask(s, causal)"], "alibi", causal_mm, "causal", 1, 0.0),
        "window": ([f"s = mask(s, window({WINDOW}, 0))"], None,
                   lambda b, h, q, k: (k <= q) & (q - k <= WINDOW), "causal", 1, 0.0),
        "document": ([f"s = mask(s, where(div(q_idx, {DOC}) == div(k_idx, {DOC})))"], None,
                     lambda b, h, q, k: (q // DOC) == (k // DOC), "plain", 1, 0.0),
        "prefix_lm": ([f"s = mask(s, where(k_idx <= q_idx || k_idx < {PREFIX}))"], None,
                      lambda b, h, q, k: (k <= q) | (k < PREFIX), "causal", 1, 0.0),
        "gqa_softcap_causal": ([f"s = {CAP} * tanh(s / {CAP})", "s = mask(s, causal)"],
                               lambda s, b, h, q, k: CAP * torch.tanh(s / CAP), causal_mm,
                               "causal", 4, 0.0),
        "dropout": (["p = dropout(p, 0.1, seed, offset)"], None, None, "plain", 1, 0.1),
        "dropout_causal": (["s = mask(s, causal)", "p = dropout(p, 0.1, seed, offset)"], None,
                           causal_mm, "causal", 1, 0.1),
    }


def spec_text(name, lines, group, drop):
    hk = H // group
    pre = [l for l in lines if not l.startswith("p = ")]
    post = [l for l in lines if l.startswith("p = ")]
    args = "  seed: i64\n  offset: i64\n" if drop else ""
    return (f"attention v_{name} {{\n"
            f"  q: bf16[b, {H}, n, {D}]\n  k: bf16[b, {hk}, m, {D}]\n  v: bf16[b, {hk}, m, {D}]\n{args}"
            f"  s = matmul(q, k^T) * rsqrt({D})\n"
            + "".join(f"  {l}\n" for l in pre)
            + "  p = softmax(s)\n"
            + "".join(f"  {l}\n" for l in post)
            + "  o = matmul(p, v)\n  return o, logsumexp\n}\n")


def visible(mask_mod, n):
    """Kept (i, j) pairs of one (b, h) slice."""
    if mask_mod is None:
        return n * n
    total = 0
    step = 2048
    k = torch.arange(n, device="cuda")
    for q0 in range(0, n, step):
        q = torch.arange(q0, min(n, q0 + step), device="cuda")[:, None]
        total += int(mask_mod(0, 0, q, k[None, :]).sum().item())
    return total


def attnc_ms(attnc, path, b, hk, n, iters):
    cmd = [attnc, "bench", path, "--json", "--iters", str(iters), "--shape", f"{b},{H},{hk},{n},{n}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout, out.stderr, file=sys.stderr)
        return None
    rows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    return rows[0]["median_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnc", default="build/bin/attnc")
    ap.add_argument("--baseline", default=None, help="another attnc binary timed in the same run")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--seqlens", default="4096,16384")
    ap.add_argument("--only", default=None, help="comma-separated variant names")
    ap.add_argument("--no-flex", action="store_true", help="time attnc (and SDPA) only")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dev = torch.cuda.get_device_name()
    seqlens = [int(x) for x in args.seqlens.split(",")]
    vs = variants()
    names = args.only.split(",") if args.only else list(vs)
    for need in ("plain", "causal"):
        if need not in names:
            names.insert(0, need)
    flex = None
    if not args.no_flex:
        from torch.nn.attention.flex_attention import flex_attention, create_block_mask
        torch._dynamo.config.cache_size_limit = 256
        flex = torch.compile(flex_attention)
    slopes = torch.tensor([alibi_slope(h) for h in range(H)], device="cuda", dtype=torch.float32)

    def alibi_mod(s, b, h, q, k):
        return s - slopes[h] * (q - k).abs()

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for n in seqlens:
            b = TOKENS // n
            own = {}
            for name in names:
                lines, smod, mmod, ref, group, drop = vs[name]
                hk = H // group
                path = os.path.join(work, f"{name}.attn")
                with open(path, "w") as f:
                    f.write(spec_text(name, lines, group, drop))
                vis = visible(mmod, n)
                fl = 4.0 * D * b * H * vis
                row = {"variant": name, "n": n, "b": b, "h": H, "hk": hk, "d": D,
                       "visible_fraction": vis / (n * n), "ref": ref}
                ms = attnc_ms(args.attnc, path, b, hk, n, args.iters)
                row["attnc"] = fl / (ms * 1e-3) / 1e12 if ms else None
                if args.baseline:
                    ms = attnc_ms(args.baseline, path, b, hk, n, args.iters)
                    row["baseline"] = fl / (ms * 1e-3) / 1e12 if ms else None
                inputs = [(torch.randn(b, H, n, D, device="cuda", dtype=torch.bfloat16),
                           torch.randn(b, hk, n, D, device="cuda", dtype=torch.bfloat16),
                           torch.randn(b, hk, n, D, device="cuda", dtype=torch.bfloat16)) for _ in range(2)]
                if drop:
                    causal = mmod is not None

                    def fa2(q, k, v):
                        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                            return F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=causal)
                    try:
                        row["fa2_dropout"] = fl / (time_torch(fa2, inputs, args.iters) * 1e-3) / 1e12
                    except RuntimeError as e:
                        row["fa2_dropout"] = None
                        print(f"SDPA flash dropout failed: {e}", file=sys.stderr)
                elif flex is not None:
                    sm = alibi_mod if smod == "alibi" else smod
                    bm = create_block_mask(mmod, None, None, n, n, device="cuda") if mmod else None
                    gqa = group > 1

                    def fx(q, k, v):
                        return flex(q, k, v, score_mod=sm, block_mask=bm, enable_gqa=gqa)
                    try:
                        row["flex"] = fl / (time_torch(fx, inputs, args.iters) * 1e-3) / 1e12
                    except Exception as e:  # noqa: BLE001 (report and go on)
                        row["flex"] = None
                        print(f"flex {name} failed: {e}", file=sys.stderr)
                del inputs
                torch.cuda.empty_cache()
                own[name] = row
                rows.append(row)
                print(json.dumps(row), flush=True)
            for name in names:
                r = own[name]
                base = own[r["ref"]]
                r["vs_own"] = r["attnc"] / base["attnc"] if r["attnc"] and base["attnc"] else None
                if r.get("flex") and base.get("flex"):
                    r["flex_plain_ratio"] = base["attnc"] / base["flex"]
    fmt = lambda x: "–" if x is None else f"{x:.0f}"
    rat = lambda a, b: "–" if not a or not b else f"{a / b:.2f}x"
    ratio_text = lambda x: "–" if x is None else f"{x:.2f}x"
    lines = [f"# attnc variants vs FlexAttention / FA2 dropout ({dev}, {datetime.date.today()}, torch {torch.__version__})",
             "", f"bf16, D={D}, H={H}, B·N=16384; TFLOP/s on visible scores. 'own' = attnc's plain kernel "
             "(causal for causal-shaped masks) at the same shape.", "",
             "| variant | N | visible | attnc | Flex / FA2-dropout | attnc / other | attnc / own | own kernel vs Flex |"
             + (" baseline | new / baseline |" if args.baseline else ""),
             "|---|---|---|---|---|---|---|---|" + ("---|---|" if args.baseline else "")]
    for r in rows:
        other = r.get("flex") if "flex" in r else r.get("fa2_dropout")
        tag = "FA2 " if "fa2_dropout" in r else ""
        line = (f"| {r['variant']} | {r['n']} | {r['visible_fraction']:.3f} | {fmt(r['attnc'])} | "
                f"{tag}{fmt(other)} | {rat(r['attnc'], other)} | "
                f"{ratio_text(r.get('vs_own'))} | {ratio_text(r.get('flex_plain_ratio'))} |")
        if args.baseline:
            line += f" {fmt(r.get('baseline'))} | {rat(r['attnc'], r.get('baseline'))} |"
        lines.append(line)
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "variants.md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.out, "variants.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(table)


if __name__ == "__main__":
    main()
