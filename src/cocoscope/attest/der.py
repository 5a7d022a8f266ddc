"""Strict DER reading for the few structures ``cryptography`` leaves to us.

``cryptography`` parses X.509 certificates and CRLs; three things it hands back as raw DER are
read here: the certificate's outer layout (the signature AlgorithmIdentifier appears twice and
only the inner one is signed), AMD's KDS extension values (VCEK/VLEK TCB, hwID, product name)
and Intel's SGX extension of a PCK leaf (FMSPC, PCE-ID, TCB components).

Why a small module rather than an ASN.1 library: the three users need tag-length-value walking
and nothing else (no schemas, no encoding). ``asn1crypto`` (last release 2022) is not
maintained; ``pyasn1`` is, but decodes every certificate field into Python objects, and the PCK
extension is read for every quote verified (the TDX verification benchmark counts per-quote
cost). A hundred strict lines with property tests are less code to trust than either.

Strict means DER, not BER: definite lengths only, lengths in their shortest form, single-byte
(low-number) tags. Anything else is a ``DerError`` (a ``ValueError``) saying what and where;
callers turn it into an input error or a failed check.
"""

from __future__ import annotations

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
ENUMERATED = 0x0A
UTF8_STRING = 0x0C
IA5_STRING = 0x16
CONTEXT_0 = 0xA0  # [0] EXPLICIT, constructed (X.509 version)


class DerError(ValueError):
    """Malformed DER: the message names the structure and the offset."""


def read(data: bytes, pos: int = 0, end: int | None = None, what: str = "DER"
         ) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``, bounded by ``end``."""
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise DerError(f"{what}: truncated element at offset {pos}")
    tag, length = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise DerError(f"{what}: multi-byte tag at offset {pos} (not used by these structures)")
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0:
            raise DerError(f"{what}: indefinite length at offset {pos - 1} (BER, not DER)")
        if n > 4 or pos + n > end:
            raise DerError(f"{what}: bad length at offset {pos - 1}")
        length = int.from_bytes(data[pos:pos + n], "big")
        if length < 0x80 or data[pos] == 0:
            raise DerError(f"{what}: length at offset {pos - 1} is not in its shortest form")
        pos += n
    if pos + length > end:
        raise DerError(f"{what}: element at offset {pos} runs past its container")
    return tag, pos, pos + length


def items(data: bytes, what: str = "DER") -> list[tuple[int, bytes]]:
    """Split the concatenated elements of ``data`` into (tag, content) pairs."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag, start, stop = read(data, pos, what=what)
        out.append((tag, data[start:stop]))
        pos = stop
    return out


def single(data: bytes, tag: int, what: str = "DER") -> bytes:
    """The content of the one element of type ``tag`` that ``data`` must consist of."""
    got, start, stop = read(data, 0, what=what)
    if got != tag or stop != len(data):
        raise DerError(f"{what}: expected one element with tag {tag:#04x}")
    return data[start:stop]


def unsigned(content: bytes, what: str = "INTEGER") -> int:
    """An INTEGER's content as a non-negative number (a set sign bit is refused)."""
    if not content:
        raise DerError(f"{what}: empty INTEGER")
    if content[0] & 0x80:
        raise DerError(f"{what}: negative INTEGER")
    return int.from_bytes(content, "big")


def oid_pairs(data: bytes, what: str = "DER") -> dict[bytes, tuple[int, bytes]]:
    """SEQUENCE OF SEQUENCE {OID, value} content -> {raw OID content: (value tag, content)}.

    The short-length case is inline (index arithmetic, no slicing per level) because the PCK
    leaf of every quote has 24 such pairs; bounds are checked on every path. A second pair for
    one OID is refused: two answers to one question.
    """
    out: dict[bytes, tuple[int, bytes]] = {}
    pos, size = 0, len(data)
    while pos < size:
        if (pos + 6 <= size and data[pos] == SEQUENCE and data[pos + 1] < 0x80
                and data[pos + 2] == OID and data[pos + 3] < 0x80):
            stop = pos + 2 + data[pos + 1]
            ostop = pos + 4 + data[pos + 3]
            if (ostop + 2 <= stop <= size and data[ostop] & 0x1F != 0x1F
                    and data[ostop + 1] < 0x80 and ostop + 2 + data[ostop + 1] == stop):
                key = data[pos + 4:ostop]
                if key in out:
                    raise DerError(f"{what}: OID {key.hex()} appears twice")
                out[key] = (data[ostop], data[ostop + 2:stop])
                pos = stop
                continue
        tag, start, stop = read(data, pos, size, what)  # long lengths or malformed: full path
        if tag != SEQUENCE:
            raise DerError(f"{what}: expected SEQUENCE at offset {pos}")
        otag, ostart, ostop = read(data, start, stop, what)
        vtag, vstart, vstop = read(data, ostop, stop, what)
        if otag != OID or vstop != stop:
            raise DerError(f"{what}: expected {{OID, value}} at offset {pos}")
        key = data[ostart:ostop]
        if key in out:
            raise DerError(f"{what}: OID {key.hex()} appears twice")
        out[key] = (vtag, data[vstart:vstop])
        pos = stop
    return out
