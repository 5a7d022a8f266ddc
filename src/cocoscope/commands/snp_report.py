"""`cocoscope attest snp show|verify|fetch`: SEV-SNP attestation reports."""

from __future__ import annotations

import argparse
import os
from typing import Any

from cocoscope.commands._common import add_output_options, emit, hexstr, parse_time
from cocoscope.commands._fetch import add_fetch_options, fetch_config
from cocoscope.errors import EXIT_OK, InputError, UsageError
from cocoscope.evidence import files


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("show", help="decode an SEV-SNP attestation report (raw, hex or HCL)")
    p.add_argument("report", metavar="REPORT")
    add_output_options(p, ("text", "json"))
    p.set_defaults(func=run_show)

    p = sub.add_parser("verify", help="verify an SEV-SNP report: chain, signature, policy",
                       description="Exit 0: VERIFIED (every check passed and the launch "
                       "measurement matched a reference value); 1: AUTHENTIC, NOT APPRAISED "
                       "(every check passed, no reference measurement given); 4: FAILED.")
    p.add_argument("report", metavar="REPORT")
    p.add_argument("--certs", action="append", default=[], metavar="FILE|DIR",
                   help="VCEK/VLEK and optional ASK/ARK: PEM, DER or an SNP certificate table "
                        "(repeatable; AMD roots are built in)")
    p.add_argument("--policy", metavar="FILE", help="policy file (TOML or JSON)")
    p.add_argument("--time", metavar="ISO8601", help="check certificate validity at this time "
                   "(default: now)")
    p.add_argument("--crl", metavar="FILE", help="AMD KDS CRL (PEM or DER) to check revocation")
    add_fetch_options(p, pcs=False)
    add_output_options(p, ("text", "json"))
    g = p.add_argument_group("policy overrides (a flag replaces the policy file's value)")
    g.add_argument("--measurement", action="append", metavar="HEX",
                   help="accepted launch digest (repeatable)")
    g.add_argument("--host-data", metavar="HEX")
    g.add_argument("--report-data", metavar="HEX", help="exact REPORT_DATA (zero-padded)")
    g.add_argument("--nonce", metavar="HEX", help="REPORT_DATA must start with this")
    g.add_argument("--id-key-digest", action="append", metavar="HEX")
    g.add_argument("--author-key-digest", action="append", metavar="HEX")
    g.add_argument("--family-id", metavar="HEX")
    g.add_argument("--image-id", metavar="HEX")
    g.add_argument("--vmpl", type=int, metavar="N")
    g.add_argument("--min-guest-svn", type=int, metavar="N")
    g.add_argument("--min-tcb", action="append", metavar="COMP=N",
                   help="minimum REPORTED_TCB component (fmc, bl, tee, snp, ucode); repeatable")
    g.add_argument("--min-launch-tcb", action="append", metavar="COMP=N",
                   help="minimum LAUNCH_TCB component; repeatable")
    g.add_argument("--permit-provisional-firmware", action="store_true", default=None,
                   help="accept COMMITTED_TCB below CURRENT_TCB (uncommitted firmware)")
    g.add_argument("--min-firmware", metavar="MAJ.MIN[.BUILD]")
    g.add_argument("--min-abi", metavar="MAJ.MIN")
    g.add_argument("--allow-debug", action="store_true", default=None,
                   help="accept DEBUG=1 (never in production)")
    g.add_argument("--allow-migration-agent", action="store_true", default=None)
    g.add_argument("--forbid-smt", dest="allow_smt", action="store_false", default=None)
    g.add_argument("--allow-masked-chip-id", action="store_true", default=None)
    g.add_argument("--vlek-csp-id", action="append", metavar="CSPID",
                   help="allowed VLEK cspID (repeatable)")
    g.add_argument("--signing-key", action="append", choices=("vcek", "vlek"),
                   help="allowed signer (repeatable)")
    p.set_defaults(func=run_verify)

    p = sub.add_parser("fetch", help="get a fresh report in this guest (configfs-tsm or "
                       "/dev/sev-guest)")
    p.add_argument("--nonce", required=True, metavar="HEX", help="up to 64 bytes of REPORT_DATA")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="write the raw report")
    p.add_argument("--certs-out", metavar="DIR",
                   help="write the host-supplied certificates (vcek.der, ask.der, ...) here")
    p.add_argument("--vmpl", type=int, metavar="N", help="request privilege level")
    p.add_argument("--root", default="/", metavar="DIR",
                   help="filesystem root holding sys/ and dev/ (for testing)")
    p.set_defaults(func=run_fetch)


def run_show(args: argparse.Namespace) -> int:
    from cocoscope.attest.snp.evidence import load_evidence
    from cocoscope.attest.snp.show import describe, render_text

    fields = describe(load_evidence(args.report))
    if args.format == "json":
        from cocoscope.evidence import files
        from cocoscope.report.envelope import file_input, render_envelope

        inputs = [file_input("evidence", args.report, limit=files.EVIDENCE)]
        # Under "report": the report's own "version" would clash with the envelope's.
        emit(render_envelope("attest snp show", {"report": fields}, inputs), args.output)
    else:
        emit("\n".join([f"SEV-SNP attestation report {args.report}", *render_text(fields)]),
             args.output)
    return EXIT_OK



def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    def hexes(values: list[str] | None, what: str) -> frozenset[bytes] | None:
        return None if values is None else frozenset(hexstr(v, what=what) for v in values)

    def one(value: str | None, what: str) -> bytes | None:
        return None if value is None else hexstr(value, what=what)

    def components(items: list[str] | None, flag: str) -> dict[str, int] | None:
        if not items:
            return None
        out = {}
        for item in items:
            comp, sep, val = item.partition("=")
            try:
                out[comp.strip()] = int(val, 0)
            except ValueError:
                raise UsageError(f"{flag} {item!r}: expected COMPONENT=NUMBER") from None
            if not sep:
                raise UsageError(f"{flag} {item!r}: expected COMPONENT=NUMBER")
        return out

    return dict(
        measurement=hexes(args.measurement, "--measurement"),
        host_data=one(args.host_data, "--host-data"),
        report_data=one(args.report_data, "--report-data"),
        nonce=one(args.nonce, "--nonce"),
        id_key_digest=hexes(args.id_key_digest, "--id-key-digest"),
        author_key_digest=hexes(args.author_key_digest, "--author-key-digest"),
        family_id=one(args.family_id, "--family-id"),
        image_id=one(args.image_id, "--image-id"),
        vmpl=args.vmpl, min_guest_svn=args.min_guest_svn,
        min_tcb=components(args.min_tcb, "--min-tcb"),
        min_launch_tcb=components(args.min_launch_tcb, "--min-launch-tcb"),
        permit_provisional_firmware=args.permit_provisional_firmware,
        min_firmware=args.min_firmware, min_abi=args.min_abi,
        allow_debug=args.allow_debug, allow_migration_agent=args.allow_migration_agent,
        allow_smt=args.allow_smt, allow_masked_chip_id=args.allow_masked_chip_id,
        vlek_csp_ids=None if args.vlek_csp_id is None else frozenset(args.vlek_csp_id),
        signing_keys=None if args.signing_key is None else frozenset(args.signing_key),
    )


def run_verify(args: argparse.Namespace) -> int:
    from cocoscope.attest.fetch.complete import verify_completed
    from cocoscope.attest.policy import load_policy
    from cocoscope.attest.show import exit_code, render_verification, verification_json
    from cocoscope.attest.snp.evidence import load_evidence
    from cocoscope.attest.snp.policy import SnpPolicy
    from cocoscope.attest.snp.verify import load_trust

    policy = load_policy(SnpPolicy, args.policy, _overrides(args))
    v = verify_completed(load_evidence(args.report), load_trust(args.certs, args.crl), policy,
                         parse_time(args.time), fetch_config(args))
    if args.format == "json":
        from cocoscope.evidence import files
        from cocoscope.report.envelope import file_input, render_envelope

        inputs = [file_input("evidence", args.report, limit=files.EVIDENCE)]
        inputs += [file_input("certificates", c, limit=files.CERTIFICATE) for c in args.certs]
        inputs += [file_input(k, f, limit=lim) for k, f, lim in (
            ("policy", args.policy, files.POLICY), ("crl", args.crl, files.CRL)) if f]
        emit(render_envelope("attest snp verify", verification_json(v), inputs), args.output)
    else:
        emit(render_verification(v), args.output)
    return exit_code(v)


def run_fetch(args: argparse.Namespace) -> int:
    import sys

    from cocoscope.attest.snp.evidence import parse_cert_table
    from cocoscope.attest.snp.fetch import fetch_report

    nonce = hexstr(args.nonce, what="--nonce")
    got = fetch_report(nonce, args.root, vmpl=args.vmpl, want_certs=bool(args.certs_out))
    files.write_output(args.output, got.report, "report")
    written = [args.output]
    if args.certs_out:
        if not got.certs:
            raise InputError(f"the host supplied no certificates ({got.source}); the report was "
                             f"saved to {args.output}", path=args.certs_out)
        os.makedirs(args.certs_out, exist_ok=True)
        for entry in parse_cert_table(got.certs, path=f"{got.source} certificates"):
            stem = str(entry.guid) if entry.kind == "unknown" else entry.kind
            ext = ".der" if entry.kind in ("vcek", "vlek", "ask", "ark") else ".bin"
            name = os.path.join(args.certs_out, stem + ext)
            files.write_output(name, entry.data, "certificate")
            written.append(name)
    print(f"fetched via {got.source}: {', '.join(written)}", file=sys.stderr)
    return EXIT_OK
