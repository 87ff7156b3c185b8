#!/usr/bin/env python3
"""The unfused chain (matmul -> softmax -> matmul) for one shape, for ncu to
count its DRAM bytes: `ncu --metrics dram__bytes_read.sum,dram__bytes_write.sum
python3 bench/ncu_naive.py B H N D [causal]`."""
import sys
import torch

b, h, n, d = (int(x) for x in sys.argv[1:5])
causal = len(sys.argv) > 5 and sys.argv[5] == "causal"
q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
s = torch.matmul(q, k.transpose(-1, -2)) * d ** -0.5
if causal:
    s.masked_fill_(torch.ones(n, n, dtype=torch.bool, device="cuda").triu(1), float("-inf"))
o = torch.matmul(torch.softmax(s, dim=-1), v)
torch.cuda.synchronize()
