#!/usr/bin/env python3
"""Fails when a file includes a header of a higher floor.

Floors, from the ground up (docs/architecture.md): 0 models + kernel
contract, 1 dialect + passes, 2 codegen, 3 runtime, 4 compiler (front end,
driver, API, tools). A header's floor is where it lives; a file may include
headers of its own floor or lower ones only.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
root = os.path.abspath(root)

# (folder prefix relative to root, floor), most specific first.
FLOORS = [
    ("dialects/include/attn/Kernel", 0),
    ("dialects/include/attn/Model", 0),
    ("dialects/lib/Model", 0),
    ("dialects", 1),
    ("codegen", 2),
    ("runtime", 3),
    ("compiler", 4),
]
NAMES = {0: "models/contract", 1: "dialect", 2: "codegen", 3: "runtime", 4: "compiler"}
# Include roots, to find where an included header lives.
INCLUDE_DIRS = ["dialects/include", "codegen/include", "codegen/device",
                "runtime/include", "runtime/device", "compiler/include"]


def floor_of(rel):
    for prefix, f in FLOORS:
        if rel == prefix or rel.startswith(prefix + "/"):
            return f
    return None


def resolve(name, including_dir):
    for d in [including_dir] + [os.path.join(root, d) for d in INCLUDE_DIRS]:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return os.path.relpath(os.path.abspath(p), root)
    return None  # a system, LLVM/MLIR, CUDA or generated header


violations, checked = [], 0
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
for top in ("dialects", "codegen", "runtime", "compiler"):
    for dirpath, _, files in os.walk(os.path.join(root, top)):
        for fn in files:
            if not fn.endswith((".h", ".cpp", ".cuh", ".cu", ".inc")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root)
            mine = floor_of(rel)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = inc.match(line)
                    if not m:
                        continue
                    target = resolve(m.group(1), dirpath)
                    if target is None:
                        continue
                    checked += 1
                    theirs = floor_of(target)
                    if theirs is not None and mine is not None and theirs > mine:
                        violations.append(f"{rel}:{lineno}: includes {m.group(1)} ({NAMES[theirs]}) "
                                          f"from the {NAMES[mine]} floor")
for v in violations:
    print(v)
print(f"{checked} project includes checked, {len(violations)} climb a floor")
sys.exit(1 if violations else 0)
