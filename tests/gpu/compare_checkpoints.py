#!/usr/bin/env python3
"""Compares the quantized integers of two compressed-tensors checkpoints written by
`dcomp oneshot` (pack-quantized INT4/INT8: `weight_packed` int32 words holding
32/bits codes each, lowest bits first), tensor by tensor, and every other tensor
byte for byte. Prints the number of differing codes per module and in total, and
exits 1 when the share of differing codes exceeds --max-differing (a fraction), or
when the two checkpoints do not hold the same tensors with the same shapes.
Pure standard library: reads the safetensors format directly.
reference: safetensors format (8-byte little-endian header length, JSON header,
data); compressed-tensors pack_to_int32 (codes offset by 2^(bits-1), packed along
the input dimension, first code in the lowest bits). A code that differs by one step
is a weight on the other side of a rounding boundary; GPTQ's error feedback then
moves later columns too, so such flips come in bunches.
Usage: compare_checkpoints.py <dir a> <dir b> [--bits 4] [--max-differing 0.001] [--max-far 0]
"""
import argparse
import json
import os
import struct
import sys


def read_tensors(folder):
    tensors = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + length])
        base = 8 + length
        for key, info in header.items():
            if key == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            tensors[key] = (info["dtype"], info["shape"], data[base + begin : base + end])
    return tensors


def differing_codes(a, b, bits):
    """(codes that differ, codes that differ by more than one step, codes in all)."""
    words_a = struct.unpack("<%dI" % (len(a) // 4), a)
    words_b = struct.unpack("<%dI" % (len(b) // 4), b)
    per_word = 32 // bits
    mask = (1 << bits) - 1
    count = far = 0
    for x, y in zip(words_a, words_b):
        if x == y:
            continue
        for i in range(per_word):
            code_x = (x >> (i * bits)) & mask
            code_y = (y >> (i * bits)) & mask
            if code_x != code_y:
                count += 1
                if abs(code_x - code_y) > 1:
                    far += 1
    return count, far, len(words_a) * per_word


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument("--max-differing", type=float, default=0.001)
    parser.add_argument("--max-far", type=float, default=0.0,
                        help="largest share of codes allowed to differ by more than one step")
    args = parser.parse_args()
    first, second = read_tensors(args.a), read_tensors(args.b)
    if sorted(first) != sorted(second):
        print("the checkpoints hold different tensors: only in a: %s; only in b: %s"
              % (sorted(set(first) - set(second))[:5], sorted(set(second) - set(first))[:5]))
        return 1
    total_codes = total_differing = total_far = other_differing = 0
    for key in sorted(first):
        dtype_a, shape_a, bytes_a = first[key]
        dtype_b, shape_b, bytes_b = second[key]
        if (dtype_a, shape_a) != (dtype_b, shape_b):
            print("%s: %s %s against %s %s" % (key, dtype_a, shape_a, dtype_b, shape_b))
            return 1
        if key.endswith("weight_packed"):
            differing, far, codes = differing_codes(bytes_a, bytes_b, args.bits)
            total_codes += codes
            total_differing += differing
            total_far += far
            if differing:
                print("%s: %d of %d codes differ, %d by more than one step" % (key, differing, codes, far))
        elif bytes_a != bytes_b:
            other_differing += 1
    share = total_differing / total_codes if total_codes else 0.0
    far_share = total_far / total_codes if total_codes else 0.0
    print("codes: %d of %d differ (%.4f%%), %d by more than one step (%.4f%%); other tensors with any "
          "differing byte: %d" % (total_differing, total_codes, 100 * share, total_far, 100 * far_share,
                                  other_differing))
    return 0 if share <= args.max_differing and far_share <= args.max_far else 1


if __name__ == "__main__":
    sys.exit(main())
