"""The running guest, read from a root directory (``/`` by default, a fake tree in tests).

What the host presents is what the guest binds: every device under ``/sys/bus/*/devices``
with its ids and bound driver. The CoCo platform is detected from several independent signs
(cpuinfo flags, guest device nodes, configfs-tsm, the kernel's boot line) so one missing
sign does not turn a TDX guest into "none"; each sign found is kept for the report.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from cocoscope.errors import InputError
from cocoscope.evidence import files
from cocoscope.model.platform import Platform

# The x86 boot line, e.g. "Memory Encryption Features active: Intel TDX" or
# "Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP".
_MEM_ENC = re.compile(r"Memory Encryption Features active:\s*(.*)")
_BOOT_LOGS = ("var/log/dmesg", "var/log/kern.log", "var/log/boot.log")


@dataclass(frozen=True)
class Device:
    bus: str
    name: str
    driver: str | None
    vendor: str | None = None  # hex without 0x, lower case
    device: str | None = None
    subsystem_vendor: str | None = None
    klass: str | None = None  # PCI class, hex without 0x
    modalias: str | None = None
    # virtio only: negotiated feature bits as sysfs shows them, bit 0 first ("0110...1").
    features: str | None = None

    def has_feature(self, bit: int) -> bool | None:
        if self.features is None or bit >= len(self.features):
            return None
        return self.features[bit] == "1"


@dataclass(frozen=True)
class PlatformDetection:
    platform: Platform
    signs: tuple[str, ...]  # evidence that led there, for the report


@dataclass(frozen=True)
class RunningSystem:
    root: str
    release: str | None
    config_path: str | None  # /proc/config.gz or /boot/config-<release>, if present
    cmdline_path: str | None
    detection: PlatformDetection
    devices: tuple[Device, ...]
    # Active lockdown mode from /sys/kernel/security/lockdown ("none", "integrity",
    # "confidentiality"); None when securityfs or the lockdown LSM is not there.
    lockdown: str | None = None
    # The UEFI SecureBoot variable; None on a non-EFI boot or when efivarfs is not mounted.
    secure_boot: bool | None = None

    def drivers(self) -> frozenset[str]:
        return frozenset(d.driver for d in self.devices if d.driver)


def _read(path: Path, limit: int = 1 << 20) -> str | None:
    """At most ``limit`` bytes of a procfs/sysfs file as text; None when it is not there."""
    data = files.read_prefix(str(path), limit)
    return None if data is None else data.decode("utf-8", "replace")


def _hexid(text: str | None) -> str | None:
    if text is None:
        return None
    t = text.strip().lower()
    return t[2:] if t.startswith("0x") else t


def _driver(devdir: Path) -> str | None:
    link = devdir / "driver"
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return None


def _features(dev: Path) -> str | None:
    text = _read(dev / "features", 1024)
    if text is None:
        return None
    bits = text.strip()
    return bits if bits and set(bits) <= {"0", "1"} else None


_SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


def read_lockdown(root: Path) -> str | None:
    """The bracketed mode of /sys/kernel/security/lockdown, e.g. "none [integrity] conf..."."""
    text = _read(root / "sys" / "kernel" / "security" / "lockdown", 256)
    m = re.search(r"\[(\w+)\]", text or "")
    return m.group(1) if m else None


def read_secure_boot(root: Path) -> bool | None:
    """efivarfs holds 4 attribute bytes, then the variable's one-byte value."""
    data = files.read_prefix(str(root / "sys" / "firmware" / "efi" / "efivars" / _SECURE_BOOT_VAR), 64)
    return None if data is None or len(data) < 5 else data[4] == 1


def read_devices(root: Path) -> tuple[Device, ...]:
    out: list[Device] = []
    buses = root / "sys" / "bus"
    if not buses.is_dir():
        return ()
    for bus in sorted(p.name for p in buses.iterdir()):
        devdir = buses / bus / "devices"
        if not devdir.is_dir():
            continue
        for dev in sorted(devdir.iterdir(), key=lambda p: p.name):
            modalias = _read(dev / "modalias", 4096)
            out.append(
                Device(
                    bus=bus,
                    name=dev.name,
                    driver=_driver(dev),
                    vendor=_hexid(_read(dev / "vendor", 64)),
                    device=_hexid(_read(dev / "device", 64)),
                    subsystem_vendor=_hexid(_read(dev / "subsystem_vendor", 64)),
                    klass=_hexid(_read(dev / "class", 64)),
                    modalias=modalias.strip() if modalias else None,
                    features=_features(dev) if bus == "virtio" else None,
                )
            )
    return tuple(out)


def _read_kmsg(limit: int = 4 << 20) -> str | None:
    """The kernel ring buffer, without blocking; None when not readable (dmesg_restrict)."""
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    parts: list[bytes] = []
    size = errors = 0
    try:
        while size < limit and errors < 16:
            try:
                rec = os.read(fd, 8192)
            except BlockingIOError:
                break  # end of the buffer
            except OSError:
                errors += 1  # EPIPE: records were overwritten while reading; go on
                continue
            if not rec:
                break
            parts.append(rec)
            size += len(rec)
    finally:
        os.close(fd)
    return b"".join(parts).decode("utf-8", "replace")


def detect_platform(root: Path) -> PlatformDetection:
    signs: list[str] = []
    found: set[Platform] = set()
    cpuinfo = _read(root / "proc" / "cpuinfo", 8 << 20) or ""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    for flag, plat in (("tdx_guest", Platform.TDX), ("sev_snp", Platform.SNP),
                       ("sev_es", Platform.SEV_ES), ("sev", Platform.SEV)):
        if flag in flags:
            signs.append(f"cpuinfo flag {flag}")
            found.add(plat)
    for node, plat in (("dev/tdx_guest", Platform.TDX), ("dev/sev-guest", Platform.SNP)):
        if (root / node).exists():
            signs.append(f"/{node} present")
            found.add(plat)
    tsm = root / "sys" / "kernel" / "config" / "tsm"
    if tsm.is_dir():
        signs.append("/sys/kernel/config/tsm present")
    logs = [(f"/{log}", _read(root / log, 32 << 20)) for log in _BOOT_LOGS]
    if root == Path("/"):
        logs.insert(0, ("/dev/kmsg", _read_kmsg()))
    for name, text in logs:
        if not text:
            continue
        m = _MEM_ENC.search(text)
        if m:
            feats = m.group(1).strip()
            signs.append(f"{name}: Memory Encryption Features active: {feats}")
            if "TDX" in feats:
                found.add(Platform.TDX)
            if "SEV-SNP" in feats:
                found.add(Platform.SNP)
            elif "SEV-ES" in feats:
                found.add(Platform.SEV_ES)
            break
    # The most specific sign wins: SEV-SNP implies the sev and sev_es flags too.
    for plat in (Platform.TDX, Platform.SNP, Platform.SEV_ES, Platform.SEV):
        if plat in found:
            return PlatformDetection(plat, tuple(signs))
    signs.append("no TDX or SEV sign in cpuinfo, /dev, configfs-tsm or the boot log")
    return PlatformDetection(Platform.NONE, tuple(signs))


def read_system(root: str = "/") -> RunningSystem:
    base = Path(root)
    if not base.is_dir():
        raise InputError("root is not a directory", path=root)
    if not (base / "proc").is_dir() and not (base / "sys").is_dir():
        raise InputError("no proc/ or sys/ under root; not a system tree", path=root)
    release = _read(base / "proc" / "sys" / "kernel" / "osrelease", 256)
    release = release.strip() if release else None
    config_path: str | None = None
    candidates = [base / "proc" / "config.gz"]
    if release:
        candidates.append(base / "boot" / f"config-{release}")
    for cand in candidates:
        if cand.is_file():
            config_path = str(cand)
            break
    cmdline = base / "proc" / "cmdline"
    return RunningSystem(
        root=str(base),
        release=release,
        config_path=config_path,
        cmdline_path=str(cmdline) if cmdline.is_file() else None,
        detection=detect_platform(base),
        devices=read_devices(base),
        lockdown=read_lockdown(base),
        secure_boot=read_secure_boot(base),
    )
