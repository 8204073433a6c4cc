#!/usr/bin/env python3
"""Writes JSON Lines of fixed pseudo-random token ids for models without a tokenizer (the MoE
fixtures, vocabulary 128): each row is BOS (1) then ids in [3, 128) from a 64-bit LCG.
Usage: token_ids.py <output> <rows> <tokens per row> <seed>"""
import json
import sys

output, rows, length, state = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(output, "w") as out:
    for _ in range(rows):
        ids = [1]
        for _ in range(length - 1):
            state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
            ids.append(3 + (state >> 33) % 125)
        out.write(json.dumps({"input_ids": ids}) + "\n")
