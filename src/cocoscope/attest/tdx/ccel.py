"""The ACPI CCEL table: where the confidential-computing event log lives and for which TEE.

56 bytes: the standard 36-byte ACPI header (signature "CCEL"), then CC type (u8, 2 = TDX),
CC subtype (u8), reserved (u16), LAML (u64, log area minimum length) and LASA (u64, log area
start address). On Linux the table is /sys/firmware/acpi/tables/CCEL and the log area it
points at is exported as /sys/firmware/acpi/tables/data/CCEL.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cocoscope.errors import InputError

CCEL_TABLE_SIZE = 56
CC_TYPE_SEV = 1
CC_TYPE_TDX = 2


@dataclass(frozen=True)
class CcelTable:
    revision: int
    oem_id: str
    oem_table_id: str
    cc_type: int
    cc_subtype: int
    log_area_min_length: int  # LAML
    log_area_start: int  # LASA (guest-physical address)
    checksum_ok: bool


def parse_ccel_table(data: bytes, path: str = "<CCEL table>") -> CcelTable:
    if len(data) < CCEL_TABLE_SIZE:
        raise InputError(
            f"ACPI CCEL table is {len(data)} bytes, expected {CCEL_TABLE_SIZE}",
            path=path,
            where=f"offset {len(data):#x}",
        )
    if data[:4] != b"CCEL":
        raise InputError(f"ACPI table signature is {data[:4]!r}, expected b'CCEL'", path=path, where="offset 0x0")
    (length,) = struct.unpack_from("<I", data, 4)
    if length != CCEL_TABLE_SIZE or len(data) != CCEL_TABLE_SIZE:
        raise InputError(
            f"ACPI CCEL table length field is {length} and file size {len(data)}, expected {CCEL_TABLE_SIZE}",
            path=path,
            where="offset 0x4",
        )
    cc_type, cc_subtype = data[36], data[37]
    laml, lasa = struct.unpack_from("<QQ", data, 40)
    return CcelTable(
        revision=data[8],
        oem_id=data[10:16].decode("ascii", errors="replace").rstrip(),
        oem_table_id=data[16:24].decode("ascii", errors="replace").rstrip(),
        cc_type=cc_type,
        cc_subtype=cc_subtype,
        log_area_min_length=laml,
        log_area_start=lasa,
        # ACPI tables sum to zero modulo 256; a mismatch means a corrupt or edited copy.
        checksum_ok=sum(data) % 256 == 0,
    )


def check_log_area(table: CcelTable, log_size: int, *, path: str) -> None:
    """The log area exported by the kernel must be the size the table declares, for TDX."""
    if table.cc_type != CC_TYPE_TDX:
        raise InputError(f"CCEL table CC type is {table.cc_type}, expected {CC_TYPE_TDX} (TDX)", path=path, where="offset 0x24")
    if log_size != table.log_area_min_length:
        raise InputError(
            f"log area is {log_size} bytes but the CCEL table declares LAML {table.log_area_min_length}",
            path=path,
        )
