"""CCS-DRV-001 end to end on Debian's cloud config and linux-source-6.12: config only, with
--source (ranked by the surface inventory), per hypervisor, with --keep, through the fragment,
at 80 columns, and on bad input."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cocoscope.audit import AuditRequest, run_audit
from cocoscope.cli import main
from cocoscope.evidence.dotconfig import load_config
from cocoscope.evidence.kbuild import resolve
from cocoscope.finding import Finding, Status
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import Platform
from cocoscope.report.model import Report
from cocoscope.report.terminal import render_terminal
from cocoscope.surface.api import inventory
from tests.paths import REPO

FACTS = "pci_drivers:CCS-DRV-001"


def drv(report: Report) -> tuple[Finding, dict[str, Any]]:
    (f,) = [f for f in report.findings if f.rule_id == "CCS-DRV-001"]
    row = next(r for r in report.rows if r.threat.value == "malformed-runtime-input")
    facts = row.facts[FACTS]
    assert isinstance(facts, dict)
    return f, facts


def reported(facts: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(d["symbol"] for d in facts["reported"]))


@pytest.fixture(scope="module")
def config_only(debian_cloud_config: Path) -> Report:
    return run_audit(AuditRequest(config=str(debian_cloud_config), platform=Platform.TDX)).report


@pytest.fixture(scope="module")
def with_source(debian_cloud_config: Path, linux_tree: Path) -> Report:
    return run_audit(AuditRequest(config=str(debian_cloud_config), platform=Platform.TDX,
                                  source=str(linux_tree))).report


def test_config_only_reports_debian_cloud_nics_from_the_knowledge_list(config_only: Report
                                                                       ) -> None:
    f, facts = drv(config_only)
    assert f.status is Status.FAIL and not facts["ranked"]
    syms = reported(facts)
    assert {"MLX5_CORE", "MLX4_CORE", "IXGBEVF", "ENA_ETHERNET", "GVE", "BLK_DEV_NVME"} <= set(syms)
    assert not {"VIRTIO_PCI", "VIRTIO_NET", "PCIEPORTBUS", "VFIO_PCI", "E1000"} & set(syms)
    assert f.message.startswith(f"{len(syms)} PCI driver symbols outside the allow-list built")
    assert len(syms) == len(facts["reported"])  # one entry per symbol
    # Unranked, the main family (NICs, storage) leads, in the facts as in the message.
    assert facts["reported"][0]["file"].startswith("drivers/net/")
    assert f"); {syms[0]} ({facts['reported'][0]['unit']}, m)" in f.message
    assert facts["fragment"][0] == f"# CONFIG_{syms[0]} is not set"


def test_source_ranks_by_the_inventorys_sites_and_agrees_with_the_list(
        config_only: Report, with_source: Report, debian_cloud_config: Path,
        linux_tree: Path) -> None:
    f, facts = drv(with_source)
    assert f.status is Status.FAIL and facts["ranked"]
    assert set(reported(facts)) == set(reported(drv(config_only)[1]))
    rows = facts["reported"]
    keys = [(d["sites"], d["risky"]) for d in rows]
    assert keys == sorted(keys, reverse=True)  # most exposed first
    # The counts are the inventory's: host sites in the driver's module, counted here anew.
    inv = inventory(str(linux_tree), str(debian_cloud_config), platform=Platform.TDX)
    by_module = Counter(s.module for s in inv.host_sites if s.module)
    risky = Counter(s.module for s in inv.host_sites if s.module and s.risky)
    for sym, module in (("MLX5_CORE", "mlx5_core"), ("IXGBEVF", "ixgbevf")):
        (d,) = [d for d in rows if d["symbol"] == sym]
        assert d["unit"] == module and (d["sites"], d["risky"]) == (by_module[module],
                                                                     risky[module]) != (0, 0)
    # Built in: counted by object (nvme.ko's files linked into vmlinux).
    (nvme,) = [d for d in rows if d["symbol"] == "BLK_DEV_NVME"]
    files = {b.path for b in resolve(linux_tree, load_config(str(debian_cloud_config))).files
             if b.object == nvme["unit"]}
    assert nvme["built"] == "y" and nvme["sites"] == sum(s.file in files for s in inv.host_sites)
    top = rows[0]
    assert f"most exposed (host-input sites/risky): {top['symbol']} (" in f.message
    assert f"{top['sites']}/{top['risky']})" in f.message


def test_hyperv_allows_mana_and_never_reports_vmbus_drivers(debian_cloud_config: Path) -> None:
    report = run_audit(AuditRequest(config=str(debian_cloud_config), platform=Platform.SNP,
                                    hypervisor=Hypervisor.HYPERV)).report
    f, facts = drv(report)
    syms = set(reported(facts))
    assert "MICROSOFT_MANA" not in syms and "MLX5_CORE" in syms
    assert not {"PCI_HYPERV", "HYPERV_NET", "HYPERV_STORAGE", "FB_HYPERV"} & syms
    assert any(n.startswith("allowed: ") and "MICROSOFT_MANA" in n and "FB_HYPERV" in n
               for n in f.notes)
    kvm = run_audit(AuditRequest(config=str(debian_cloud_config), platform=Platform.SNP,
                                 hypervisor=Hypervisor.KVM)).report
    assert "MICROSOFT_MANA" in reported(drv(kvm)[1])


def test_terminal_stays_readable_at_80_columns(with_source: Report) -> None:
    text = render_terminal(with_source, "fail", "never", width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    start = next(i for i, line in enumerate(lines) if "CCS-DRV-001" in line)
    end = next(i for i in range(start + 1, len(lines))
               if "CCS-" in lines[i] or lines[i].startswith("└"))
    assert len(reported(drv(with_source)[1])) > 40
    assert end - start < 45, "\n".join(lines[start:end])  # folded, not one line per driver
    body = "\n".join(lines[start:end])
    assert "(+" in body and "--format json lists each" in body


def test_fragment_turns_them_off_with_their_selectors_and_keeps_what_is_kept(
        debian_cloud_config: Path, linux_tree: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    merged = tmp_path / "merged.config"
    assert main(["fragment", "--platform", "tdx", "--config", str(debian_cloud_config),
                 "--kconfig-tree", str(linux_tree), "--keep", "MLX5_CORE",
                 "-o", str(merged)]) == 0
    err = capsys.readouterr().err
    assert "MLX4_CORE" not in err  # its selectors (MLX4_EN) went too, so the line took
    cfg = load_config(str(merged))
    assert not cfg.is_on("MLX4_CORE") and not cfg.is_on("MLX4_EN")
    assert cfg.tristate("MLX5_CORE").value == "m"  # kept
    assert cfg.tristate("VIRTIO_PCI").value == "y" and cfg.tristate("VIRTIO_NET").value == "m"
    report = run_audit(AuditRequest(config=str(merged), platform=Platform.TDX,
                                    kconfig_tree=str(linux_tree))).report
    f, facts = drv(report)
    assert f.status is Status.FAIL and reported(facts) == ["MLX5_CORE"]
    report = run_audit(AuditRequest(config=str(merged), platform=Platform.TDX,
                                    keep=("MLX5_CORE",))).report
    f, _ = drv(report)
    assert f.status is Status.PASS and any("--keep MLX5_CORE" in n for n in report.notes)


@pytest.mark.parametrize("flag", ["--source", "--kconfig-tree"])
def test_tree_that_is_not_a_kernel_tree_is_bad_input(flag: str, debian_cloud_config: Path,
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--config", str(debian_cloud_config), flag, str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "Traceback" not in err


def test_corrupt_config_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "config.xz"
    bad.write_bytes(b"\xfd7zXZ\x00garbage")
    assert main(["audit", "--config", str(bad), "--keep", "GVE"]) == 3
    assert str(bad) in capsys.readouterr().err


def test_knowledge_list_is_current(linux_tree: Path) -> None:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "pci_drivers_list.py"),
                          str(linux_tree), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("name", ["config.amd64_none_cloud-amd64.xz", "config.amd64_none_amd64.xz",
                                  "config.amd64_rt_amd64.xz"])
def test_knowledge_list_finds_what_the_source_scan_finds(name: str, debian_cloud_config: Path,
                                                         linux_tree: Path) -> None:
    """On each of Debian's 6.12 configs the config-only answer is the source's, driver by
    driver: the knowledge list neither misses nor invents one (609 symbols on generic amd64)."""
    from cocoscope.audit.drivers import driver_index
    from cocoscope.rules.conditions.drivers import index_from_knowledge

    config = load_config(str(debian_cloud_config.parent / name))
    from_source = {(d.symbol, d.file, d.auto_binds) for d in
                   driver_index(str(linux_tree), config).drivers}
    from_list = {(d.symbol, d.file, d.auto_binds) for d in index_from_knowledge(config).drivers}
    assert from_source == from_list and len(from_source) > 100


def test_json_carries_the_ranking_and_validates(with_source: Report) -> None:
    import json

    from cocoscope.report.jsonout import render_json
    from tests.report.schemas import validate

    doc = json.loads(render_json(with_source))
    validate(doc)
    row = next(t for t in doc["threats"] if t["threat"] == "malformed-runtime-input")
    facts = row["facts"][FACTS]
    assert facts["ranked"] and facts["reported"][0]["sites"] >= facts["reported"][-1]["sites"]
    assert len(facts["fragment"]) == len(facts["reported"])
