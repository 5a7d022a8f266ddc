"""The catalogue is data: facts from smatch's table plus the interfaces smatch misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.errors import InputError
from cocoscope.model import InterfaceId
from cocoscope.model.platform import Platform
from cocoscope.surface.catalogue import Flow, Trust, load_catalogue


def test_smatch_facts_carry_over_with_their_host_data_argument(testdata: Path) -> None:
    cat = load_catalogue()
    rows = [line.split("\t") for line in
            (testdata / "smatch" / "smatch_host_input_sources.tsv").read_text().splitlines()[1:]]
    missing = [r[0] for r in rows if r[0] not in cat.primitives
               and not r[0].startswith("(struct")]
    assert missing == []
    for name, _cat, _v1, arg, *_ in rows:
        if arg and name in cat.primitives:  # v1's out-argument positions (1-based)
            assert {int(a) for a in arg.split(",")} <= cat.primitives[name].out_args, name


def test_interfaces_smatch_misses_are_present() -> None:
    cat = load_catalogue()
    p = cat.primitives
    assert p["virtqueue_get_buf"].flow is Flow.BUFFER and p["virtqueue_get_buf"].out_args == {2}
    assert p["dma_alloc_coherent"].interface is InterfaceId.DMA_SHARED_MEMORY
    assert p["dma_sync_single_for_cpu"].flow is Flow.EVENT
    assert p["__tdx_hypercall"].interface is InterfaceId.COCO_HYPERCALL
    assert p["kvm_hypercall1"].interface is InterfaceId.VMM_HYPERCALL
    assert p["pvclock_clocksource_read"].interface is InterfaceId.TIME
    assert p["acpi_os_map_memory"].interface is InterfaceId.ACPI_FIRMWARE_TABLES
    assert p["boot_params"].flow is Flow.GLOBAL
    assert p["fw_cfg_read_blob"].out_args == {2}


def test_names_by_interface_for_pattern_generators() -> None:
    by = load_catalogue().names_by_interface()
    assert "readl" in by[InterfaceId.MMIO] and "inb" in by[InterfaceId.PORT_IO]
    assert all(names == sorted(names) for names in by.values())


@pytest.mark.parametrize(("leaf", "platform", "trust"), [
    (0x1, None, Trust.HOST), (0x1, "tdx", Trust.TRUSTED), (0x40000001, "tdx", Trust.HOST),
    (0x4FFFFFFF, "tdx", Trust.HOST), (0x50000000, "tdx", Trust.TRUSTED), (None, "tdx", Trust.HOST),
    (0x7, "snp", Trust.CHECKED), (0x40000000, "snp", Trust.HOST),
])
def test_cpuid_trust(leaf: int | None, platform: str | None, trust: Trust) -> None:
    assert load_catalogue().cpuid_trust(leaf, Platform(platform) if platform else None) is trust


def test_bad_catalogue_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[[group]\n")
    with pytest.raises(InputError, match="TOML"):
        load_catalogue(str(f))
    f.write_text('[[group]]\ninterface = "mmio"\nvalue = "args 1"\nnames = "readl"\n')
    with pytest.raises(InputError, match="names"):
        load_catalogue(str(f))
