#!/usr/bin/env python3
"""Overwrites single values of one tensor of a safetensors file in place (F32, F16 or BF16),
with the standard library only: for tests that need a model holding NaN, an infinity or an
overflowing weight.
Usage: set_tensor_values.py <file.safetensors> <tensor name> <row,col=value>...
       value: a decimal number, nan, inf or -inf; row,col index a 2-D tensor, a lone index a 1-D one.
Prints each value it wrote with its flat index."""
import json
import math
import struct
import sys


def encode(value, dtype):
    if dtype == "F32":
        return struct.pack("<f", value)
    if dtype == "F16":
        return struct.pack("<e", value)
    if dtype == "BF16":  # the upper half of the fp32 bits (NaN and infinities survive truncation)
        return struct.pack("<f", value)[2:]
    raise SystemExit(f"unsupported dtype {dtype}")


def main():
    path, name, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, "r+b") as f:
        header_size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_size))
        if name not in header:
            raise SystemExit(f"{path}: no tensor {name}")
        entry = header[name]
        shape, dtype, (begin, end) = entry["shape"], entry["dtype"], entry["data_offsets"]
        width = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
        for edit in edits:
            where, text = edit.split("=")
            index = [int(i) for i in where.split(",")]
            if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
                raise SystemExit(f"{name}: index {index} is outside the shape {shape}")
            flat = 0
            for i, n in zip(index, shape):
                flat = flat * n + i
            value = float(text)
            if not math.isnan(value) and not math.isinf(value) and abs(value) > 3.4e38:
                raise SystemExit(f"{value} does not fit a {dtype} value")
            offset = 8 + header_size + begin + flat * width
            assert offset + width <= 8 + header_size + end
            f.seek(offset)
            f.write(encode(value, dtype))
            print(f"{name}[{flat}] = {text}")


if __name__ == "__main__":
    main()
