"""The real SEV-SNP vectors of tests/data/attestation/snp/.

The expected outcomes and the times at which the certificates are valid are those stated in
tests/data/attestation/snp/PROVENANCE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cocoscope.attest.snp.policy import SnpPolicy
from tests.paths import ATTESTATION

SNP = ATTESTATION / "snp"


@dataclass(frozen=True)
class Vector:
    name: str
    report: Path
    vek: Path
    chain: Path | None  # ASK/ASVK + ARK as published next to the report
    at: datetime  # a time inside every certificate's validity window
    debug: bool  # DEBUG=1: fails the default policy
    # COMMITTED_TCB below CURRENT_TCB (uncommitted firmware): fails the default policy
    # (tcb.committed) unless permit_provisional_firmware; both trustee reports run so.
    provisional: bool = False

    def policy(self, **kw: object) -> SnpPolicy:
        """A policy this vector passes apart from what ``kw`` sets (DEBUG and provisional
        firmware accepted where the vector has them)."""
        base: dict[str, object] = {"allow_debug": self.debug,
                                   "permit_provisional_firmware": self.provisional}
        return SnpPolicy(**{**base, **kw})  # type: ignore[arg-type]


VECTORS = {
    "go-sev-guest": Vector("go-sev-guest", SNP / "go-sev-guest/attestation.bin",
                           SNP / "go-sev-guest/vcek.testcer", SNP / "go-sev-guest/milan.testcer",
                           datetime(2022, 9, 24, 1, 0, tzinfo=UTC), True),
    "virtee-milan": Vector("virtee-milan", SNP / "virtee-sev/report_milan.hex",
                           SNP / "virtee-sev/vcek_milan.der", SNP / "virtee-sev/cert_chain_milan",
                           datetime(2024, 1, 1, tzinfo=UTC), False),
    "trustee-vcek": Vector("trustee-vcek", SNP / "trustee/test-report.bin",
                           SNP / "trustee/test-vcek.der", SNP / "trustee/milan_ask_ark_asvk.pem",
                           datetime(2024, 1, 1, tzinfo=UTC), False, provisional=True),
    "trustee-vlek": Vector("trustee-vlek", SNP / "trustee/test-vlek-report.bin",
                           SNP / "trustee/test-vlek.der", SNP / "go-sev-guest/milanvlek.testcer",
                           datetime(2025, 6, 1, tzinfo=UTC), False, provisional=True),
}


def hcl_wrap(report: bytes, var_data: bytes, *, hash_type: int = 1, report_type: int = 2) -> bytes:
    """An Azure HCL attestation report around ``report`` (layout as in evidence.py)."""
    header = b"HCLA" + (1).to_bytes(4, "little") + (0x4C0 + 20 + len(var_data)).to_bytes(
        4, "little") + (2).to_bytes(4, "little") + bytes(16)
    igvm = b"".join(v.to_bytes(4, "little") for v in
                    (20 + len(var_data), 1, report_type, hash_type, len(var_data)))
    return header + report.ljust(1184, b"\0") + igvm + var_data


def cert_table(entries: list[tuple[str, bytes]]) -> bytes:
    """An SNP extended-report certificate table: GUID entries, zero entry, then the blobs."""
    import uuid

    table_len = 24 * (len(entries) + 1)
    head, body = b"", b""
    for guid, blob in entries:
        head += uuid.UUID(guid).bytes + (table_len + len(body)).to_bytes(4, "little") + len(
            blob).to_bytes(4, "little")
        body += blob
    return head + bytes(24) + body


GUID = {"vcek": "63da758d-e664-4564-adc5-f4b93be8accd", "vlek": "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
        "ask": "4ab7b379-bbac-4fe4-a02f-05aef327c782", "ark": "c0b406a4-a803-4952-9743-3fb6014cd0ae"}


def pem_certs(path: Path) -> list[bytes]:
    """DER of every certificate in a PEM file."""
    import base64
    import re

    text = path.read_bytes()
    return [base64.b64decode(m) for m in re.findall(
        rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)]
