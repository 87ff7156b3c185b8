#!/usr/bin/env python3
"""Writes N attention blocks a0 .. a(N-1), nine lines each: blocks.py N"""
import sys

for i in range(int(sys.argv[1])):
    print("attention a%d {\n  q: bf16[b, h, n, 64]\n  k: bf16[b, h, m, 64]\n"
          "  v: bf16[b, h, m, 64]\n  s = matmul(q, k^T)\n  p = softmax(s)\n"
          "  o = matmul(p, v)\n  return o\n}" % i)
