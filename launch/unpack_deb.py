#!/usr/bin/env python3
"""Unpacks the files of a Debian package into a folder, as `dpkg -x DEB DIR` does, for a
machine without dpkg. A .deb is an ar archive whose member data.tar.{xz,gz,zst,bz2,}
holds the files; members are read with the standard library (zstd needs Python 3.14)."""
import io
import os
import sys
import tarfile


def ar_members(path):
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise SystemExit(f"{path}: not an ar archive (a .deb)")
        while True:
            header = f.read(60)
            if len(header) < 60:
                return
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = f.read(size)
            if size % 2:
                f.read(1)
            yield name, data


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: unpack_deb.py PACKAGE.deb FOLDER")
    deb, target = sys.argv[1], sys.argv[2]
    for name, data in ar_members(deb):
        if name.startswith("data.tar"):
            os.makedirs(target, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                for member in archive.getmembers():
                    if member.name.startswith("/") or ".." in member.name.split("/"):
                        raise SystemExit(f"{deb}: unsafe path {member.name}")
                # Package files keep their links and modes as dpkg would write them.
                if hasattr(tarfile, "tar_filter"):
                    archive.extractall(target, filter="tar")
                else:
                    archive.extractall(target)
            return
    raise SystemExit(f"{deb}: no data.tar member")


if __name__ == "__main__":
    main()
