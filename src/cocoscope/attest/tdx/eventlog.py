"""TDX CCEL event log: TCG2 crypto-agile parsing and replay into RTMR0-3.

The log (the CCEL "log area", /sys/firmware/acpi/tables/data/CCEL) is a TCG PC Client
crypto-agile log: one SHA-1-format header event carrying the "Spec ID Event03" structure
(which algorithms follow and their digest sizes), then events
``{u32 MR index, u32 type, u32 digest count, {u16 alg, digest}..., u32 size, data}``. The unused
tail of the area is 0xFF (or zero) filled.

MR index is the CC measurement-register index of the UEFI CC measurement protocol:
0 = MRTD, 1..4 = RTMR0..3 (so RTMR = index - 1; replay reproduces real quotes only with this
mapping). Replay: ``RTMR <- SHA-384(RTMR || digest)`` from 48 zero bytes; EV_NO_ACTION events
are informational and never extended.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass

from cocoscope.attest.result import Verification, failed, passed
from cocoscope.attest.tdx import efi_events
from cocoscope.errors import InputError

ALG_SHA1 = 0x0004
ALG_SHA256 = 0x000B
ALG_SHA384 = 0x000C
ALG_SHA512 = 0x000D
ALG_SM3_256 = 0x0012
ALG_NAMES = {
    ALG_SHA1: "sha1",
    ALG_SHA256: "sha256",
    ALG_SHA384: "sha384",
    ALG_SHA512: "sha512",
    ALG_SM3_256: "sm3_256",
}

SPEC_ID_SIGNATURE = b"Spec ID Event03\x00"
RTMR_COUNT = 4
RTMR_SIZE = 48
# Larger than any real event (UEFI dbx updates are ~20 KiB); stops a corrupt size field from
# pretending to swallow the rest of a 1 MiB log area.
MAX_EVENT_DATA = 16 * 1024 * 1024
# A real CCEL log has tens to a few thousand events; a cap keeps a hostile log's memory bounded
# (each event costs ~300 bytes of objects besides its data).
MAX_EVENTS = 1 << 20


@dataclass(frozen=True)
class SpecId:
    """TCG_EfiSpecIDEventStruct from the header event."""

    platform_class: int
    spec_version: tuple[int, int, int]  # major, minor, errata
    uintn_size: int
    digest_sizes: tuple[tuple[int, int], ...]  # (algorithm id, digest size)


@dataclass(frozen=True, slots=True)
class Event:
    number: int  # position in the log; the header event is 0
    offset: int  # byte offset of the record in the log
    mr_index: int  # CC MR index as logged: 0 MRTD, 1..4 RTMR0..3
    event_type: int
    digests: tuple[tuple[int, bytes], ...]  # (algorithm id, digest) in log order
    data: bytes

    @property
    def rtmr(self) -> int | None:
        """The RTMR this event extends, or None (MRTD index, out of range, or EV_NO_ACTION)."""
        if self.event_type == efi_events.EV_NO_ACTION or not 1 <= self.mr_index <= RTMR_COUNT:
            return None
        return self.mr_index - 1

    @property
    def type_name(self) -> str:
        return efi_events.type_name(self.event_type)

    def digest(self, alg: int = ALG_SHA384) -> bytes | None:
        for alg_id, value in self.digests:
            if alg_id == alg:
                return value
        return None

    def decoded(self) -> efi_events.Decoded:
        return efi_events.decode(self.event_type, self.data)

    def digest_covers_data(self) -> bool:
        """True when the SHA-384 digest is the hash of the event data itself.

        Many events (firmware volumes, images, grub strings) measure something else, so
        False is not an error; True means the shown data is exactly what was measured.
        """
        return self.digest() == hashlib.sha384(self.data).digest()


@dataclass(frozen=True)
class EventLog:
    source: str
    spec_id: SpecId
    header: Event  # the SHA-1-format Spec ID event (never extended)
    events: tuple[Event, ...]  # every crypto-agile event after the header, in log order
    end: int  # offset where the log stops (padding or end of data)
    size: int  # size of the input (the whole log area)

    @functools.cached_property
    def measured(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.rtmr is not None)


class _Cursor:
    """Bounds-checked reader; every error names the file and the absolute offset."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source
        self.pos = 0

    def fail(self, message: str, at: int | None = None) -> InputError:
        return InputError(message, path=self.source, where=f"offset {self.pos if at is None else at:#x}")

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail(f"truncated event log: {what} needs {n} bytes, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u32(self, what: str) -> int:
        value: int = struct.unpack("<I", self.take(4, what))[0]
        return value


def _parse_spec_id(data: bytes, cur: _Cursor, at: int) -> SpecId:
    if not data.startswith(SPEC_ID_SIGNATURE):
        raise cur.fail(
            "first event is not a TCG2 'Spec ID Event03' header (not a crypto-agile log)", at
        )
    if len(data) < 28:
        raise cur.fail("Spec ID event is too short", at)
    platform_class, minor, major, errata, uintn, count = struct.unpack_from("<IBBBBI", data, 16)
    if count == 0 or 28 + 4 * count > len(data):
        raise cur.fail(f"Spec ID event lists {count} algorithms, more than its size allows", at)
    sizes = tuple(struct.unpack_from("<HH", data, 28 + 4 * i) for i in range(count))
    for alg, size in sizes:
        if size == 0 or size > 64:
            raise cur.fail(f"Spec ID event gives algorithm {alg:#06x} digest size {size}", at)
    if ALG_SHA384 not in dict(sizes):
        raise cur.fail("log carries no SHA-384 digests (TDX RTMRs are SHA-384)", at)
    return SpecId(platform_class, (major, minor, errata), uintn, sizes)


_PADDING = (b"\xff" * 8, b"\x00" * 8)  # unused log area: 0xFF-filled (or zeroed) per the spec
_HEAD3 = struct.Struct("<III")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


def _truncated(cur: _Cursor, at: int, what: str, need: int) -> InputError:
    return cur.fail(f"truncated event log: {what} needs {need} bytes, {len(cur.data) - at} left", at)


def parse_eventlog(data: bytes, path: str = "<eventlog>") -> EventLog:
    """Parse a raw CCEL log area; raises InputError naming the file and offset."""
    if len(data) == 56 and data[:4] == b"CCEL":
        raise InputError(
            "this is the ACPI CCEL table, not the log; pass the log area "
            "(/sys/firmware/acpi/tables/data/CCEL)",
            path=path,
        )
    cur = _Cursor(data, path)
    mr, etype = cur.u32("header MR index"), cur.u32("header event type")
    sha1 = cur.take(20, "header SHA-1 digest")
    size = cur.u32("header event size")
    if etype != efi_events.EV_NO_ACTION:
        raise cur.fail(f"first event has type {etype:#x}, expected EV_NO_ACTION (Spec ID)", 0)
    hdata = cur.take(size, "Spec ID event data")
    spec = _parse_spec_id(hdata, cur, 32)
    header = Event(0, 0, mr, etype, ((ALG_SHA1, sha1),), hdata)
    digest_size = dict(spec.digest_sizes)

    events: list[Event] = []
    # The loop reads with precompiled structs and local names: it runs once per event and
    # is most of the cost of `eventlog --quote`. Every read is bounds-checked first.
    n, pos = len(data), cur.pos
    head3, u16, u32 = _HEAD3.unpack_from, _U16.unpack_from, _U32.unpack_from
    max_digests = len(spec.digest_sizes)
    while n - pos >= 8:
        if data[pos : pos + 8] in _PADDING:
            break
        start, number = pos, len(events) + 1
        if number > MAX_EVENTS:
            raise cur.fail(f"more than {MAX_EVENTS} events; not a plausible event log", pos)
        if n - pos < 12:
            raise _truncated(cur, pos + 8, "digest count", 4)
        mr, etype, count = head3(data, pos)
        pos += 12
        if count == 0 or count > max_digests:
            raise cur.fail(
                f"event {number}: {count} digests, the Spec ID event declares {max_digests} algorithms",
                start + 8,
            )
        digests = []
        for _ in range(count):
            if n - pos < 2:
                raise _truncated(cur, pos, "digest algorithm", 2)
            (alg,) = u16(data, pos)
            dsize = digest_size.get(alg)
            if dsize is None:
                raise cur.fail(f"event {number}: digest algorithm {alg:#06x} is not in the Spec ID event", pos)
            pos += 2
            if n - pos < dsize:
                raise _truncated(cur, pos, f"{ALG_NAMES.get(alg, hex(alg))} digest", dsize)
            digests.append((alg, data[pos : pos + dsize]))
            pos += dsize
        if n - pos < 4:
            raise _truncated(cur, pos, "event data size", 4)
        (size,) = u32(data, pos)
        if size > MAX_EVENT_DATA:
            raise cur.fail(f"event {number}: event data size {size} is implausible", pos)
        pos += 4
        if n - pos < size:
            raise _truncated(cur, pos, f"event {number} data", size)
        events.append(Event(number, start, mr, etype, tuple(digests), data[pos : pos + size]))
        pos += size
    cur.pos = pos
    return EventLog(path, spec, header, tuple(events), cur.pos, len(data))


def replay(log: EventLog) -> list[bytes]:
    """RTMR0-3 as the TDX module would hold them after every logged extend."""
    rtmrs = [bytes(RTMR_SIZE)] * RTMR_COUNT
    sha384 = hashlib.sha384
    for event in log.events:
        if event.event_type == efi_events.EV_NO_ACTION:
            continue
        if not 1 <= event.mr_index <= RTMR_COUNT:
            # An event for MRTD (index 0) or a register TDX lacks cannot be replayed; ignoring
            # it would make the log look consistent when it is not.
            raise InputError(
                f"event {event.number} ({event.type_name}) extends CC MR index {event.mr_index}; "
                "only 1..4 (RTMR0..3) can be extended at runtime",
                path=log.source,
                where=f"offset {event.offset:#x}",
            )
        digest = event.digest(ALG_SHA384)
        if digest is None:
            raise InputError(
                f"event {event.number} ({event.type_name}) has no SHA-384 digest",
                path=log.source,
                where=f"offset {event.offset:#x}",
            )
        i = event.mr_index - 1
        rtmrs[i] = sha384(rtmrs[i] + digest).digest()
    return rtmrs


# --- comparing with a quote --------------------------------------------------------------


def compare_rtmrs(
    log: EventLog, expected: tuple[bytes, ...] | list[bytes], *, subject: str | None = None
) -> Verification:
    """One check per RTMR: the replayed value against the quote's (fails closed)."""
    replayed = replay(log)
    if len(expected) != RTMR_COUNT:
        raise InputError(f"expected {RTMR_COUNT} RTMR values, got {len(expected)}")
    checks = []
    for i, (mine, theirs) in enumerate(zip(replayed, expected, strict=True)):
        name = f"rtmr{i}"
        if mine == theirs:
            checks.append(passed(name, mine.hex()))
        else:
            checks.append(failed(name, f"replayed {mine.hex()} but the quote holds {theirs.hex()}"))
    facts: dict[str, object] = {"events": len(log.events), "measured_events": len(log.measured)}
    return Verification(subject or log.source, "tdx-eventlog", tuple(checks), facts)
