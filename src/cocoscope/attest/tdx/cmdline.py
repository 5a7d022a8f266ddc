"""The kernel command line a TDX event log measured, found by the boot chain's structure.

Only an event's digest is extended into an RTMR; its type and data (the text and any label in
it, "kernel_cmdline: ...") are not. So a text label alone proves nothing: relabelling a
measured ``grub_cmd: set timeout=0`` as ``kernel_cmdline: set timeout=0`` keeps every digest
and every RTMR. A command line is therefore accepted only where the loader's own sequence of
events puts it, and only when its text hashes to its digest:

* grub (>= 2.04 upstream: ``grub_cmd: ``/``kernel_cmdline: ``; RHEL-derived: ``grub_cmd ``/
  ``grub_kernel_cmdline ``). Executing ``linux ARGV`` measures the command (``linux`` and the
  argv joined by spaces), then the kernel file, then ``grub_create_loader_cmdline(argv)``: the
  argv quoted as the kernel will parse it. The command line is the one that follows grub's
  *last* linux command, both texts must hash to their digests and the two must agree (the
  quoted argv, unquoted and joined, is the command's argv). A command-line label anywhere else
  is a label that was changed: NOT TRUSTED.
* td-shim: the ``td_payload_info`` platform-config record, in RTMR1, right after the
  ``td_payload`` firmware-blob event (the kernel); anywhere else it is NOT TRUSTED.
* systemd-stub/systemd-boot: load options measured in RTMR2 as UTF-16 text whose hash is the
  digest; exactly one such event.

Anything else (two loaders' command lines, a linux command without its command-line event) is
ambiguous: no command line, with the reason. Never a guess.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cocoscope.attest.result import Check, failed, passed
from cocoscope.attest.tdx import efi_events
from cocoscope.attest.tdx.eventlog import Event, EventLog
from cocoscope.errors import VerificationError

_GRUB_COMMAND_PREFIXES = (b"grub_cmd: ", b"grub_cmd ")
_GRUB_CMDLINE_PREFIXES = (b"kernel_cmdline: ", b"grub_kernel_cmdline ")
_LINUX_COMMANDS = ("linux", "linuxefi", "linux16")
# grub's linux loaders put "BOOT_IMAGE=" in front of the argv they measure (the kernel path
# comes first in argv), so this is what the kernel's /proc/cmdline starts with.
_GRUB_BOOT_IMAGE = "BOOT_IMAGE="
_TD_PAYLOAD = "td_payload"
_TD_SHIM_MR = 2  # CC MR index 2 = RTMR1, where td-shim measures the payload and its parameters
_RTMR2 = 3  # CC MR index of RTMR2 (PCR 8-15: grub strings, systemd-stub, the EFI stub's tags)
# Linux's EFI stub (>= 5.19) logs a TCG_PCClientTaggedEvent with this id and description and
# measures the image's LoadOptions buffer (UTF-16LE): the digest is all there is.
LOAD_OPTIONS_TAG_ID = 0x8F3B22ED


@dataclass(frozen=True)
class MeasuredCmdline:
    text: str  # the command line as the kernel receives it
    measured: bytes  # the bytes whose SHA-384 is the event digest
    loader: str  # "grub", "td-shim", "systemd"
    event: Event


@dataclass(frozen=True)
class CmdlineSearch:
    """The command line found (or None) and, in words, how it was placed or why there is none."""

    found: MeasuredCmdline | None
    reason: str


def sha384_of(data: bytes) -> bytes:
    return hashlib.sha384(data).digest()


def _hashes(event: Event, measured: bytes) -> bool:
    return event.digest() in (sha384_of(measured), sha384_of(measured + b"\x00"))


def _untrusted(log: EventLog, event: Event, why: str) -> VerificationError:
    return VerificationError(f"event {event.number} ({event.type_name}): {why}",
                             path=log.source, where=f"offset {event.offset:#x}")


@dataclass(frozen=True)
class _GrubString:
    event: Event
    kind: str  # "command" or "cmdline"
    measured: bytes  # the text the digest covers (no prefix, no NUL)


def _grub_string(event: Event) -> _GrubString | None:
    if event.event_type != efi_events.EV_IPL or event.mr_index != _RTMR2:
        return None
    for kind, prefixes in (("command", _GRUB_COMMAND_PREFIXES), ("cmdline", _GRUB_CMDLINE_PREFIXES)):
        for prefix in prefixes:
            if event.data.startswith(prefix):
                return _GrubString(event, kind, event.data[len(prefix) :].split(b"\x00", 1)[0])
    return None


_QUOTED = r'"(?:\\[\\\'"]|[^\\\'"])*"'
_BARE = r"(?:\\[\\'\"]|[^\\'\" ])*"
_ARG = re.compile(rf"({_QUOTED})|({_BARE})")
_ARGV = re.compile(rf"(?:{_QUOTED}|{_BARE})(?: (?:{_QUOTED}|{_BARE}))*")
_ESCAPE = re.compile(r"\\(.)")


def unquote_grub_argv(text: str) -> list[str] | None:
    """Undo grub_create_loader_cmdline: an argument with a space is wrapped in double quotes,
    and backslash, single and double quotes get a backslash. None when ``text`` is not
    something that function writes."""
    if not any(c in text for c in "\\'\""):
        return None if text.endswith(" ") else text.split(" ")  # nothing quoted (the usual case)
    if not _ARGV.fullmatch(text):
        return None
    args: list[str] = []
    pos = 0
    while pos <= len(text):
        m = _ARG.match(text, pos)
        assert m is not None  # _ARGV matched the whole text
        quoted = m.group(1) is not None
        arg = _ESCAPE.sub(r"\1", m.group(1)[1:-1] if quoted else m.group(2))
        if quoted and " " not in arg:
            return None  # grub quotes only arguments that hold a space
        args.append(arg)
        pos = m.end() + 1  # the separating space
    return args


def _is_linux(cmd: _GrubString) -> bool:
    return cmd.measured.split(b" ", 1)[0].decode("ascii", "replace") in _LINUX_COMMANDS


def _grub(log: EventLog) -> CmdlineSearch | None:
    strings = [s for s in map(_grub_string, log.measured) if s is not None]
    if not strings:
        return None
    last_command: _GrubString | None = None
    paired: dict[int, _GrubString] = {}  # linux command event number -> its command line
    for s in strings:
        if s.kind == "command":
            last_command = s
            continue
        if not _hashes(s.event, s.measured):
            raise _untrusted(log, s.event, "the logged kernel command line does not hash to the "
                             "event's SHA-384 digest")
        if last_command is None or not _is_linux(last_command):
            before = "no grub command" if last_command is None else \
                f"event {last_command.event.number} {last_command.measured[:60].decode('utf-8', 'replace')!r}"
            raise _untrusted(log, s.event, "labelled as grub's kernel command line, but grub "
                             f"writes one only right after its linux command, and {before} "
                             "comes before it: the label was changed")
        if not _hashes(last_command.event, last_command.measured):
            raise _untrusted(log, last_command.event, "grub's linux command does not hash to the "
                             "event's SHA-384 digest")
        text = s.measured.decode("utf-8", "replace")
        argv = unquote_grub_argv(text)
        command_args = last_command.measured.split(b" ", 1)[1:] or [b""]
        if argv is None or " ".join(argv) != command_args[0].decode("utf-8", "replace"):
            raise _untrusted(log, s.event, "the kernel command line does not agree with grub's "
                             f"linux command in event {last_command.event.number}")
        if last_command.event.number in paired:
            raise _untrusted(log, s.event, "a second kernel command line for the linux command in "
                             f"event {last_command.event.number}")
        paired[last_command.event.number] = s
    linux = [s for s in strings if s.kind == "command" and _is_linux(s)]
    if not linux:
        return None
    last = linux[-1]
    chosen = paired.get(last.event.number)
    if chosen is None:
        return CmdlineSearch(None, f"grub's last linux command (event {last.event.number}) is not "
                             "followed by its kernel command line event; the command line the "
                             "kernel got is not known")
    text = chosen.measured.decode("utf-8", "replace")
    return CmdlineSearch(MeasuredCmdline(_GRUB_BOOT_IMAGE + text, chosen.measured, "grub", chosen.event),
                         f"grub: event {chosen.event.number} follows the linux command in event "
                         f"{last.event.number} and agrees with it")


def _td_shim(log: EventLog) -> CmdlineSearch | None:
    measured = log.measured
    found: list[MeasuredCmdline] = []
    for i, event in enumerate(measured):
        if event.event_type != efi_events.EV_PLATFORM_CONFIG_FLAGS:
            continue
        info = efi_events.td_payload_info(event.data)
        if info is None:
            continue
        prev = measured[i - 1] if i else None
        after_payload = (prev is not None and prev.mr_index == event.mr_index == _TD_SHIM_MR
                         and prev.event_type == efi_events.EV_EFI_PLATFORM_FIRMWARE_BLOB2
                         and prev.decoded() == _TD_PAYLOAD)
        if not after_payload:
            raise _untrusted(log, event, "labelled as td-shim's td_payload_info, but td-shim logs "
                             "it only in RTMR1 right after the td_payload event: the label was "
                             "changed")
        # td-shim measures the parameter bytes as logged, including any NUL padding.
        if not _hashes(event, event.data[20:]):
            raise _untrusted(log, event, "the logged kernel command line does not hash to the "
                             "event's SHA-384 digest")
        found.append(MeasuredCmdline(info, event.data[20:], "td-shim", event))
    if not found:
        return None
    if len(found) > 1:
        return CmdlineSearch(None, "td-shim: more than one td_payload_info event "
                             f"({', '.join(str(c.event.number) for c in found)})")
    c = found[0]
    return CmdlineSearch(c, f"td-shim: event {c.event.number} follows the td_payload event")


def _systemd(log: EventLog) -> CmdlineSearch | None:
    # systemd-stub/-boot log load options as UTF-16 text whose hash is the digest; UKI section
    # names (".linux", ".cmdline") are logged as UTF-16 too but measure the section contents,
    # so the digest test tells them apart.
    found = []
    for event in log.measured:
        if event.mr_index != _RTMR2 or event.event_type != efi_events.EV_IPL:
            continue
        text = efi_events.utf16_text(event.data)
        if text is None or not event.digest_covers_data():
            continue
        found.append(MeasuredCmdline(text, event.data, "systemd", event))
    if not found:
        return None
    if len(found) > 1:
        return CmdlineSearch(None, "systemd: more than one load-options event "
                             f"({', '.join(str(c.event.number) for c in found)})")
    c = found[0]
    return CmdlineSearch(c, f"systemd: load options in event {c.event.number}")


def locate_kernel_cmdline(log: EventLog) -> CmdlineSearch:
    """The kernel command line the boot chain measured, placed by the chain's structure.

    Raises VerificationError (NOT TRUSTED) when a command-line event's text does not hash to
    its digest or its label is where that loader never writes one (a relabelled event).
    Returns ``found=None`` with the reason when there is none or the log is ambiguous. Logs
    whose command line is measured only as a digest (Linux's EFI stub LoadOptions tag, a UKI's
    .cmdline section) give None: check an expected line with ``check_expected_cmdline``.
    """
    results = [r for r in (_grub(log), _td_shim(log), _systemd(log)) if r is not None]
    have = [r for r in results if r.found is not None]
    if len(have) > 1:
        loaders = ", ".join(f"{r.found.loader} (event {r.found.event.number})" for r in have
                            if r.found is not None)
        return CmdlineSearch(None, f"more than one loader measured a command line: {loaders}; "
                             "which one the kernel got is not known")
    if have:
        return have[0]
    if results:
        return results[0]
    return CmdlineSearch(None, "no event carries the command line as text (it may be measured "
                         "as a digest only: give the expected line to check it)")


def find_kernel_cmdline(log: EventLog) -> MeasuredCmdline | None:
    """``locate_kernel_cmdline(log).found``."""
    return locate_kernel_cmdline(log).found


def kernel_cmdline(log: EventLog) -> str | None:
    """The measured kernel command line text (see ``locate_kernel_cmdline``), or None."""
    found = find_kernel_cmdline(log)
    return None if found is None else found.text


def match_load_options(log: EventLog, cmdline: str) -> Event | None:
    """The LOADED_IMAGE::LoadOptions event whose digest is ``cmdline`` as UTF-16LE, or None.

    For boots whose command line is logged only as a digest (OVMF direct boot, Ubuntu grub
    via shim): given the line the kernel reports (/proc/cmdline, which the stub converted from
    the load options), this says whether that is what was measured. Both with and without the
    UTF-16 NUL terminator are tried, since loaders differ in whether LoadOptionsSize counts it.
    """
    encoded = cmdline.encode("utf-16-le")
    wanted = {sha384_of(encoded), sha384_of(encoded + b"\x00\x00")}
    for event in log.measured:
        if event.event_type != efi_events.EV_EVENT_TAG:
            continue
        decoded = event.decoded()
        is_tag = isinstance(decoded, efi_events.TaggedEvent) and decoded.tag_id == LOAD_OPTIONS_TAG_ID
        if is_tag and event.digest() in wanted:
            return event
    return None


def _uki_cmdline_event(log: EventLog) -> Event | None:
    """The event measuring a UKI's .cmdline section contents (systemd-stub logs the section
    name as UTF-16 data; the second of the pair, or the only one, measures the contents)."""
    named = [e for e in log.measured if e.mr_index == _RTMR2 and e.event_type == efi_events.EV_IPL
             and efi_events.utf16_text(e.data) == ".cmdline"]
    return named[-1] if named else None


def check_expected_cmdline(log: EventLog, expected: str) -> Check:
    """Whether the owner's expected command line is the one measured where the chain puts it.

    With a text command line (grub, td-shim, systemd) the measured bytes must be ``expected``
    (grub: with its BOOT_IMAGE= prefix, as /proc/cmdline shows it). Otherwise the digest of
    ``expected`` must be the one measured by Linux's EFI stub (LoadOptions tag) or in a UKI's
    .cmdline section. Raises VerificationError when the log's command line is NOT TRUSTED.
    """
    search = locate_kernel_cmdline(log)
    found = search.found
    if found is not None:
        if found.text == expected or (found.loader == "grub" and found.text == _GRUB_BOOT_IMAGE + expected):
            return passed("cmdline", f"{found.loader} measured the expected command line in event "
                          f"{found.event.number}")
        return failed("cmdline", f"{found.loader} measured {found.text!r} in event "
                      f"{found.event.number}, not the expected {expected!r}")
    tag = match_load_options(log, expected)
    if tag is not None:
        return passed("cmdline", "the EFI stub's LoadOptions digest in event "
                      f"{tag.number} is the expected command line's")
    uki = _uki_cmdline_event(log)
    if uki is not None:
        raw = expected.encode("utf-8")
        if uki.digest() in (sha384_of(raw), sha384_of(raw + b"\x00"), sha384_of(raw + b"\n")):
            return passed("cmdline", f"the UKI .cmdline section digest in event {uki.number} is "
                          "the expected command line's")
        return failed("cmdline", f"the UKI .cmdline section measured in event {uki.number} is not "
                      "the expected command line")
    return failed("cmdline", "the expected command line is measured nowhere in the log "
                  f"({search.reason})")
