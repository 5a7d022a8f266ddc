"""Fetch a fresh SNP report inside a running guest: configfs-tsm first, /dev/sev-guest second.

configfs-tsm (Linux 6.7+, Documentation/ABI/testing/configfs-tsm): make a directory under
``/sys/kernel/config/tsm/report``, write the nonce to ``inblob``, read ``generation``, read
``outblob`` (the report) and ``auxblob`` (the certificate table, if the host supplied one), and
read ``generation`` again: a change means another writer raced us and the report may carry
their nonce. ``provider`` must say ``sev_guest`` (a TDX guest says ``tdx_guest``).

Every path is under ``root`` so tests run against a fake tree. The returned report is checked to
carry the caller's nonce in REPORT_DATA; a report without it is never handed back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cocoscope.attest.snp.report import REPORT_SIZE, parse_report
from cocoscope.errors import InputError, VerificationError
from cocoscope.evidence import files

TSM_REPORT = "sys/kernel/config/tsm/report"
SEV_GUEST = "dev/sev-guest"
NONCE_SIZE = 64

# include/uapi/linux/sev-guest.h: _IOWR('S', nr, struct snp_guest_request_ioctl /* 32 bytes */)
SNP_GET_REPORT = 0xC0205300
SNP_GET_EXT_REPORT = 0xC0205302
_VMM_ERR_INVALID_LEN = 1
_MSG_REPORT_RSP_HEADER = 0x20


@dataclass(frozen=True)
class FetchedReport:
    report: bytes
    certs: bytes | None  # SNP certificate table (auxblob / extended report), if any
    source: str  # "configfs-tsm" or "/dev/sev-guest"
    provider: str


def _pad_nonce(nonce: bytes) -> bytes:
    if len(nonce) > NONCE_SIZE:
        raise InputError(f"nonce is {len(nonce)} bytes; REPORT_DATA holds at most {NONCE_SIZE}")
    return nonce.ljust(NONCE_SIZE, b"\0")


def _check(report: bytes, nonce64: bytes, where: str) -> bytes:
    parsed = parse_report(report, path=where)
    if parsed.report_data != nonce64:
        raise VerificationError("report does not carry the requested nonce in REPORT_DATA "
                                "(stale or foreign report)", path=where)
    return report


def fetch_configfs(nonce: bytes, root: str = "/", *, vmpl: int | None = None,
                   make_entry: Callable[[str], None] = os.mkdir,
                   attempts: int = 3) -> FetchedReport:
    """One report through configfs-tsm. ``make_entry`` is os.mkdir (tests pass a fake kernel)."""
    nonce64 = _pad_nonce(nonce)
    base = os.path.join(root, TSM_REPORT)
    entry = os.path.join(base, f"cocoscope-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        make_entry(entry)
    except OSError as exc:
        raise InputError(f"cannot create a report entry: {exc.strerror or exc}",
                         path=base) from None
    try:
        provider = files.read_input(os.path.join(entry, "provider"), files.TSM_ATTRIBUTE).decode("ascii", "replace").strip()
        if provider != "sev_guest":
            raise InputError(f"configfs-tsm provider is {provider!r}, not 'sev_guest' "
                             "(not an SEV-SNP guest?)", path=entry)
        if vmpl is not None:
            files.write_output(os.path.join(entry, "privlevel"), str(vmpl).encode(), "privlevel")
        for _ in range(attempts):
            files.write_output(os.path.join(entry, "inblob"), nonce64, "REPORT_DATA")
            gen = files.read_input(os.path.join(entry, "generation"), files.TSM_ATTRIBUTE).strip()
            out = files.read_input(os.path.join(entry, "outblob"), files.REPORT)
            aux_path = os.path.join(entry, "auxblob")
            aux = files.read_input(aux_path, files.CERTIFICATE) if os.path.exists(aux_path) else b""
            if files.read_input(os.path.join(entry, "generation"), files.TSM_ATTRIBUTE).strip() == gen:
                return FetchedReport(_check(out, nonce64, os.path.join(entry, "outblob")),
                                     aux or None, "configfs-tsm", provider)
        raise InputError(f"report generation kept changing over {attempts} attempts "
                         "(another process is using this entry)", path=entry)
    finally:
        # A real configfs entry is always removable; a fake test tree keeps its files.
        with contextlib.suppress(OSError):
            os.rmdir(entry)


def _ioctl(fd: int, request: int, req: ctypes.Array[ctypes.c_char], resp_size: int
           ) -> tuple[bytes, int, int]:
    """Issue one guest request: (response bytes, errno or 0, exitinfo2)."""
    resp = ctypes.create_string_buffer(resp_size)
    arg = bytearray(struct.pack("<B7xQQQ", 1, ctypes.addressof(req), ctypes.addressof(resp), 0))
    try:
        fcntl.ioctl(fd, request, arg, True)
        err = 0
    except OSError as exc:
        err = exc.errno or errno.EIO
    exitinfo2 = struct.unpack_from("<Q", arg, 24)[0]
    return resp.raw, err, exitinfo2


def fetch_sev_guest(nonce: bytes, root: str = "/", *, vmpl: int = 0,
                    want_certs: bool = False) -> FetchedReport:
    """One report through the /dev/sev-guest ioctls (SNP_GET_REPORT / SNP_GET_EXT_REPORT)."""
    nonce64 = _pad_nonce(nonce)
    dev = os.path.join(root, SEV_GUEST)
    try:
        fd = os.open(dev, os.O_RDWR)
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=dev) from None
    try:
        report_req = nonce64 + struct.pack("<I", vmpl) + bytes(28)
        certs: bytes | None = None
        if want_certs:
            certs_len = 4 * 4096
            for _ in range(2):
                certs_buf = ctypes.create_string_buffer(certs_len)
                req = ctypes.create_string_buffer(report_req + struct.pack(
                    "<QI4x", ctypes.addressof(certs_buf), certs_len), 112)
                resp, err, exitinfo2 = _ioctl(fd, SNP_GET_EXT_REPORT, req, 4000)
                if err and exitinfo2 >> 32 == _VMM_ERR_INVALID_LEN:
                    certs_len = struct.unpack_from("<I", req.raw, 104)[0]  # what the host needs
                    continue
                certs = certs_buf.raw
                break
        else:
            req = ctypes.create_string_buffer(report_req, 96)
            resp, err, exitinfo2 = _ioctl(fd, SNP_GET_REPORT, req, 4000)
        if err:
            raise InputError(f"SNP report request failed: {os.strerror(err)} "
                             f"(exitinfo2 {exitinfo2:#x})", path=dev)
    finally:
        os.close(fd)
    status, size = struct.unpack_from("<II", resp, 0)
    if status != 0 or size < REPORT_SIZE:
        raise InputError(f"firmware returned status {status:#x}, report size {size}", path=dev)
    report = resp[_MSG_REPORT_RSP_HEADER:_MSG_REPORT_RSP_HEADER + REPORT_SIZE]
    return FetchedReport(_check(report, nonce64, dev), certs, "/dev/sev-guest", "sev_guest")


def fetch_report(nonce: bytes, root: str = "/", *, vmpl: int | None = None,
                 want_certs: bool = False) -> FetchedReport:
    """configfs-tsm when the kernel has it, else /dev/sev-guest."""
    if os.path.isdir(os.path.join(root, TSM_REPORT)):
        return fetch_configfs(nonce, root, vmpl=vmpl)
    if os.path.exists(os.path.join(root, SEV_GUEST)):
        return fetch_sev_guest(nonce, root, vmpl=vmpl or 0, want_certs=want_certs)
    raise InputError(f"no SEV-SNP attestation interface under {root}: neither "
                     f"/{TSM_REPORT} (configfs-tsm) nor /{SEV_GUEST}")
