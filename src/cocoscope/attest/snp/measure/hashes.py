"""The SEV hashes table QEMU writes for measured direct boot (-kernel/-initrd/-append).

OVMF checks the kernel, initrd and command line it receives over fw_cfg against this table,
and the table itself is measured, so its bytes must equal QEMU's exactly: a header GUID and
length, then cmdline, initrd and kernel entries, each ``{GUID, u16 length, SHA-256}``, padded
to a multiple of 16 bytes.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass

TABLE_GUID = uuid.UUID("9438d606-4f22-4cc9-b479-a793d411fd21")
CMDLINE_GUID = uuid.UUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")
INITRD_GUID = uuid.UUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
KERNEL_GUID = uuid.UUID("4de79437-abd2-427f-b835-d5b172d2045b")

_ENTRY = struct.Struct("<16sH32s")
_HEADER = struct.Struct("<16sH")
TABLE_LENGTH = _HEADER.size + 3 * _ENTRY.size  # the value of the header's length field
PADDED_LENGTH = (TABLE_LENGTH + 15) & ~15


@dataclass(frozen=True)
class BootHashes:
    """SHA-256 of what QEMU loads for direct boot."""

    kernel: bytes
    initrd: bytes
    cmdline: bytes


def boot_hashes(kernel: bytes, initrd: bytes | None, append: str | None) -> BootHashes:
    # QEMU hashes the command line with its terminating NUL; no -append means an empty string.
    cmdline = (append or "").encode() + b"\0"
    return BootHashes(
        kernel=hashlib.sha256(kernel).digest(),
        initrd=hashlib.sha256(initrd or b"").digest(),
        cmdline=hashlib.sha256(cmdline).digest(),
    )


def hashes_table(h: BootHashes) -> bytes:
    table = _HEADER.pack(TABLE_GUID.bytes_le, TABLE_LENGTH)
    for guid, digest in ((CMDLINE_GUID, h.cmdline), (INITRD_GUID, h.initrd),
                         (KERNEL_GUID, h.kernel)):
        table += _ENTRY.pack(guid.bytes_le, _ENTRY.size, digest)
    return table + bytes(PADDED_LENGTH - TABLE_LENGTH)


def hashes_page(h: BootHashes, offset_in_page: int) -> bytes:
    """The 4 KiB page holding the table at the offset the firmware's hashes-table GPA gives."""
    table = hashes_table(h)
    return bytes(offset_in_page) + table + bytes(0x1000 - offset_in_page - len(table))
