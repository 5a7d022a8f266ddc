"""Every command that takes a file: a FIFO, /dev/zero, a directory or a huge file is exit 3 at once.

The FIFO and /dev/zero cases run as subprocesses with a timeout, so that a regression (a
blocking open of a FIFO, reading /dev/zero until memory runs out) fails the test instead of
hanging the suite; directories and huge (sparse) files run in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.paths import DATA

CONFIG = "# Linux/x86 6.12.117 Kernel Configuration\nCONFIG_INTEL_TDX_GUEST=y\n"

ATT = "attestation"
SNP_REPORT = f"{ATT}/snp/trustee/test-report.bin"
TDX_QUOTE = f"{ATT}/tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat"
CCEL_LOG = f"{ATT}/tdx/go-tdx-guest/ccel/ccel_data.dat"
KCONFIG_TREE = DATA / "kconfig_tree"  # a small real-shaped tree

# {BAD} is the hostile file; {CFG}, {SMALL}, {DIR}, {TREE} are valid stand-ins;
# {S} is tests/data (real evidence where a valid file must come first).
COMMANDS: list[tuple[str, list[str]]] = [
    ("audit --config", ["audit", "--config", "{BAD}"]),
    ("audit --cmdline-file", ["audit", "--config", "{CFG}", "--cmdline-file", "{BAD}"]),
    ("audit --cmdline-from-eventlog", ["audit", "--config", "{CFG}", "--cmdline-from-eventlog", "{BAD}"]),
    ("audit --evidence", ["audit", "--config", "{CFG}", "--evidence", "{BAD}"]),
    ("audit --policy", ["audit", "--config", "{CFG}", "--evidence", f"{{S}}/{TDX_QUOTE}", "--policy", "{BAD}"]),
    ("audit --certs", ["audit", "--config", "{CFG}", "--evidence", f"{{S}}/{SNP_REPORT}", "--certs", "{BAD}"]),
    ("audit --rules", ["audit", "--config", "{CFG}", "--rules", "{BAD}"]),
    ("audit --waivers", ["audit", "--config", "{CFG}", "--waivers", "{BAD}"]),
    ("rules list --rules", ["rules", "list", "--rules", "{BAD}"]),
    ("fragment --rules", ["fragment", "--platform", "tdx", "--rules", "{BAD}"]),
    ("fragment --config", ["fragment", "--platform", "tdx", "--kconfig-tree", "{TREE}",
                            "--config", "{BAD}"]),
    ("surface --config", ["surface", "--source", "{TREE}", "--config", "{BAD}"]),
    ("surface --catalogue", ["surface", "--source", "{DIR}", "--all-files", "--catalogue", "{BAD}"]),
    ("attest snp show", ["attest", "snp", "show", "{BAD}"]),
    ("attest snp verify", ["attest", "snp", "verify", "{BAD}"]),
    ("attest snp verify --certs", ["attest", "snp", "verify", f"{{S}}/{SNP_REPORT}", "--certs", "{BAD}"]),
    ("attest snp verify --policy", ["attest", "snp", "verify", f"{{S}}/{SNP_REPORT}", "--policy", "{BAD}"]),
    ("attest snp verify --crl", ["attest", "snp", "verify", f"{{S}}/{SNP_REPORT}", "--crl", "{BAD}"]),
    ("measure snp --ovmf", ["measure", "snp", "--ovmf", "{BAD}", "--vcpus", "1", "--vcpu-type", "EPYC"]),
    ("measure snp --kernel", ["measure", "snp", "--ovmf", "{SMALL}", "--kernel", "{BAD}",
                              "--vcpus", "1", "--vcpu-type", "EPYC"]),
    ("measure snp --initrd", ["measure", "snp", "--ovmf", "{SMALL}", "--kernel", "{SMALL}",
                              "--initrd", "{BAD}", "--vcpus", "1", "--vcpu-type", "EPYC"]),
    ("measure tdx --ovmf", ["measure", "tdx", "--ovmf", "{BAD}"]),
    ("attest tdx show", ["attest", "tdx", "show", "{BAD}"]),
    ("attest tdx verify", ["attest", "tdx", "verify", "{BAD}"]),
    ("attest tdx verify --policy", ["attest", "tdx", "verify", f"{{S}}/{TDX_QUOTE}", "--policy", "{BAD}"]),
    ("attest tdx eventlog", ["attest", "tdx", "eventlog", "{BAD}"]),
    ("attest tdx eventlog --quote", ["attest", "tdx", "eventlog", f"{{S}}/{CCEL_LOG}", "--quote", "{BAD}"]),
    ("attest tdx eventlog --ccel-table", ["attest", "tdx", "eventlog", f"{{S}}/{CCEL_LOG}",
                                          "--ccel-table", "{BAD}"]),
]

EXPECTED = {"fifo": "found a FIFO", "dev-zero": "found a character device",
            "directory": "found a directory", "huge": "is larger than"}


def _bad(kind: str, tmp: Path) -> str:
    if kind == "fifo":
        path = tmp / "fifo"
        os.mkfifo(path)  # nobody ever writes: an open() without O_NONBLOCK blocks forever
        return str(path)
    if kind == "dev-zero":
        return "/dev/zero"
    if kind == "directory":
        path = tmp / "a-directory"
        path.mkdir()
        return str(path)
    path = tmp / "huge"
    with open(path, "wb") as fh:
        fh.truncate((2 << 30) + 1)  # sparse, beyond every kind's cap
    return str(path)


def _args(argv: list[str], kind: str, data: Path, tmp: Path) -> tuple[str, list[str]]:
    cfg = tmp / "config"
    cfg.write_text(CONFIG)
    small = tmp / "small"
    small.write_bytes(b"\0" * 16)
    tree = tmp / "tree"
    tree.mkdir()
    bad = _bad(kind, tmp)
    return bad, [a.format(BAD=bad, CFG=cfg, SMALL=small, DIR=tree, TREE=KCONFIG_TREE, S=data) for a in argv]


def _expected(name: str, kind: str) -> str:
    if kind == "directory" and name.endswith("--certs"):
        return "no certificates found in directory"  # --certs takes a directory on purpose
    return EXPECTED[kind]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize(("name", "argv"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_blocking_or_endless_file_is_exit_3_at_once(name: str, argv: list[str], kind: str,
                                                     testdata: Path, tmp_path: Path) -> None:
    bad, args = _args(argv, kind, testdata, tmp_path)
    env = {**os.environ, "NO_COLOR": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "cocoscope", *args], capture_output=True,
                          text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert bad in proc.stderr and _expected(name, kind) in proc.stderr, proc.stderr


@pytest.mark.parametrize("kind", ["directory", "huge"])
@pytest.mark.parametrize(("name", "argv"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_directory_or_huge_file_is_exit_3(name: str, argv: list[str], kind: str, testdata: Path,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bad, args = _args(argv, kind, testdata, tmp_path)
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert bad in err and _expected(name, kind) in err, err
