#!/usr/bin/env python3
"""Writes a .deb by hand (ar + tar), so that it can hold what dpkg-deb refuses to build.

usage: make_deb.py OUT.deb NAME VERSION ARCH ENTRY...

Each ENTRY is one member of data.tar.gz, in order:
  d:PATH           a directory (0755)
  f:PATH[=TEXT]    a regular file (0644), TEXT or "PATH\\n" as its content
  l:PATH=TARGET    a symbolic link
  h:PATH=TARGET    a hard link to TARGET
  x:PATH=MODE      a regular file with that octal mode (4755: setuid)
  z:PATH=BYTES     a regular file of BYTES zero bytes (a decompression bomb)
  c:PATH, b:PATH, p:PATH   a character device, a block device, a FIFO
  i:KIB            not an entry: the control file's Installed-Size
Names are written exactly as given: "../x", "/etc/x", control characters and the
like stay as they are.
"""
import io
import sys
import tarfile
import time


class Zeros:
    """A file of n zero bytes, read without holding them."""

    def __init__(self, n):
        self.left = n

    def read(self, size=-1):
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def tar_gz(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for kind, name, value in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            info.uname = info.gname = "root"
            data = None
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "f":
                data = (value if value is not None else name + "\n").encode()
                info.type, info.mode, info.size = tarfile.REGTYPE, 0o644, len(data)
            elif kind == "l":
                info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, value
            elif kind == "h":
                info.type, info.mode, info.linkname = tarfile.LNKTYPE, 0o644, value
            elif kind == "x":
                data = (name + "\n").encode()
                info.type, info.mode, info.size = tarfile.REGTYPE, int(value, 8), len(data)
            elif kind == "z":
                info.type, info.mode, info.size = tarfile.REGTYPE, 0o644, int(value)
                tar.addfile(info, Zeros(info.size))
                continue
            elif kind in "cbp":
                info.type = {"c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE, "p": tarfile.FIFOTYPE}[kind]
                info.mode, info.devmajor, info.devminor = 0o666, 1, 3
            else:
                raise SystemExit(f"unknown entry kind {kind!r}")
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def ar_member(name, data):
    header = f"{name:<16}{int(time.time()):<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n"
    assert len(header) == 60
    return header.encode() + data + (b"\n" if len(data) % 2 else b"")


def main():
    out, name, version, arch, *specs = sys.argv[1:]
    entries, installed = [], ""
    for spec in specs:
        kind, _, rest = spec.partition(":")
        if kind == "i":
            installed = f"Installed-Size: {rest}\n"
            continue
        path, eq, value = rest.partition("=")
        entries.append((kind, path, value if eq else None))
    control = (f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n{installed}"
               f"Maintainer: dmc test <t@example.invalid>\n"
               f"Description: {name}, built by hand for the dmc archive tests\n")
    control_tgz = tar_gz([("f", "./control", control)])
    data_tgz = tar_gz(entries)
    with open(out, "wb") as f:
        f.write(b"!<arch>\n")
        f.write(ar_member("debian-binary", b"2.0\n"))
        f.write(ar_member("control.tar.gz", control_tgz))
        f.write(ar_member("data.tar.gz", data_tgz))


main()
