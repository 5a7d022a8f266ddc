"""Reference values from the tool's own measurements, written into a policy file.

``measure snp --policy-out F`` adds the launch digest to ``[snp] measurement``, ``measure tdx
--policy-out F`` the MRTD to ``[tdx] mrtd`` and ``attest tdx eventlog LOG --policy-out F`` the
replayed RTMR0-2 to ``[tdx] rtmr0..2``: the owner's reference values, in the file the verifiers
read with ``--policy``.

Merging keeps everything else in the file. Allow-lists (``measurement``, ``mrtd``) gain the new
value (a fleet may accept several firmware builds); single values (RTMRs) are replaced. A file
made of platform tables gets the values in its ``[snp]``/``[tdx]`` table; a flat file (one
platform's keys at the top level) is merged flat. The result is read back through the one
policy loader before it replaces the file, so ``--policy-out`` never writes a policy the
verifiers would refuse. JSON stays JSON; anything else is written as TOML.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from cocoscope.attest.policy import PLATFORM_TABLES, load_document, load_policy
from cocoscope.errors import InputError

ALLOW_LISTS = frozenset({"measurement", "mrtd"})


def _policy_class(platform: str) -> type:
    if platform == "snp":
        from cocoscope.attest.snp.policy import SnpPolicy

        return SnpPolicy
    from cocoscope.attest.tdx.policy import TdxPolicy

    return TdxPolicy


def merge(doc: dict[str, Any], platform: str, values: Mapping[str, str]) -> dict[str, Any]:
    """``doc`` with ``values`` (hex strings by policy key) added for ``platform``."""
    flat = bool(doc) and not any(k in PLATFORM_TABLES for k in doc)
    table: dict[str, Any] = doc if flat else doc.setdefault(platform, {})
    if not isinstance(table, dict):
        raise InputError(f"key {platform!r} is not a table")
    for key, value in values.items():
        if key in ALLOW_LISTS:
            old = table.get(key, [])
            listed = old if isinstance(old, list) else [old]
            table[key] = [*listed, value] if value not in listed else listed
        else:
            table[key] = value
    return doc


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise InputError(f"cannot write {type(value).__name__} as a TOML value")


def to_toml(doc: Mapping[str, Any], prefix: str = "") -> str:
    """TOML for a policy document: scalars and lists first, then tables (nested dotted)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, value in doc.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            lines += ["", f"[{name}]", to_toml(value, name + ".").rstrip("\n")]
    return "\n".join(lines).lstrip("\n") + "\n"


def rtmr_references(rtmrs: tuple[bytes, ...] | list[bytes]) -> dict[str, bytes]:
    """RTMR0-2 replayed from a known-good event log, by policy key. RTMR3 is left out: it is
    extended at run time (by the guest's own software), so a boot-time value would fail every
    later quote; give it by hand if your guest keeps it fixed."""
    return {f"rtmr{i}": value for i, value in enumerate(rtmrs[:3])}


def _is_json(path: str) -> bool:
    with open(path, "rb") as fh:  # already read once by load_document: a regular file
        return fh.read(4096).lstrip().startswith(b"{")


def write_reference(path: str, platform: str, values: Mapping[str, bytes]) -> None:
    """Merge ``values`` into the policy at ``path`` (created if missing), checked on the way."""
    if platform not in PLATFORM_TABLES:
        raise InputError(f"unknown platform {platform!r}")
    exists = os.path.exists(path)
    doc = load_document(path) if exists else {}
    as_json = path.endswith(".json") or (exists and _is_json(path))
    doc = merge(doc, platform, {k: v.hex() for k, v in values.items()})
    text = json.dumps(doc, indent=2) + "\n" if as_json else to_toml(doc)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".policy-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"cannot write policy: {exc.strerror or exc}", path=path) from None
    try:
        load_policy(_policy_class(platform), tmp)  # the verifier must accept what we write
    except InputError as exc:
        os.unlink(tmp)
        raise InputError(f"merged policy would not load: {exc.message}", path=path) from None
    os.replace(tmp, path)
