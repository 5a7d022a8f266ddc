"""The --fetch / --kds-url / --pcs-url flags shared by the verify commands and the audit."""

from __future__ import annotations

import argparse

from cocoscope.attest.fetch.config import FetchConfig


def add_fetch_options(p: argparse.ArgumentParser | argparse._ArgumentGroup, *, kds: bool = True,
                      pcs: bool = True) -> None:
    p.add_argument("--fetch", action="store_true",
                   help="fetch missing certificates/collateral from AMD KDS or Intel PCS "
                        "(cached; without it nothing goes to the network)")
    if kds:
        p.add_argument("--kds-url", metavar="URL",
                       help="AMD KDS base URL (default $COCOSCOPE_KDS_URL or AMD's)")
    if pcs:
        p.add_argument("--pcs-url", metavar="URL",
                       help="Intel PCS v4 or PCCS base URL (default $COCOSCOPE_PCS_URL or "
                            "Intel's); API key from $COCOSCOPE_PCS_API_KEY")


def fetch_config(args: argparse.Namespace) -> FetchConfig:
    return FetchConfig.from_env(bool(getattr(args, "fetch", False)),
                                getattr(args, "kds_url", None), getattr(args, "pcs_url", None))
