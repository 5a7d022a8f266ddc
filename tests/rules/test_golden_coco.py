"""Golden outcomes on confidential-guest kernel configs published by their projects (issue 9.6).

- Kata Containers' x86_64 confidential guest: the fragments its build-kernel.sh -x -m merges with
  merge_config.sh -n (allnoconfig), concatenated in that order; audited as a fragment alone and
  resolved through Debian's 6.12 tree the way Kata resolves it.
- Azure Linux 3.0's kernel-uvm (6.6.130.mshv1): the utility-VM kernel of Kata confidential
  containers on Azure (SEV-SNP under Hyper-V).

Provenance in tests/data/kconfig/PROVENANCE. Each expectation names the line of the config it
rests on, and for a verdict that is not simply "the symbol is on/off" the 6.12 source line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocoscope.cli import main
from tests.paths import DATA

KATA = DATA / "kconfig" / "kata_x86_64_confidential_fragments.conf"
AZURE_UVM = DATA / "kconfig" / "azurelinux_kernel_uvm_6.6.config"

P, F, NA, U, A = "pass", "fail", "not-applicable", "unknown", "advice"


def _audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["audit", *argv, "--format", "json", "--show", "all"])
    return code, json.loads(capsys.readouterr().out)


def _statuses(doc: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {f["rule_id"]: f["status"] for t in doc["threats"] for f in t["findings"]}


def _check(got: dict[str, str], expected: dict[str, str]) -> None:
    wrong = {rid: (got.get(rid), want) for rid, want in expected.items() if got.get(rid) != want}
    assert not wrong, f"rule: (got, expected) {wrong}"


# --- Kata Containers, the fragment alone ---------------------------------------------------------

def test_kata_fragment_alone(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _audit(capsys, "--config", str(KATA), "--platform", "tdx")
    assert doc["target"]["config"] == "fragment"
    got = _statuses(doc)
    _check(got, {
        "CCS-KCFG-001": F,   # CONFIG_VIRTIO_MMIO=y (common/mmio.conf)
        "CCS-KCFG-002": F,   # CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y
        "CCS-DATA-001": P,   # CONFIG_DM_CRYPT=y (confidential_containers/cryptsetup.conf)
        "CCS-DATA-009": F,   # CONFIG_VIRTIO_FS=y
        "CCS-TIME-006": F,   # CONFIG_PTP_1588_CLOCK_KVM=y (x86_64/ptp.conf)
        # not in the fragment: unknown, never pass or fail
        "CCS-MOD-001": U,    # MODULES not set by any fragment
        "CCS-IRQ-001": U,    # IA32_EMULATION not set by any fragment
        "CCS-RNG-005": U,    # HW_RANDOM_VIRTIO only in virtio-extras.conf, tagged !confidential
        "CCS-MOD-006": U,    # MAGIC_SYSRQ not in the fragment
        "CCS-KCFG-125": U,   # TCG_TIS / TCG_CRB not in the fragment
    })
    loc = next(f["location"] for t in doc["threats"] for f in t["findings"]
               if f["rule_id"] == "CCS-KCFG-001")
    assert loc["line"] == 1 + KATA.read_text().splitlines().index("CONFIG_VIRTIO_MMIO=y")
    assert code == 1


# --- Kata Containers, resolved through the 6.12 tree as Kata builds it (merge_config.sh -n) ------

KATA_RESOLVED = {
    # built by the fragments
    "CCS-KCFG-001": F,   # CONFIG_VIRTIO_MMIO=y
    "CCS-KCFG-007": F,   # CONFIG_SCSI_VIRTIO=y (x86_64/virtio.conf)
    "CCS-KCFG-008": F,   # CONFIG_VIRTIO_BALLOON=y
    "CCS-KCFG-012": F,   # CONFIG_VIRTIO_MEM=y
    "CCS-KCFG-013": F,   # CONFIG_VIRTIO_IOMMU=y
    "CCS-DATA-007": F,   # CONFIG_9P_FS=y (common/9p.conf)
    "CCS-DATA-008": A,   # CONFIG_NET_9P_VIRTIO=y: advisory
    "CCS-DATA-010": F,   # CONFIG_VIRTIO_FS=y, CONFIG_FUSE_DAX=y (common/dax.conf)
    "CCS-DATA-011": F,   # CONFIG_VIRTIO_PMEM=y
    "CCS-DATA-001": P, "CCS-DATA-002": P, "CCS-DATA-003": P,  # cryptsetup.conf (-m)
    "CCS-KCFG-041": F,   # CONFIG_SERIAL_8250=y (common/serial.conf)
    # not in the fragment; 6.12 default "4" (drivers/tty/serial/8250/Kconfig:200-204) is an int,
    # which allnoconfig leaves at its default
    "CCS-KCFG-042": F,
    "CCS-KCFG-066": F,   # PCI_PRI/PCI_PASID selected by INTEL_IOMMU_SVM=y (tdx.conf;
                         # drivers/iommu/intel/Kconfig:22-23)
    "CCS-KCFG-081": F,   # CONFIG_ACPI_TABLE_UPGRADE=y (common/acpi.conf)
    "CCS-KCFG-113": F,   # CONFIG_X86_CPUID=y, CONFIG_X86_MSR=y
    "CCS-TIME-006": F,   # CONFIG_PTP_1588_CLOCK_KVM=y
    "CCS-KCFG-140": F,   # FORTIFY_SOURCE has a prompt and no default (security/Kconfig:183): n
    "CCS-KCFG-142": F,   # LIST_HARDENED etc. not set: n under allnoconfig
    "CCS-MOD-003": F,    # SECURITY_LOCKDOWN_LSM not set: n
    # what allnoconfig turns off because no fragment asks for it
    "CCS-MOD-001": P,    # MODULES n (kernel/module/Kconfig:2, a prompt): nothing to load
    "CCS-MOD-004": P,    # KEXEC, KEXEC_FILE n
    "CCS-MOD-006": P,    # MAGIC_SYSRQ n
    "CCS-IRQ-001": P,    # IA32_EMULATION n (arch/x86/Kconfig:3162, a prompt)
    "CCS-RNG-005": P,    # HW_RANDOM_VIRTIO only in virtio-extras.conf (!confidential): absent
    "CCS-RNG-006": P,    # HW_RANDOM n
    "CCS-KCFG-120": P,   # USB_SUPPORT n (default y, drivers/usb/Kconfig:29-32, but allnoconfig)
    "CCS-KCFG-040": P,   # SERIO_I8042 absent (default y, drivers/input/serio/Kconfig:29-31)
    "CCS-KCFG-125": P,   # no TPM driver, no IMA
    "CCS-KCFG-101": P,   # HYPERV n
    "CCS-DATA-013": P,   # HIBERNATION n
    "CCS-DATA-016": P,   # CRASH_DUMP absent
    # 6.12 mitigations the rules know about
    "CCS-KCFG-003": P,   # VIRTIO_PCI_LEGACY=y, but a 6.12 TDX/SNP guest refuses devices without
                         # VERSION_1/ACCESS_PLATFORM (drivers/virtio/virtio.c:210-221)
    "CCS-RNG-007": P,    # 6.12 >= 6.9: cc_random_init
    # advisory: shown, never failing
    "CCS-KCFG-004": A, "CCS-KCFG-005": A, "CCS-KCFG-006": A, "CCS-KCFG-011": A,
    # needs a command line
    "CCS-TIME-001": U,   # KVM_GUEST=y (x86_64/base.conf): no-kvmclock decides
}
KATA_TDX = {**KATA_RESOLVED,
            "CCS-PLAT-001": P, "CCS-PLAT-003": P,  # INTEL_TDX_GUEST=y, TDX_GUEST_DRIVER=y
            "CCS-PLAT-002": NA,
            # X86_MPPARSE=y: on TDX find_mptable stays mpparse_find_mptable
            # (arch/x86/kernel/x86_init.c:76); only SNP makes it a no-op (mem_encrypt_amd.c:501)
            "CCS-KCFG-051": F,
            "CCS-KCFG-110": NA,  # not for TDX: KVM_GUEST keeps x2APIC without IR (apic.c:1832)
            "CCS-TIME-004": NA}
KATA_SNP = {**KATA_RESOLVED,
            "CCS-PLAT-002": P, "CCS-PLAT-004": P,  # AMD_MEM_ENCRYPT=y, SEV_GUEST=y (snp.conf)
            "CCS-PLAT-001": NA,
            "CCS-KCFG-051": P,   # find_mptable is a no-op under SNP (mem_encrypt_amd.c:500-501)
            # 6.12 lists Secure TSC in SNP_FEATURES_IMPL_REQ, not in SNP_FEATURES_PRESENT
            # (arch/x86/boot/compressed/sev.c:355,368)
            "CCS-TIME-004": F}


@pytest.mark.parametrize(("platform", "expected"), [("tdx", KATA_TDX), ("snp", KATA_SNP)])
def test_kata_resolved_through_the_tree(platform: str, expected: dict[str, str],
                                        linux_tree: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _audit(capsys, "--config", str(KATA), "--platform", platform,
                       "--kconfig-tree", str(linux_tree), "--fragment-base", "allnoconfig")
    assert doc["target"]["config"] == "fragment-resolved"
    note = next(n for n in doc["notes"] if "resolved through the Kconfig tree" in n)
    assert "merge_config.sh -n" in note and "6.12.117" in note
    # Kata builds 6.18; symbols 6.12 lacks are named, not guessed
    assert "CRYPTO_SELFTESTS" in note
    _check(_statuses(doc), expected)
    # A symbol the fragment sets points at its line; one the tree supplied points at the file.
    locs = {f["rule_id"]: f["location"] for t in doc["threats"] for f in t["findings"]}
    assert locs["CCS-KCFG-001"]["line"] == \
        1 + KATA.read_text().splitlines().index("CONFIG_VIRTIO_MMIO=y")
    assert locs["CCS-KCFG-120"]["path"] == str(KATA) and locs["CCS-KCFG-120"]["line"] is None
    assert code == 1


def test_fragment_base_decides_what_unset_symbols_become(linux_tree: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """merge_config.sh's default fills unset symbols with their defaults: USB_SUPPORT and
    SERIO_I8042 default to y (drivers/usb/Kconfig:32, drivers/input/serio/Kconfig:31)."""
    _, doc = _audit(capsys, "--config", str(KATA), "--platform", "tdx",
                    "--kconfig-tree", str(linux_tree))
    assert "merge_config.sh (alldefconfig)" in " ".join(doc["notes"])
    _check(_statuses(doc), {"CCS-KCFG-120": F, "CCS-KCFG-040": F, "CCS-KCFG-001": F})


# --- Azure Linux kernel-uvm (SEV-SNP under Hyper-V), a full 6.6 config -------------------------

AZURE_SNP_HYPERV = {
    "CCS-PLAT-002": P,   # CONFIG_AMD_MEM_ENCRYPT=y
    "CCS-PLAT-004": P,   # CONFIG_SEV_GUEST=y
    "CCS-PLAT-001": NA,  # TDX rule, audited as SNP
    "CCS-PLAT-013": P,   # AMD_MEM_ENCRYPT=y, INTEL_TDX_GUEST is not set
    "CCS-KCFG-101": P,   # CONFIG_HYPERV=y and the guest runs on Hyper-V (--hypervisor)
    "CCS-KCFG-001": F,   # CONFIG_VIRTIO_MMIO=y
    "CCS-KCFG-002": F,   # CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y
    "CCS-KCFG-008": F,   # CONFIG_VIRTIO_BALLOON=y
    "CCS-DATA-009": F,   # CONFIG_VIRTIO_FS=y
    "CCS-DATA-016": F,   # CONFIG_CRASH_DUMP=y, CONFIG_PROC_VMCORE=y
    "CCS-MOD-004": F,    # CONFIG_KEXEC=y, KEXEC_FILE=y, no KEXEC_SIG_FORCE
    "CCS-MOD-006": F,    # CONFIG_MAGIC_SYSRQ=y, MAGIC_SYSRQ_SERIAL=y, HVC_DRIVER=y
    "CCS-RNG-005": F,    # CONFIG_HW_RANDOM_VIRTIO=y
    # MODULES=y with MODULE_SIG not set: module.sig_enforce does not exist and module_sig_check()
    # accepts everything (kernel/module/Makefile:15, kernel/module/internal.h:334-337)
    "CCS-MOD-001": F,
    "CCS-TIME-004": F,   # 6.6 < 6.15: no Secure TSC
    "CCS-TIME-006": F,   # CONFIG_PTP_1588_CLOCK_KVM=y: probes wherever the (host-chosen) CPUID
                         # says KVM, SNP included (drivers/ptp/ptp_kvm_x86.c:28,31)
    "CCS-IRQ-001": P,    # IA32_EMULATION is not set
    "CCS-KCFG-125": P,   # no TPM drivers (TCG_TIS, TCG_CRB absent)
    "CCS-DATA-001": P,   # CONFIG_DM_CRYPT=y
    "CCS-DATA-013": P,   # HIBERNATION is not set
    # 6.6.130 is a stable release the rules' kernel_has lists did not read: unknown, not guessed
    "CCS-RNG-007": U,    # cc_random_init (6.9) may be backported
    "CCS-KCFG-003": U,   # virtio_require_restricted_mem_acc
    "CCS-KCFG-051": U,   # the SNP find_mptable no-op
    "CCS-KCFG-111": U,   # PARAVIRT_SPINLOCKS=y with KVM_GUEST=y: nopvspin decides
}


def test_azure_linux_uvm(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _audit(capsys, "--config", str(AZURE_UVM), "--platform", "snp",
                       "--hypervisor", "hyperv")
    assert doc["target"]["config"] == "full" and doc["target"]["hypervisor"] == "hyperv"
    _check(_statuses(doc), AZURE_SNP_HYPERV)
    assert code == 1
    # The config alone names its platform: AMD_MEM_ENCRYPT built, INTEL_TDX_GUEST not.
    _, doc = _audit(capsys, "--config", str(AZURE_UVM))
    assert doc["target"]["platform"] == "snp"
    # On KVM the Hyper-V support is surface, not a boot requirement.
    _, doc = _audit(capsys, "--config", str(AZURE_UVM), "--hypervisor", "kvm")
    assert _statuses(doc)["CCS-KCFG-101"] == F


def test_kata_with_its_own_profile(linux_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Audited with --keep kata, what Kata needs is accepted advice; what it does not need and
    still builds stays failing: FUSE_DAX=y keeps CCS-DATA-010 a failure although virtiofs is kept
    (the DAX window maps host page cache as file contents, fs/fuse/virtio_fs.c:1067-1100)."""
    _, doc = _audit(capsys, "--config", str(KATA), "--platform", "tdx", "--keep", "kata",
                    "--kconfig-tree", str(linux_tree), "--fragment-base", "allnoconfig")
    got = _statuses(doc)
    _check(got, {"CCS-KCFG-007": A, "CCS-DATA-009": A, "CCS-DATA-010": F,
                 "CCS-KCFG-001": F, "CCS-DATA-007": F})
    notes = {f["rule_id"]: f["notes"] for t in doc["threats"] for f in t["findings"]}
    assert any("CONFIG_SCSI_VIRTIO" in n for n in notes["CCS-KCFG-007"])
