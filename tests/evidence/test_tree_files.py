"""Source-tree walkers read through evidence.files: a FIFO named like a source file is listed
as unreadable, never waited on (it used to hang `surface` forever)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cocoscope.evidence.files import read_tree_file
from tests.paths import DATA


def test_read_tree_file_raises_oserror_for_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "evil.c"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="found a FIFO") as exc:
        read_tree_file(fifo)
    assert exc.value.errno == errno.EINVAL
    (tmp_path / "ok.c").write_bytes(b"int x;\n")
    assert read_tree_file(tmp_path / "ok.c") == b"int x;\n"
    with pytest.raises(OSError, match="larger than 3 bytes"):
        read_tree_file(tmp_path / "ok.c", limit=3)


def test_surface_lists_a_fifo_source_file_as_unreadable(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(DATA / "kconfig_tree", tree)
    os.mkfifo(tree / "drivers" / "evil.c")
    out = tmp_path / "surface.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "cocoscope", "surface", "--source", str(tree),
                           "--all-files", "--no-cache", "--format", "json", "-o", str(out)],
                          capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "drivers/evil.c" in text and "found a FIFO" in text
    json.loads(text)
