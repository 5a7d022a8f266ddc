"""Kbuild resolution: which ``.c`` files a kernel ``.config`` compiles, built in or as modules.

Public API (the surface scanner codes against this)::

    from cocoscope.evidence.kbuild import resolve
    result = resolve(tree, config)          # tree: Path, config: KernelConfig (load_config)
    for f in result.files:                  # BuiltFile, sorted by path
        f.path    # "drivers/virtio/virtio_ring.c", relative to the tree, "/" separated
        f.built   # "y" (linked into vmlinux) or "m" (in a loadable module)
        f.module  # "m": the module name as in modules.order ("virtio_ring"); "y": None
        f.object  # the linked object without ".o": "drivers/virtio/virtio_ring" (for a
                  # composite, the composite: "drivers/net/ethernet/intel/e1000e/e1000e")
        f.symbol  # the CONFIG symbol that brings the file in, the closest one (without the
                  # CONFIG_ prefix): from obj-$(CONFIG_X)/foo-$(CONFIG_X), else the innermost
                  # enclosing ifdef/ifeq on a symbol that is set, else the composite's or the
                  # directory's; None when the file is built unconditionally
        f.included_from  # None, or the built C file that #includes this one
    result.by_path("lib/string.c")          # BuiltFile | None
    result.generated                        # OtherObject: objects (or #included .c files) whose
                                            # source is generated at build time, with the reason
    result.other_sources                    # OtherObject: objects built from .S/.rs (not C), and
                                            # lib-y objects not linked into vmlinux
    result.diagnostics                      # what was not understood: file, line, message

How: the Kbuild files (``Kbuild`` preferred over ``Makefile``, as kbuild does) are evaluated by
a small make-subset interpreter (``kbuild_make``): assignments of every flavour, ``$(var)`` and
``$(var:a=b)`` expansion, the text functions, ``ifdef``/``ifeq`` and friends on config values,
``include`` of tree files, line continuations. Directory descent and object selection follow
``scripts/Makefile.build`` and ``scripts/Makefile.lib`` of the kernel (``kbuild_walk``): the entry
points are the top-level ``Kbuild`` with ``ARCH_CORE``/``ARCH_LIB``/``ARCH_DRIVERS`` taken from
``core-y``/``libs-y``/``drivers-y`` of ``arch/x86/Makefile``; a directory reached through
``obj-y`` is built in and collects modules, one reached only through ``obj-m`` only collects
modules, one reached through ``subdir-y`` builds neither; composites (``foo-objs``, ``foo-y``,
``foo-m``, ``foo-$(CONFIG_X)``) are expanded; ``lib-y`` counts where its ``lib.a`` is linked
into vmlinux (the ``libs-y`` directories).

Nothing is executed: ``$(shell ...)`` and compiler probes (``$(call cc-option,...)``) expand to
empty text and, where that affects an object list or a condition, leave a diagnostic.
Bad input never raises: a Makefile that cannot be understood yields diagnostics; only an
unusable tree (no top-level Kbuild) raises ``InputError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cocoscope.evidence.kconfig import KernelConfig

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


def resolve(tree: Path, config: KernelConfig, *, arch: str = "x86") -> KbuildResult:
    """Compute what ``config`` builds from the kernel source ``tree`` (x86_64 only for now)."""
    from cocoscope.evidence.kbuild_walk import walk

    return walk(tree, config, arch=arch)
