"""The records Kbuild resolution returns (see the package docstring for the API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Built = Literal["y", "m"]


@dataclass(frozen=True)
class BuiltFile:
    """One C source file that the config compiles."""

    path: str  # relative to the tree, e.g. "drivers/virtio/virtio_ring.c"
    built: Built
    module: str | None  # module name when built == "m", else None
    object: str  # linked object (composite or single) relative to the tree, without ".o"
    symbol: str | None  # closest CONFIG symbol (no prefix) that brings it in
    # Set when the file is not listed in Kbuild but #included by a built C file (the
    # outermost such file): kernel/sched/idle.c comes in through kernel/sched/build_policy.c.
    included_from: str | None = None
    # Every built C file that #includes this one directly (set with included_from): the
    # macros they define before the #include shape what the compiler sees of it.
    includers: tuple[str, ...] = ()
    # The symbol of the linked object as a whole (obj-$(CONFIG_X) += x.o): for a part added
    # only under a bus symbol (ccp-$(CONFIG_PCI) += sp-pci.o) this, not PCI, builds the driver.
    object_symbol: str | None = None


@dataclass(frozen=True)
class OtherObject:
    """An object the config builds whose source is not a C file in the tree."""

    path: str  # the object ("crypto/rsapubkey.asn1.o") or #included .c file, tree-relative
    built: Built
    module: str | None
    object: str  # linked object (composite or single) relative to the tree, without ".o"
    symbol: str | None
    reason: str  # "generated at build time", "assembly (.S)", "Rust (.rs)", ...


@dataclass(frozen=True)
class Diagnostic:
    """Something in a Kbuild file that was not understood or may change the result."""

    file: str  # relative to the tree
    line: int
    message: str


@dataclass(frozen=True)
class KbuildResult:
    tree: str
    config_path: str
    files: tuple[BuiltFile, ...]  # sorted by path; a file built both ways is listed as "y"
    generated: tuple[OtherObject, ...]  # no source in the tree: generated at build time
    other_sources: tuple[OtherObject, ...]  # assembly or Rust sources
    diagnostics: tuple[Diagnostic, ...]
    directories: tuple[str, ...]  # directories whose Kbuild file was evaluated
    _index: dict[str, BuiltFile] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f.path: f for f in self.files})

    def by_path(self, path: str) -> BuiltFile | None:
        return self._index.get(path)

    @property
    def unresolved(self) -> tuple[Diagnostic, ...]:
        """The diagnostics, under the name the design brief used."""
        return self.diagnostics

    def modules(self) -> frozenset[str]:
        """Module names (as in modules.order, without ".ko") the config builds."""
        return frozenset(f.module for f in self.files if f.module) | frozenset(
            o.module for o in (*self.generated, *self.other_sources) if o.module)
