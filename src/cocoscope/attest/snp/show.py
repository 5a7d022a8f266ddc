"""A report as an ordered mapping of named, decoded fields (for ``show`` text and JSON)."""

from __future__ import annotations

from typing import Any

from cocoscope.attest.snp.evidence import ReportEvidence
from cocoscope.attest.snp.report import guess_product


def describe(ev: ReportEvidence) -> dict[str, Any]:
    r = ev.report
    product, how = guess_product(r)
    gp, pi, ki = r.policy, r.platform_info, r.key_info
    signer = {0: "VCEK", 1: "VLEK", 7: "none"}.get(ki.signing_key, f"reserved ({ki.signing_key})")
    out: dict[str, Any] = {
        "form": ev.form,
        "version": r.version,
        "product": {"name": product.value, "from": how},
        "guest_svn": r.guest_svn,
        "policy": {
            "raw": f"{gp.raw:#x}", "abi": f"{gp.abi_major}.{gp.abi_minor}", "smt": gp.smt,
            "migrate_ma": gp.migrate_ma, "debug": gp.debug, "single_socket": gp.single_socket,
            "cxl_allow": gp.cxl_allow, "mem_aes_256_xts": gp.mem_aes_256_xts,
            "rapl_dis": gp.rapl_dis, "ciphertext_hiding_dram": gp.ciphertext_hiding_dram,
            "page_swap_disable": gp.page_swap_disable,
        },
        "family_id": r.family_id.hex(),
        "image_id": r.image_id.hex(),
        "vmpl": r.vmpl,
        "signature_algo": r.signature_algo,
        "platform_info": {
            "raw": f"{pi.raw:#x}", "smt_en": pi.smt_en, "tsme_en": pi.tsme_en,
            "ecc_en": pi.ecc_en, "rapl_dis": pi.rapl_dis,
            "ciphertext_hiding_dram_en": pi.ciphertext_hiding_dram_en,
            "alias_check_complete": pi.alias_check_complete, "tio_en": pi.tio_en,
        },
        "key_info": {"raw": f"{ki.raw:#x}", "author_key_en": ki.author_key_en,
                     "mask_chip_key": ki.mask_chip_key, "signing_key": signer},
        "report_data": r.report_data.hex(),
        "measurement": r.measurement.hex(),
        "host_data": r.host_data.hex(),
        "id_key_digest": r.id_key_digest.hex(),
        "author_key_digest": r.author_key_digest.hex(),
        "report_id": r.report_id.hex(),
        "report_id_ma": r.report_id_ma.hex(),
        "cpuid": None if r.cpuid_fam_id is None else
        {"family": f"{r.cpuid_fam_id:#x}", "model": f"{r.cpuid_mod_id:#x}",
         "stepping": f"{r.cpuid_step:#x}"},
        "chip_id": r.chip_id.hex(),
        "current_fw": str(r.current_fw),
        "committed_fw": str(r.committed_fw),
    }
    for which in ("current", "reported", "committed", "launch"):
        tcb = r.tcb(which, product)
        out[f"{which}_tcb"] = {"raw": tcb.raw.hex(), **tcb.components()}
    if r.version >= 5:
        out["launch_mit_vector"] = f"{r.launch_mit_vector:#x}"
        out["current_mit_vector"] = f"{r.current_mit_vector:#x}"
    out["signature"] = {"r": f"{r.signature_r:096x}", "s": f"{r.signature_s:096x}"}
    if ev.hcl is not None:
        ok, why = ev.hcl.binding(r)
        out["hcl"] = {"report_type": ev.hcl.report_type, "hash_type": ev.hcl.hash_type,
                      "variable_data_size": len(ev.hcl.variable_data),
                      "report_data_binding": ok, "binding": why}
    reserved = r.nonzero_reserved()
    if reserved:
        out["nonzero_reserved"] = [f"{a:#x}-{b - 1:#x}" for a, b in reserved]
    return out


def render_text(fields: dict[str, Any], indent: int = 0) -> list[str]:
    lines = []
    pad = "  " * indent
    for key, value in fields.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines += render_text(value, indent + 1)
        elif isinstance(value, list):
            lines.append(f"{pad}{key}: {', '.join(map(str, value))}")
        else:
            lines.append(f"{pad}{key + ':':<{max(28 - len(pad), 1)}} {value}")
    return lines
