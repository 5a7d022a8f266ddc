"""`cocoscope attest snp ...` and `cocoscope measure snp`: the groups only.

The subcommands live in their own modules so that report verification and launch measurement
are developed and reviewed apart: ``snp_report`` (show, verify, fetch) and ``snp_measure``.
"""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands import collateral, snp_measure, snp_report


def register_attest(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("snp", help="AMD SEV-SNP attestation reports")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    snp_report.register(actions)
    collateral.register_snp(actions)


def register_measure(sub: argparse._SubParsersAction[Any]) -> None:
    snp_measure.register(sub)
