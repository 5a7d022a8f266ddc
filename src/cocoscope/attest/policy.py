"""The one policy loader for SNP and TDX, with a closed schema, and the comparison helpers.

A policy is a typed, frozen dataclass whose fields default to ``None``: ``None`` means
*unchecked*, never "false" or "zero". Platform modules (``snp/policy.py``, ``tdx/policy.py``)
declare their fields (with ``hex_field``/``int_field`` limits); this module loads them from TOML
or JSON and applies command-line overrides.

The schema is closed because a policy that is misread is weaker than the owner meant, and a
verifier must never be talked into a weaker check by its own input. Every one of these is an
``InputError`` (exit 3) naming the policy file and the key once:
  unknown keys and misspelt tables; ``null`` (leave a key out to leave it unchecked); a value of
  the wrong type (a bool where a number is expected, a float, a list where one value is
  expected); duplicate JSON keys (TOML refuses them itself); top-level keys next to an
  ``[snp]``/``[tdx]`` table (they would otherwise be silently ignored); a platform table
  missing for the platform verified; empty or wrong-length hex; empty lists; negative or
  out-of-range numbers. Command-line overrides go through the same limits.
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

PLATFORM_TABLES = ("snp", "tdx")


class _Bad(Exception):
    """A value does not fit its key; the loader adds the file and the key, once."""


def hex_field(size: int | None = None, *, max_size: int | None = None) -> Any:
    """A bytes (or set of bytes) field given as hex: exactly ``size`` or 1..``max_size`` bytes."""
    return dataclasses.field(default=None, metadata={"size": size, "max_size": max_size})


def int_field(maximum: int) -> Any:
    """A non-negative integer field (or set of them, or a table of them) up to ``maximum``."""
    return dataclasses.field(default=None, metadata={"max": maximum})


def revocation_check(required: bool | None, checked: list[str],
                     needed: tuple[str, ...]) -> Check | None:
    """``require_revocation``: every CRL check in ``needed`` must have run (whether it passed
    is its own check). None when the policy does not ask."""
    if not required:
        return None
    missing = [n for n in needed if n not in checked]
    if missing:
        return failed("policy.revocation", "revocation not checked (" + ", ".join(missing)
                      + " missing: no CRL given, cached or served) and the policy requires it")
    return passed("policy.revocation", "checked: " + ", ".join(needed))


def load_document(path: str) -> dict[str, Any]:
    """Read a TOML or JSON policy file (JSON if it starts with '{', TOML otherwise)."""
    raw = files.read_input(path, files.POLICY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"policy is not UTF-8 text (byte {exc.start})", path=path) from None
    try:
        if text.lstrip().startswith("{"):
            doc = json.loads(text, object_pairs_hook=files.unique_keys)
        else:
            doc = tomllib.loads(text)
    except (_Bad, files.DuplicateKeyError) as exc:
        raise InputError(str(exc), path=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=path, where=f"line {exc.lineno}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", path=path) from None
    except RecursionError:
        raise InputError("policy nests too deeply", path=path) from None
    if not isinstance(doc, dict):
        raise InputError("policy must be a table/object at the top level", path=path)
    return doc


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a fractional number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _coerce(value: Any, hint: Any) -> Any:
    """Check a loaded value against a field type; hex strings become bytes for bytes fields."""
    if value is None:
        raise _Bad("null is not a value (leave the key out to leave it unchecked)")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (hint,) = [a for a in args if a is not type(None)]  # every field is "X | None"
        return _coerce(value, hint)
    if hint is bytes:
        if not isinstance(value, str):
            raise _Bad(f"expected a hex string, got {_kind(value)}")
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise _Bad(f"{value[:80]!r} is not hex") from None
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Bad(f"expected true or false, got {_kind(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value, 0)
            except ValueError:
                pass
        raise _Bad(f"expected an integer, got {_kind(value)}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Bad(f"expected a string, got {_kind(value)}")
    if origin in (tuple, frozenset):
        if isinstance(value, dict):
            raise _Bad("expected a value or a list of values, got a table")
        items = value if isinstance(value, list) else [value]  # one value is a set of one
        if not items:
            raise _Bad("empty list (it would accept nothing; leave the key out to leave it "
                       "unchecked)")
        coerced = [_coerce(v, args[0]) for v in items]
        return tuple(coerced) if origin is tuple else frozenset(coerced)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _Bad(f"expected a table, got {_kind(value)}")
        vt = args[1] if args else Any
        out = {}
        for k, v in value.items():
            try:
                out[str(k)] = v if vt is Any else _coerce(v, vt)
            except _Bad as exc:
                raise _Bad(f"{k!r}: {exc}") from None
        return out
    return value


def _check_size(value: bytes, size: int | None, max_size: int | None) -> None:
    if not value:
        raise _Bad("empty hex value (it would match anything; leave the key out to leave "
                   "it unchecked)")
    if size is not None and len(value) != size:
        raise _Bad(f"{len(value)} bytes, expected {size} ({2 * size} hex digits)")
    if max_size is not None and len(value) > max_size:
        raise _Bad(f"{len(value)} bytes, at most {max_size} allowed")


def _check_range(value: int, maximum: int) -> None:
    if value < 0:
        raise _Bad(f"{value} is negative")
    if value > maximum:
        raise _Bad(f"{value} is above the maximum {maximum}")


def _check_limits(value: Any, meta: Mapping[str, Any]) -> None:
    """Lengths of hex values and ranges of numbers, for one value or each of a collection."""
    items = (list(value.values()) if isinstance(value, dict)
             else list(value) if isinstance(value, tuple | frozenset) else [value])
    for item in items:
        if isinstance(item, bytes):
            _check_size(item, meta.get("size"), meta.get("max_size"))
        elif isinstance(item, int) and not isinstance(item, bool) and "max" in meta:
            _check_range(item, meta["max"])


def check_limits(policy: object, *, path: str) -> None:
    """Every set field within its declared limits (used for files and for flags alike)."""
    for f in dataclasses.fields(policy):  # type: ignore[arg-type]
        value = getattr(policy, f.name)
        if value is None:
            continue
        if isinstance(value, tuple | frozenset | dict) and not value:
            raise InputError(f"key {f.name!r}: empty (it would accept nothing)", path=path)
        try:
            _check_limits(value, f.metadata)
        except _Bad as exc:
            raise InputError(f"key {f.name!r}: {exc}", path=path) from None


RENAMED = {"debug": "allow_debug"}  # old TDX key: `debug = true` meant *require* debug


def platform_table(doc: Mapping[str, Any], section: str, path: str) -> Mapping[str, Any]:
    """The keys for ``section``: the whole document, or its ``[section]`` table.

    A file is either flat (one platform) or made of platform tables only; mixing the two would
    leave the top-level keys silently unused.
    """
    tables = [k for k in doc if k in PLATFORM_TABLES]
    if not tables:
        return doc
    stray = sorted(k for k in doc if k not in PLATFORM_TABLES)
    if stray:
        raise InputError(f"top-level key(s) {', '.join(map(repr, stray))} next to a "
                         f"[{tables[0]}] table would be ignored: put them inside the platform "
                         "table", path=path)
    for t in tables:
        if not isinstance(doc[t], dict):
            raise InputError(f"key {t!r}: expected a table, got {_kind(doc[t])}", path=path)
    if section not in doc:
        raise InputError(f"no [{section}] table (the file has [{'], ['.join(tables)}])",
                         path=path)
    table: Mapping[str, Any] = doc[section]
    return table


def from_mapping(cls: type[P], doc: Mapping[str, Any], *, path: str = "<policy>") -> P:
    """Build policy ``cls`` from a mapping under the closed schema (see the module docstring)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in doc:
        if key in fields:
            continue
        hint = ""
        if key in RENAMED and RENAMED[key] in fields:
            hint = f" (renamed {RENAMED[key]!r}: false = the bit must be clear)"
        elif isinstance(doc[key], dict):
            hint = " (a table: misspelt platform table?)"
        raise InputError(f"unknown key {key!r}{hint}", path=path)
    kwargs = {}
    for key, value in doc.items():
        try:
            kwargs[key] = _coerce(value, hints[key])
        except _Bad as exc:
            raise InputError(f"key {key!r}: {exc}", path=path) from None
    try:
        policy = cls(**kwargs)
    except InputError as exc:  # cross-field checks in the class: add the file name
        raise InputError(exc.message, path=path) from None
    check_limits(policy, path=path)
    return policy


def load_policy(cls: type[P], path: str | None,
                overrides: Mapping[str, Any] | None = None) -> P:
    """The one policy loader for both platforms: a file (TOML or JSON), then flag overrides.

    ``cls`` is ``SnpPolicy`` or ``TdxPolicy``; its ``SECTION`` (``snp``/``tdx``) names the
    table used when the file is made of platform tables. No file: the class defaults
    (production-safe). Overrides (typed values from flags) are held to the same limits.
    """
    if path is None:
        pol = cls()
    else:
        section = getattr(cls, "SECTION", "")
        pol = from_mapping(cls, platform_table(load_document(path), section, path), path=path)
    if overrides:
        pol = override(pol, **overrides)
        check_limits(pol, path="command line")  # file values were checked above
    return pol


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


def expect_permission(name: str, allowed: bool | None, actual: bool) -> Check | None:
    """``allow_*`` keys: False = the bit must be clear; True or unset = either is fine."""
    if allowed is None or allowed:
        return None
    return expect_flag(name, False, actual)


def collect(*checks: Check | None) -> tuple[Check, ...]:
    return tuple(c for c in checks if c is not None)
