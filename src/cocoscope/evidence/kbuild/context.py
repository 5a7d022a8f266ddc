"""What make's built-in functions (``funcs.py``) need from the interpreter (``make.py``).

The functions are written against this protocol rather than the interpreter class, so that the
interpreter can import its function table without the table importing the interpreter back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Var:
    """A make variable: its unexpanded text and whether it is recursively expanded (``=``)."""

    value: str
    recursive: bool


class MakeContext(Protocol):
    vars: dict[str, Var]  # this context's own variables
    base: dict[str, Var]  # shared config and exported variables; never written
    unknown_hits: int  # bumped when $(shell) or an unknown function is expanded as empty

    def lookup(self, name: str) -> Var | None: ...

    def set(self, name: str, value: str, *, recursive: bool = False) -> None: ...

    def expand(self, text: str) -> str: ...

    def split_args(self, text: str, limit: int) -> list[str]: ...

    def wildcard(self, pattern: str) -> list[str]: ...

    def eval_here(self, text: str) -> None:
        """Evaluate ``text`` as make source at the current file and line (``$(eval)``)."""
        ...

    def diag(self, message: str) -> None:
        """Record a diagnostic at the current file and line."""
        ...
