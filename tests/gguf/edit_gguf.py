#!/usr/bin/env python3
"""Rewrites a GGUF file with one change, for the error tests (Python standard library only).

Usage: edit_gguf.py IN OUT EDIT [ARG...]
  set-string KEY VALUE       a string metadata value replaced
  set-number KEY VALUE       a numeric metadata value replaced, its type kept ("nan", "inf" allowed)
  retype TENSOR TYPE BLOCK_ELEMENTS BLOCK_BYTES
                             the tensor's ggml type number changed, its data zeroed to the new size
  reshape TENSOR D0 [D1...]  the tensor's GGUF dims replaced (innermost first), data zeroed to fit
  rename TENSOR NEW_NAME     a tensor renamed
  drop TENSOR                a tensor left out
The GGUF layout is the specification's (ggml/docs/gguf.md); alignment 32.
"""
import struct
import sys

SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34), 30: (1, 2)}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        value = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value[0]

    def string(self):
        n = self.take("Q")
        text = self.data[self.pos:self.pos + n]
        self.pos += n
        return text

    def value(self, kind):
        if kind == 8:
            return self.string()
        if kind == 9:
            element, count = self.take("I"), self.take("Q")
            return (element, [self.value(element) for _ in range(count)])
        return self.take(SCALARS[kind])


def pack_string(text):
    return struct.pack("<Q", len(text)) + text


def pack_value(kind, value):
    if kind == 8:
        return pack_string(value)
    if kind == 9:
        element, items = value
        return struct.pack("<IQ", element, len(items)) + b"".join(pack_value(element, v) for v in items)
    return struct.pack("<" + SCALARS[kind], value)


def main():
    source, target, edit, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    data = open(source, "rb").read()
    r = Reader(data)
    assert r.take("I") == 0x46554747
    version, tensor_count, kv_count = r.take("I"), r.take("Q"), r.take("Q")
    metadata = []
    for _ in range(kv_count):
        key = r.string()
        kind = r.take("I")
        metadata.append([key, kind, r.value(kind)])
    tensors = []
    for _ in range(tensor_count):
        name = r.string()
        dims = [r.take("Q") for _ in range(r.take("I"))]
        tensors.append({"name": name, "dims": dims, "type": r.take("I"), "offset": r.take("Q")})
    start = (r.pos + 31) // 32 * 32
    for t in tensors:
        elements, size = BLOCKS[t["type"]]
        count = 1
        for d in t["dims"]:
            count *= d
        t["data"] = data[start + t["offset"]:start + t["offset"] + count // elements * size]

    named = {t["name"].decode(): t for t in tensors}
    if edit == "set-string":
        for entry in metadata:
            if entry[0] == args[0].encode():
                entry[2] = args[1].encode()
    elif edit == "set-number":
        for entry in metadata:
            if entry[0] == args[0].encode():
                entry[2] = float(args[1]) if SCALARS[entry[1]] in "fd" else int(args[1])
    elif edit == "retype":
        t = named[args[0]]
        t["type"], elements, size = int(args[1]), int(args[2]), int(args[3])
        count = 1
        for d in t["dims"]:
            count *= d
        t["data"] = bytes(count // elements * size)
    elif edit == "reshape":
        t = named[args[0]]
        elements, size = BLOCKS[t["type"]]
        t["dims"] = [int(a) for a in args[1:]]
        count = 1
        for d in t["dims"]:
            count *= d
        t["data"] = bytes(count // elements * size)
    elif edit == "rename":
        named[args[0]]["name"] = args[1].encode()
    elif edit == "drop":
        tensors.remove(named[args[0]])
    else:
        sys.exit("unknown edit " + edit)

    header = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(metadata))
    header += b"".join(pack_string(k) + struct.pack("<I", kind) + pack_value(kind, v) for k, kind, v in metadata)
    offset, body = 0, b""
    for t in tensors:
        t["offset"] = offset
        padded = t["data"] + bytes(-len(t["data"]) % 32)
        body += padded
        offset += len(padded)
    for t in tensors:
        header += pack_string(t["name"]) + struct.pack("<I", len(t["dims"]))
        header += b"".join(struct.pack("<Q", d) for d in t["dims"]) + struct.pack("<IQ", t["type"], t["offset"])
    header += bytes(-len(header) % 32)
    open(target, "wb").write(header + body)


main()
