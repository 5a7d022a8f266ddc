"""Rules that encode what the kernel already mitigates (issue 9): each verdict below follows a
line of Debian's linux-source-6.12 (6.12.117) named in the rule's rationale, exercised on the
real Debian 6.12 cloud config (and 6.1.176 for the stable backports) edited only where the test
says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.evidence.dotconfig import KernelConfig, parse_config_text
from cocoscope.evidence.guest import GuestEvidence
from cocoscope.evidence.system import Device, PlatformDetection, RunningSystem
from cocoscope.finding import Status
from cocoscope.model.platform import Platform
from cocoscope.rules import evaluate
from tests.conftest import debian_package
from tests.rules.cached import builtin_rules as _rules
from tests.rules.cached import config as _config

P, F, U, NA, A = (Status.PASS, Status.FAIL, Status.UNKNOWN, Status.NOT_APPLICABLE,
                  Status.ADVICE)


def _edit(cfg: KernelConfig, **values: str) -> KernelConfig:
    """The config with some symbols changed ("n" written as 'is not set')."""
    lines = [e.raw for e in cfg.entries.values() if e.symbol not in values]
    lines += [f"# CONFIG_{k} is not set" if v == "n" else f"CONFIG_{k}={v}" for k, v in values.items()]
    header = f"# Linux/x86 {'.'.join(map(str, cfg.version or (0, 0, 0)))} Kernel Configuration\n"
    return parse_config_text(header + "\n".join(lines) + "\n", cfg.path)


def _status(rid: str, **ev: object) -> Status:
    (f,) = [f for f in evaluate(list(_rules()), GuestEvidence(**ev)) if f.rule_id == rid]  # type: ignore[arg-type]
    return f.status


@pytest.fixture(scope="module")
def cloud(debian_cloud_config: Path) -> KernelConfig:
    return _config(str(debian_cloud_config))


def test_time_005_no_longer_claims_boot_time_is_safe(cloud: KernelConfig) -> None:
    # timekeeping_init() -> read_persistent_clock64() -> x86_platform.get_wallclock
    # (kernel/time/timekeeping.c:1670, arch/x86/kernel/rtc.c:110): with RTC_HCTOSYS off the
    # RTC rule passes, and the boot wall clock is still reported as the host's (advice).
    off = _edit(cloud, RTC_HCTOSYS="n")
    assert _status("CCS-TIME-005", config=off, platform=Platform.TDX) is P
    assert _status("CCS-TIME-008", config=off, platform=Platform.TDX) is A
    rule = next(r for r in _rules() if r.id == "CCS-TIME-005")
    assert "x86_platform.get_wallclock" in rule.rationale and "not" in rule.title


def test_mod_006_hvc_console_takes_sysrq(cloud: KernelConfig) -> None:
    # drivers/tty/hvc/hvc_console.c:704-716: ^O + key on the hvc console calls handle_sysrq()
    # whenever MAGIC_SYSRQ is built, serial option or not.
    no_serial = _edit(cloud, MAGIC_SYSRQ_SERIAL="n")
    assert no_serial.value("HVC_DRIVER") == "y"  # VIRTIO_CONSOLE selects it in Debian's config
    assert _status("CCS-MOD-006", config=no_serial) is F
    assert _status("CCS-MOD-006", config=_edit(cloud, MAGIC_SYSRQ_SERIAL="n", HVC_DRIVER="n",
                                               VIRTIO_CONSOLE="n")) is P
    assert _status("CCS-MOD-006", config=_edit(cloud, MAGIC_SYSRQ="n")) is P


def test_irq_001_per_platform(cloud: KernelConfig) -> None:
    assert cloud.value("IA32_EMULATION") == "y"
    # mem_encrypt_amd.c:493-494 ia32_disable() under SEV; entry/common.c:227-228 panics on an
    # injected 0x80 under TDX.
    assert _status("CCS-IRQ-001", config=cloud, platform=Platform.SNP) is P
    assert _status("CCS-IRQ-001", config=cloud, platform=Platform.TDX) is P
    assert _status("CCS-IRQ-001", config=cloud, platform=Platform.NONE) is F
    assert _status("CCS-IRQ-001", config=cloud) is U
    # a TDX-only kernel on SNP gets no credit: the SEV code is not built
    assert _status("CCS-IRQ-001", config=_edit(cloud, AMD_MEM_ENCRYPT="n"), platform=Platform.SNP) is F


def test_virtio_refusal_on_coco(cloud: KernelConfig) -> None:
    # arch/x86/mm/mem_encrypt.c:137 + drivers/virtio/virtio.c:210-221: legacy or
    # non-ACCESS_PLATFORM devices are refused on TDX and SEV guests.
    assert cloud.value("VIRTIO_PCI_LEGACY") == "y"
    for plat in (Platform.TDX, Platform.SNP):
        assert _status("CCS-KCFG-003", config=cloud, platform=plat) is P
    assert _status("CCS-KCFG-003", config=cloud, platform=Platform.NONE) is F
    assert _status("CCS-KCFG-003", config=_edit(cloud, INTEL_TDX_GUEST="n"), platform=Platform.TDX) is F


def test_virtio_refusal_for_tdx_is_not_credited_to_61(tmp_path: Path) -> None:
    # 6.1.176 sets the callback only in mem_encrypt_amd.c (SEV): no credit for TDX there.
    cfg = parse_config_text("# Linux/x86 6.1.176 Kernel Configuration\nCONFIG_VIRTIO_PCI=y\n"
                            "CONFIG_VIRTIO_PCI_LEGACY=y\nCONFIG_INTEL_TDX_GUEST=y\n"
                            "CONFIG_AMD_MEM_ENCRYPT=y\n", "61")
    assert _status("CCS-KCFG-003", config=cfg, platform=Platform.TDX) is F
    assert _status("CCS-KCFG-003", config=cfg, platform=Platform.SNP) is P
    mid = parse_config_text(cfg_text := "# Linux/x86 6.6.30 Kernel Configuration\n"
                            "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_PCI_LEGACY=y\n"
                            "CONFIG_INTEL_TDX_GUEST=y\n", "66")
    assert cfg_text and _status("CCS-KCFG-003", config=mid, platform=Platform.TDX) is U


def test_kcfg_051_mptable_moot_on_snp(cloud: KernelConfig) -> None:
    # mem_encrypt_amd.c:500-501: find_mptable = x86_init_noop under SNP
    mps = _edit(cloud, X86_MPPARSE="y")  # Debian's cloud config has it off already
    assert _status("CCS-KCFG-051", config=cloud, platform=Platform.TDX) is P
    assert _status("CCS-KCFG-051", config=mps, platform=Platform.SNP) is P
    assert _status("CCS-KCFG-051", config=mps, platform=Platform.TDX) is F


def test_kcfg_046_needs_a_pc_speaker_driver(cloud: KernelConfig) -> None:
    # arch/x86/kernel/pcspeaker.c registers a resource-less device; only INPUT_PCSPKR or SND_PCSP
    # touch the ports. Debian's cloud config builds neither.
    assert cloud.value("PCSPKR_PLATFORM") == "y"
    assert _status("CCS-KCFG-046", config=cloud) is P
    assert _status("CCS-KCFG-046", config=_edit(cloud, INPUT_PCSPKR="m")) is F


def test_plat_012_needs_a_running_guest(cloud: KernelConfig) -> None:
    assert _status("CCS-PLAT-012", config=cloud, platform=Platform.TDX) is U
    live = RunningSystem("/fake", "6.12.117", None, None, PlatformDetection(Platform.TDX, ("test",)),
                         (Device("pci", "0000:00:01.0", None),))
    assert _status("CCS-PLAT-012", system=live, platform=Platform.TDX) is P
    plain = RunningSystem("/fake", "6.12.117", None, None, PlatformDetection(Platform.NONE, ()), ())
    assert _status("CCS-PLAT-012", system=plain, platform=Platform.TDX) is F


def _version(text: str) -> KernelConfig:
    return parse_config_text(f"# Linux/x86 {text} Kernel Configuration\nCONFIG_X86=y\n", text)


@pytest.mark.parametrize(("release", "want"), [
    ("6.12.117", P), ("6.9.0", P), ("6.8.0", F), ("6.1.0", F), ("6.1.176", P), ("6.1.200", P),
    ("6.1.100", U), ("6.6.30", U), ("5.15.0", F),
])
def test_rng_007_allows_stable_backports(release: str, want: Status) -> None:
    # cc_random_init: mainline 6.9; read in Debian's 6.1.176 (arch/x86/kernel/setup.c:1138)
    assert _status("CCS-RNG-007", config=_version(release), platform=Platform.TDX) is want


@pytest.mark.realtree
def test_debian_61_config_gets_the_backports() -> None:
    root = debian_package("linux-config-6.1")
    (path,) = root.glob("usr/src/linux-config-6.1/config.amd64_none_cloud-amd64.xz")
    cfg = _config(str(path))
    assert cfg.version == (6, 1, 176)
    assert _status("CCS-RNG-007", config=cfg, platform=Platform.SNP) is P
    assert _status("CCS-IRQ-001", config=cfg, platform=Platform.SNP) is P
    # 6.1.176 has no find_mptable no-op for SNP
    assert _status("CCS-KCFG-051", config=_edit(cfg, X86_MPPARSE="y"), platform=Platform.SNP) is F


# --- issue 9.5: the missing checks -------------------------------------------------------------

@pytest.mark.parametrize("cmdline", ["nosmap", "nopti", "nosmep", "spectre_v2=off",
                                     "retbleed=off", "nospectre_v2", "mds=off quiet"])
def test_cmd_022_hardening_switched_off(cmdline: str) -> None:
    from cocoscope.evidence.cmdline import parse_cmdline

    assert _status("CCS-CMD-022", cmdline=parse_cmdline(cmdline)) is F
    assert _status("CCS-CMD-022", cmdline=parse_cmdline("quiet spectre_v2=on")) is P


def test_data_016_crash_dump(cloud: KernelConfig) -> None:
    assert cloud.value("CRASH_DUMP") == "y"
    assert _status("CCS-DATA-016", config=cloud) is F
    assert _status("CCS-DATA-016", config=_edit(cloud, CRASH_DUMP="n", PROC_VMCORE="n")) is P


def test_kcfg_095_dmi_is_advice(cloud: KernelConfig) -> None:
    assert cloud.value("DMI") == "y"
    assert _status("CCS-KCFG-095", config=cloud) is A
