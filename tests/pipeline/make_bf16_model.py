#!/usr/bin/env python3
"""Writes a BF16 copy of an FP32 safetensors model folder, as torch's `tensor.to(torch.bfloat16)`
(and transformers' `from_pretrained(..., dtype=torch.bfloat16)`) makes it: every F32 tensor rounded
to the nearest BF16 value, ties to even; config.json's torch_dtype set to "bfloat16"; the other
files (tokenizer, generation config) copied as they are. Standard library only.

Usage: make_bf16_model.py <fp32 model folder> <new folder>
"""
import array
import json
import os
import shutil
import struct
import sys


def bf16_bytes(raw):
    """F32 little-endian bytes -> BF16 little-endian bytes, round to nearest even (finite values)."""
    words = array.array("I")
    words.frombytes(raw)
    if sys.byteorder != "little":
        words.byteswap()
    halves = array.array("H", (((w + 0x7FFF + ((w >> 16) & 1)) >> 16) & 0xFFFF for w in words))
    if sys.byteorder != "little":
        halves.byteswap()
    return halves.tobytes()


def convert(source, target):
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(source):
        path = os.path.join(source, name)
        if name.endswith(".safetensors"):
            blob = open(path, "rb").read()
            size = struct.unpack("<Q", blob[:8])[0]
            header = json.loads(blob[8:8 + size])
            data = blob[8 + size:]
            tensors, offset = {}, 0
            for key, info in header.items():
                if key == "__metadata__":
                    continue
                begin, end = info["data_offsets"]
                raw = data[begin:end]
                if info["dtype"] == "F32":
                    raw = bf16_bytes(raw)
                    info = dict(info, dtype="BF16")
                tensors[key] = (info, raw)
            out_header, chunks = {}, []
            if "__metadata__" in header:
                out_header["__metadata__"] = header["__metadata__"]
            for key, (info, raw) in tensors.items():
                out_header[key] = dict(info, data_offsets=[offset, offset + len(raw)])
                chunks.append(raw)
                offset += len(raw)
            encoded = json.dumps(out_header, separators=(",", ":")).encode()
            encoded += b" " * (-len(encoded) % 8)
            with open(os.path.join(target, name), "wb") as f:
                f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))
        elif name == "config.json":
            config = json.load(open(path))
            config["torch_dtype"] = "bfloat16"
            config.pop("dtype", None)
            json.dump(config, open(os.path.join(target, name), "w"), indent=2)
        elif os.path.isfile(path):
            shutil.copyfile(path, os.path.join(target, name))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_bf16_model.py <fp32 model folder> <new folder>")
    convert(sys.argv[1], sys.argv[2])
