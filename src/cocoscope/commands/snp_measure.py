"""`cocoscope measure snp`: the expected SEV-SNP (or SEV, SEV-ES) launch digest of an OVMF guest."""

from __future__ import annotations

import argparse
from typing import Any

from cocoscope.commands._common import add_output_options, emit, hexstr
from cocoscope.commands.snp_measure_search import add_search_options, check_flags, run_search
from cocoscope.errors import UsageError


def register(sub: argparse._SubParsersAction[Any]) -> None:
    from cocoscope.attest.snp.measure.vmsa import VCPU_SIGNATURES

    p = sub.add_parser(
        "snp", help="expected AMD SEV-SNP / SEV-ES / SEV launch digest of an OVMF guest",
        description="Replay what QEMU (or EC2, GCE) hands to the AMD PSP at launch and print "
        "the launch digest the attestation report should carry.",
    )
    p.add_argument("--ovmf", required=True, metavar="FILE", help="OVMF firmware image (-bios)")
    p.add_argument("--kernel", metavar="FILE", help="kernel for measured direct boot (-kernel)")
    p.add_argument("--initrd", metavar="FILE", help="initrd (-initrd); needs --kernel")
    p.add_argument("--append", metavar="CMDLINE", help="kernel command line (-append); needs --kernel")
    p.add_argument("--vcpus", metavar="N", help="number of vCPUs (not for --mode sev); with "
                   "--match/--target a range or list to search (default 1-128)")
    cpu = p.add_mutually_exclusive_group()
    cpu.add_argument("--vcpu-type", metavar="NAME",
                     help="QEMU CPU model: " + ", ".join(VCPU_SIGNATURES)
                     + " (with --match/--target a comma-separated list; default all)")
    cpu.add_argument("--vcpu-sig", metavar="HEX", help="CPUID(1).EAX signature instead of a type")
    p.add_argument("--vmm-type", type=str.lower, metavar="TYPE",
                   help="VMM that launches the guest: qemu (default), ec2, gce (with "
                   "--match/--target a comma-separated list; default all)")
    p.add_argument("--guest-features", metavar="HEX",
                   help="SEV_FEATURES of the VMSAs (default 0x1 SNPActive; 0x21 adds DebugSwap; "
                   "with --match/--target a comma-separated list; default every documented "
                   "combination)")
    add_search_options(p)
    p.add_argument("--mode", default="snp", choices=("snp", "seves", "sev", "snp:ovmf-hash"),
                   help="snp (default), seves, sev, or snp:ovmf-hash (digest after the firmware)")
    p.add_argument("--snp-ovmf-hash", metavar="HEX",
                   help="start from this precomputed OVMF digest instead of hashing --ovmf pages")
    p.add_argument("--explain", action="store_true",
                   help="print every step: footer table, metadata sections, pages, VMSAs, hashes")
    p.add_argument("--policy-out", metavar="FILE",
                   help="add the digest to [snp] measurement of this policy file (created or "
                   "merged), the reference value `attest snp verify --policy` checks")
    add_output_options(p, ("text", "json"))
    p.set_defaults(func=run)


def _int(value: str, what: str) -> int:
    try:
        return int(value, 16)  # accepts 0x21 and 21, both hex
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a hex number") from None


def _vmm(value: str) -> Any:
    from cocoscope.attest.snp.measure import VmmType

    try:
        return VmmType(value)
    except ValueError:
        raise UsageError(f"--vmm-type {value!r}: expected one of qemu, ec2, gce") from None


def _count(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--vcpus {value!r} is not a number") from None


def run(args: argparse.Namespace) -> int:
    from cocoscope.attest.snp.measure import (
        LaunchConfig,
        Mode,
        VmmType,
        boot_hashes,
        measure,
        parse_ovmf,
        vcpu_signature,
    )
    from cocoscope.attest.snp.measure.explain import explain_dict, explain_text
    from cocoscope.evidence import files

    if args.match is not None or args.target is not None:
        if args.policy_out:
            raise UsageError("--policy-out writes a computed digest; it does not combine with "
                             "--match/--target")
        return run_search(args)
    check_flags(args)
    mode = Mode(args.mode)
    vmm = _vmm(args.vmm_type or "qemu")
    vcpus = None if args.vcpus is None else _count(args.vcpus)
    if (args.initrd is not None or args.append is not None) and args.kernel is None:
        raise UsageError("--initrd and --append need --kernel")
    if mode is not Mode.SEV and mode is not Mode.SNP_OVMF_HASH and vcpus is None:
        raise UsageError(f"--vcpus is required in mode {mode.value}")
    if args.vcpu_type:
        sig = vcpu_signature(args.vcpu_type)
    elif args.vcpu_sig:
        sig = _int(args.vcpu_sig, "--vcpu-sig")
    elif vmm is VmmType.QEMU and mode in (Mode.SNP, Mode.SEV_ES):
        # QEMU puts the signature in RDX of every VMSA, so it is part of the digest.
        raise UsageError("--vcpu-type or --vcpu-sig is required with --vmm-type qemu")
    else:
        sig = 0  # EC2 and GCE put a fixed value in RDX
    ovmf_hash = None
    if args.snp_ovmf_hash:
        ovmf_hash = hexstr(args.snp_ovmf_hash, what="--snp-ovmf-hash")
        if len(ovmf_hash) != 48:
            raise UsageError(f"--snp-ovmf-hash must be 48 bytes (96 hex digits), got {len(ovmf_hash)}")
    hashes = None
    if args.kernel is not None:
        kernel = files.read_input(args.kernel, files.KERNEL)
        initrd = files.read_input(args.initrd, files.INITRD) if args.initrd else None
        hashes = boot_hashes(kernel, initrd, args.append)
    # The image is mapped below 4 GiB, so nothing larger can be firmware.
    image = parse_ovmf(files.read_input(args.ovmf, files.FIRMWARE), args.ovmf)
    config = LaunchConfig(mode, 1 if vcpus is None else vcpus, sig, vmm,
                          _int(args.guest_features or "0x1", "--guest-features"), hashes,
                          ovmf_hash)
    result = measure(image, config)
    if args.policy_out:
        if mode is not Mode.SNP:
            raise UsageError(f"--policy-out needs --mode snp (an {mode.value} digest is not an "
                             "SEV-SNP report's MEASUREMENT)")
        from cocoscope.attest.reference import write_reference

        write_reference(args.policy_out, "snp", {"measurement": result.digest})
    if args.format == "json":
        doc: dict[str, Any] = explain_dict(image, result) if args.explain else {
            "mode": mode.value, "digest": result.digest.hex()}
        from cocoscope.commands._attest_json import document

        emit(document("measure snp", doc, [
            ("firmware", args.ovmf, files.FIRMWARE), ("kernel", args.kernel, files.KERNEL),
            ("initrd", args.initrd, files.INITRD)]), args.output)
    elif args.explain:
        emit(explain_text(image, result), args.output)
    else:
        emit(result.digest.hex(), args.output)
    return 0
