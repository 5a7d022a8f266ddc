"""Kbuild resolution: which ``.c`` files a kernel ``.config`` compiles, built in or as modules.

Public API (the surface scanner codes against this)::

    from cocoscope.evidence.kbuild import resolve
    result = resolve(tree, config)          # tree: Path, config: KernelConfig (dotconfig.load_config)
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
a small make-subset interpreter (``kbuild/make.py``): assignments of every flavour, ``$(var)`` and
``$(var:a=b)`` expansion, the text functions, ``ifdef``/``ifeq`` and friends on config values,
``include`` of tree files, line continuations. Directory descent and object selection follow
``scripts/Makefile.build`` and ``scripts/Makefile.lib`` of the kernel (``kbuild/walk.py``):
the entry points are the top-level ``Kbuild`` with ``ARCH_CORE``/``ARCH_LIB``/``ARCH_DRIVERS`` taken from
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

from pathlib import Path

from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.kbuild.records import (
    Built,
    BuiltFile,
    Diagnostic,
    KbuildResult,
    OtherObject,
)
from cocoscope.evidence.kbuild.walk import walk

__all__ = ["Built", "BuiltFile", "Diagnostic", "KbuildResult", "OtherObject", "resolve"]


def resolve(tree: Path, config: KernelConfig, *, arch: str = "x86") -> KbuildResult:
    """Compute what ``config`` builds from the kernel source ``tree`` (x86_64 only for now)."""
    return walk(tree, config, arch=arch)
