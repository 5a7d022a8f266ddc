"""Directory descent and object selection, following the kernel's scripts/Makefile.build and
scripts/Makefile.lib (6.x); see the package docstring for the public API and the rules in prose."""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cocoscope.errors import InputError
from cocoscope.evidence.dotconfig import KernelConfig
from cocoscope.evidence.kbuild.context import Var
from cocoscope.evidence.kbuild.funcs import match_pattern
from cocoscope.evidence.kbuild.includes import included_files
from cocoscope.evidence.kbuild.make import Interp
from cocoscope.evidence.kbuild.records import (
    Built,
    BuiltFile,
    Diagnostic,
    KbuildResult,
    OtherObject,
)

MAX_COMPOSITE_NESTING = 8

# The top-level Makefile (6.12, "Objects we will link into vmlinux") starts these before it
# includes arch/$(SRCARCH)/Makefile; evaluating the whole top Makefile would mean emulating
# the compiler probes it is mostly made of, so its three relevant lines are restated here.
_TOP_DEFAULTS = {"core-y": "", "drivers-y": "", "libs-y": "lib/"}


@dataclass(frozen=True)
class _Visit:
    need_builtin: bool
    need_modorder: bool
    symbol: str | None


@dataclass
class _Collector:
    tree: Path
    files: dict[str, BuiltFile]
    other: dict[str, OtherObject]
    generated: dict[str, OtherObject]


def base_variables(config: KernelConfig, arch: str) -> dict[str, Var]:
    """What every Kbuild file sees: include/config/auto.conf (set symbols only, strings
    unquoted, as auto.conf writes them since 5.17) and the variables of an in-tree build."""
    base: dict[str, Var] = {}
    for sym, entry in config.entries.items():
        if entry.value == "n":
            continue  # auto.conf omits symbols that are not set
        base["CONFIG_" + sym] = Var(entry.value, False)
    for name, value in (("ARCH", arch), ("SRCARCH", arch), ("SUBARCH", arch),
                        ("srctree", "."), ("objtree", "."), ("KBUILD_EXTMOD", ""),
                        ("comma", ","), ("empty", ""), ("space", " "), ("pound", "#")):
        base[name] = Var(value, False)
    return base


def walk(tree: Path, config: KernelConfig, *, arch: str = "x86") -> KbuildResult:
    tree = Path(tree)
    if not (tree / "Kbuild").is_file() or not (tree / "arch" / arch / "Makefile").is_file():
        raise InputError(f"not a kernel source tree (no Kbuild or arch/{arch}/Makefile)",
                         path=str(tree))
    diags: list[Diagnostic] = []
    base = base_variables(config, arch)
    # Every Kbuild file is read after scripts/Kbuild.include (see scripts/Makefile.build), whose
    # helpers ($(comma), $(space), test-ge, ...) some of them call.
    if (tree / "scripts" / "Kbuild.include").is_file():
        helpers = Interp(tree, base, diags)
        helpers.eval_file("scripts/Kbuild.include")
        base = {**base, **helpers.vars}

    # Entry points: the arch Makefile adds to core-y, libs-y and drivers-y.
    top = Interp(tree, base, diags)
    for name, value in _TOP_DEFAULTS.items():
        top.set(name, value)
    top.eval_file(f"arch/{arch}/Makefile")
    libs = top.get("libs-y").split()
    entry = dict(base)
    for name in top.exported:
        var = top.lookup(name)
        if var is not None:
            entry[name] = Var(top.expand(var.value) if var.recursive else var.value, False)
    entry["ARCH_CORE"] = Var(top.get("core-y"), False)
    entry["ARCH_LIB"] = Var(" ".join(w for w in libs if w.endswith("/")), False)
    entry["ARCH_DRIVERS"] = Var(f"{top.get('drivers-y')} {top.get('drivers-m')}".strip(), False)
    lib_dirs = {posixpath.normpath(w) for w in libs if w.endswith("/")}
    # drivers-$(CONFIG_PCI) += arch/x86/pci/: the top Kbuild lists it through $(ARCH_DRIVERS),
    # so the symbol is remembered here.
    entry_symbols = {w: s for var in ("core-y", "libs-y", "drivers-y", "drivers-m")
                     for w, s in top.provenance.get(var, {}).items()}

    out = _Collector(tree, {}, {}, {})
    visits: dict[str, _Visit] = {}
    queue: deque[str] = deque()

    def visit(d: str, v: _Visit) -> None:
        if d == ".." or d.startswith(("../", "/")):
            diags.append(Diagnostic(d, 0, "directory outside the tree; not read"))
            return
        old = visits.get(d)
        merged = v if old is None else _Visit(old.need_builtin or v.need_builtin,
                                              old.need_modorder or v.need_modorder,
                                              old.symbol if old.symbol else v.symbol)
        if merged != old:
            visits[d] = merged
            queue.append(d)

    visit(".", _Visit(True, True, None))
    evaluated: dict[str, Interp | None] = {}
    done: dict[str, _Visit] = {}
    while queue:
        d = queue.popleft()
        v = visits[d]
        if done.get(d) == v:
            continue
        done[d] = v
        if d not in evaluated:
            evaluated[d] = _evaluate(tree, d, entry, diags)
        it = evaluated[d]
        if it is None:
            continue
        _collect(it, d, v, d in lib_dirs, out, visit,
                 entry_symbols if d == "." else {})

    for path, includer in included_files(tree, config, out.files, diags):
        _add_generated(out, path, includer.built, includer.module, includer.object,
                       includer.symbol, f"generated at build time, #included by {includer.path}")
    return KbuildResult(
        tree=str(tree),
        config_path=config.path,
        files=tuple(sorted(out.files.values(), key=lambda f: f.path)),
        generated=tuple(sorted(out.generated.values(), key=lambda o: o.path)),
        other_sources=tuple(sorted(out.other.values(), key=lambda o: o.path)),
        diagnostics=tuple(diags),
        directories=tuple(sorted(d for d, it in evaluated.items() if it is not None)),
    )


def _evaluate(tree: Path, d: str, entry: dict[str, Var], diags: list[Diagnostic]) -> Interp | None:
    """Read a directory's Kbuild file (Kbuild preferred over Makefile, as kbuild does)."""
    it = Interp(tree, entry, diags)
    for name in ("obj", "src"):
        it.set(name, d)
    for name in ("obj-y", "obj-m", "lib-y", "lib-m", "subdir-y", "subdir-m"):
        it.set(name, "")
    rel = "Kbuild" if d == "." else f"{d}/Kbuild"
    if not (tree / rel).is_file():
        rel = "Makefile" if d == "." else f"{d}/Makefile"
        if not (tree / rel).is_file():
            diags.append(Diagnostic(d, 0, "directory listed for descent has no Kbuild or Makefile"))
            return None
    it.kbuild_file = rel
    it.eval_file(rel)
    return it


def _collect(it: Interp, d: str, v: _Visit, linked_lib: bool, out: _Collector,
             visit: Callable[[str, _Visit], None], inherited: dict[str, str]) -> None:
    obj_y = it.get("obj-y").split()
    obj_m = [w for w in it.get("obj-m").split() if w not in set(obj_y)]
    lib_y = sorted({*it.get("lib-y").split(), *it.get("lib-m").split()} - set(obj_y))

    def sym(var: str, word: str) -> str | None:
        return it.symbol_of(var, word) or inherited.get(word) or v.symbol

    for var, words in (("obj-y", obj_y), ("obj-m", obj_m)):
        for w in words:
            if w.endswith("/"):
                child = _join(d, w)
                s = sym(var, w)
                builtin = v.need_builtin and var == "obj-y"
                visit(child, _Visit(builtin, v.need_modorder, s))
    for var in ("subdir-y", "subdir-m"):
        for w in it.get(var).split():
            visit(_join(d, w), _Visit(False, False, sym(var, w)))

    if v.need_builtin:
        for w in obj_y:
            if not w.endswith("/"):
                _add_object(it, d, w, "y", sym("obj-y", w), ("-objs", "-y"), out)
    # Makefile.build makes lib.a whenever lib-y is not empty, whatever reached the directory;
    # only the libs-y directories' lib.a goes into vmlinux. Elsewhere (the EFI stub's libstub/,
    # reached through subdir-y) it is linked into the boot image: compiled, but not vmlinux.
    for w in lib_y:
        if linked_lib and v.need_builtin:
            _add_object(it, d, w, "y", sym("lib-y", w), (), out)
        else:
            _add_other(out, _join(d, w), "y", None, _join(d, w).removesuffix(".o"),
                       sym("lib-y", w), f"lib-y in {d}: its lib.a is not linked into vmlinux")
    if v.need_modorder:
        for w in obj_m:
            if not w.endswith("/"):
                _add_object(it, d, w, "m", sym("obj-m", w), ("-objs", "-y", "-m"), out)


def _add_object(it: Interp, d: str, word: str, built: Built, symbol: str | None,
                suffixes: tuple[str, ...], out: _Collector) -> None:
    if not word.endswith(".o"):
        if not match_pattern("%.a", word):
            it.diags.append(Diagnostic(it.kbuild_file, 0,
                                       f"object {word!r} does not end in .o; ignored"))
        return
    stem = word[:-2]
    obj_path = _join(d, stem)
    module = posixpath.basename(stem) if built == "m" else None
    for part, part_symbol in _parts(it, stem, suffixes, symbol, 0, set()):
        _add_primitive(out, _join(d, part), built, module, obj_path, part_symbol, symbol)


def _parts(it: Interp, stem: str, suffixes: tuple[str, ...], symbol: str | None,
           depth: int, seen: set[str]) -> list[tuple[str, str | None]]:
    """Primitive objects (stems) of ``stem``: itself, or its composite parts, recursively.
    ``seen`` expands each stem once, so a part listed twice (or a cycle) costs nothing."""
    seen.add(stem)
    names = [stem + s for s in suffixes]
    values = {n: it.get(n).split() for n in names}
    is_composite = any(values.values()) or (bool(suffixes) and it.get(stem + "-") != "")
    if not is_composite or depth >= MAX_COMPOSITE_NESTING:
        return [(stem, symbol)]
    result: list[tuple[str, str | None]] = []
    for n in names:
        for p in values[n]:
            if not p.endswith(".o"):
                it.diags.append(Diagnostic(it.kbuild_file, 0,
                                           f"{n}: part {p!r} is not an object"))
                continue
            pstem = p[:-2]
            psym = it.symbol_of(n, p) or symbol
            if pstem == stem:
                result.append((pstem, psym))
            elif pstem not in seen:
                result.extend(_parts(it, pstem, suffixes, psym, depth + 1, seen))
    return result


def _add_primitive(out: _Collector, stem_path: str, built: Built, module: str | None,
                   obj_path: str, symbol: str | None, object_symbol: str | None = None) -> None:
    c = stem_path + ".c"
    if c in out.files and (out.files[c].built == "y" or built == "m"):
        return  # built in wins over modular; the first module wins over later ones
    if (out.tree / c).is_file():
        out.files[c] = BuiltFile(c, built, module, obj_path, symbol,
                                 object_symbol=object_symbol)
        return
    for ext, reason in ((".S", "assembly (.S)"), (".rs", "Rust (.rs)")):
        if (out.tree / (stem_path + ext)).is_file():
            _add_other(out, stem_path + ".o", built, module, obj_path, symbol, reason)
            return
    for ext, reason in ((".c_shipped", "generated from a _shipped file"),
                        (".asn1", "generated from an ASN.1 grammar (.asn1)"),
                        (".l", "generated by lex"), (".y", "generated by yacc")):
        if (out.tree / (stem_path.removesuffix(".asn1").removesuffix(".tab")
                        .removesuffix(".lex") + ext)).is_file():
            _add_generated(out, stem_path + ".o", built, module, obj_path, symbol, reason)
            return
    _add_generated(out, stem_path + ".o", built, module, obj_path, symbol,
                   "no source in the tree: generated at build time")


def _add_other(out: _Collector, obj: str, built: Built, module: str | None, linked: str,
               symbol: str | None, reason: str) -> None:
    _keep(out.other, OtherObject(obj, built, module, linked, symbol, reason))


def _add_generated(out: _Collector, obj: str, built: Built, module: str | None, linked: str,
                   symbol: str | None, reason: str) -> None:
    _keep(out.generated, OtherObject(obj, built, module, linked, symbol, reason))


def _keep(table: dict[str, OtherObject], new: OtherObject) -> None:
    # As for C files: built in wins over modular, otherwise the first listing stays.
    old = table.get(new.path)
    if old is None or (old.built == "m" and new.built == "y"):
        table[new.path] = new


def _join(d: str, word: str) -> str:
    return posixpath.normpath(posixpath.join(d, word))
