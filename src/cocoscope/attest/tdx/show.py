"""A TDX quote as an ordered mapping of decoded fields (for ``attest tdx show`` text and JSON)."""

from __future__ import annotations

from typing import Any

from cocoscope.attest.tdx.quote import Quote
from cocoscope.errors import InputError
from cocoscope.report.envelope import plain


def describe(q: Quote, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file": source, "size": q.size, "tdx_version": q.tdx_version,
        "header": plain(q.header), "body_type": q.body_type, "body": plain(q.body),
        "signed_bytes": len(q.signed_bytes), "trailing_bytes": len(q.trailing),
    }
    out["body"]["td_attributes"] = f"{q.body.td_attributes:#018x}"
    out["body"]["xfam"] = f"{q.body.xfam:#018x}"
    sig = q.signature
    out["signature"] = {
        "quote_signature": sig.quote_signature.hex(), "attestation_key": sig.attestation_key.hex(),
        "qe_report": {k: v for k, v in plain(sig.qe_report).items() if k != "raw"},
        "qe_report_signature": sig.qe_report_signature.hex(), "qe_auth_data": sig.qe_auth_data.hex(),
    }
    try:
        from cocoscope.attest.tdx.pck import load_pem_chain, pck_extensions  # cryptography: lazy

        certs = load_pem_chain(sig.pck_chain_pem, source=source)
        ext = pck_extensions(certs[0], source=source)
        out["pck"] = {"chain": [c.subject.rfc4514_string() for c in certs], **plain(ext)}
    except InputError as exc:
        out["pck"] = {"error": exc.message}
    return out


def render_text(d: dict[str, Any], indent: str = "") -> list[str]:
    lines = []
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"{indent}{k}:")
            lines += render_text(v, indent + "  ")
        elif isinstance(v, list) and v and all(isinstance(x, str) and len(x) == 96 for x in v):
            lines += [f"{indent}{k}[{i}]: {x}" for i, x in enumerate(v)]  # RTMRs, one a line
        else:
            lines.append(f"{indent}{k}: {v}")
    return lines
