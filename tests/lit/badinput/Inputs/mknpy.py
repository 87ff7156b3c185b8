#!/usr/bin/env python3
"""Writes a small .npy file without numpy: mknpy.py OUT DESCR D0,D1,... [RAW [FILL]]

RAW, if given, replaces the whole header dict text (for malformed headers);
the data is zero bytes of the size the shape and descr imply, or for <i4
every element FILL, or the elements FILL lists ("0,9,5"; RAW "" keeps the
normal header)."""
import struct
import sys

out, descr, dims = sys.argv[1], sys.argv[2], sys.argv[3]
shape = [int(d) for d in dims.split(",") if d]
header = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else (
    "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }"
    % (descr, "".join("%d," % d if len(shape) == 1 else "%d, " % d for d in shape).rstrip(", ") + ("," if len(shape) == 1 else "")))
size = {"<f2": 2, "<f4": 4, "<i4": 4, "|i1": 1, "|u1": 1, "<f8": 8, "<V2": 2, "<u2": 2}.get(descr, 1)
n = 1
for d in shape:
    n *= d
h = header.encode() + b" "
h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h)
    if len(sys.argv) > 5 and "," in sys.argv[5]:
        values = [int(x) for x in sys.argv[5].split(",")]
        assert len(values) == n, "FILL lists one value per element"
        f.write(struct.pack("<%di" % n, *values))
    elif len(sys.argv) > 5:
        f.write(struct.pack("<i", int(sys.argv[5])) * n)
    else:
        f.write(b"\0" * (n * size))
