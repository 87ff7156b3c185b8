# fa2_anchor.py - the FA2 anchor (PyTorch SDPA, flash backend) for the
# protocol of docs/testing.md, to run in the same call as `device_headers_test --bench`.
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
import torch.nn.functional as F

def bench(fn, reps=30, warm=5):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]

print(f"{'D':>4} {'causal':>6} {'N':>6} {'FA2 TFLOP/s':>12}")
for D in (64, 128):
    for causal in (False, True):
        for N in (512, 1024, 2048, 4096, 8192, 16384):
            B, H = 16384 // N, 2048 // D
            q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                ms = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal))
            flops = 4 * B * H * N * N * D * (0.5 if causal else 1.0)
            print(f"{D:>4} {str(causal):>6} {N:>6} {flops / ms / 1e9:>12.1f}", flush=True)
