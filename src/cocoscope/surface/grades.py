"""The grade vocabulary: how code consumes a host value, riskiest first, and what grading
asks of the function around a value."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from cocoscope.surface.cparse import Node


class UseTracer(Protocol):
    """What grading needs from the function around a value (``tracer.UseTracer``)."""

    def is_local(self, name: str) -> bool: ...
    def is_pointer(self, name: str) -> bool: ...
    def caller_memory(self, name: str, through: bool) -> bool: ...
    def grade_local(self, name: str, defined_at: Node | int, depth: int,
                    pointee: bool = False) -> Grade: ...
    def grade_pointee(self, name: str, defined_at: Node) -> Grade: ...
    def grade_member(self, name: str, member: str, defined_at: Node, depth: int) -> Grade: ...
    def points_into_structure(self, name: str) -> bool: ...
    def callee_parameter(self, call: Node, function: str, position: int,
                         depth: int) -> Grade | None: ...
    def returned(self) -> Grade: ...
    def address_handed(self, addr: Node, depth: int) -> Grade | None: ...
    def offsets_pointer(self, arith: Node, operand: Node) -> bool: ...
    def into_caller(self, name: str) -> Grade: ...
    def stored(self, target: Node, depth: int) -> Grade: ...
    def limit(self, what: str) -> Grade: ...
    def callee_kind(self, name: str, position: int) -> str: ...


class Grade(StrEnum):
    INDEX = "index"
    LENGTH = "length"
    LOOP_BOUND = "loop-bound"
    POINTER = "pointer"
    RETURNED = "returned"
    STORED = "stored"
    PASSED = "passed"
    COMPARED = "compared"
    PRINTED = "printed"
    WRITTEN_BACK = "written-back"
    DISCARDED = "discarded"
    EVENT = "event"  # no value: the call marks where host data becomes visible
    UNKNOWN = "unknown"  # the site sits in code tree-sitter could not parse


# Riskiest first; a value used several ways gets the riskiest grade.
ORDER = tuple(Grade)
RISKY = frozenset({Grade.INDEX, Grade.LENGTH, Grade.LOOP_BOUND, Grade.POINTER, Grade.RETURNED,
                   Grade.STORED, Grade.PASSED, Grade.UNKNOWN})

def riskiest(grades: list[Grade]) -> Grade:
    return min(grades, key=ORDER.index) if grades else Grade.DISCARDED


MAX_DEPTH = 8  # copies and same-file calls followed before a grade says `unknown`
