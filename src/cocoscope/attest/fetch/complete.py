"""Fill in what a verification needs and was not given: the hook between loading and verify.

``complete(evidence, trust, config, at)`` returns the trust with the missing items added from the
cache or, with ``--fetch``, from AMD KDS / Intel PCS: for an SNP report the VCEK (by product,
CHIP_ID and REPORTED_TCB) and the AMD CRL; for a TDX quote the TCB Info for the PCK
certificate's FMSPC, the QE Identity, the PCK CRL of the quote's PCK CA and the Root CA CRL.
What the user supplied is never replaced. ``annotate`` adds to the result where each item came
from and whether revocation was checked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cocoscope.attest.fetch import kds, pcs
from cocoscope.attest.fetch.cache import Entry
from cocoscope.attest.fetch.config import FetchConfig
from cocoscope.attest.fetch.source import Item, Provenance, Source
from cocoscope.attest.result import Verification

if TYPE_CHECKING:
    from cryptography import x509

    from cocoscope.attest.snp.evidence import ReportEvidence
    from cocoscope.attest.snp.product import Product
    from cocoscope.attest.snp.verify import SnpTrust
    from cocoscope.attest.tdx.collateral import Collateral
    from cocoscope.attest.tdx.quote import QuoteEvidence
    from cocoscope.attest.tdx.verify import TdxTrust


# --- SEV-SNP -------------------------------------------------------------------------------


def snp_candidates(evidence: ReportEvidence) -> list[Product]:
    """Products whose KDS could hold the VCEK: CPUID says it (v3+); a v2 report's guess is
    tried first, then the other product sharing its CHIP_ID shape."""
    from cocoscope.attest.snp.product import Product
    from cocoscope.attest.snp.report import guess_product

    report = evidence.report
    known = report.cpuid_product()
    if known is not None:
        return [known]
    guess = guess_product(report)[0]
    if guess is Product.TURIN:
        return [guess]
    return [guess, *(p for p in (Product.MILAN, Product.GENOA) if p is not guess)]


def fetch_vcek(evidence: ReportEvidence, source: Source, base: str,
               at: datetime) -> tuple[Entry, Product] | None:
    for product in snp_candidates(evidence):
        spls = evidence.report.tcb("reported", product).components()
        item = kds.vcek_item(base, product, evidence.report.chip_id, spls)
        # A v2 report does not say its product: a 404 for one candidate is not an error.
        entry = source.get(dataclasses.replace(item, optional=True), at)
        if entry is not None:
            return entry, product
    return None


def complete_snp(evidence: ReportEvidence, trust: SnpTrust, source: Source, base: str,
                 at: datetime) -> SnpTrust:
    from cocoscope.attest.snp.certs import parse_der
    from cocoscope.attest.tdx.pck import load_crl

    signer = {0: "vcek", 1: "vlek"}.get(evidence.report.key_info.signing_key)
    have = {c.role[0] for c in trust.certs}
    certs, crl = list(trust.certs), trust.crl
    product = None
    if signer == "vlek" and "vlek" not in have:
        source.log.append(Provenance(
            "VLEK", "not fetchable: AMD KDS does not serve VLEKs; the cloud provider supplies "
            "them in the extended report's certificate table (--certs)", ""))
    if signer == "vcek" and "vcek" not in have:
        got = fetch_vcek(evidence, source, base, at)
        if got is not None:
            entry, product = got
            certs.append(parse_der(entry.body, _label(entry)))
    if crl is None:
        product = product or snp_candidates(evidence)[0]
        served = source.get(kds.crl_item(base, product, signer or "vcek"), at)
        if served is not None:
            crl = load_crl(served.body, source=_label(served))
    return dataclasses.replace(trust, certs=tuple(certs), crl=crl)


# --- TDX -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotePlatform:
    """What the collateral is looked up by: the PCK leaf's FMSPC and its CA's type."""

    fmspc: bytes
    ca: str | None  # "platform" / "processor"; None when the chain names neither


def quote_platform(evidence: QuoteEvidence) -> QuotePlatform | None:
    """None when the quote's PCK chain does not parse (the verifier reports that)."""
    from cocoscope.attest.tdx import pck
    from cocoscope.errors import InputError

    try:
        certs = pck.load_pem_chain(evidence.quote.signature.pck_chain_pem,
                                   source=f"{evidence.path} (PCK chain)")
        ext = pck.pck_extensions(certs[0], source=f"{evidence.path} (PCK leaf)")
        ca_cn = pck.subject_cn(certs[1]) if len(certs) > 1 else ""
    except InputError:
        return None
    except pck.CERT_ERRORS:
        return None
    ca = next((k for k, v in pcs.CA_TYPES.items() if v == ca_cn), None)
    return QuotePlatform(ext.fmspc, ca)


def tdx_items(col: Collateral | None, where: QuotePlatform, config: FetchConfig,
              at: datetime) -> dict[str, Item]:
    """The collateral items not already in ``col``."""
    from cocoscope.attest.tdx import pck

    base, key = config.pcs_url, config.api_key
    items: dict[str, Item] = {}
    if col is None or col.tcb_info_for(where.fmspc) is None:
        items["tcb"] = pcs.tcb_info_item(base, where.fmspc, at, key)
    if col is None or col.qe_identity is None:
        items["qe"] = pcs.qe_identity_item(base, at, key)
    if where.ca is not None and (col is None or not any(
            pck.common_name(c.issuer) == pcs.CA_TYPES[where.ca] for c in col.pck_crls)):
        items["pckcrl"] = pcs.pck_crl_item(base, where.ca, at, key)
    if col is None or col.root_crl is None:
        items["rootcrl"] = pcs.root_crl_item(base, key)
    return items


def complete_tdx(evidence: QuoteEvidence, trust: TdxTrust, source: Source,
                 config: FetchConfig, at: datetime) -> TdxTrust:
    from cocoscope.attest.tdx import pck
    from cocoscope.attest.tdx.collateral import Collateral, parse_qe_identity, parse_tcb_info

    where = quote_platform(evidence)
    if where is None:
        return trust
    col = trust.collateral
    got = {name: source.get(item, at) for name, item in tdx_items(col, where, config, at).items()}
    if not any(got.values()):
        return trust
    tcb, qe, pck_crl, root_crl = (got.get(k) for k in ("tcb", "qe", "pckcrl", "rootcrl"))
    chain: tuple[x509.Certificate, ...] | None = col.signing_chain if col else None
    if chain is None and (tcb or qe):
        signed = tcb or qe
        assert signed is not None
        chain = pcs.issuer_chain(signed.headers, (*pcs.TCB_CHAIN_HEADERS, pcs.QE_CHAIN_HEADER),
                                 _label(signed))
    labels = [col.directory] if col else []
    labels += [_label(e) for e in got.values() if e is not None]
    merged = Collateral(
        directory=" + ".join(labels),
        tcb_infos=(*(col.tcb_infos if col else ()),
                   *([parse_tcb_info(tcb.body, source=_label(tcb))] if tcb else [])),
        qe_identity=(col.qe_identity if col and col.qe_identity else
                     parse_qe_identity(qe.body, source=_label(qe)) if qe else None),
        signing_chain=chain,
        root_crl=(col.root_crl if col and col.root_crl else
                  pck.load_crl(pcs.crl_body(root_crl.body), source=_label(root_crl))
                  if root_crl else None),
        pck_crls=(*(col.pck_crls if col else ()),
                  *([pck.load_crl(pcs.crl_body(pck_crl.body), source=_label(pck_crl))]
                    if pck_crl else [])),
    )
    return dataclasses.replace(trust, collateral=merged)


def _label(entry: Entry) -> str:
    return f"{entry.url} (cache {entry.path})"


# --- both ----------------------------------------------------------------------------------


def complete(evidence: ReportEvidence | QuoteEvidence, trust: SnpTrust | TdxTrust,
             config: FetchConfig, at: datetime) -> tuple[SnpTrust | TdxTrust, Source]:
    from cocoscope.attest.snp.evidence import ReportEvidence
    from cocoscope.attest.snp.verify import SnpTrust
    from cocoscope.attest.tdx.verify import TdxTrust

    source = config.source()
    if isinstance(evidence, ReportEvidence) and isinstance(trust, SnpTrust):
        return complete_snp(evidence, trust, source, config.kds_url, at), source
    if not isinstance(evidence, ReportEvidence) and isinstance(trust, TdxTrust):
        return complete_tdx(evidence, trust, source, config, at), source
    return trust, source


def annotate(v: Verification, source: Source) -> Verification:
    """Where each fetched or cached item came from; for SNP whether revocation was checked
    (the TDX verifier says so itself)."""
    facts = dict(v.facts)
    if source.log:
        facts["collateral_sources"] = [p.line() for p in source.log]
    if v.kind == "snp-report" and "revocation" not in facts:
        crl = [c.name for c in v.checks if c.name == "chain.crl"]
        facts["revocation"] = ("chain.crl" if crl else
                               "not checked (no AMD CRL given, cached or served)")
    return dataclasses.replace(v, facts=facts)


def verify_completed(evidence: ReportEvidence | QuoteEvidence, trust: SnpTrust | TdxTrust,
                     policy: object, at: datetime, config: FetchConfig) -> Verification:
    """``attest.verify.verify`` after ``complete``, with the sources annotated."""
    from cocoscope.attest import verify as api

    trust, source = complete(evidence, trust, config, at)
    return annotate(api.verify(evidence, trust, policy, at), source)  # type: ignore[arg-type]
