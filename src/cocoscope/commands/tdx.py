"""`cocoscope attest tdx ...` and `cocoscope measure tdx`: the groups only.

Subcommands live in ``tdx_quote`` (show, verify), ``tdx_eventlog`` (eventlog, fetch) and
``tdx_measure`` (MRTD).
"""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands import collateral, tdx_eventlog, tdx_measure, tdx_quote


def register_attest(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("tdx", help="Intel TDX quotes and event logs")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    tdx_quote.register(actions)
    tdx_eventlog.register(actions)
    collateral.register_tdx(actions)


def register_measure(sub: argparse._SubParsersAction[Any]) -> None:
    tdx_measure.register(sub)
