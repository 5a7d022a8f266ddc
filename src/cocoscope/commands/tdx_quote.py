"""`cocoscope attest tdx show QUOTE` and `cocoscope attest tdx verify QUOTE`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from cocoscope.attest.policy import load_policy
from cocoscope.attest.show import exit_code, render_verification, verification_json
from cocoscope.commands._common import add_output_options, emit, hexstr, parse_time
from cocoscope.commands._fetch import add_fetch_options, fetch_config
from cocoscope.errors import EXIT_OK, UsageError

if TYPE_CHECKING:  # the policy pulls in collateral and cryptography: load only when used
    from cocoscope.attest.tdx.policy import TdxPolicy


def register(sub: argparse._SubParsersAction[Any]) -> None:
    show = sub.add_parser("show", help="decode a TDX quote (v4/v5)")
    show.add_argument("quote", metavar="QUOTE")
    add_output_options(show, ("text", "json"))
    show.set_defaults(func=run_show)

    ver = sub.add_parser("verify", help="verify a TDX quote: signatures, PCK chain, collateral, policy",
                         description="Exit 0: VERIFIED (every check passed and MRTD matched a "
                         "reference value); 1: AUTHENTIC, NOT APPRAISED (every check passed, no "
                         "reference MRTD given); 4: FAILED, naming each failed check.")
    ver.add_argument("quote", metavar="QUOTE")
    ver.add_argument("--collateral-dir", metavar="DIR",
                     help="TCB Info, QE Identity, TCB Signing chain, CRLs (classified by content)")
    ver.add_argument("--policy", metavar="FILE", help="TOML/JSON policy (a [tdx] table if present)")
    ver.add_argument("--time", metavar="ISO8601", help="verify as of this time (default: now)")
    add_fetch_options(ver, kds=False)
    ver.add_argument("--accept-tcb", metavar="STATUS[,STATUS...]",
                     help="accepted TCB statuses (default UpToDate; Unknown = no collateral)")
    ver.add_argument("--mrtd", metavar="HEX", action="append", help="allowed MRTD (repeatable)")
    for i in range(4):
        ver.add_argument(f"--rtmr{i}", metavar="HEX", help=f"expected RTMR{i}")
    ver.add_argument("--mrconfigid", metavar="HEX")
    ver.add_argument("--mrowner", metavar="HEX")
    ver.add_argument("--mrownerconfig", metavar="HEX")
    ver.add_argument("--report-data", metavar="HEX", help="expected REPORTDATA (64 bytes)")
    ver.add_argument("--nonce", metavar="HEX", help="REPORTDATA must start with this")
    ver.add_argument("--allow-debug", action="store_true",
                     help="accept a debug TD (never in production)")
    ver.add_argument("--mrseam", metavar="HEX", action="append", help="allowed MRSEAM (repeatable)")
    ver.add_argument("--min-tee-tcb-svn", metavar="HEX", help="minimum TEE_TCB_SVN (16 bytes)")
    add_output_options(ver, ("text", "json"))
    ver.set_defaults(func=run_verify)



def run_show(args: argparse.Namespace) -> int:
    from cocoscope.attest.tdx.quote import load_evidence
    from cocoscope.attest.tdx.show import describe, render_text

    ev = load_evidence(args.quote)
    d = describe(ev.quote, ev.path)
    if args.format == "json":
        from cocoscope.evidence import files
        from cocoscope.report.envelope import file_input, render_envelope

        inputs = [file_input("evidence", args.quote, limit=files.QUOTE)]
        emit(render_envelope("attest tdx show", d, inputs), args.output)
    else:
        emit("\n".join(render_text(d)), args.output)
    return EXIT_OK


def _policy(args: argparse.Namespace) -> TdxPolicy:
    from cocoscope.attest.tdx.policy import TdxPolicy
    from cocoscope.attest.tdx.tcb import TcbStatus

    def h(value: str | None, what: str) -> bytes | None:
        return None if value is None else hexstr(value, what=what)

    accepted = None
    if args.accept_tcb is not None:
        accepted = tuple(s.strip() for s in args.accept_tcb.split(",") if s.strip())
        if not accepted:
            raise UsageError("--accept-tcb needs at least one status")
        known = [s.value for s in TcbStatus]
        wrong = [a for a in accepted if a not in known]
        if wrong:
            raise UsageError(f"--accept-tcb: unknown status {', '.join(wrong)} "
                             f"(one of {', '.join(known)})")
    return load_policy(TdxPolicy, args.policy, dict(
        mrtd=tuple(hexstr(m, what="--mrtd") for m in args.mrtd) if args.mrtd else None,
        rtmr0=h(args.rtmr0, "--rtmr0"), rtmr1=h(args.rtmr1, "--rtmr1"),
        rtmr2=h(args.rtmr2, "--rtmr2"), rtmr3=h(args.rtmr3, "--rtmr3"),
        mrconfigid=h(args.mrconfigid, "--mrconfigid"), mrowner=h(args.mrowner, "--mrowner"),
        mrownerconfig=h(args.mrownerconfig, "--mrownerconfig"),
        report_data=h(args.report_data, "--report-data"), nonce=h(args.nonce, "--nonce"),
        mrseam=tuple(hexstr(m, what="--mrseam") for m in args.mrseam) if args.mrseam else None,
        min_tee_tcb_svn=h(args.min_tee_tcb_svn, "--min-tee-tcb-svn"),
        accepted_tcb=accepted,
        allow_debug=True if args.allow_debug else None,
    ))


def run_verify(args: argparse.Namespace) -> int:
    at = parse_time(args.time)
    pol = _policy(args)
    from cocoscope.attest.fetch.complete import verify_completed  # cryptography: load lazily
    from cocoscope.attest.tdx.quote import load_evidence
    from cocoscope.attest.tdx.verify import load_trust

    v = verify_completed(load_evidence(args.quote), load_trust(args.collateral_dir), pol, at,
                         fetch_config(args))
    if args.format == "json":
        from cocoscope.evidence import files
        from cocoscope.report.envelope import file_input, render_envelope

        inputs = [file_input("evidence", args.quote, limit=files.EVIDENCE)]
        inputs += [file_input(k, f, limit=files.POLICY) for k, f in (
            ("collateral", args.collateral_dir), ("policy", args.policy)) if f]
        emit(render_envelope("attest tdx verify", verification_json(v), inputs), args.output)
    else:
        emit(render_verification(v), args.output)
    if not v.ok:
        print("cocoscope: verification failed: " + ", ".join(c.name for c in v.failed),
              file=sys.stderr)
    return exit_code(v)
