"""The catalogue's trust tables (surface/trust_rules.py): built-in facts, bad user input, and
how surface/trust.py decodes an MSR argument against them."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from cocoscope.errors import InputError
from cocoscope.model.platform import Platform
from cocoscope.surface.catalogue import Trust, load_catalogue
from cocoscope.surface.grade import Grade
from cocoscope.surface.sites import RawSite
from cocoscope.surface.trust import TrustJudge


def test_tdx_msr_table_is_spec_shaped() -> None:
    table = load_catalogue().rules.msr_ranges[Platform.TDX]
    assert table.trust is Trust.TRUSTED and "MSR virtualization" in table.source
    spans = sorted((r.first, r.last) for r in table.ranges)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans)), "ranges overlap"
    # #VE in the TDX module's table (the VMM answers): MTRRcap, MTRR physbase/mask, def_type,
    # APIC_BASE, TSC_DEADLINE (#VE in 2.0), an x2APIC register, a VMX capability (#VE in 1.5)
    for msr in (0xFE, 0x200, 0x213, 0x2FF, 0x1B, 0x6E0, 0x808, 0x481, 0x19C):
        assert table.containing(msr) is None, hex(msr)
    for msr in (0x10, 0x186, 0x18D, 0xC1, 0x345, 0x6A7, 0xC0000100, 0xC0000102):
        assert table.containing(msr) is not None, hex(msr)
    assert table.starting_at(0x186) is not None and table.starting_at(0x187) is None


def test_hypercall_interfaces_are_exclusive() -> None:
    rules = load_catalogue().rules
    assert rules.interface("sev_es_ghcb_hv_call", Platform.TDX) is not None
    assert rules.interface("sev_es_ghcb_hv_call", Platform.SNP) is None
    assert rules.interface("__tdx_hypercall", Platform.SNP) is not None
    assert rules.interface("__tdx_hypercall", Platform.TDX) is None
    assert rules.interface("kvm_hypercall1", Platform.TDX) is None  # exists on both


def test_guest_origin_is_by_file_role() -> None:
    rules = load_catalogue().rules
    assert rules.origin("__virtio16_to_cpu", "drivers/vhost/vhost.h") is not None
    assert rules.origin("__virtio16_to_cpu", "net/packet/af_packet.c") is not None
    assert rules.origin("virtio16_to_cpu", "drivers/net/virtio_net.c") is None
    assert rules.origin("readl", "drivers/vhost/vdpa.c") is None


def test_user_catalogue_adds_trust_rules(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[[guest_origin]]\nprimitives = ["virtio16_to_cpu"]\npaths = ["drivers/x/"]\n'
                 'reason = "the x backend"\n')
    rules = load_catalogue(str(f)).rules
    assert rules.origin("virtio16_to_cpu", "drivers/x/y.c") is not None
    assert rules.origin("tun16_to_cpu", "drivers/net/tun.c") is not None  # built-in kept


@pytest.mark.parametrize(("text", "message"), [
    ('[[interface_platform]]\nplatforms = ["sev"]\nprimitives = ["f"]\nreason = "r"\n',
     "platforms"),
    ('[[guest_origin]]\nprimitives = ["f"]\nreason = "r"\n', "paths"),
    ('[[msr]]\nname = "MSR_X"\ntdx = "maybe"\n', "trust is"),
    ("[msr_argument]\nrdmsr_on_cpu = 0\n", "argument position"),
    ('[msr_ranges.tdx]\ntrust = "trusted"\n', "msr_ranges.tdx"),
])
def test_bad_trust_tables_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        load_catalogue(str(f))
    assert "c.toml" in str(err.value)


@pytest.mark.parametrize(("args", "primitive", "trust"), [
    (("MSR_ARCH_PERFMON_EVENTSEL0 + i", "v"), "rdmsrl", Trust.TRUSTED),  # index into 0x186..
    (("MSR_ARCH_PERFMON_EVENTSEL0 + 2", "v"), "rdmsrl", Trust.TRUSTED),  # 0x188
    (("MSR_ARCH_PERFMON_EVENTSEL0 + 8", "v"), "rdmsrl", Trust.HOST),  # 0x18e: #VE
    (("MSR_ARCH_PERFMON_EVENTSEL0 + 8 + i", "v"), "rdmsrl", Trust.HOST),  # not from the base
    (("MSR_ARCH_PERFMON_EVENTSEL1 + i", "v"), "rdmsrl", Trust.HOST),  # no range starts there
    (("x86_pmu_config_addr(hwc->idx)", "v"), "rdmsrl", Trust.TRUSTED),
    (("0x1b", "v"), "rdmsrl", Trust.HOST),  # APIC_BASE
    (("(0xc0000100)", "v"), "rdmsrl", Trust.TRUSTED),  # FS_BASE
    (("cpu", "MSR_FS_BASE", "&v"), "rdmsrl_on_cpu", Trust.TRUSTED),  # the MSR is argument 2
    (("MSR_FS_BASE", "v"), "rdmsrl_on_cpu", Trust.HOST),  # ... not argument 1
])
def test_msr_argument_decoding_on_tdx(args: tuple[str, ...], primitive: str,
                                      trust: Trust) -> None:
    consts = {"MSR_ARCH_PERFMON_EVENTSEL0": 0x186, "MSR_ARCH_PERFMON_EVENTSEL1": 0x187,
              "MSR_FS_BASE": 0xC0000100}
    judge = TrustJudge(load_catalogue(), Platform.TDX, {}, {}, {}, frozenset(), frozenset(),
                       consts)
    raw = RawSite(primitive, 1, 1, "f", False, False, Grade.DISCARDED, args[0], False, "", args)
    verdict = judge.direct(raw, "arch/x86/x.c", primitive)
    assert verdict.trust is trust
    assert bool(verdict.note) == (trust is not Trust.HOST)
