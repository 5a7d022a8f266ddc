"""Everything one verification needs, fetched into a directory for air-gapped use.

``snp_bundle`` gives the VCEK, the ASK/ARK chain and (when served) the AMD CRL of one report;
``tdx_bundle`` the TCB Info of one FMSPC with its TCB Signing chain, the TD QE Identity, the PCK
CRL of one CA and the Root CA CRL. The files are what the verify commands read: ``--certs DIR``
(and ``--crl DIR/crl.der``) for SNP, ``--collateral-dir DIR`` for TDX, which classifies them by
content. Items come from the cache when fresh at ``at`` and from the network otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from cocoscope.attest.fetch import kds, pcs
from cocoscope.attest.fetch.complete import QuotePlatform, fetch_vcek, snp_candidates
from cocoscope.attest.fetch.config import FetchConfig
from cocoscope.attest.fetch.http import FetchError
from cocoscope.attest.fetch.source import Source
from cocoscope.attest.snp.evidence import ReportEvidence
from cocoscope.errors import InputError


@dataclass(frozen=True)
class Bundle:
    files: tuple[tuple[str, bytes], ...]  # (file name, content)
    source: Source  # where each item came from (source.log)
    hint: str  # how to use the directory


def snp_bundle(evidence: ReportEvidence, config: FetchConfig, at: datetime) -> Bundle:
    signer = evidence.report.key_info.signing_key
    if signer == 1:
        raise InputError("the report is signed by a VLEK: AMD KDS does not serve VLEKs (the "
                         "cloud provider supplies them in the extended report's certificate "
                         "table; `attest snp fetch --certs-out` saves them in a guest)",
                         path=evidence.path)
    if signer != 0:
        raise InputError(f"SIGNING_KEY {signer}: the report names no VCEK to fetch",
                         path=evidence.path)
    source = config.source()
    got = fetch_vcek(evidence, source, config.kds_url, at)
    if got is None:
        tried = ", ".join(p.value for p in snp_candidates(evidence))
        raise FetchError(f"no VCEK for this chip and REPORTED_TCB (tried {tried})",
                         path=config.kds_url)
    vcek, product = got
    chain = source.get(kds.cert_chain_item(config.kds_url, product), at)
    if chain is None:  # only when offline, which a fetch command never is
        raise FetchError(f"no ASK/ARK chain for {product.value}", path=config.kds_url)
    files = [("vcek.der", vcek.body), ("ask_ark.pem", chain.body)]
    crl = source.get(kds.crl_item(config.kds_url, product), at)
    if crl is not None:
        files.append(("crl.der", crl.body))
    hint = "--certs DIR" + (" --crl DIR/crl.der" if crl is not None else "")
    return Bundle(tuple(files), source, hint)


def tdx_bundle(where: QuotePlatform, config: FetchConfig, at: datetime) -> Bundle:
    source = config.source()
    base, key = config.pcs_url, config.api_key
    tcb = source.get(pcs.tcb_info_item(base, where.fmspc, at, key), at)
    qe = source.get(pcs.qe_identity_item(base, at, key), at)
    if tcb is None or qe is None:  # only when offline, which a fetch command never is
        raise FetchError("TCB Info or QE Identity not available", path=base)
    chain_header = next(h for h in pcs.TCB_CHAIN_HEADERS if h in tcb.headers)
    files = [(f"tcb_info_{where.fmspc.hex()}.json", tcb.body),
             ("tcb_signing_chain.pem", unquote(tcb.headers[chain_header]).encode("ascii")),
             ("qe_identity.json", qe.body)]
    if where.ca is not None:
        crl = source.get(pcs.pck_crl_item(base, where.ca, at, key), at)
        if crl is not None:
            files.append((f"pck_crl_{where.ca}.der", pcs.crl_body(crl.body)))
    root = source.get(pcs.root_crl_item(base, key), at)
    if root is not None:
        files.append(("root_ca_crl.der", pcs.crl_body(root.body)))
    return Bundle(tuple(files), source, "--collateral-dir DIR")
