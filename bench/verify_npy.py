#!/usr/bin/env python3
"""Check `attnc run` against PyTorch through .npy files, as a user would.

    python3 bench/verify_npy.py --attnc build/bin/attnc

For f16 and bf16 (bf16 written both as ml_dtypes' <V2 and as <u2 bit
patterns with --bf16-as-u2), causal and not, n != m: writes Q, K, V with
NumPy, runs `attnc run ... -o O.npy --lse L.npy`, reads O and LSE back and
compares them with torch SDPA (math backend, float64) on the same inputs.
Exits 1 if any error exceeds the FlashAttention rule against a bf16/f16
naive chain computed here.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

SPEC = """attention t {{
  q: {dt}[b, h, n, 64]
  k: {dt}[b, h, m, 64]
  v: {dt}[b, h, m, 64]
  s = matmul(q, k^T) * rsqrt(64)
{mask}  p = softmax(s)
  o = matmul(p, v)
  return o, logsumexp
}}
"""


def reference(q, k, v, causal):
    """float64 O and LSE with attnc's bottom-right causal alignment."""
    q, k, v = (torch.from_numpy(x).double() for x in (q, k, v))
    s = q @ k.transpose(-1, -2) / 8.0
    n, m = s.shape[-2:]
    if causal:
        i = torch.arange(n)[:, None]
        j = torch.arange(m)[None, :]
        s = s.masked_fill(j > i + (m - n), float("-inf"))
    lse = torch.logsumexp(s, -1)
    p = torch.softmax(s, -1).nan_to_num(0.0)
    return (p @ v).numpy(), lse.numpy()


def naive_lowp(q, k, v, causal, tdtype):
    qt, kt, vt = (torch.from_numpy(x.astype(np.float32)).to(tdtype).cuda() for x in (q, k, v))
    s = (qt.float() @ kt.float().transpose(-1, -2)) / 8.0
    n, m = s.shape[-2:]
    if causal:
        i = torch.arange(n, device="cuda")[:, None]
        j = torch.arange(m, device="cuda")[None, :]
        s = s.masked_fill(j > i + (m - n), float("-inf"))
    p = torch.softmax(s, -1).nan_to_num(0.0).to(tdtype)
    return (p.float() @ vt.float()).to(tdtype).double().cpu().numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnc", default="build/bin/attnc")
    args = ap.parse_args()
    import ml_dtypes
    rng = np.random.default_rng(0)
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for dt, np_dtype, tdtype, u2 in (("f16", np.float16, torch.float16, False),
                                         ("bf16", ml_dtypes.bfloat16, torch.bfloat16, False),
                                         ("bf16", ml_dtypes.bfloat16, torch.bfloat16, True)):
            for causal in (False, True):
                spec = os.path.join(d, "t.attn")
                with open(spec, "w") as f:
                    f.write(SPEC.format(dt=dt, mask="  s = mask(s, causal)\n" if causal else ""))
                b, h, n, m = 2, 3, 300, 170
                arrays = {}
                for name, shape in (("q", (b, h, n, 64)), ("k", (b, h, m, 64)), ("v", (b, h, m, 64))):
                    x = rng.standard_normal(shape).astype(np.float32).astype(np_dtype)
                    arrays[name] = x
                    path = os.path.join(d, name + ".npy")
                    np.save(path, x.view(np.uint16) if u2 else x)
                cmd = [args.attnc, "run", spec, "--q", os.path.join(d, "q.npy"), "--k", os.path.join(d, "k.npy"),
                       "--v", os.path.join(d, "v.npy"), "-o", os.path.join(d, "o.npy"),
                       "--lse", os.path.join(d, "l.npy")] + (["--bf16-as-u2"] if u2 else [])
                r = subprocess.run(cmd, capture_output=True, text=True)
                label = f"{dt}{' (<u2)' if u2 else ''} {'causal' if causal else 'full'} n={n} m={m}"
                if r.returncode != 0:
                    print(f"{label}: attnc run failed: {r.stderr.strip()}")
                    failures += 1
                    continue
                o = np.load(os.path.join(d, "o.npy"))
                # bf16 comes back as <V2 (NumPy has no bfloat16: view it with
                # ml_dtypes), or as <u2 bit patterns with --bf16-as-u2.
                if u2 or o.dtype.kind == "V":
                    o = o.view(ml_dtypes.bfloat16)
                o = o.astype(np.float64)
                lse = np.load(os.path.join(d, "l.npy")).astype(np.float64)
                ref_o, ref_lse = reference(arrays["q"].astype(np.float64), arrays["k"].astype(np.float64),
                                           arrays["v"].astype(np.float64), causal)
                low = naive_lowp(arrays["q"], arrays["k"], arrays["v"], causal, tdtype)
                masked = np.isneginf(ref_lse)
                err = np.abs(o - ref_o).max()
                bound = 2 * np.abs(low - ref_o).max() + 1e-5
                lse_err = np.abs(lse[~masked] - ref_lse[~masked]).max()
                masked_ok = bool(np.all(o[masked] == 0) and np.all(np.isneginf(lse[masked])))
                ok = err <= bound and lse_err <= 1e-3 and masked_ok
                failures += not ok
                print(f"{label}: O max err {err:.3e} (bound {bound:.3e}), LSE max err {lse_err:.2e}, "
                      f"{int(masked.sum())} fully masked rows ({'ok' if masked_ok else 'WRONG'}): "
                      f"{'PASS' if ok else 'FAIL'}")
    print(f"{6 - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
