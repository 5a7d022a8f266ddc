"""json_text.dumps_indented writes exactly json.dumps(doc, indent=n)'s text."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cocoscope.surface.json_text import dumps_indented

SCALARS: list[Any] = ["", "a", "é\n\"\\\t", "\0", "},\n  {", 0, -3, 2**70, 1.5, float("nan"),
                      float("inf"), True, False, None]


def _doc(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(6 if depth < 4 else 1)
    if kind == 0 or kind == 5:
        return rng.choice(SCALARS)
    n = rng.randrange(4)
    if kind == 1:
        return [_doc(rng, depth + 1) for _ in range(n)]
    if kind == 2:
        return tuple(_doc(rng, depth + 1) for _ in range(n))
    if kind == 3:  # rows of records, as the sites and the problems' ranges are
        return [{rng.choice("abc") + str(i): _doc(rng, depth + 2) for i in range(1 + n)}
                for _ in range(1 + n)]
    return {rng.choice(["k", "\0", "x\ny", "é"]) + str(i): _doc(rng, depth + 1) for i in range(n)}


@pytest.mark.parametrize("seed", range(300))
def test_same_text_as_json(seed: int) -> None:
    rng = random.Random(seed)
    doc = _doc(rng, 0)
    for indent in (1, 2):
        assert dumps_indented(doc, indent) == json.dumps(doc, indent=indent)


@pytest.mark.parametrize("doc", [
    {}, [], {"a": []}, {"a": {}, "b": [1, {}], "c": [[]], "d": [[1]]}, [{"a": {}}, {"b": [{}]}],
    # placeholders' spelling in the data: the slow way, same text
    {"a": "\0", "b": [1]}, [["\0"], "\0", [2]], [{"a": "\0", "b": [1]}, {"c": [2]}],
    # keys json converts, subclasses: handed to json itself
    {1: [2, {3: 4}]}, {"k": (1, 2), None: 3}, [type("L", (list,), {})([1, 2])],
])
def test_edge_cases(doc: Any) -> None:
    assert dumps_indented(doc, 1) == json.dumps(doc, indent=1)


def test_not_serializable() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": [object()]}, 1)
