"""`cocoscope measure snp --match REPORT | --target HEX`: which launch reproduces a digest.

Kept apart from ``snp_measure`` because the same flags take lists here (``--vcpus 1-128``,
``--vcpu-type EPYC,EPYC-Milan``) while a plain measurement takes one value each.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from typing import Any

from cocoscope.commands._common import emit, hexstr
from cocoscope.errors import EXIT_OK, EXIT_VERIFY, UsageError

# Why a digest computed by hand does not match a report, most common first.
_USUAL_CAUSES = (
    "a different firmware build (OVMF is measured byte for byte: the exact image the VMM "
    "loaded is needed, not the same version from another build)",
    "measured direct boot: QEMU with -kernel/-initrd/-append and an AmdSev OVMF measures their "
    "hashes; give --kernel/--initrd/--append exactly as launched",
    "an SVSM (COCONUT-SVSM, snp:svsm) or another paravisor launched below the guest "
    "(Azure, some clouds): its own image is measured, not OVMF",
    "a VMM whose VMSA or metadata layout is not one of qemu, ec2, gce",
    "a vCPU count, vCPU signature or guest-features value outside the searched space "
    "(widen --vcpus, give --vcpu-sig, or list --guest-features)",
)


def add_search_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--match", metavar="REPORT",
                   help="search the launch parameters that reproduce this SNP report's "
                   "MEASUREMENT (the report's signature is not checked)")
    g.add_argument("--target", metavar="HEX", help="search for this 48-byte launch digest")


def _types(value: str | None) -> tuple[tuple[str, ...], tuple[int, ...]]:
    from cocoscope.attest.snp.measure.vmsa import VCPU_SIGNATURES

    if value is None:
        return tuple(VCPU_SIGNATURES), ()
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [n for n in names if n not in VCPU_SIGNATURES]
    if unknown:
        raise UsageError(f"unknown vCPU type {unknown[0]!r}; known: {', '.join(VCPU_SIGNATURES)}")
    return names, ()


def _hex_list(value: str, what: str) -> tuple[int, ...]:
    out = []
    for part in value.split(","):
        try:
            out.append(int(part.strip(), 16))
        except ValueError:
            raise UsageError(f"{what} {part.strip()!r} is not a hex number") from None
    return tuple(dict.fromkeys(out))


def run_search(args: argparse.Namespace) -> int:
    from cocoscope.attest.snp.evidence import load_evidence
    from cocoscope.attest.snp.measure import VmmType, boot_hashes, parse_ovmf
    from cocoscope.attest.snp.measure.explain import feature_names
    from cocoscope.attest.snp.measure.search import (
        SearchSpace,
        default_guest_features,
        describe_space,
        parse_range,
        search,
    )
    from cocoscope.evidence import files

    if args.mode != "snp" or args.snp_ovmf_hash or args.explain:
        raise UsageError("--match/--target search SNP launches only: drop --mode, "
                         "--snp-ovmf-hash and --explain")
    if (args.initrd is not None or args.append is not None) and args.kernel is None:
        raise UsageError("--initrd and --append need --kernel")
    report_path = args.match
    if report_path is not None:
        target = load_evidence(report_path).report.measurement
    else:
        target = hexstr(args.target, what="--target")
        if len(target) != 48:
            raise UsageError(f"--target must be 48 bytes (96 hex digits), got {len(target)}")

    default = SearchSpace.default()
    names, sigs = _types(args.vcpu_type)
    if args.vcpu_sig:
        sigs = _hex_list(args.vcpu_sig, "--vcpu-sig")
        names = () if args.vcpu_type is None else names
    hashes = None
    if args.kernel is not None:
        kernel = files.read_input(args.kernel, files.KERNEL)
        initrd = files.read_input(args.initrd, files.INITRD) if args.initrd else None
        hashes = boot_hashes(kernel, initrd, args.append)
    space = SearchSpace(
        vcpus=parse_range(args.vcpus) if args.vcpus else default.vcpus,
        vcpu_types=names, vcpu_sigs=sigs,
        vmm_types=tuple(VmmType(v) for v in args.vmm_type.split(",")) if args.vmm_type
        else default.vmm_types,
        guest_features=_hex_list(args.guest_features, "--guest-features")
        if args.guest_features else default_guest_features(),
        hashes=hashes,
    )
    image = parse_ovmf(files.read_input(args.ovmf, files.FIRMWARE), args.ovmf)
    started = time.monotonic()
    result = search(image, target, space, _progress_bar())
    seconds = time.monotonic() - started

    matches = []
    for m in result.matches:
        cmd = ["cocoscope", "measure", "snp", "--ovmf", args.ovmf]
        if args.kernel:
            cmd += ["--kernel", args.kernel]
        if args.initrd:
            cmd += ["--initrd", args.initrd]
        if args.append is not None:
            cmd += ["--append", args.append]
        cmd += ["--vcpus", str(m.vcpus)]
        if m.vcpu_sig is not None:
            named = [n for n in m.vcpu_types if not n.startswith("0x")]
            cmd += ["--vcpu-type", named[0]] if named else ["--vcpu-sig", f"{m.vcpu_sig:#x}"]
        cmd += ["--vmm-type", m.vmm.value, "--guest-features", f"{m.guest_features:#x}"]
        matches.append({
            "vcpus": m.vcpus, "vmm_type": m.vmm.value,
            "vcpu_signature": None if m.vcpu_sig is None else f"{m.vcpu_sig:#x}",
            "vcpu_types": list(m.vcpu_types),
            "guest_features": f"{m.guest_features:#x}",
            "guest_feature_names": feature_names(m.guest_features),
            "command": shlex.join(cmd),
        })
    doc: dict[str, Any] = {
        "target": target.hex(),
        "report": report_path,
        "report_verified": False,
        "firmware": args.ovmf,
        "searched": describe_space(space),
        "candidates": result.candidates,
        "seconds": round(seconds, 3),
        "matches": matches,
    }
    if args.format == "json":
        from cocoscope.commands._attest_json import document

        emit(document("measure snp", doc, [
            ("firmware", args.ovmf, files.FIRMWARE), ("evidence", args.match, files.REPORT)]),
            args.output)
    else:
        emit(_text(doc), args.output)
    return EXIT_OK if matches else EXIT_VERIFY


def _text(doc: dict[str, Any]) -> str:
    s = doc["searched"]
    source = f"MEASUREMENT of {doc['report']}" if doc["report"] else "given with --target"
    out = [f"target   {doc['target']}", f"         ({source})"]
    if doc["report"]:
        out.append("         the report's signature was NOT verified: this search only compares "
                   "digests; use `cocoscope attest snp verify` with --measurement or a "
                   "reference-value policy for that")
    out.append(f"searched vCPUs {s['vcpus']}; {len(s['vcpu_types'])} vCPU types "
               f"({s['distinct_vcpu_signatures']} distinct signatures); VMM types "
               f"{', '.join(s['vmm_types'])}; {s['guest_features']} guest-feature values"
               + ("; measured direct boot" if s["measured_direct_boot"] else ""))
    out.append(f"         {doc['candidates']:,} candidate launches in {doc['seconds']:.1f} s "
               "(firmware hashed once)")
    matches = doc["matches"]
    if not matches:
        out.append("NO MATCH: no launch in the searched space gives this digest. Usual causes:")
        out.extend(f"  - {c}" for c in _USUAL_CAUSES)
        return "\n".join(out)
    if len(matches) == 1:
        out.append("1 launch configuration gives this digest:")
    else:
        out.append(f"{len(matches)} launch configurations give this digest; the digest alone "
                   "cannot tell them apart:")
    for m in matches:
        if m["vcpu_signature"] is None:
            cpu = f"any vCPU type ({m['vmm_type']} does not measure the CPUID signature)"
        else:
            cpu = f"vCPU signature {m['vcpu_signature']} ({', '.join(m['vcpu_types'])})"
        names = ", ".join(m["guest_feature_names"])
        out.append(f"  vcpus {m['vcpus']}, vmm {m['vmm_type']}, {cpu}, "
                   f"guest features {m['guest_features']} ({names})")
        out.append(f"    {m['command']}")
    return "\n".join(out)


def _progress_bar() -> Any:
    """A progress bar on a terminal for searches long enough to need one; nothing on a pipe."""
    if not sys.stderr.isatty():
        return None
    state: dict[str, Any] = {"start": time.monotonic(), "shown": False}

    def show(done: int, total: int) -> None:
        elapsed = time.monotonic() - state["start"]
        if elapsed < 0.5 and done < total:
            return
        state["shown"] = True
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} chains")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def check_flags(args: argparse.Namespace) -> None:
    """Flags whose plain-measurement syntax differs are re-read by the search."""
    if args.match is None and args.target is None:
        for flag in ("vcpus", "vcpu_type", "vmm_type", "guest_features"):
            value = getattr(args, flag)
            if value is not None and ("," in value or (flag == "vcpus" and "-" in value)):
                raise UsageError(f"--{flag.replace('_', '-')} takes a list or range only with "
                                 "--match or --target")
