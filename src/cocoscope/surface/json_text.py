"""``json.dumps(doc, indent=n)``'s exact text, written faster.

Python's indented encoder is pure Python (its C encoder writes only compact text, 5x faster):
a cold scan's JSON spent 0.26 s in it (0.16 s here), serial, after the workers are done. Here
containers go to the C encoder with ``",\\n" + indentation`` as the item separator, so only their brackets and
what nests in them are put in place in Python. This works because the encoder writes a newline
only in separators (a string's are escaped), and a nested container is cut out of its parent
as a placeholder string and spliced back in.
"""

from __future__ import annotations

import json
from _json import make_encoder
from itertools import chain
from json.encoder import encode_basestring_ascii
from typing import Any

_CONTAINERS = frozenset((dict, list, tuple))
# What json writes as the C encoder does; a subclass of one of these scalars is written alike
# too (a str's text, an int's digits), a subclass of a container goes the slow way.
_SCALARS = frozenset((str, int, float, bool, type(None)))
_HOLE = object()  # stands for a nested container while its parent is encoded
_HOLE_TEXT = encode_basestring_ascii("\0")


class _SlowWay(Exception):
    """json itself writes the document: a placeholder's spelling is in the data, or a key
    json would convert, or a subclass of a container."""


def _hole(o: object) -> str:
    if o is _HOLE:
        return "\0"
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _inner(values: Any) -> list[Any]:
    """The non-empty containers among ``values`` (checked by class: map and set run in C)."""
    classes = set(map(type, values))
    if classes <= _SCALARS:
        return []
    if any(issubclass(c, (dict, list, tuple)) for c in classes - _SCALARS - _CONTAINERS):
        raise _SlowWay
    return [v for v in values if v.__class__ in _CONTAINERS and v]


def dumps_indented(doc: Any, indent: int) -> str:
    """``json.dumps(doc, indent=indent)`` (ensure_ascii, no sorting), byte for byte."""
    encoders: dict[int, make_encoder] = {}

    def encode(o: Any, level: int) -> str:
        """``o`` compact, but with its items separated by a newline and ``level``'s
        indentation."""
        enc = encoders.get(level)
        if enc is None:
            enc = encoders[level] = make_encoder(None, _hole, encode_basestring_ascii, None, ": ",
                                                 pad(level), False, False, True)
        return "".join(enc(o, 0))

    def pad(level: int) -> str:
        return ",\n" + " " * (indent * level)

    def value(o: Any, level: int) -> str:
        """``o`` as json writes it at nesting ``level``."""
        if o.__class__ not in _CONTAINERS or not o:
            if isinstance(o, (dict, list, tuple)):
                raise _SlowWay
            return encode(o, level)
        if o.__class__ is dict:
            if set(map(type, o)) != {str}:
                raise _SlowWay
            inner = _inner(o.values())
            shell: Any = ({k: _HOLE if v.__class__ in _CONTAINERS and v else v
                           for k, v in o.items()} if inner else o)
        elif set(map(type, o)) == {dict} and all(o):
            return records(o, level)
        else:
            inner = _inner(o)
            shell = [_HOLE if v.__class__ in _CONTAINERS and v else v for v in o] if inner else o
        text = encode(shell, level + 1)
        text = text[0] + pad(level + 1)[1:] + text[1:-1] + pad(level)[1:] + text[-1]
        return splice(text, inner, level + 1) if inner else text

    def records(rows: Any, level: int) -> str:
        """A list of non-empty dicts (the sites, the problems' ranges) in one encoding at
        the members' level, the rows' own brackets put in after: `},` + newline + `{` at
        that level is only ever the seam between two rows (a member starts with its key)."""
        inner: list[Any] = []
        shells = []
        for r in rows:
            if set(map(type, r)) != {str}:
                raise _SlowWay
            nested = _inner(r.values())
            if nested:
                inner += nested
                r = {k: _HOLE if v.__class__ in _CONTAINERS and v else v for k, v in r.items()}
            shells.append(r)
        text = encode(shells, level + 2)
        row, member = pad(level + 1)[1:], pad(level + 2)[1:]
        text = (row + "}," + row + "{" + member).join(text[2:-2].split("}," + member + "{"))
        text = "[" + row + "{" + member + text + row + "}" + pad(level)[1:] + "]"
        return splice(text, inner, level + 2) if inner else text

    def splice(text: str, inner: list[Any], level: int) -> str:
        """``text`` with its placeholders replaced by ``inner``, written at ``level``."""
        parts = text.split(_HOLE_TEXT)
        if len(parts) != len(inner) + 1:  # some string of the data reads like a placeholder
            raise _SlowWay
        out = [parts[0]]
        for v, part in zip(lists_of_scalars(inner, level) or [value(v, level) for v in inner],
                           parts[1:], strict=True):
            out += (v, part)
        return "".join(out)

    def lists_of_scalars(lists: list[Any], level: int) -> list[str] | None:
        """Non-empty lists of scalars only (the sites' chains) in one encoding: `],` +
        newline + `[` is then only ever the seam between two of them."""
        if not set(map(type, lists)) <= {list, tuple} or not set(
                map(type, chain.from_iterable(lists))) <= _SCALARS:
            return None
        items = pad(level + 1)
        text = encode(lists, level + 1)[2:-2]
        return ["[" + items[1:] + body + pad(level)[1:] + "]"
                for body in text.split("]" + items + "[")]

    try:
        return value(doc, 0)
    except _SlowWay:
        return json.dumps(doc, indent=indent)
