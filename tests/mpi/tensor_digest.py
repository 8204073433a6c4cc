#!/usr/bin/env python3
"""Prints one line per tensor of a checkpoint folder: name, dtype, shape and the
sha256 of its bytes, sorted by name, whatever the sharding. Standard library only."""
import hashlib
import json
import pathlib
import struct
import sys


def tensors(path):
    with open(path, "rb") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(length))
        base = 8 + length
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            stream.seek(base + begin)
            yield name, info["dtype"], info["shape"], hashlib.sha256(stream.read(end - begin)).hexdigest()


def main():
    folder = pathlib.Path(sys.argv[1])
    rows = []
    for file in sorted(folder.glob("*.safetensors")):
        rows.extend(tensors(file))
    for name, dtype, shape, digest in sorted(rows):
        print(name, dtype, shape, digest)


if __name__ == "__main__":
    main()
