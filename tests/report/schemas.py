"""Validate a command's --format json output against the schema shipped for that command."""

from __future__ import annotations

from typing import Any

import jsonschema
from referencing import Registry, Resource

from cocoscope.report.envelope import load_schema, schema_name, schema_names


def validate(doc: dict[str, Any]) -> None:
    """The schema of ``doc["command"]``, its ``$ref`` to the envelope resolved in-package."""
    schemas = [load_schema(n) for n in schema_names()]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    jsonschema.Draft202012Validator(load_schema(schema_name(doc["command"])),
                                    registry=registry).validate(doc)
