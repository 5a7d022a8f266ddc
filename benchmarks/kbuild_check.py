"""Check Kbuild resolution against Debian's built cloud-amd64 kernel package.

    .venv/bin/python benchmarks/kbuild_check.py [--tree DIR] [--config F] [--image DIR]

Defaults are the project cache (scripts/fetch_debian.py fetches the packages). Prints, as
Markdown for docs/kbuild.md:

- modules: our "m" objects vs the package's modules.order (paths) and its .ko files (names),
  both ways, with every disagreement;
- built-in modules: modules.builtin (objects that would be modules, linked in) vs our "y"
  objects;
- System.map: the share of non-static functions defined in the C files we place in vmlinux
  that System.map lists (a file we wrongly call built in contributes none), and the files of
  which none appears (with the likely reason: only conditional code, or macros);
  and the reverse, functions of our "m" files found in System.map.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from cocoscope.evidence.dotconfig import load_config  # noqa: E402
from cocoscope.evidence.kbuild import KbuildResult, resolve  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kallsyms_extract import image_symbols  # noqa: E402

CACHE = Path("/root/.cache/cocoscope/debian")
DEFAULT_TREE = CACHE / "linux-source-6.12" / "tree"
DEFAULT_CONFIG = (CACHE / "linux-config-6.12" / "usr/src/linux-config-6.12"
                  / "config.amd64_none_cloud-amd64.xz")
DEFAULT_IMAGE = CACHE / "linux-image-cloud-amd64"

# A function definition starting in column 0: "type name(args) {", args may span lines.
# Definitions whose return type is on the line before ("int\nfoo(") are not matched; that
# only lowers the number of samples.
_DEF = re.compile(
    r"^(?P<prefix>[A-Za-z_][\w \t\*]*?[ \t\*])(?P<name>[A-Za-z_]\w*)[ \t]*\((?P<args>[^;{}()]*"
    r"(?:\([^;{}()]*\)[^;{}()]*)*)\)[ \t\n]*\{", re.M)
_SKIP_PREFIX = re.compile(r"\b(static|inline|__always_inline|extern|typedef|return|else)\b")


def package_modules(image: Path) -> tuple[set[str], set[str], set[str]]:
    """(modules.order objects, .ko file names, modules.builtin objects) of the package."""
    (moddir,) = (image / "usr" / "lib" / "modules").iterdir()
    order = {p.removeprefix("kernel/").removesuffix(".ko")
             for p in (moddir / "modules.order").read_text().split()}
    names = {p.name.split(".ko")[0] for p in (moddir / "kernel").rglob("*.ko*")}
    builtin = {p.removeprefix("kernel/").removesuffix(".ko")
               for p in (moddir / "modules.builtin").read_text().split()}
    return order, names, builtin


def system_map(image: Path) -> set[str]:
    """Text symbols of the package's kernel. Debian's System.map is a one-line placeholder
    (the real one is in the -dbg package), so the kallsyms tables of vmlinuz are read instead;
    with CONFIG_KALLSYMS_ALL they hold what System.map would."""
    (path,) = (image / "boot").glob("System.map-*")
    names: set[str] = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWw":
            names.add(parts[2].split(".", 1)[0])  # foo.cold, foo.isra.0 -> foo
    if len(names) < 1000:
        (vmlinuz,) = (image / "boot").glob("vmlinuz-*")
        names = {n.split(".", 1)[0] for n, t in image_symbols(vmlinuz).items() if t in "TtWw"}
    return names


def global_functions(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    out = []
    for m in _DEF.finditer(text):
        name = m.group("name")
        if _SKIP_PREFIX.search(m.group("prefix")) or name.isupper() or name in ("if", "for",
                                                                                "while", "switch"):
            continue
        out.append(name)
    return out


def check(result: KbuildResult, tree: Path, image: Path) -> tuple[str, dict[str, float]]:
    order, ko_names, builtin = package_modules(image)
    others = (*result.generated, *result.other_sources)
    ours_m = {f.object for f in result.files if f.built == "m"} | {
        o.object for o in others if o.built == "m"}
    ours_y = {f.object for f in result.files if f.built == "y"} | {
        o.object for o in others if o.built == "y"}
    our_names = {o.rsplit("/", 1)[-1] for o in ours_m}
    lines: list[str] = []
    figures: dict[str, float] = {}

    def both_ways(title: str, ours: set[str], theirs: set[str], key: str) -> None:
        common = ours & theirs
        figures[f"{key}_recall"] = len(common) / len(theirs) if theirs else 1.0
        figures[f"{key}_precision"] = len(common) / len(ours) if ours else 1.0
        lines.append(f"- {title}: package {len(theirs)}, ours {len(ours)}, common {len(common)}"
                     f" — {100 * figures[f'{key}_recall']:.2f}% of the package's found,"
                     f" {100 * figures[f'{key}_precision']:.2f}% of ours confirmed")
        for x in sorted(theirs - ours):
            lines.append(f"  - in the package, not ours: `{x}`")
        for x in sorted(ours - theirs):
            lines.append(f"  - ours, not in the package: `{x}`")

    both_ways("modules by path (modules.order)", ours_m, order, "modules_path")
    both_ways("modules by .ko name", our_names, ko_names, "modules_name")
    missing_builtin = sorted(builtin - ours_y)
    figures["builtin_found"] = 1 - len(missing_builtin) / len(builtin) if builtin else 1.0
    lines.append(f"- modules.builtin: {len(builtin)} objects, {len(builtin) - len(missing_builtin)}"
                 f" among our built-in objects")
    for x in missing_builtin:
        lines.append(f"  - not among ours: `{x}`")

    symbols = system_map(image)
    total = found = 0
    silent: list[str] = []
    for f in result.files:
        if f.built != "y":
            continue
        funcs = global_functions(tree / f.path)
        hits = sum(1 for n in funcs if n in symbols)
        total += len(funcs)
        found += hits
        if funcs and hits == 0:
            silent.append(f"{f.path} ({len(funcs)} candidates, e.g. `{funcs[0]}`)")
    m_total = m_found = 0
    for f in result.files:
        if f.built == "m":
            funcs = global_functions(tree / f.path)
            m_total += len(funcs)
            m_found += sum(1 for n in funcs if n in symbols)
    figures["sysmap_share"] = found / total if total else 1.0
    figures["sysmap_module_share"] = m_found / m_total if m_total else 0.0
    lines.append(f"- System.map (kallsyms of vmlinuz): {found} of {total} non-static functions defined in our built-in"
                 f" C files are listed ({100 * figures['sysmap_share']:.2f}%); files with"
                 f" candidates of which none is listed: {len(silent)}")
    for s in silent:
        lines.append(f"  - {s}")
    lines.append(f"- reverse: {m_found} of {m_total} non-static functions of our module C files"
                 f" have a same-named symbol in System.map"
                 f" ({100 * figures['sysmap_module_share']:.2f}%; name clashes with built-in"
                 f" code, not evidence of a misplaced file)")
    # The other way: C files in the directories we read that we do not build, yet most of
    # whose global functions are in vmlinux (a missed built-in file would look like this).
    ours_c = {f.path for f in result.files}
    suspects: list[str] = []
    unbuilt = 0
    for d in result.directories:
        for c in sorted((tree / d).glob("*.c")):
            rel = c.relative_to(tree).as_posix()
            if rel in ours_c:
                continue
            unbuilt += 1
            funcs = set(global_functions(c))
            hits = sum(1 for n in funcs if n in symbols)
            if len(funcs) >= 2 and hits * 2 > len(funcs):
                suspects.append(f"{rel} ({hits} of {len(funcs)}, e.g. "
                                f"`{sorted(n for n in funcs if n in symbols)[0]}`)")
    figures["unbuilt_suspects"] = len(suspects)
    lines.append(f"- the other way: of {unbuilt} C files in the directories read that we do not"
                 f" build, {len(suspects)} have more than half of (at least 2) global functions"
                 f" named in kallsyms")
    for x in suspects:
        lines.append(f"  - {x}")
    return "\n".join(lines), figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    args = ap.parse_args()
    config = load_config(str(args.config))
    t0 = time.perf_counter()
    result = resolve(args.tree, config)
    elapsed = time.perf_counter() - t0
    built_y = sum(1 for f in result.files if f.built == "y")
    print(f"- resolve(): {elapsed:.2f} s wall, {len(result.directories)} directories,"
          f" {len(result.files)} C files ({built_y} built in, {len(result.files) - built_y}"
          f" in modules), {len(result.generated)} generated objects,"
          f" {len(result.other_sources)} other-source objects,"
          f" {len(result.diagnostics)} diagnostics")
    report, _ = check(result, args.tree, args.image)
    print(report)
    print("- generated objects (no source in the tree):")
    for o in result.generated:
        print(f"  - `{o.path}` ({o.built}{', module ' + o.module if o.module else ''}): {o.reason}")
    reasons: dict[str, int] = {}
    for o in result.other_sources:
        key = o.reason.split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
    print("- other-source objects: " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())))
    included = [f for f in result.files if f.included_from]
    print(f"- C files compiled through #include from a built C file: {len(included)}")
    print("- diagnostics:")
    for d in result.diagnostics:
        print(f"  - {d.file}:{d.line}: {d.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
