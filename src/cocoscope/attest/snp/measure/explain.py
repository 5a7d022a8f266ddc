"""Every input and step behind a launch digest, in text or JSON, so a user can find which of
them differs from what their platform did (the firmware build, a section type, a VMSA field,
the vCPU count, the hashes table)."""

from __future__ import annotations

import hashlib
from typing import Any

from cocoscope.attest.snp.measure.launch import Measurement, Mode
from cocoscope.attest.snp.measure.ovmf import OvmfImage

# SEV_FEATURES bits (AMD APM vol. 2, "SEV_FEATURES" in the VMSA).
_FEATURE_BITS = {
    0: "SNPActive", 1: "vTOM", 2: "ReflectVC", 3: "RestrictedInjection",
    4: "AlternateInjection", 5: "DebugSwap", 6: "PreventHostIBS", 7: "BTBIsolation",
    8: "VmplSSS", 9: "SecureTSC",
}


def feature_names(features: int) -> list[str]:
    return [_FEATURE_BITS.get(bit, f"bit{bit}") for bit in range(64) if features >> bit & 1]


def _firmware(image: OvmfImage) -> dict[str, Any]:
    return {
        "path": image.path,
        "size": len(image.data),
        "sha256": hashlib.sha256(image.data).hexdigest(),
        "gpa": image.gpa,
        "footer_entries": [
            {"guid": str(e.guid), "name": e.name, "offset": e.offset, "data": e.data.hex()}
            for e in image.entries
        ],
        "metadata_offset": image.metadata_offset,
        "metadata_sections": [
            {"type": s.type.name, "gpa": s.gpa, "size": s.size, "offset": s.offset}
            for s in image.metadata or ()
        ],
        "sev_es_reset_eip": image.sev_es_reset_eip,
        "sev_hashes_table_gpa": image.sev_hashes_table_gpa,
    }


def explain_dict(image: OvmfImage, m: Measurement) -> dict[str, Any]:
    c = m.config
    return {
        "firmware": _firmware(image),
        "launch": {
            "mode": c.mode.value, "vmm": c.vmm.value, "vcpus": c.vcpus, "vcpu_sig": c.vcpu_sig,
            "guest_features": c.guest_features,
            "guest_feature_names": feature_names(c.guest_features),
            "ovmf_hash": c.ovmf_hash.hex() if c.ovmf_hash else None,
        },
        "boot_hashes": None if c.hashes is None else {
            "kernel_sha256": c.hashes.kernel.hex(), "initrd_sha256": c.hashes.initrd.hex(),
            "cmdline_sha256": c.hashes.cmdline.hex(),
            "table": m.hashes_table.hex() if m.hashes_table else None,
            "table_gpa": m.hashes_table_gpa,
        },
        "vmsas": [
            {"eip": r.eip, "cs_base": r.cs_base, "rip": r.rip, "cs_attrib": r.cs_attrib,
             "ss_attrib": r.ss_attrib, "tr_attrib": r.tr_attrib, "rdx": r.rdx, "g_pat": r.g_pat,
             "mxcsr": r.mxcsr, "x87_fcw": r.x87_fcw, "sev_features": r.sev_features}
            for r in m.vmsas
        ],
        "steps": [
            {"what": s.what, "page_type": s.page_type.name if s.page_type else None,
             "gpa": s.gpa, "pages": s.pages, "contents_sha384": s.contents.hex() if s.contents
             else None, "digest": s.digest.hex()}
            for s in m.steps
        ],
        "digest": m.digest.hex(),
    }


def explain_text(image: OvmfImage, m: Measurement) -> str:
    d = explain_dict(image, m)
    fw, launch = d["firmware"], d["launch"]
    out = [f"firmware {fw['path']}: {fw['size']:#x} bytes, sha256 {fw['sha256']}",
           f"  mapped at gpa {fw['gpa']:#x}..{fw['gpa'] + fw['size'] - 1:#x}",
           f"  footer table: {len(fw['footer_entries'])} entries"]
    out += [f"    {e['guid']}  {e['name']:<22} offset {e['offset']:#08x} data {e['data'] or '-'}"
            for e in fw["footer_entries"]]
    if fw["metadata_offset"] is None:
        out.append("  SEV metadata: none")
    else:
        out.append(f"  SEV metadata at offset {fw['metadata_offset']:#x}: "
                   f"{len(fw['metadata_sections'])} sections")
        out += [f"    [{i}] {s['type']:<17} gpa {s['gpa']:#010x} size {s['size']:#x}"
                for i, s in enumerate(fw["metadata_sections"])]
    out.append(f"  SEV-ES AP reset EIP: {_hex(fw['sev_es_reset_eip'])}; "
               f"SEV hashes table GPA: {_hex(fw['sev_hashes_table_gpa'])}")
    names = ", ".join(launch["guest_feature_names"]) or "none"
    if m.config.mode is Mode.SEV:
        out.append("launch: mode sev (firmware and hashes table only; no vCPU state)")
    elif m.config.mode is Mode.SEV_ES:
        out.append(f"launch: mode seves, vmm {launch['vmm']}, vcpus {launch['vcpus']}, vcpu "
                   f"signature {launch['vcpu_sig']:#x}, guest features unused (SEV-ES VMSAs "
                   "carry SEV_FEATURES 0)")
    else:
        out.append(f"launch: mode {launch['mode']}, vmm {launch['vmm']}, vcpus "
                   f"{launch['vcpus']}, vcpu signature {launch['vcpu_sig']:#x}, guest features "
                   f"{launch['guest_features']:#x} ({names})")
    if m.config.vmm.value != "qemu" and m.config.mode is not Mode.SEV:
        out.append(f"  {m.config.vmm.value} puts 0x600 in RDX, so the vCPU signature is unused")
    if launch["ovmf_hash"]:
        out.append(f"  starting from the given OVMF digest {launch['ovmf_hash']}")
    bh = d["boot_hashes"]
    if bh is None:
        out.append("boot hashes: none (no --kernel)")
    else:
        out += ["boot hashes (SHA-256):", f"  cmdline {bh['cmdline_sha256']}",
                f"  initrd  {bh['initrd_sha256']}", f"  kernel  {bh['kernel_sha256']}",
                f"  table at gpa {bh['table_gpa']:#x}: {bh['table']}"]
    seen: set[str] = set()
    for i, v in enumerate(d["vmsas"]):
        line = (f"cs {v['cs_attrib']:#x} base {v['cs_base']:#x} rip {v['rip']:#x} ss "
                f"{v['ss_attrib']:#x} tr {v['tr_attrib']:#x} rdx {v['rdx']:#x} g_pat "
                f"{v['g_pat']:#x} mxcsr {v['mxcsr']:#x} fcw {v['x87_fcw']:#x} sev_features "
                f"{v['sev_features']:#x}")
        if line not in seen:  # every AP has the same VMSA; print it once
            seen.add(line)
            out.append(f"VMSA vCPU {i} ({'BSP' if i == 0 else 'APs'}): eip {v['eip']:#x} {line}")
    label = "launch digest" if m.config.mode in (Mode.SNP, Mode.SNP_OVMF_HASH) else "SHA-256"
    out.append(f"steps ({label} after each):")
    for n, s in enumerate(d["steps"], 1):
        kind = s["page_type"] or "-"
        gpa = _hex(s["gpa"])
        contents = f" contents {s['contents_sha384']}" if s["contents_sha384"] else ""
        out.append(f"  {n:>3} {s['what']}: {kind} gpa {gpa} pages {s['pages']}{contents}")
        out.append(f"      -> {s['digest']}")
    out.append(f"digest: {d['digest']}")
    return "\n".join(out)


def _hex(value: int | None) -> str:
    return "-" if value is None else f"{value:#x}"
