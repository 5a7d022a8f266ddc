"""Policy framework shared by SNP and TDX.

A policy is a typed, frozen dataclass whose fields default to ``None``: ``None`` means
*unchecked*, never "false" or "zero". Platform modules (``snp/policy.py``, ``tdx/policy.py``)
declare their fields; this module loads them from TOML or JSON, applies command-line overrides,
and provides the comparison helpers every check uses so both platforms word results alike.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from cocoscope.attest.result import Check, failed, passed
from cocoscope.errors import InputError
from cocoscope.evidence import files

P = TypeVar("P")


def load_document(path: str) -> dict[str, Any]:
    """Read a TOML or JSON policy file (JSON if it starts with '{', TOML otherwise)."""
    raw = files.read_input(path, files.POLICY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"policy is not UTF-8 text (byte {exc.start})", path=path) from None
    try:
        if text.lstrip().startswith("{"):
            doc = json.loads(text)
        else:
            doc = tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=path, where=f"line {exc.lineno}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", path=path) from None
    if not isinstance(doc, dict):
        raise InputError("policy must be a table/object at the top level", path=path)
    return doc


def _coerce(name: str, value: Any, hint: Any, path: str) -> Any:
    """Check a loaded value against a field type; hex strings become bytes for bytes fields."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if value is None:
            return None
        errors = []
        for alt in non_none:
            try:
                return _coerce(name, value, alt, path)
            except InputError as exc:
                errors.append(exc.message)
        raise InputError(f"field {name!r}: {'; '.join(errors)}", path=path)
    if hint is bytes:
        if isinstance(value, str):
            try:
                return bytes.fromhex(value.removeprefix("0x"))
            except ValueError:
                raise InputError(f"field {name!r}: {value!r} is not hex", path=path) from None
        raise InputError(f"field {name!r}: expected a hex string", path=path)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise InputError(f"field {name!r}: expected true or false", path=path)
    if hint is int:
        if isinstance(value, bool):
            raise InputError(f"field {name!r}: expected an integer", path=path)
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value, 0)
            except ValueError:
                pass
        raise InputError(f"field {name!r}: expected an integer", path=path)
    if hint is str:
        if isinstance(value, str):
            return value
        raise InputError(f"field {name!r}: expected a string", path=path)
    if origin in (tuple, frozenset):
        if not isinstance(value, list | tuple):
            value = [value]  # a single value is a set of one
        elem = args[0]
        items = [_coerce(name, v, elem, path) for v in value]
        return tuple(items) if origin is tuple else frozenset(items)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise InputError(f"field {name!r}: expected a table", path=path)
        vt = args[1] if args else Any
        return {str(k): (v if vt is Any else _coerce(f"{name}.{k}", v, vt, path))
                for k, v in value.items()}
    return value


def from_mapping(cls: type[P], doc: Mapping[str, Any], *, path: str = "<policy>") -> P:
    """Build policy ``cls`` from a mapping; unknown keys are an error (a typo must not pass)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(doc) - fields)
    if unknown:
        raise InputError(f"unknown policy field(s): {', '.join(unknown)}", path=path)
    kwargs = {k: _coerce(k, v, hints[k], path) for k, v in doc.items()}
    return cls(**kwargs)


def load_policy(cls: type[P], path: str | None,
                overrides: Mapping[str, Any] | None = None) -> P:
    """The one policy loader for both platforms: a file (TOML or JSON), then flag overrides.

    ``cls`` is ``SnpPolicy`` or ``TdxPolicy``; its ``SECTION`` (``snp``/``tdx``) names the
    table used when the file has one. No file: the class defaults (production-safe).
    """
    if path is None:
        pol = cls()
    else:
        doc = load_document(path)
        section = getattr(cls, "SECTION", None)
        if section and isinstance(doc.get(section), dict):
            doc = doc[section]
        pol = from_mapping(cls, doc, path=path)
    return override(pol, **(overrides or {}))


def override(policy: P, **flags: Any) -> P:
    """Flags override file values; a flag left as None changes nothing."""
    changes = {k: v for k, v in flags.items() if v is not None}
    return dataclasses.replace(policy, **changes)  # type: ignore[type-var]


# --- comparison helpers: each returns None when the field is unset (unchecked) -------------


def _hex(v: object) -> str:
    return v.hex() if isinstance(v, bytes | bytearray) else str(v)


def expect_equal(name: str, expected: object | None, actual: object) -> Check | None:
    if expected is None:
        return None
    if expected == actual:
        return passed(name, _hex(actual))
    return failed(name, f"expected {_hex(expected)}, got {_hex(actual)}")


def expect_one_of(name: str, allowed: Iterable[object] | None, actual: object) -> Check | None:
    if allowed is None:
        return None
    allowed = list(allowed)
    if actual in allowed:
        return passed(name, _hex(actual))
    return failed(name, f"{_hex(actual)} not in allowed set ({len(allowed)} value(s))")


def expect_prefix(name: str, prefix: bytes | None, actual: bytes) -> Check | None:
    if prefix is None:
        return None
    if actual.startswith(prefix):
        return passed(name, f"prefix {prefix.hex()} matches")
    return failed(name, f"expected prefix {prefix.hex()}, got {actual[: len(prefix)].hex()}")


def expect_at_least(name: str, minimum: int | None, actual: int) -> Check | None:
    if minimum is None:
        return None
    if actual >= minimum:
        return passed(name, f"{actual} >= {minimum}")
    return failed(name, f"{actual} is below the minimum {minimum}")


def expect_flag(name: str, required: bool | None, actual: bool) -> Check | None:
    """``required`` True: the flag must be set; False: it must be clear; None: unchecked."""
    if required is None:
        return None
    if actual == required:
        return passed(name, f"{'set' if actual else 'clear'} as required")
    return failed(name, f"is {'set' if actual else 'clear'}, policy requires it "
                        f"{'set' if required else 'clear'}")


def collect(*checks: Check | None) -> tuple[Check, ...]:
    return tuple(c for c in checks if c is not None)
