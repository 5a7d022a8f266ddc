"""The one place that reads input files: regular files only, a size cap per kind, hashing.

Every file a user names (report, quote, certificate, event log, firmware, policy, config, ...)
is read here so that hostile input fails the same way everywhere, at once and in bounded
memory: a FIFO would block ``open`` and ``read`` forever, ``/dev/zero`` never ends, a
directory is not data. The file is opened with O_NONBLOCK (a FIFO with no writer then opens
at once instead of hanging) and ``fstat``-ed on the open descriptor, so the check and the
read see the same object. Only regular files are read, and never more than the kind's cap
(``st_size`` can be 0 for /proc files, so the cap is enforced on what is read, not on stat).
Compressed configs are bounded after decompression too (a 64 KiB .xz can expand to GiBs).
"""

from __future__ import annotations

import errno
import hashlib
import lzma
import os
import stat
import zlib
from dataclasses import dataclass
from typing import Any

from cocoscope.errors import InputError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputKind:
    """What a file is, for messages ("event log is larger than ..."), and how large it may be."""

    what: str
    max_size: int  # bytes; for compressed kinds also the decompressed size


_KIB, _MIB = 1 << 10, 1 << 20
# Caps are generous multiples of the largest real input of each kind, small enough that
# reading one never threatens memory. Real sizes: an SNP report is 1184 bytes (+ a few KiB of
# certificates), a TDX quote ~5-8 KiB, a PCK/VCEK certificate ~1.5 KiB, TCB Info ~10 KiB,
# a CCEL log area 64 KiB..2 MiB, OVMF 2-4 MiB, a distro .config ~300 KiB.
REPORT = InputKind("SNP attestation report", 1 * _MIB)
QUOTE = InputKind("TDX quote", 1 * _MIB)
EVIDENCE = InputKind("attestation evidence", 1 * _MIB)
CERTIFICATE = InputKind("certificate", 1 * _MIB)
CRL = InputKind("CRL", 4 * _MIB)
COLLATERAL = InputKind("collateral file", 4 * _MIB)
EVENT_LOG = InputKind("event log", 128 * _MIB)
CCEL_TABLE = InputKind("ACPI CCEL table", 64 * _KIB)  # 56 bytes in ACPI 6.5
FIRMWARE = InputKind("firmware image", 256 * _MIB)
KERNEL = InputKind("kernel", 512 * _MIB)
INITRD = InputKind("initrd", 1024 * _MIB)
POLICY = InputKind("policy file", 1 * _MIB)
CONFIG = InputKind("kernel config", 64 * _MIB)
CMDLINE = InputKind("kernel command line file", 64 * _KIB)
RULES = InputKind("rule file", 8 * _MIB)
WAIVERS = InputKind("waiver file", 1 * _MIB)
CATALOGUE = InputKind("catalogue", 8 * _MIB)
TDREPORT = InputKind("TDREPORT", 64 * _KIB)
TSM_ATTRIBUTE = InputKind("configfs-tsm attribute", 64 * _KIB)  # provider, generation


def _a(what: str) -> str:
    return ("an " if what[:1].lower() in "aeiou" else "a ") + what


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_regular(path: str, what: str) -> tuple[int, int]:
    """An fd of a regular file and its st_size; anything else is an InputError at once."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"cannot read {what}: not found", path=path) from None
    except IsADirectoryError:
        raise InputError(f"expected {_a(what)} (a regular file), found a directory",
                         path=path) from None
    except OSError as exc:
        raise InputError(f"cannot open {what}: {exc.strerror or exc}", path=path) from None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise InputError(f"cannot stat {what}: {exc.strerror or exc}", path=path) from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(f"expected {_a(what)} (a regular file), found {_file_type(st.st_mode)}",
                         path=path)
    return fd, st.st_size


def _too_large(path: str, kind: InputKind, size: str) -> InputError:
    return InputError(f"{kind.what} is larger than {kind.max_size} bytes ({size}); "
                      "refusing to read it", path=path)


def read_input(path: str, kind: InputKind) -> bytes:
    """The whole file, at most ``kind.max_size`` bytes; every failure is an InputError."""
    fd, size = _open_regular(path, kind.what)
    try:
        if size > kind.max_size:
            raise _too_large(path, kind, f"{size} bytes")
        # One read of the announced size (+1 to see growth) is the common case: no copy.
        data = os.read(fd, size + 1) if size else b""
        parts = [data]
        total = len(data)
        while True:  # short reads, /proc files with st_size 0, files that grow
            more = os.read(fd, min(_CHUNK, kind.max_size + 1 - total))
            if not more:
                break
            parts.append(more)
            total += len(more)
            if total > kind.max_size:
                raise _too_large(path, kind, "and still growing while read")
    except OSError as exc:
        raise InputError(f"cannot read {kind.what}: {exc.strerror or exc}", path=path) from None
    finally:
        os.close(fd)
    return data if len(parts) == 1 else b"".join(parts)


SOURCE_FILE_LIMIT = 256 * _MIB  # a tree walker applies its own, smaller cap after reading


def read_tree_file(path: str | os.PathLike[str], limit: int = SOURCE_FILE_LIMIT) -> bytes:
    """A file inside a source tree, for walkers that list unreadable files and go on.

    A FIFO, device or directory under a tree name (``evil.c``) would block a plain read; here
    it, like a file above ``limit``, raises OSError (EINVAL) carrying the reason as strerror,
    which the walkers already report per file.
    """
    try:
        return read_input(os.fspath(path), InputKind("source file", limit))
    except InputError as exc:
        raise OSError(errno.EINVAL, exc.message) from None


def read_prefix(path: str, limit: int, what: str = "file") -> bytes | None:
    """At most the first ``limit`` bytes of a system file (procfs, sysfs, a boot log).

    A missing or unreadable file is None: the running system simply does not offer it. A FIFO,
    device or directory where a file belongs is still an InputError: a system tree that has
    one there is not what it claims to be, and reading it could block.
    """
    try:
        fd, _ = _open_regular(path, what)
    except InputError:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if stat.S_ISREG(st.st_mode):
            return None  # exists but unreadable (permissions): not offered
        raise
    parts: list[bytes] = []
    total = 0
    try:
        while total < limit and (chunk := os.read(fd, min(_CHUNK, limit - total))):
            parts.append(chunk)
            total += len(chunk)
    except OSError:
        return None  # sysfs attributes can fail on read (EIO, EINVAL): not offered
    finally:
        os.close(fd)
    return b"".join(parts)


class DuplicateKeyError(ValueError):
    """A JSON object names a key twice; ``json`` would silently keep only the last value."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for every JSON input: a repeated key is refused, never last-wins."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"duplicate key: key {key!r} appears twice (JSON keeps "
                                    "only the last; refused)")
        out[key] = value
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str, kind: InputKind) -> str:
    """SHA-256 of a regular file, streamed (bounded memory) and capped like a read."""
    fd, size = _open_regular(path, kind.what)
    h = hashlib.sha256()
    total = 0
    try:
        if size > kind.max_size:
            raise _too_large(path, kind, f"{size} bytes")
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            if total > kind.max_size:
                raise _too_large(path, kind, "and still growing while read")
            h.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {kind.what}: {exc.strerror or exc}", path=path) from None
    finally:
        os.close(fd)
    return h.hexdigest()


_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"


def is_compressed(data: bytes) -> bool:
    return data[:2] == _GZIP_MAGIC or data[:6] == _XZ_MAGIC


def decompress(data: bytes, path: str, kind: InputKind) -> bytes:
    """Undo gzip or xz (by magic number), producing at most ``kind.max_size`` bytes.

    Concatenated members/streams are followed as gzip(1) and xz(1) do. A truncated or corrupt
    stream, or one that expands beyond the cap (a decompression bomb), is an InputError.
    Data that is not compressed is returned unchanged.
    """
    if not is_compressed(data):
        return data
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest:
            if rest[:2] == _GZIP_MAGIC:
                dec: zlib._Decompress | lzma.LZMADecompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif rest[:6] == _XZ_MAGIC:
                dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            elif out and not rest.strip(b"\x00"):
                break  # zero padding after the last member, as gzip(1) accepts
            else:
                raise InputError("trailing garbage after compressed data", path=path,
                                 where=f"offset {len(data) - len(rest)}")
            chunk = dec.decompress(rest, kind.max_size + 1 - total)
            total += len(chunk)
            out.append(chunk)
            if total > kind.max_size:
                raise InputError(f"{kind.what} decompresses to more than {kind.max_size} bytes; "
                                 "refusing it", path=path)
            # Below the output cap, a stream without its end marker was cut short.
            if not dec.eof:
                raise EOFError("compressed data ended before the end-of-stream marker")
            rest = dec.unused_data
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise InputError(f"corrupt or truncated compressed data ({exc})", path=path) from None
    return b"".join(out)


def read_decompressed(path: str, kind: InputKind) -> tuple[bytes, bytes]:
    """(raw bytes as stored, content after gzip/xz), both bounded by ``kind.max_size``."""
    raw = read_input(path, kind)
    return raw, decompress(raw, path, kind)


def write_output(path: str, data: bytes, what: str = "output") -> None:
    """Write a file the user asked for; an OS error is an InputError naming the path."""
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {what}: {exc.strerror or exc}", path=path) from None
