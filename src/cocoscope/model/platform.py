"""The platform a guest runs on, as a type.

Values are the spellings used in rule packs (``platforms = ["tdx"]``), the CLI (``--platform
snp``) and every report ("tdx", "snp", "sev-es", "sev", "none"); text from outside is turned into
a ``Platform`` by :func:`parse_platform` where it is read, and nowhere else is a platform a bare
string.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Platform(StrEnum):
    TDX = "tdx"  # Intel TDX trust domain
    SNP = "snp"  # AMD SEV-SNP
    SEV_ES = "sev-es"  # AMD SEV with encrypted register state, no memory integrity
    SEV = "sev"  # AMD SEV, memory encryption only
    NONE = "none"  # a plain VM: no memory encryption seen

    @property
    def confidential(self) -> bool:
        """A confidential-computing platform cocoscope audits, measures and attests (memory
        integrity and attestation): TDX and SEV-SNP. SEV and SEV-ES are not: the host can
        still replay or remap guest memory."""
        return self in CONFIDENTIAL

    @property
    def vendor_specific(self) -> bool:
        """Any CPU vendor's memory encryption (everything but NONE). On these a rule's
        ``platforms`` list decides whether it applies; a plain VM checked for readiness
        is held to every platform's rules."""
        return self is not Platform.NONE


# The platforms a user can target (--platform of fragment, surface, audit); the order is the
# one shown in help texts.
CONFIDENTIAL: tuple[Platform, ...] = (Platform.TDX, Platform.SNP)


def parse_platform(text: str) -> Platform:
    """``Platform`` from its spelling; ValueError naming the accepted values otherwise."""
    try:
        return Platform(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown platform {text!r}; expected one of "
                         f"{', '.join(p.value for p in Platform)}") from None


def rule_applies(platforms: Iterable[Platform] | None, platform: Platform | None) -> bool:
    """Whether a rule limited to ``platforms`` (None or empty: every platform) applies to a guest
    on ``platform`` (None: unknown). The one definition shared by the audit engine and the
    fragment generator: the list filters only on a vendor-specific platform; an unknown
    platform or a plain VM gets every rule."""
    if not platforms or platform is None or not platform.vendor_specific:
        return True
    return platform in frozenset(platforms)
