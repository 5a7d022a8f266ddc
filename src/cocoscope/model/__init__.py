"""The Linux CoCo threat model as data (see threatmodel.py), and the Platform type."""

from cocoscope.model.ids import InterfaceId, ThreatId
from cocoscope.model.platform import CONFIDENTIAL, Platform, parse_platform, rule_applies
from cocoscope.model.threatmodel import (
    ASSETS,
    INTERFACES,
    OBJECTIVES,
    OUT_OF_SCOPE,
    THREATS,
    Asset,
    Interface,
    Mitigation,
    Objective,
    Threat,
    interface,
    threat,
)

__all__ = [
    "ASSETS",
    "CONFIDENTIAL",
    "INTERFACES",
    "OBJECTIVES",
    "OUT_OF_SCOPE",
    "THREATS",
    "Asset",
    "Interface",
    "InterfaceId",
    "Mitigation",
    "Objective",
    "Platform",
    "Threat",
    "ThreatId",
    "interface",
    "parse_platform",
    "rule_applies",
    "threat",
]
