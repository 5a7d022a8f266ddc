"""Decoding of TCG event data: event type names, UEFI variables, image loads, device paths.

Event data is *not* covered by the RTMRs; only the digest is. Everything decoded here is a
description of what the firmware or boot loader says it measured, so decoding is best effort
and never raises: undecodable data is shown as hex and the replay does not depend on it.
Layouts follow the TCG PC Client Platform Firmware Profile and the UEFI specification
(UEFI_VARIABLE_DATA, UEFI_IMAGE_LOAD_EVENT, UEFI_PLATFORM_FIRMWARE_BLOB2,
UEFI_HANDOFF_TABLE_POINTERS2, EFI_LOAD_OPTION, EFI_DEVICE_PATH_PROTOCOL).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

EV_POST_CODE = 0x1
EV_NO_ACTION = 0x3
EV_SEPARATOR = 0x4
EV_ACTION = 0x5
EV_EVENT_TAG = 0x6
EV_S_CRTM_VERSION = 0x8
EV_PLATFORM_CONFIG_FLAGS = 0xA
EV_IPL = 0xD
EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001
EV_EFI_VARIABLE_BOOT = 0x80000002
EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003
EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004
EV_EFI_RUNTIME_SERVICES_DRIVER = 0x80000005
EV_EFI_ACTION = 0x80000007
EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008
EV_EFI_HANDOFF_TABLES = 0x80000009
EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000A
EV_EFI_HANDOFF_TABLES2 = 0x8000000B
EV_EFI_VARIABLE_BOOT2 = 0x8000000C
EV_EFI_VARIABLE_AUTHORITY = 0x800000E0

EVENT_TYPE_NAMES: dict[int, str] = {
    0x0: "EV_PREBOOT_CERT",
    0x1: "EV_POST_CODE",
    0x2: "EV_UNUSED",
    0x3: "EV_NO_ACTION",
    0x4: "EV_SEPARATOR",
    0x5: "EV_ACTION",
    0x6: "EV_EVENT_TAG",
    0x7: "EV_S_CRTM_CONTENTS",
    0x8: "EV_S_CRTM_VERSION",
    0x9: "EV_CPU_MICROCODE",
    0xA: "EV_PLATFORM_CONFIG_FLAGS",
    0xB: "EV_TABLE_OF_DEVICES",
    0xC: "EV_COMPACT_HASH",
    0xD: "EV_IPL",
    0xE: "EV_IPL_PARTITION_DATA",
    0xF: "EV_NONHOST_CODE",
    0x10: "EV_NONHOST_CONFIG",
    0x11: "EV_NONHOST_INFO",
    0x12: "EV_OMIT_BOOT_DEVICE_EVENTS",
    0x13: "EV_POST_CODE2",
    0x80000001: "EV_EFI_VARIABLE_DRIVER_CONFIG",
    0x80000002: "EV_EFI_VARIABLE_BOOT",
    0x80000003: "EV_EFI_BOOT_SERVICES_APPLICATION",
    0x80000004: "EV_EFI_BOOT_SERVICES_DRIVER",
    0x80000005: "EV_EFI_RUNTIME_SERVICES_DRIVER",
    0x80000006: "EV_EFI_GPT_EVENT",
    0x80000007: "EV_EFI_ACTION",
    0x80000008: "EV_EFI_PLATFORM_FIRMWARE_BLOB",
    0x80000009: "EV_EFI_HANDOFF_TABLES",
    0x8000000A: "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
    0x8000000B: "EV_EFI_HANDOFF_TABLES2",
    0x8000000C: "EV_EFI_VARIABLE_BOOT2",
    0x8000000D: "EV_EFI_GPT_EVENT2",
    0x80000010: "EV_EFI_HCRTM_EVENT",
    0x800000E0: "EV_EFI_VARIABLE_AUTHORITY",
    0x800000E1: "EV_EFI_SPDM_FIRMWARE_BLOB",
    0x800000E2: "EV_EFI_SPDM_FIRMWARE_CONFIG",
}

_VARIABLE_TYPES = {
    EV_EFI_VARIABLE_DRIVER_CONFIG,
    EV_EFI_VARIABLE_BOOT,
    EV_EFI_VARIABLE_BOOT2,
    EV_EFI_VARIABLE_AUTHORITY,
}
_IMAGE_TYPES = {
    EV_EFI_BOOT_SERVICES_APPLICATION,
    EV_EFI_BOOT_SERVICES_DRIVER,
    EV_EFI_RUNTIME_SERVICES_DRIVER,
}
_STRING_TYPES = {
    EV_POST_CODE,
    EV_ACTION,
    EV_EFI_ACTION,
    EV_IPL,
    EV_PLATFORM_CONFIG_FLAGS,
    EV_S_CRTM_VERSION,
}

# td-shim logs its payload parameters as a TD_SHIM_PLATFORM_CONFIG_INFO: a 16-byte
# descriptor, u32 length, then the bytes (the kernel command line for "td_payload_info").
TD_PAYLOAD_INFO = b"td_payload_info"


def type_name(event_type: int) -> str:
    return EVENT_TYPE_NAMES.get(event_type, f"EV_UNKNOWN_{event_type:#x}")


def guid_str(raw: bytes) -> str:
    """EFI GUIDs are stored with the first three fields little-endian."""
    return str(uuid.UUID(bytes_le=raw)).upper()


@dataclass(frozen=True)
class EfiVariable:
    """UEFI_VARIABLE_DATA: which variable was measured and its value."""

    vendor_guid: str
    name: str
    data: bytes
    load_option: LoadOption | None = None  # decoded when the variable is Boot####


@dataclass(frozen=True)
class LoadOption:
    """EFI_LOAD_OPTION (the value of a Boot#### variable)."""

    attributes: int
    description: str
    device_path: tuple[str, ...]


@dataclass(frozen=True)
class ImageLoad:
    """UEFI_IMAGE_LOAD_EVENT: an EFI application or driver the firmware started."""

    location: int
    length: int
    device_path: tuple[str, ...]


@dataclass(frozen=True)
class TaggedEvent:
    """TCG_PCClientTaggedEvent, e.g. Linux's "LOADED_IMAGE::LoadOptions" (digest only)."""

    tag_id: int
    description: str


# Decoded event data: one of the records above, a text string, or None (raw bytes only).
Decoded = EfiVariable | ImageLoad | TaggedEvent | str | None


def _printable(text: str) -> bool:
    """Every character printable, tab and newline allowed (one C-level scan: logs are large)."""
    return text.replace("\t", "").replace("\n", "").isprintable()


def _utf16(raw: bytes) -> str:
    return raw.decode("utf-16-le", errors="replace").rstrip("\x00")


def ascii_text(raw: bytes) -> str | None:
    """The event data as text when it is printable ASCII/UTF-8 (one trailing NUL allowed)."""
    body = raw[:-1] if raw.endswith(b"\x00") else raw
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _printable(text):
        return text
    return None


def utf16_text(raw: bytes) -> str | None:
    """The event data as UTF-16LE text (systemd-boot, S-CRTM version), NUL-terminated or not."""
    if len(raw) < 2 or len(raw) % 2:
        return None
    text = _utf16(raw)
    if text and _printable(text):
        return text
    return None


def decode_variable(data: bytes) -> EfiVariable | None:
    if len(data) < 32:
        return None
    name_len, data_len = struct.unpack_from("<QQ", data, 16)
    name_end = 32 + 2 * name_len
    if name_len > len(data) or name_end + data_len != len(data):
        return None
    name = _utf16(data[32:name_end])
    value = data[name_end:]
    option = None
    if name.startswith("Boot") and len(name) == 8 and name[4:] != "Order":
        option = decode_load_option(value)
    return EfiVariable(guid_str(data[:16]), name, value, option)


def decode_load_option(value: bytes) -> LoadOption | None:
    if len(value) < 6:
        return None
    attributes, path_len = struct.unpack_from("<IH", value, 0)
    end = 6
    while end + 1 < len(value) and value[end : end + 2] != b"\x00\x00":
        end += 2
    if end + 2 + path_len > len(value):
        return None
    description = _utf16(value[6:end])
    path = device_path_text(value[end + 2 : end + 2 + path_len])
    return LoadOption(attributes, description, path)


def decode_image_load(data: bytes) -> ImageLoad | None:
    if len(data) < 32:
        return None
    location, length, _link, path_len = struct.unpack_from("<QQQQ", data, 0)
    if 32 + path_len > len(data):
        return None
    return ImageLoad(location, length, device_path_text(data[32 : 32 + path_len]))


def device_path_text(raw: bytes) -> tuple[str, ...]:
    """Text form of an EFI device path, one string per node, in the UEFI spec's notation."""
    nodes: list[str] = []
    pos = 0
    while pos + 4 <= len(raw):
        kind, sub, length = struct.unpack_from("<BBH", raw, pos)
        if length < 4 or pos + length > len(raw):
            nodes.append(f"Invalid({raw[pos:].hex()})")
            break
        body = raw[pos + 4 : pos + length]
        pos += length
        if kind == 0x7F:  # end of path (0xFF) or end of instance (0x01)
            if sub == 0xFF:
                break
            continue
        nodes.append(_node_text(kind, sub, body))
    return tuple(nodes)


def _node_text(kind: int, sub: int, body: bytes) -> str:
    if kind == 0x01 and sub == 0x01 and len(body) == 2:
        return f"Pci({body[1]:#x},{body[0]:#x})"
    if kind == 0x02 and sub == 0x01 and len(body) == 8:
        hid, uid = struct.unpack("<II", body)
        if hid == 0x0A0341D0:
            return f"PciRoot({uid:#x})"
        if hid == 0x0A0841D0:
            return f"PcieRoot({uid:#x})"
        if hid & 0xFFFF == 0x41D0:
            return f"Acpi(PNP{hid >> 16:04X},{uid:#x})"
        return f"Acpi({hid:#x},{uid:#x})"
    if kind == 0x03 and sub == 0x12 and len(body) == 6:
        port, mult, lun = struct.unpack("<HHH", body)
        return f"Sata({port:#x},{mult:#x},{lun:#x})"
    if kind == 0x03 and sub == 0x17 and len(body) >= 4:
        (nsid,) = struct.unpack_from("<I", body)
        return f"NVMe({nsid:#x},{body[4:].hex('-').upper()})"
    if kind == 0x03 and sub == 0x02 and len(body) == 4:
        target, lun = struct.unpack("<HH", body)
        return f"Scsi({target:#x},{lun:#x})"
    if kind == 0x04 and sub == 0x01 and len(body) == 38:
        part, start, size = struct.unpack_from("<IQQ", body)
        sig, fmt, sig_type = body[20:36], body[36], body[37]
        if fmt == 2 and sig_type == 2:
            return f"HD({part},GPT,{guid_str(sig)},{start:#x},{size:#x})"
        return f"HD({part},MBR,{int.from_bytes(sig[:4], 'little'):#010x},{start:#x},{size:#x})"
    if kind == 0x04 and sub == 0x03 and len(body) >= 16:
        return f"VenMedia({guid_str(body[:16])}{',' + body[16:].hex() if body[16:] else ''})"
    if kind == 0x04 and sub == 0x04:
        return f"File({_utf16(body)})"
    if kind == 0x04 and sub == 0x06 and len(body) == 16:
        return f"FvFile({guid_str(body)})"
    if kind == 0x04 and sub == 0x07 and len(body) == 16:
        return f"Fv({guid_str(body)})"
    if kind == 0x01 and sub == 0x04 and len(body) >= 16:
        return f"VenHw({guid_str(body[:16])}{',' + body[16:].hex() if body[16:] else ''})"
    return f"Path({kind},{sub},{body.hex()})"


def decode(event_type: int, data: bytes) -> Decoded:
    """Best-effort description of one event's data; None when there is nothing to say."""
    if event_type in _VARIABLE_TYPES:
        return decode_variable(data)
    if event_type in _IMAGE_TYPES:
        return decode_image_load(data)
    if event_type == EV_EVENT_TAG and len(data) >= 8:
        tag_id, size = struct.unpack_from("<II", data)
        if 8 + size == len(data):
            return TaggedEvent(tag_id, ascii_text(data[8:]) or data[8:].hex())
        return None
    if event_type in (EV_EFI_PLATFORM_FIRMWARE_BLOB2, EV_EFI_HANDOFF_TABLES2) and data:
        # Both start with a one-byte description length and the description.
        size = data[0]
        if 1 + size <= len(data):
            text = ascii_text(data[1 : 1 + size])
            if text is not None:
                return text
    if event_type == EV_PLATFORM_CONFIG_FLAGS:
        config = td_shim_config(data)
        if config is not None:
            name, value = config
            if name == TD_PAYLOAD_INFO.decode():
                return f"{name} {ascii_text(value.rstrip(bytes(1))) or ''}".rstrip()
            return f"{name} ({len(value)} bytes)"
    if event_type == EV_SEPARATOR:
        return "separator" if data == b"\x00\x00\x00\x00" else f"separator {data.hex()}"
    if event_type in _STRING_TYPES:
        return ascii_text(data) or utf16_text(data)
    return None


def td_shim_config(data: bytes) -> tuple[str, bytes] | None:
    """td-shim's TD_SHIM_PLATFORM_CONFIG_INFO: (descriptor, value) when the record is whole."""
    if len(data) < 20:
        return None
    name = ascii_text(data[:16].rstrip(bytes(1)))
    (size,) = struct.unpack_from("<I", data, 16)
    if name is None or 20 + size != len(data):
        return None
    return name, data[20:]


def td_payload_info(data: bytes) -> str | None:
    """td-shim's payload parameter string (the kernel command line), if the record is whole."""
    config = td_shim_config(data)
    if config is None or config[0] != TD_PAYLOAD_INFO.decode():
        return None
    return ascii_text(config[1].rstrip(bytes(1))) or ""
