#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF64 shared library weak, in place.

TorchSharp 0.107.0's libLibTorchSharp.so was built with GCC 13 and asks for the version
GLIBCXX_3.4.32 of libstdc++ for a single symbol, std::ios_base_library_init() (a no-op hook
that GCC 13 emits). Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the dynamic loader
refuses the library and TorchSharp reports a misleading "missing libtorch" error.

A requirement whose Vernaux entry carries VER_FLG_WEAK (0x2) is not fatal when the named
library lacks the version; bench/run.sh then LD_PRELOADs a tiny library that defines the
symbol under that version. This script sets that flag. Standard library only; idempotent.

usage: weaken_glibcxx.py LIBRARY.so [VERSION]   (VERSION defaults to GLIBCXX_3.4.32)
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def cstring(data, offset):
    end = data.index(b"\0", offset)
    return data[offset:end].decode("ascii")


def weaken(path, version):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"{path}: not a little-endian ELF64 file")
    # ELF64 header: section header table offset, entry size, count.
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)

    def section(i):
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, ...
        return struct.unpack_from("<IIQQQQII", data, e_shoff + i * e_shentsize)

    patched = found = 0
    for i in range(e_shnum):
        _, sh_type, _, _, sh_offset, _, sh_link, sh_info = section(i)
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = section(sh_link)[4]
        need = sh_offset
        for _ in range(sh_info):  # sh_info = number of Verneed entries
            _, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
            aux = need + vn_aux
            for _ in range(vn_cnt):
                _, vna_flags, _, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
                if cstring(data, strtab + vna_name) == version:
                    found += 1
                    if not vna_flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, aux + 4, vna_flags | VER_FLG_WEAK)
                        patched += 1
                    state = "already weak" if vna_flags & VER_FLG_WEAK else "marked weak"
                    print(f"{path}: {cstring(data, strtab + vn_file)} {version}: {state}")
                aux += vna_next
                if vna_next == 0:
                    break
            need += vn_next
            if vn_next == 0:
                break
    if patched:
        with open(path, "wb") as f:
            f.write(data)
    if not found:
        print(f"{path}: no requirement for {version} (nothing to do)")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    weaken(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "GLIBCXX_3.4.32")
