"""`cocoscope attest snp ...` and `cocoscope measure snp` (being built)."""

from __future__ import annotations

import argparse
from typing import Any


def register_attest(sub: argparse._SubParsersAction[Any]) -> None:
    """Registers nothing yet."""


def register_measure(sub: argparse._SubParsersAction[Any]) -> None:
    """Registers nothing yet."""
