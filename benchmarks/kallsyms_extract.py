"""Symbol names of a kernel image, read from the kallsyms tables inside its bzImage.

Debian's linux-image package ships a placeholder System.map ("The real System.map is in the
linux-image-<version>-dbg package", a 320 MB download); the kernel itself carries every symbol
in its kallsyms tables (CONFIG_KALLSYMS_ALL=y in the cloud config). This reads them:

1. the bzImage payload (setup header fields payload_offset/payload_length at 0x248/0x24c)
   is decompressed with the ``zstd`` command (CONFIG_KERNEL_ZSTD; gzip/xz also handled);
2. scripts/kallsyms.c writes, 8-byte aligned and in this order: kallsyms_num_syms (u32),
   kallsyms_names (ULEB128 length + token bytes per symbol), kallsyms_markers (u32 per 256
   symbols), kallsyms_token_table (256 NUL-terminated strings), kallsyms_token_index;
   the token table is found by its run of single-digit tokens "0".."9", the markers just before
   it, and the names by the symbol count that must precede them and decode exactly up to the
   markers.

Returns {name: type letter}; a name's first expanded byte is its type (T, t, W, D, ...).
"""

from __future__ import annotations

import gzip
import lzma
import struct
import subprocess
from pathlib import Path


def decompress_bzimage(path: Path) -> bytes:
    data = path.read_bytes()
    setup_sects = data[0x1F1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", data, 0x248)
    start = (setup_sects + 1) * 512 + payload_offset
    payload = data[start:start + payload_length]
    if payload[:4] == b"\x28\xb5\x2f\xfd":  # zstd, with the kernel's 4-byte size appended
        out = subprocess.run(["zstd", "-dc"], input=payload[:-4], capture_output=True,
                             check=True)
        return out.stdout
    if payload[:2] == b"\x1f\x8b":
        return gzip.decompress(payload[:-4])
    if payload[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(payload[:-4])
    raise ValueError(f"{path}: unsupported kernel compression {payload[:6].hex()}")


def kallsyms(image: bytes) -> dict[str, str]:
    digits = b"".join(bytes([c]) + b"\x00" for c in b"0123456789")
    at = image.find(digits)
    while at >= 0:
        try:
            return _from_token_run(image, at)
        except (ValueError, struct.error, IndexError):
            at = image.find(digits, at + 1)  # another table of characters; keep looking
    raise ValueError("kallsyms tables not found")


def _from_token_run(image: bytes, at: int) -> dict[str, str]:
    # Walk back 48 tokens ('0' is token 48: unused byte values keep their own character).
    table = at
    for _ in range(ord("0")):
        table = image.rindex(b"\x00", 0, table - 1) + 1
    tokens: list[bytes] = []
    p = table
    for _ in range(256):
        end = image.index(b"\x00", p)
        tokens.append(image[p:end])
        p = end + 1
    # Markers: u32, ascending from 0, ending (before alignment padding) at the token table.
    q = table
    while table - q < 8 and struct.unpack_from("<I", image, q - 4)[0] == 0:
        q -= 4
    markers: list[int] = []
    while True:
        q -= 4
        value = struct.unpack_from("<I", image, q)[0]
        markers.append(value)
        if value == 0:
            break
        if len(markers) > 1 << 16:
            raise ValueError("kallsyms markers not found")
    markers.reverse()
    markers_start = q
    count_lo, count_hi = (len(markers) - 1) * 256 + 1, len(markers) * 256
    guess = (markers_start - markers[-1]) // 8 * 8  # names start 8-aligned, before the last chunk
    for names in range(guess, guess - 256 * 260, -8):
        n = struct.unpack_from("<I", image, names - 8)[0]
        if not count_lo <= n <= count_hi:
            continue
        decoded = _decode(image, names, n, markers, markers_start, tokens)
        if decoded is not None:
            return decoded
    raise ValueError("kallsyms_names not found")


def _decode(image: bytes, start: int, count: int, markers: list[int], limit: int,
            tokens: list[bytes]) -> dict[str, str] | None:
    off = 0
    entries: list[bytes] = []
    for i in range(count):
        if i % 256 == 0 and markers[i // 256] != off:
            return None
        p = start + off
        if p >= limit:
            return None
        length = image[p]
        head = 1
        if length & 0x80:
            length = (length & 0x7F) | (image[p + 1] << 7)
            head = 2
        entries.append(image[p + head:p + head + length])
        off += head + length
    if not 0 <= limit - (start + off) < 8:
        return None
    symbols: dict[str, str] = {}
    for e in entries:
        text = b"".join(tokens[b] for b in e).decode("latin-1")
        if text:
            symbols.setdefault(text[1:], text[0])
    return symbols


def image_symbols(vmlinuz: Path) -> dict[str, str]:
    return kallsyms(decompress_bzimage(vmlinuz))


if __name__ == "__main__":
    import sys

    syms = image_symbols(Path(sys.argv[1]))
    print(len(syms), sum(1 for t in syms.values() if t in "TW"), "global text symbols")
    for name in list(syms)[:5]:
        print(syms[name], name)
