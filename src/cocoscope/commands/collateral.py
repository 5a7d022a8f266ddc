"""`cocoscope attest snp certs fetch` and `cocoscope attest tdx collateral fetch`: save what a
verification needs into a directory the verify commands read, for air-gapped verification."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from cocoscope.commands._common import hexstr, parse_time
from cocoscope.commands._fetch import fetch_config
from cocoscope.errors import EXIT_OK, InputError, UsageError


def _common(p: argparse.ArgumentParser, *, kds: bool) -> None:
    p.add_argument("-o", "--output-dir", required=True, metavar="DIR",
                   help="directory to write the files into (created if missing)")
    p.add_argument("--time", metavar="ISO8601",
                   help="reuse cached items still valid at this time (default: now)")
    if kds:
        p.add_argument("--kds-url", metavar="URL",
                       help="AMD KDS base URL (default $COCOSCOPE_KDS_URL or AMD's)")
    else:
        p.add_argument("--pcs-url", metavar="URL",
                       help="Intel PCS v4 or PCCS base URL (default $COCOSCOPE_PCS_URL or "
                            "Intel's); API key from $COCOSCOPE_PCS_API_KEY")


def register_snp(actions: argparse._SubParsersAction[Any]) -> None:
    p = actions.add_parser("certs", help="AMD certificates for a report (fetch from KDS)")
    sub = p.add_subparsers(dest="certs_action", metavar="ACTION", required=True)
    f = sub.add_parser("fetch", help="fetch the VCEK, ASK/ARK and CRL of a report into DIR",
                       description="Writes vcek.der, ask_ark.pem and crl.der (when KDS serves "
                       "it); verify offline with `attest snp verify R --certs DIR`.")
    f.add_argument("--report", required=True, metavar="REPORT")
    _common(f, kds=True)
    f.set_defaults(func=run_snp, fetch=True)


def register_tdx(actions: argparse._SubParsersAction[Any]) -> None:
    p = actions.add_parser("collateral", help="Intel collateral for a quote (fetch from PCS)")
    sub = p.add_subparsers(dest="collateral_action", metavar="ACTION", required=True)
    f = sub.add_parser("fetch", help="fetch TCB Info, QE Identity and CRLs into DIR",
                       description="Writes the TCB Info of the quote's FMSPC with its TCB "
                       "Signing chain, the TD QE Identity, the PCK CRL of the quote's CA and "
                       "the Root CA CRL (those PCS serves); verify offline with `attest tdx "
                       "verify Q --collateral-dir DIR`.")
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--quote", metavar="QUOTE", help="take FMSPC and PCK CA from this quote")
    which.add_argument("--fmspc", metavar="HEX", help="FMSPC (6 bytes of hex)")
    f.add_argument("--ca", choices=("platform", "processor"),
                   help="PCK CA whose CRL to fetch (with --fmspc; default: none)")
    _common(f, kds=False)
    f.set_defaults(func=run_tdx, fetch=True)


def _write(directory: str, files: tuple[tuple[str, bytes], ...]) -> list[str]:
    from cocoscope.evidence.files import write_output

    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create: {exc.strerror or exc}", path=directory) from None
    written = []
    for name, data in files:
        write_output(os.path.join(directory, name), data, "collateral file")
        written.append(os.path.join(directory, name))
    return written


def _report(bundle_files: list[str], lines: list[str], hint: str, directory: str) -> None:
    for line in lines:
        print(f"cocoscope: {line}", file=sys.stderr)
    print("\n".join(bundle_files))
    print(f"cocoscope: verify offline with {hint.replace('DIR', directory)}", file=sys.stderr)


def run_snp(args: argparse.Namespace) -> int:
    from cocoscope.attest.fetch.bundle import snp_bundle
    from cocoscope.attest.snp.evidence import load_evidence

    b = snp_bundle(load_evidence(args.report), fetch_config(args), parse_time(args.time))
    _report(_write(args.output_dir, b.files), [p.line() for p in b.source.log], b.hint,
            args.output_dir)
    return EXIT_OK


def run_tdx(args: argparse.Namespace) -> int:
    from cocoscope.attest.fetch.bundle import tdx_bundle
    from cocoscope.attest.fetch.complete import QuotePlatform, quote_platform
    from cocoscope.attest.tdx.quote import load_evidence

    if args.quote:
        if args.ca:
            raise UsageError("--ca goes with --fmspc (a quote names its own PCK CA)")
        where = quote_platform(load_evidence(args.quote))
        if where is None:
            raise InputError("the quote's PCK certificate chain does not parse; give --fmspc",
                             path=args.quote)
    else:
        fmspc = hexstr(args.fmspc, what="--fmspc")
        if len(fmspc) != 6:
            raise UsageError(f"--fmspc is 6 bytes (12 hex digits), got {len(fmspc)}")
        where = QuotePlatform(fmspc, args.ca)
    b = tdx_bundle(where, fetch_config(args), parse_time(args.time))
    _report(_write(args.output_dir, b.files), [p.line() for p in b.source.log], b.hint,
            args.output_dir)
    return EXIT_OK
