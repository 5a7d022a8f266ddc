"""evidence/files.py: regular files only, bounded reads, bounded decompression, hashing."""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cocoscope.errors import InputError
from cocoscope.evidence import files

SMALL = files.InputKind("test input", 64)


def _bounded(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a thread so that a regression (a blocking open) fails instead of hanging."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "blocked: the read did not return"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_reads_a_regular_file(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"x" * 64)
    assert files.read_input(str(p), SMALL) == b"x" * 64


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: a plain open() would block forever
    with pytest.raises(InputError, match=r"expected a test input \(a regular file\), found a FIFO"):
        _bounded(lambda: files.read_input(str(fifo), SMALL))
    with pytest.raises(InputError, match="FIFO"):
        _bounded(lambda: files.sha256_file(str(fifo), SMALL))
    with pytest.raises(InputError, match="FIFO"):
        _bounded(lambda: files.read_prefix(str(fifo), 10))


def test_device_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="found a character device") as exc:
        files.read_input("/dev/zero", files.EVENT_LOG)
    assert exc.value.path == "/dev/zero"
    with pytest.raises(InputError, match="found a directory"):
        files.read_input(str(tmp_path), files.QUOTE)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read TDX quote: not found"):
        files.read_input(str(tmp_path / "nope"), files.QUOTE)


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "big"
    with open(p, "wb") as fh:
        fh.truncate(files.EVENT_LOG.max_size + 1)  # sparse: nothing is written or read
    with pytest.raises(InputError, match=f"event log is larger than {files.EVENT_LOG.max_size} bytes"):
        files.read_input(str(p), files.EVENT_LOG)
    with pytest.raises(InputError, match="larger than"):
        files.sha256_file(str(p), files.EVENT_LOG)
    p.write_bytes(b"y" * 65)
    with pytest.raises(InputError, match="larger than 64 bytes"):
        files.read_input(str(p), SMALL)


def test_procfs_files_with_size_zero_are_read_and_capped() -> None:
    # /proc files report st_size 0: the cap must hold on what is read, not on stat.
    status = "/proc/self/status"
    assert os.stat(status).st_size == 0
    assert b"Name:" in files.read_input(status, files.InputKind("status", 1 << 20))
    with pytest.raises(InputError, match="still growing"):
        files.read_input(status, SMALL)


def test_read_prefix(tmp_path: Path) -> None:
    p = tmp_path / "attr"
    p.write_bytes(b"0123456789")
    assert files.read_prefix(str(p), 4) == b"0123"
    assert files.read_prefix(str(tmp_path / "absent"), 4) is None
    with pytest.raises(InputError, match="directory"):
        files.read_prefix(str(tmp_path), 4)


def test_sha256_file(tmp_path: Path) -> None:
    p = tmp_path / "f"
    data = os.urandom(3 << 20)
    p.write_bytes(data)
    assert files.sha256_file(str(p), files.EVENT_LOG) == hashlib.sha256(data).hexdigest()
    assert files.sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_decompress_gzip_xz_and_concatenated_members(tmp_path: Path) -> None:
    text = b"CONFIG_A=y\n" * 100
    for packed in (gzip.compress(text), lzma.compress(text),
                   gzip.compress(text[:500]) + gzip.compress(text[500:]),
                   lzma.compress(text[:500]) + lzma.compress(text[500:]),
                   gzip.compress(text) + b"\0" * 16):
        p = tmp_path / "c"
        p.write_bytes(packed)
        raw, data = files.read_decompressed(str(p), files.CONFIG)
        assert raw == packed and data == text
    assert files.decompress(text, "plain", files.CONFIG) == text


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress])
def test_decompression_bomb_is_bounded(compress: Callable[[bytes], bytes]) -> None:
    kind = files.InputKind("kernel config", 1 << 20)
    bomb = compress(bytes(8 << 20))  # 8 MiB of zeros packs into a few KiB
    assert len(bomb) < 64 << 10
    with pytest.raises(InputError, match=f"decompresses to more than {1 << 20} bytes"):
        files.decompress(bomb, "bomb", kind)


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress])
def test_truncated_and_trailing_garbage(compress: Callable[[bytes], bytes]) -> None:
    packed = compress(b"CONFIG_A=y\n" * 1000)
    with pytest.raises(InputError, match="corrupt or truncated"):
        files.decompress(packed[:-12], "cut", files.CONFIG)
    with pytest.raises(InputError, match="trailing garbage"):
        files.decompress(packed + b"junk", "junk", files.CONFIG)


def test_write_output_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write quote") as exc:
        files.write_output(str(tmp_path / "no" / "such" / "dir"), b"x", "quote")
    assert exc.value.path and exc.value.path.endswith("dir")
