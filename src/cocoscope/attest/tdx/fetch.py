"""Evidence from a running TDX guest: the quote (configfs-tsm), the TDREPORT and the CCEL log.

What the upstream kernel offers (include/uapi/linux/tdx-guest.h, Documentation/ABI/testing/
configfs-tsm-report):

* configfs-tsm (Linux >= 6.7): ``mkdir /sys/kernel/config/tsm/report/<name>``, write up to 64
  bytes of REPORTDATA to ``inblob``, read the signed quote from ``outblob``. ``provider`` names
  the backend ("tdx_guest"); ``generation`` counts inblob writes, so reading it before and
  after ``outblob`` detects another process reusing the same entry. The TDX provider gets the
  quote from the host's quote service through the GetQuote TDVMCALL.
* ``/dev/tdx_guest``: only ``TDX_CMD_GET_REPORT0`` (REPORTDATA in, 1024-byte TDREPORT out).
  A TDREPORT is MAC'd for the local platform, not signed; the old out-of-tree
  ``TDX_CMD_GET_QUOTE`` ioctl never went upstream. So the fallback yields a TDREPORT and says
  so; turning it into a quote needs configfs-tsm or a quote-generation service.
* CCEL: the ACPI table at ``/sys/firmware/acpi/tables/CCEL`` and the log area it points at at
  ``/sys/firmware/acpi/tables/data/CCEL``.

Every path is taken relative to ``root`` so that tests run against a fake tree.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cocoscope.attest.tdx.ccel import CcelTable, check_log_area, parse_ccel_table
from cocoscope.attest.tdx.eventlog import EventLog, parse_eventlog
from cocoscope.attest.tdx.quote import parse_quote
from cocoscope.errors import InputError, VerificationError
from cocoscope.evidence import files

REPORT_DATA_SIZE = 64
TDREPORT_SIZE = 1024
TDREPORT_REPORTDATA_OFFSET = 128
TSM_REPORT_DIR = "sys/kernel/config/tsm/report"
TDX_GUEST_DEV = "dev/tdx_guest"
CCEL_TABLE = "sys/firmware/acpi/tables/CCEL"
CCEL_DATA = "sys/firmware/acpi/tables/data/CCEL"
TSM_PROVIDER = "tdx_guest"
# _IOWR('T', 1, struct tdx_report_req { __u8 reportdata[64]; __u8 tdreport[1024]; })
TDX_CMD_GET_REPORT0 = (3 << 30) | ((REPORT_DATA_SIZE + TDREPORT_SIZE) << 16) | (ord("T") << 8) | 1
MAX_QUOTE_SIZE = 64 * 1024
MAX_CCEL_SIZE = 64 * 1024 * 1024
_OUTBLOB = files.InputKind("quote (configfs-tsm outblob)", MAX_QUOTE_SIZE)
_CCEL_AREA = files.InputKind("CCEL log area", MAX_CCEL_SIZE)
_PROVIDER = files.InputKind("provider", 256)

IoctlFn = Callable[[int, int, bytearray, bool], int]


@dataclass(frozen=True)
class FetchedQuote:
    quote: bytes
    provider: str
    generation: int
    entry: str  # the configfs-tsm report directory used


@dataclass(frozen=True)
class FetchedCcel:
    table: CcelTable
    log: EventLog
    data: bytes


def report_data(nonce: bytes) -> bytes:
    """REPORTDATA is 64 bytes: a shorter nonce is zero-padded (what a verifier must compare)."""
    if not 0 < len(nonce) <= REPORT_DATA_SIZE:
        raise InputError(f"nonce must be 1..{REPORT_DATA_SIZE} bytes, got {len(nonce)}")
    return nonce.ljust(REPORT_DATA_SIZE, b"\x00")


def _read_int(path: Path, what: str) -> int:
    text = files.read_input(str(path), files.InputKind(what, 64)).decode("ascii", errors="replace").strip()
    try:
        return int(text, 0)
    except ValueError:
        raise InputError(f"{what} is {text!r}, expected a number", path=str(path)) from None


def configfs_available(root: Path) -> bool:
    return (root / TSM_REPORT_DIR).is_dir()


def fetch_quote(root: Path, nonce: bytes, *, entry: str | None = None) -> FetchedQuote:
    """A quote over ``nonce`` through configfs-tsm; checks provider, generation and REPORTDATA.

    With ``entry`` an existing report directory is reused (and kept); otherwise a fresh one is
    created and removed afterwards.
    """
    rd = report_data(nonce)
    base = root / TSM_REPORT_DIR
    if not base.is_dir():
        raise InputError("configfs-tsm is not available (is configfs mounted, kernel >= 6.7?)", path=str(base))
    created = entry is None
    directory = base / (entry or f"cocoscope-{os.getpid()}-{secrets.token_hex(4)}")
    if created:
        try:
            directory.mkdir()
        except OSError as exc:
            raise InputError(f"cannot create a report entry: {exc.strerror or exc}", path=str(directory)) from None
    elif not directory.is_dir():
        raise InputError("configfs-tsm report entry does not exist", path=str(directory))
    try:
        provider = files.read_input(str(directory / "provider"), _PROVIDER).decode("ascii", errors="replace").strip()
        if provider != TSM_PROVIDER:
            raise InputError(f"configfs-tsm provider is {provider!r}, expected {TSM_PROVIDER!r} (not a TDX guest?)",
                             path=str(directory / "provider"))
        files.write_output(str(directory / "inblob"), rd, "REPORTDATA")
        before = _read_int(directory / "generation", "generation")
        quote = files.read_input(str(directory / "outblob"), _OUTBLOB)
        after = _read_int(directory / "generation", "generation")
    finally:
        if created:
            _remove_entry(directory)
    if before != after:
        # Someone else wrote inblob between our write and read: the quote may be theirs.
        raise VerificationError(
            f"configfs-tsm generation changed from {before} to {after} while reading the quote; retry",
            path=str(directory),
        )
    parsed = parse_quote(quote, source=str(directory / "outblob"))
    if parsed.body.report_data != rd:
        raise VerificationError(
            "the quote's REPORTDATA is not the nonce that was written (stale or foreign outblob)",
            path=str(directory / "outblob"),
        )
    return FetchedQuote(quote, provider, after, str(directory))


def _remove_entry(directory: Path) -> None:
    # On configfs rmdir removes the attribute files with the directory. Failure only leaks
    # an empty entry, which must not hide the real result or error.
    try:
        directory.rmdir()
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EBUSY):
            raise InputError(f"cannot remove report entry: {exc.strerror or exc}", path=str(directory)) from None


def fetch_tdreport(root: Path, nonce: bytes, *, ioctl: IoctlFn | None = None) -> bytes:
    """TDREPORT over ``nonce`` via /dev/tdx_guest TDX_CMD_GET_REPORT0 (local MAC, no signature)."""
    rd = report_data(nonce)
    dev = root / TDX_GUEST_DEV
    call: IoctlFn = ioctl or fcntl.ioctl
    buf = bytearray(rd + bytes(TDREPORT_SIZE))
    try:
        fd = os.open(dev, os.O_RDWR)
    except OSError as exc:
        raise InputError(f"cannot open TDX guest device: {exc.strerror or exc}", path=str(dev)) from None
    try:
        call(fd, TDX_CMD_GET_REPORT0, buf, True)
    except OSError as exc:
        raise InputError(f"TDX_CMD_GET_REPORT0 failed: {exc.strerror or exc}", path=str(dev)) from None
    finally:
        os.close(fd)
    report = bytes(buf[REPORT_DATA_SIZE:])
    if report[TDREPORT_REPORTDATA_OFFSET : TDREPORT_REPORTDATA_OFFSET + REPORT_DATA_SIZE] != rd:
        raise VerificationError("TDREPORT does not carry the requested REPORTDATA", path=str(dev))
    return report


def fetch_ccel(root: Path) -> FetchedCcel:
    """The CCEL table and log area, checked against each other and parsed."""
    table_path, data_path = root / CCEL_TABLE, root / CCEL_DATA
    table = parse_ccel_table(files.read_input(str(table_path), files.CCEL_TABLE), str(table_path))
    data = files.read_input(str(data_path), _CCEL_AREA)
    check_log_area(table, len(data), path=str(data_path))
    return FetchedCcel(table, parse_eventlog(data, str(data_path)), data)
