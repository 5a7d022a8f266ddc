"""The SNP guest context's launch digest: one SHA-384 over PAGE_INFO per page added.

SNP_LAUNCH_UPDATE extends the digest as ``LD' = SHA-384(PAGE_INFO)`` where PAGE_INFO (0x70
bytes, SNP firmware ABI "PAGE_INFO structure") is the current digest, the SHA-384 of the
page's contents (zeros for pages whose contents the PSP does not hash), the structure length,
the page type, the IMI flag, three VMPL permission bytes, a reserved byte and the GPA.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum

PAGE_SIZE = 0x1000
DIGEST_SIZE = 48
PAGE_INFO_LENGTH = 0x70
# A VMSA page is recorded at GPA -1, page-aligned and cut to the 52-bit physical address width.
VMSA_GPA = 0xFFFFFFFFF000

_ZERO_CONTENTS = bytes(DIGEST_SIZE)


class PageType(IntEnum):
    NORMAL = 1
    VMSA = 2
    ZERO = 3
    UNMEASURED = 4
    SECRETS = 5
    CPUID = 6


def _page_info_tail(page_type: PageType, gpa: int) -> bytes:
    # length, type, IMI=0, VMPL3/2/1 permissions=0, reserved, GPA
    return struct.pack("<HBB4xQ", PAGE_INFO_LENGTH, page_type, 0, gpa)


@dataclass(frozen=True)
class Step:
    """One contiguous run of pages added to the digest, for --explain.

    ``contents`` is the SHA-384 of the page when the run is a single hashed page (a VMSA or
    the hashes-table page); ``digest`` is the launch digest after the run.
    """

    what: str
    page_type: PageType | None  # None for the SHA-256 digests of SEV and SEV-ES
    gpa: int | None
    pages: int
    contents: bytes | None
    digest: bytes


def extend_vmsa(digest: bytes, contents: bytes) -> bytes:
    """The launch digest after one VMSA page whose SHA-384 is ``contents``."""
    return hashlib.sha384(digest + contents + _page_info_tail(PageType.VMSA, VMSA_GPA)).digest()


class LaunchDigest:
    """Accumulates the digest and the steps that produced it (a builder, hence mutable)."""

    def __init__(self, seed: bytes = _ZERO_CONTENTS) -> None:
        if len(seed) != DIGEST_SIZE:
            raise ValueError("launch digest seed must be 48 bytes")
        self.value = seed
        self.steps: list[Step] = []

    def _extend(self, page_type: PageType, gpa: int, contents: bytes) -> None:
        self.value = hashlib.sha384(self.value + contents + _page_info_tail(page_type, gpa)).digest()

    def add_normal(self, what: str, gpa: int, data: bytes) -> None:
        """Hashed pages (firmware, hashes table); ``data`` is whole pages."""
        assert len(data) % PAGE_SIZE == 0
        view = memoryview(data)
        sha384 = hashlib.sha384
        pack = struct.Struct("<HBB4xQ").pack
        ld = self.value
        contents = b""
        for off in range(0, len(data), PAGE_SIZE):
            contents = sha384(view[off:off + PAGE_SIZE]).digest()
            ld = sha384(ld + contents + pack(PAGE_INFO_LENGTH, PageType.NORMAL, 0, gpa + off)).digest()
        self.value = ld
        pages = len(data) // PAGE_SIZE
        self.steps.append(Step(what, PageType.NORMAL, gpa, pages,
                               contents if pages == 1 else None, ld))

    def add_unhashed(self, what: str, page_type: PageType, gpa: int, size: int) -> None:
        """Pages whose contents the PSP does not hash (zero, unmeasured, secrets, CPUID)."""
        assert size % PAGE_SIZE == 0 and page_type not in (PageType.NORMAL, PageType.VMSA)
        for off in range(0, size, PAGE_SIZE):
            self._extend(page_type, gpa + off, _ZERO_CONTENTS)
        self.steps.append(Step(what, page_type, gpa, size // PAGE_SIZE, None, self.value))

    def add_vmsa(self, what: str, page: bytes) -> None:
        assert len(page) == PAGE_SIZE
        contents = hashlib.sha384(page).digest()
        self.value = extend_vmsa(self.value, contents)
        self.steps.append(Step(what, PageType.VMSA, VMSA_GPA, 1, contents, self.value))
