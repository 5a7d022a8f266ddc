"""`cocoscope attest tdx show QUOTE` and `cocoscope attest tdx verify QUOTE`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING, Any

from cocoscope.attest import policy as policy_framework
from cocoscope.attest.result import Verification
from cocoscope.attest.tdx.quote import Quote, parse_quote
from cocoscope.commands._common import add_output_options, emit, hexstr, jsonable, parse_time
from cocoscope.errors import EXIT_OK, EXIT_VERIFY, InputError, UsageError, read_bytes

if TYPE_CHECKING:  # the policy pulls in collateral and cryptography: load only when used
    from cocoscope.attest.tdx.policy import TdxPolicy


def register(sub: argparse._SubParsersAction[Any]) -> None:
    show = sub.add_parser("show", help="decode a TDX quote (v4/v5)")
    show.add_argument("quote", metavar="QUOTE")
    add_output_options(show, ("text", "json"))
    show.set_defaults(func=run_show)

    ver = sub.add_parser("verify", help="verify a TDX quote: signatures, PCK chain, collateral, policy",
                         description="Exit 0 only when every check passes; 4 names each failed check.")
    ver.add_argument("quote", metavar="QUOTE")
    ver.add_argument("--collateral-dir", metavar="DIR",
                     help="TCB Info, QE Identity, TCB Signing chain, CRLs (classified by content)")
    ver.add_argument("--policy", metavar="FILE", help="TOML/JSON policy (a [tdx] table if present)")
    ver.add_argument("--time", metavar="ISO8601", help="verify as of this time (default: now)")
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
    ver.add_argument("--allow-debug", action="store_true", help="do not fail a debug TD")
    ver.add_argument("--mrseam", metavar="HEX", action="append", help="allowed MRSEAM (repeatable)")
    ver.add_argument("--min-tee-tcb-svn", metavar="HEX", help="minimum TEE_TCB_SVN (16 bytes)")
    add_output_options(ver, ("text", "json"))
    ver.set_defaults(func=run_verify)



def _quote_dict(q: Quote, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": source, "size": q.size, "tdx_version": q.tdx_version,
        "header": jsonable(q.header), "body_type": q.body_type, "body": jsonable(q.body),
        "signed_bytes": len(q.signed_bytes), "trailing_bytes": len(q.trailing),
    }
    sig = q.signature
    out["signature"] = {
        "quote_signature": sig.quote_signature.hex(), "attestation_key": sig.attestation_key.hex(),
        "qe_report": {k: v for k, v in jsonable(sig.qe_report).items() if k != "raw"},
        "qe_report_signature": sig.qe_report_signature.hex(), "qe_auth_data": sig.qe_auth_data.hex(),
    }
    try:
        from cocoscope.attest.tdx.pck import load_pem_chain, pck_extensions  # cryptography: lazy

        certs = load_pem_chain(sig.pck_chain_pem, source=source)
        ext = pck_extensions(certs[0], source=source)
        out["pck"] = {"chain": [c.subject.rfc4514_string() for c in certs], **jsonable(ext)}
    except InputError as exc:
        out["pck"] = {"error": exc.message}
    return out


def _text(d: dict[str, Any], indent: str = "") -> list[str]:
    lines = []
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"{indent}{k}:")
            lines += _text(v, indent + "  ")
        elif isinstance(v, list) and v and all(isinstance(x, str) and len(x) == 96 for x in v):
            lines += [f"{indent}{k}[{i}]: {x}" for i, x in enumerate(v)]  # RTMRs, one a line
        else:
            lines.append(f"{indent}{k}: {v}")
    return lines


def run_show(args: argparse.Namespace) -> int:
    q = parse_quote(read_bytes(args.quote, what="TDX quote"), source=args.quote)
    d = _quote_dict(q, args.quote)
    d["body"]["td_attributes"] = f"{q.body.td_attributes:#018x}"
    d["body"]["xfam"] = f"{q.body.xfam:#018x}"
    emit(json.dumps(d, indent=2) if args.format == "json" else "\n".join(_text(d)), args.output)
    return EXIT_OK


def _policy(args: argparse.Namespace) -> TdxPolicy:
    from cocoscope.attest.tdx.policy import TdxPolicy
    from cocoscope.attest.tdx.tcb import TcbStatus

    pol = policy_framework.load(TdxPolicy, args.policy, section="tdx")

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
    pol = policy_framework.override(
        pol,
        mrtd=tuple(hexstr(m, what="--mrtd") for m in args.mrtd) if args.mrtd else None,
        rtmr0=h(args.rtmr0, "--rtmr0"), rtmr1=h(args.rtmr1, "--rtmr1"),
        rtmr2=h(args.rtmr2, "--rtmr2"), rtmr3=h(args.rtmr3, "--rtmr3"),
        mrconfigid=h(args.mrconfigid, "--mrconfigid"), mrowner=h(args.mrowner, "--mrowner"),
        mrownerconfig=h(args.mrownerconfig, "--mrownerconfig"),
        report_data=h(args.report_data, "--report-data"), nonce=h(args.nonce, "--nonce"),
        mrseam=tuple(hexstr(m, what="--mrseam") for m in args.mrseam) if args.mrseam else None,
        min_tee_tcb_svn=h(args.min_tee_tcb_svn, "--min-tee-tcb-svn"),
        accepted_tcb=accepted,
    )
    # override() skips None values, so "unchecked" has to be set directly.
    return dataclasses.replace(pol, debug=None) if args.allow_debug else pol


def render_verification(v: Verification) -> str:
    lines = [f"{v.kind} {v.subject}"]
    for c in v.checks:
        lines.append(f"  {c.status.value.upper():4} {c.name}: {c.detail}")
    for k, val in v.facts.items():
        lines.append(f"  {k}: {val}")
    lines.append("result: " + ("verified" if v.ok else
                               "FAILED: " + ", ".join(c.name for c in v.failed)))
    return "\n".join(lines)


def run_verify(args: argparse.Namespace) -> int:
    at = parse_time(args.time)
    pol = _policy(args)
    from cocoscope.attest.tdx.verify import verify_tdx_quote  # cryptography: load lazily

    v = verify_tdx_quote(args.quote, args.collateral_dir, pol, at)
    if args.format == "json":
        text = json.dumps({"subject": v.subject, "kind": v.kind, "ok": v.ok,
                           "checks": jsonable(list(v.checks)), "facts": jsonable(v.facts)}, indent=2)
    else:
        text = render_verification(v)
    emit(text, args.output)
    if not v.ok:
        print("cocoscope: verification failed: " + ", ".join(c.name for c in v.failed),
              file=sys.stderr)
        return EXIT_VERIFY
    return EXIT_OK
