"""The Linux CoCo threat model as data (see threatmodel.py)."""

from cocoscope.model.ids import InterfaceId, ThreatId
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
    "INTERFACES",
    "OBJECTIVES",
    "OUT_OF_SCOPE",
    "THREATS",
    "Asset",
    "Interface",
    "InterfaceId",
    "Mitigation",
    "Objective",
    "Threat",
    "ThreatId",
    "interface",
    "threat",
]
