import gzip
import lzma
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.errors import InputError
from cocoscope.evidence.dotconfig import Tristate, load_config, parse_config_text

SAMPLE = """#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.12.117 Kernel Configuration
#
CONFIG_INTEL_TDX_GUEST=y
CONFIG_VIRTIO_MMIO=m
# CONFIG_VIRTIO_PCI_LEGACY is not set
CONFIG_CMDLINE="console=ttyS0 quiet"
CONFIG_NR_CPUS=64
"""


def test_tristates_lines_and_version(tmp_path: Path) -> None:
    p = tmp_path / ".config"
    p.write_text(SAMPLE)
    cfg = load_config(str(p))
    assert cfg.version == (6, 12, 117)
    assert cfg.tristate("INTEL_TDX_GUEST") is Tristate.YES
    assert cfg.tristate("CONFIG_VIRTIO_MMIO") is Tristate.MODULE
    assert cfg.tristate("VIRTIO_PCI_LEGACY") is Tristate.NO
    assert cfg.tristate("XEN") is Tristate.ABSENT
    assert cfg.value("CMDLINE") == "console=ttyS0 quiet"
    assert cfg.entry("VIRTIO_PCI_LEGACY").line == 7  # type: ignore[union-attr]


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress])
def test_compressed(tmp_path: Path, compress) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "config.z"
    p.write_bytes(compress(SAMPLE.encode()))
    assert load_config(str(p)).is_on("VIRTIO_MMIO")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (gzip.compress(SAMPLE.encode())[:40], "truncated"),
        (b"\x7fELF\x02\x01\x00\x00garbage", "NUL"),
        (("CONFIG_X=" + "a" * (1 << 20)).encode(), "characters long"),
        (b"hello world\n", "not a kernel config line"),
        (b"", "no CONFIG_"),
    ],
)
def test_bad_input_names_the_file(tmp_path: Path, data: bytes, needle: str) -> None:
    p = tmp_path / "bad.config"
    p.write_bytes(data)
    with pytest.raises(InputError) as exc:
        load_config(str(p))
    assert needle in str(exc.value) and str(p) in str(exc.value)


def test_missing_file() -> None:
    with pytest.raises(InputError, match="not found"):
        load_config("/nonexistent/.config")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_parser_raises_only_input_error(text: str) -> None:
    try:
        cfg = parse_config_text(text, "fuzz")
    except InputError:
        return
    for sym, entry in cfg.entries.items():
        assert entry.symbol == sym
