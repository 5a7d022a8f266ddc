"""Rule conditions: one class per kind (see base.py), registered in the order parse() tries.

Importing this package registers every built-in kind; a new kind is one class in one of these
modules (or a new one imported here) decorated with ``@register``.
"""

from cocoscope.rules.conditions.attestation import Attestation
from cocoscope.rules.conditions.base import KINDS, Condition, ConditionError, Tri, parse
from cocoscope.rules.conditions.bound import PciBound
from cocoscope.rules.conditions.cmdline import (
    CmdlineAnyMatches,
    CmdlineBool,
    CmdlineCondition,
    CmdlinePresent,
    CmdlineValueIn,
)
from cocoscope.rules.conditions.config import (
    KernelHas,
    KernelVersion,
    SymbolAtLeast,
    SymbolCondition,
    SymbolIs,
    SymbolValueIn,
    kernel_version,
)
from cocoscope.rules.conditions.drivers import PciDrivers
from cocoscope.rules.conditions.logic import All, AnyOf, Not
from cocoscope.rules.conditions.system import (
    DetectedPlatform,
    DeviceFeature,
    DevicePresent,
    DriverBound,
    HypervisorIs,
    LockdownIs,
    PlatformIs,
    SecureBoot,
)

__all__ = [
    "KINDS", "All", "AnyOf", "Attestation", "CmdlineAnyMatches", "CmdlineBool",
    "CmdlineCondition", "CmdlinePresent", "CmdlineValueIn", "Condition", "ConditionError",
    "DetectedPlatform", "DeviceFeature", "DevicePresent", "DriverBound", "HypervisorIs", "KernelHas",
    "KernelVersion", "LockdownIs", "Not", "PciBound", "PciDrivers", "PlatformIs",
    "SecureBoot", "SymbolAtLeast", "SymbolCondition", "SymbolIs", "SymbolValueIn", "Tri",
    "kernel_version", "parse",
]
