"""Small helpers shared by command modules: output destination and format flags."""

from __future__ import annotations

import argparse
import datetime
import sys

from cocoscope.errors import InputError, UsageError


def add_output_options(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    p.add_argument("--format", choices=formats, default=formats[0], help="output format")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE, not stdout")


def emit(text: str, output: str | None) -> None:
    """Write the report to stdout or a file; stdout carries only the report."""
    if output in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    assert output is not None
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror or exc}", path=output) from None


def parse_time(text: str | None) -> datetime.datetime:
    """A --time flag: ISO 8601 (a trailing Z allowed), UTC when no zone is given; now if unset."""
    if text is None:
        return datetime.datetime.now(datetime.UTC)
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--time {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def hexstr(value: str, *, what: str) -> bytes:
    """Parse a hex flag value (optional 0x prefix)."""
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InputError(f"{what} {value!r} is not hex") from None
