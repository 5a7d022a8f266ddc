"""What an audit is about: the target platform, the hypervisor and the kind of config input,
each with where it came from.

Rules differ per platform (a TDX-only rule says nothing about an SNP guest) and per hypervisor
(Hyper-V support is surface on KVM and a boot requirement on Azure), and a Kconfig fragment says
nothing about the symbols it does not list. These are decided once here, recorded in every
report, and read by the rules through the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cocoscope.evidence.dotconfig import KernelConfig, is_fragment
from cocoscope.evidence.system import RunningSystem
from cocoscope.model.hypervisor import Hypervisor
from cocoscope.model.platform import Platform
from cocoscope.rules.keep import Keep

if TYPE_CHECKING:  # the Kconfig machinery is loaded only when a tree is given
    from cocoscope.evidence.kconfig.resolve import ResolvedFragment

HOW_TO_CHOOSE = ("pass --platform tdx or --platform snp for the platform this kernel will run "
                 "on; vendor-specific rules are not applicable until then")


@dataclass(frozen=True)
class Target:
    platform: Platform | None
    platform_source: str  # why this platform, or why none is known
    hypervisor: Hypervisor | None
    hypervisor_source: str
    config_kind: str  # "full", "fragment", "fragment-resolved" (through a Kconfig tree), "none"
    notes: tuple[str, ...] = ()  # what the reader should know or do
    keep: tuple[str, ...] = ()  # --keep items (groups, profiles, symbols) as given

    def as_dict(self) -> dict[str, str | None]:
        return {
            "platform": None if self.platform is None else self.platform.value,
            "platform_source": self.platform_source,
            "hypervisor": None if self.hypervisor is None else self.hypervisor.value,
            "hypervisor_source": self.hypervisor_source,
            "config": self.config_kind,
            "keep": ",".join(self.keep) or None,
        }


def infer_platform(config: KernelConfig) -> tuple[Platform | None, str]:
    """The platform a config can only be meant for: TDX when it builds INTEL_TDX_GUEST and not
    AMD_MEM_ENCRYPT, SNP the other way round; None when it builds both or neither."""
    tdx, amd = config.is_on("INTEL_TDX_GUEST"), config.is_on("AMD_MEM_ENCRYPT")
    if tdx and not amd:
        return Platform.TDX, "inferred from the config: INTEL_TDX_GUEST built, AMD_MEM_ENCRYPT not"
    if amd and not tdx:
        return Platform.SNP, "inferred from the config: AMD_MEM_ENCRYPT built, INTEL_TDX_GUEST not"
    if tdx and amd:
        return None, "the config builds both INTEL_TDX_GUEST and AMD_MEM_ENCRYPT"
    return None, "the config builds neither INTEL_TDX_GUEST nor AMD_MEM_ENCRYPT"


def infer_hypervisor(system: RunningSystem | None) -> tuple[Hypervisor | None, str]:
    if system is not None and any(d.bus == "vmbus" for d in system.devices):
        return Hypervisor.HYPERV, "detected on the running guest: VMBus devices present"
    return None, "not given (--hypervisor) and not detected"


def decide_target(platform: Platform | None, hypervisor: Hypervisor | None,
                  system: RunningSystem | None, config: KernelConfig | None,
                  keep: Keep | None = None, resolved: ResolvedFragment | None = None
                  ) -> Target:
    """``platform`` is the --platform flag and ``hypervisor`` the --hypervisor flag (None: detect
    or infer)."""
    notes: list[str] = []
    plat: Platform | None
    if platform is not None:
        plat, plat_source = platform, "--platform"
    elif system is not None:
        plat, plat_source = system.detection.platform, "detected on the running guest"
    elif config is not None:
        plat, plat_source = infer_platform(config)
        if plat is None:
            notes.append(f"platform unknown ({plat_source}): {HOW_TO_CHOOSE}")
    else:
        plat, plat_source = None, "no config and no running guest"
    hyp: Hypervisor | None
    if hypervisor is not None:
        hyp, hyp_source = hypervisor, "--hypervisor"
    else:
        hyp, hyp_source = infer_hypervisor(system)
    kind = "none" if config is None else ("fragment" if is_fragment(config) else "full")
    if resolved is not None:
        kind = "fragment-resolved"
        notes.append(resolved.note())
    if kind == "fragment" and config is not None:
        notes.append(f"{config.path} is a Kconfig fragment ({len(config.entries)} symbols, no "
                     "Kconfig header): symbols it does not set are unknown, not off; audit the "
                     "whole .config (e.g. the fragment merged with merge_config.sh), or give "
                     "--kconfig-tree DIR to resolve it through that kernel's Kconfig")
    if keep:
        notes.append(f"{keep.label}: a rule that fails only because of a kept symbol is "
                     "reported as advice (accepted), not as a failure")
    return Target(plat, plat_source, hyp, hyp_source, kind, tuple(notes),
                  keep.names if keep else ())
