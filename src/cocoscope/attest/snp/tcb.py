"""TCB consistency of an SEV-SNP report, as go-sev-guest's validate.go checks it.

A report carries four TCB_VERSIONs (facts from the SEV-SNP ABI and go-sev-guest):
  CURRENT   what the platform runs now;
  COMMITTED what the firmware has committed to: the platform can roll back to it at any time;
  REPORTED  what the host chose to report (the VCEK is issued for it);
  LAUNCH    CURRENT at the time the guest was launched.
The checks (authenticity side: they need no reference value from the owner):
  ``tcb.committed``  COMMITTED == CURRENT (TCB, firmware build and API version): a platform
                     running uncommitted ("provisional") firmware may roll back to the committed
                     one, so a report attesting the newer firmware promises more than the
                     platform keeps. ``permit_provisional_firmware = true`` accepts
                     COMMITTED <= CURRENT component by component instead.
  ``<vek>.tcb_current`` the certificate's TCB <= CURRENT (a VCEK for a TCB the platform does
                     not run is the host's mistake at best). REPORTED == certificate is checked
                     with the binding (``vcek.tcb``).
``min_tcb`` (REPORTED) and ``min_launch_tcb`` (LAUNCH) floors are the policy's, in
``snp/policy.py``.
"""

from __future__ import annotations

from cocoscope.attest.result import Check, failed, passed
from cocoscope.attest.snp.product import Product
from cocoscope.attest.snp.report import AttestationReport


def _higher(low: dict[str, int], high: dict[str, int]) -> list[str]:
    """Components where ``low`` is above ``high`` (so ``low <= high`` does not hold)."""
    return [f"{k} {low[k]} > {high[k]}" for k in low if k in high and low[k] > high[k]]


def committed_check(report: AttestationReport, product: Product, permit_provisional: bool
                    ) -> Check:
    current = report.tcb("current", product).components()
    committed = report.tcb("committed", product).components()
    cur_fw, com_fw = report.current_fw.as_tuple(), report.committed_fw.as_tuple()
    shown = (f"COMMITTED {report.tcb('committed', product)} fw {report.committed_fw}, "
             f"CURRENT {report.tcb('current', product)} fw {report.current_fw}")
    if committed == current and com_fw == cur_fw:
        return passed("tcb.committed", f"COMMITTED == CURRENT ({report.tcb('current', product)}, "
                                       f"fw {report.current_fw})")
    above = _higher(committed, current)
    if com_fw > cur_fw:
        above.append(f"firmware {report.committed_fw} > {report.current_fw}")
    if above:  # never consistent, whatever the policy
        return failed("tcb.committed", f"COMMITTED above CURRENT: {', '.join(above)} ({shown})")
    if permit_provisional:
        return passed("tcb.committed", f"provisional firmware permitted by policy: {shown}")
    return failed("tcb.committed", f"provisional firmware: {shown}; the platform may roll back "
                                   "to the committed level (permit_provisional_firmware = true "
                                   "to accept)")


def certificate_check(kind: str, cert_spls: dict[str, int | None], report: AttestationReport,
                      product: Product) -> Check:
    current = report.tcb("current", product).components()
    missing = [k for k in current if cert_spls.get(k) is None]
    if missing:
        return failed(f"{kind}.tcb_current", f"certificate lacks SPL(s) {', '.join(missing)}")
    cert = {k: v for k, v in cert_spls.items() if k in current and v is not None}
    above = _higher(cert, current)
    if above:
        return failed(f"{kind}.tcb_current", f"certificate TCB above CURRENT_TCB: "
                                             f"{', '.join(above)}")
    return passed(f"{kind}.tcb_current", f"certificate TCB <= CURRENT "
                                         f"{report.tcb('current', product)}")
