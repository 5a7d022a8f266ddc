"""Peers for `cocoscope surface`: Coccinelle and ripgrep running the same catalogue over the files
the Debian cloud config builds.

    .venv/bin/python benchmarks/surface_peers.py [--limit N] [--jobs J] [--cocoscope]
        [--tree DIR] [--config F] [--work DIR]

- installs the Debian packages `coccinelle` and `ripgrep` with `apt-get install -y` if `spatch`
  or `rg` is missing;
- takes the file list from `cocoscope.evidence.kbuild.resolve` (the C files built y or m);
- generates, from `cocoscope.surface.catalogue.load_catalogue()` (never a hand copy):
  a semantic patch with one rule for every call primitive (`f@p(...)`, identifiers matched by
  a regex of the catalogue names), one for member-call primitives (`E->config->get@p(...)`) and
  one for global objects (`boot_params@p`), each printing file:line:name from a Python script;
  and a ripgrep regex `\\b(name|...)\\s*\\(` plus `\\b(global)\\b`;
- times each tool (wall, peak RSS of the tool's process tree) on the same files and compares
  what they find (file, line, primitive): found by both, by one only, with a reason class for
  the ripgrep-only lines (comment, #define body, definition/declaration of the primitive, other);
- with --cocoscope, also runs `cocoscope surface --no-cache --format json` (measured the same
  way) and compares its sites whose primitive is a catalogue name.

Prints Markdown for docs/benchmarks.md. Figures are from one run on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from cocoscope.evidence.dotconfig import load_config  # noqa: E402
from cocoscope.evidence.kbuild import resolve  # noqa: E402
from cocoscope.surface.catalogue import Catalogue, Flow, load_catalogue  # noqa: E402

CACHE = Path("/root/.cache/cocoscope/debian")
DEFAULT_TREE = CACHE / "linux-source-6.12" / "tree"
DEFAULT_CONFIG = (CACHE / "linux-config-6.12" / "usr/src/linux-config-6.12"
                  / "config.amd64_none_cloud-amd64.xz")

Hit = tuple[str, int, str]  # file relative to the tree, line, primitive name

# Runs a command and reports its wall time and the peak RSS of its process tree (the largest
# of the waited-for children: rusage of children is a maximum, not a sum).
_RUNNER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "wb"), stderr=subprocess.PIPE)
wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "wall": wall, "rss_kib": use.ru_maxrss,
                  "cpu": use.ru_utime + use.ru_stime,
                  "stderr": p.stderr.decode("utf-8", "replace")[-2000:]}))
"""


def ensure_tools() -> str:
    if shutil.which("spatch") and shutil.which("rg"):
        return "already installed"
    subprocess.run(["apt-get", "install", "-y", "coccinelle", "ripgrep"], check=True,
                   stdout=subprocess.DEVNULL)
    return "installed with apt-get install -y coccinelle ripgrep"


def tool_versions() -> dict[str, str]:
    spatch = subprocess.run(["spatch", "--version"], capture_output=True, text=True).stdout
    rg = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout
    return {"spatch": spatch.splitlines()[0], "rg": rg.splitlines()[0]}


def split_catalogue(cat: Catalogue) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """(plain call names, (member path, field) calls such as ('config', 'get'), globals)."""
    calls: list[str] = []
    members: list[tuple[str, str]] = []
    globals_: list[str] = []
    for name, prim in sorted(cat.primitives.items()):
        if prim.flow is Flow.GLOBAL:
            globals_.append(name)
        elif "->" in name:
            head, _, field = name.rpartition("->")
            members.append((head, field))
        else:
            calls.append(name)
    return calls, members, globals_


def semantic_patch(cat: Catalogue) -> str:
    calls, members, globals_ = split_catalogue(cat)
    script = ('@script:python@\nf << {rule}.f;\np << {rule}.p;\n@@\n'
              'print("%s:%s:%s" % (p[0].file, p[0].line, {name}))\n\n')
    out = [f"// generated from the cocoscope catalogue {cat.fingerprint}; do not edit\n"]
    call_re = "^(" + "|".join(re.escape(n) for n in calls) + ")$"
    out.append(f'@calls@\nidentifier f =~ "{call_re}";\nposition p;\n@@\nf@p(...)\n\n')
    out.append(script.format(rule="calls", name="f"))
    for i, (head, field) in enumerate(members):
        rule = f"member{i}"
        # An empty head ("->serial_in") is a member call on any object: E->f(...).
        path = f"E->{head}->f" if head else "E->f"
        out.append(f"@{rule}@\nexpression E;\nidentifier f = {field};\nposition p;\n@@\n"
                   f"{path}@p(...)\n\n")
        out.append(script.format(rule=rule, name=f'"{head}->" + f'))
    if globals_:
        glob_re = "^(" + "|".join(re.escape(n) for n in globals_) + ")$"
        out.append(f'@globals@\nidentifier f =~ "{glob_re}";\nposition p;\n@@\nf@p\n\n')
        out.append(script.format(rule="globals", name="f"))
    return "".join(out)


def ripgrep_regex(cat: Catalogue) -> str:
    calls, members, globals_ = split_catalogue(cat)
    names = [re.escape(n) for n in calls] + [
        re.escape(f"{h}->{f}") for h, f in members]
    regex = r"\b(" + "|".join(names) + r")\s*\("
    if globals_:
        regex += r"|\b(" + "|".join(re.escape(g) for g in globals_) + r")\b"
    return regex


def run_measured(cmd: list[str], out: Path, cwd: Path) -> dict[str, object]:
    p = subprocess.run([sys.executable, "-c", _RUNNER, str(out), *cmd], cwd=cwd,
                       capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(p.stdout)
    return result


def parse_hits(text: str, strip_call: bool) -> set[Hit]:
    hits: set[Hit] = set()
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        name = parts[2]
        if strip_call:
            name = re.sub(r"\s*\($", "", name)
        hits.add((parts[0].removeprefix("./"), int(parts[1]), name))
    return hits


def reason_only_text(tree: Path, hit: Hit, lines_cache: dict[str, list[str]]) -> str:
    """Why a textual match is not a call Coccinelle reports (a classification, by text)."""
    lines = lines_cache.setdefault(
        hit[0], (tree / hit[0]).read_text(encoding="utf-8", errors="replace").splitlines())
    text = lines[hit[1] - 1] if hit[1] - 1 < len(lines) else ""
    stripped = text.strip()
    if stripped.startswith(("*", "/*", "//")) or re.search(r"(//|/\*).*\b" + re.escape(
            hit[2].split("->")[-1]) + r"\b", text):
        return "comment"
    i = hit[1] - 1
    while i > 0 and lines[i - 1].rstrip().endswith("\\"):
        i -= 1
    if lines and lines[i].lstrip().startswith("#"):
        return "#define body or directive"
    if re.search(r"\b(struct|union|enum)\s+" + re.escape(hit[2]) + r"\b", text):
        return "struct/union/enum tag of the same name"
    if re.match(r"^" + re.escape(hit[2]) + r"\s*\(.*\)\s*;\s*$", text):
        return "file-scope macro use (__setup, early_param): not a call in a function"
    if re.match(r"^[A-Za-z_].*\b" + re.escape(hit[2]) + r"\s*\(", text) and not stripped.endswith(
            ";"):
        return "definition or declaration of the primitive"
    if f'"{hit[2]}' in text or f"{hit[2]}\"" in text:
        return "string literal"
    return "other (code Coccinelle did not parse, or a match Coccinelle does not report)"


def compare(name_a: str, a: set[Hit], name_b: str, b: set[Hit], tree: Path,
            lines: list[str], classify_a: bool, work: Path) -> None:
    """Counts, reason classes, a few examples, and every one-sided hit written to
    ``work/<a>-only-vs-<b>.txt`` (with the source line) for whoever chases them."""
    both = a & b
    lines.append(f"- {name_a} and {name_b}: both {len(both)}, {name_a} only {len(a - b)},"
                 f" {name_b} only {len(b - a)}")
    cache: dict[str, list[str]] = {}
    if classify_a:
        reasons = Counter(reason_only_text(tree, h, cache) for h in a - b)
        for r, n in reasons.most_common():
            lines.append(f"  - {name_a} only, {r}: {n}")
    for x, y, only in ((name_a, name_b, a - b), (name_b, name_a, b - a)):
        listing = work / f"{x}-only-vs-{y}.txt".replace(" ", "_")
        with listing.open("w") as fh:
            for h in sorted(only):
                src = cache.setdefault(h[0], (tree / h[0]).read_text(
                    encoding="utf-8", errors="replace").splitlines())
                text = src[h[1] - 1].strip() if 0 < h[1] <= len(src) else ""
                fh.write(f"{h[0]}:{h[1]}: {h[2]}: {text}\n")
        if only and (x == name_b or not classify_a):
            examples = ", ".join(f"`{h[0]}:{h[1]}` {h[2]}" for h in sorted(only)[:6])
            lines.append(f"  - {x} only (all in `{listing}`), e.g. {examples}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE)
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--work", type=Path, default=Path("/tmp/cocoscope-peers"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N built files")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=120, help="spatch per-file timeout (s)")
    ap.add_argument("--cocoscope", action="store_true", help="also run cocoscope's scanner")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse rg.out/spatch.out of an earlier run in --work (no timings)")
    args = ap.parse_args()
    tree = args.tree.resolve()
    args.work.mkdir(parents=True, exist_ok=True)

    installed = ensure_tools()
    versions = tool_versions()
    cat = load_catalogue()
    result = resolve(tree, load_config(str(args.config)))
    files = [f.path for f in result.files]
    if args.limit:
        files = files[:args.limit]
    cocci = args.work / "catalogue.cocci"
    cocci.write_text(semantic_patch(cat))
    regex = ripgrep_regex(cat)
    (args.work / "catalogue.rg").write_text(regex + "\n")
    groups = args.work / "files.groups"
    groups.write_text("".join(f"{f}\n\n" for f in files))  # one file per group

    out: list[str] = [
        f"- inputs: {len(files)} C files built by the config; catalogue {cat.fingerprint}"
        f" ({len(cat.primitives)} primitives); {versions['spatch']}; {versions['rg']}"
        f" ({installed}); semantic patch `{cocci}`, regex `{args.work / 'catalogue.rg'}`"]

    rg_out = args.work / "rg.out"
    cocci_out = args.work / "spatch.out"
    if args.reuse and rg_out.exists() and cocci_out.exists():
        rg_hits = parse_hits(rg_out.read_text(encoding="utf-8", errors="replace"), True)
        sp_hits = parse_hits(cocci_out.read_text(encoding="utf-8", errors="replace"), False)
        out.append(f"- reused {rg_out} ({len(rg_hits)} matches) and {cocci_out}"
                   f" ({len(sp_hits)} matches); no timings")
    else:
        rg_hits, sp_hits = run_peers(args, tree, files, cocci, regex, groups, out)
    compare("ripgrep", rg_hits, "Coccinelle", sp_hits, tree, out, True, args.work)
    if args.cocoscope:
        run_cocoscope(args, tree, files, sp_hits, rg_hits, out)
    print("\n".join(out))
    return 0


def run_peers(args: argparse.Namespace, tree: Path, files: list[str], cocci: Path, regex: str,
              groups: Path, out: list[str]) -> tuple[set[Hit], set[Hit]]:
    rg_out = args.work / "rg.out"
    rg = run_measured(["rg", "--no-heading", "--with-filename", "--line-number",
                       "--only-matching", "-e", regex, *files], rg_out, tree)
    rg_hits = parse_hits(rg_out.read_text(encoding="utf-8", errors="replace"), True)
    out.append(f"- ripgrep: {rg['wall']:.2f} s wall, {rg['cpu']:.2f} s CPU,"
               f" peak RSS {int(rg['rss_kib']) // 1024} MiB,"
               f" {len(rg_hits)} matches")

    cocci_out = args.work / "spatch.out"
    sp = run_measured(["spatch", "--sp-file", str(cocci), "--file-groups", str(groups),
                       "--no-includes", "--very-quiet", "-j", str(args.jobs),
                       "--timeout", str(args.timeout), "--tmp-dir", str(args.work / "sptmp")],
                      cocci_out, tree)
    sp_hits = parse_hits(cocci_out.read_text(encoding="utf-8", errors="replace"), False)
    out.append(f"- Coccinelle (-j {args.jobs}): {sp['wall']:.2f} s wall, {sp['cpu']:.2f} s CPU,"
               f" peak RSS"
               f" {int(sp['rss_kib']) // 1024} MiB (largest process), {len(sp_hits)} matches,"
               f" exit {sp['rc']}")
    return rg_hits, sp_hits


def run_cocoscope(args: argparse.Namespace, tree: Path, files: list[str], sp_hits: set[Hit],
                  rg_hits: set[Hit], out: list[str]) -> None:
    """The product's own CLI, cold (--no-cache), measured like the peers."""
    report = args.work / "cocoscope.json"
    if args.reuse and report.exists():
        out.append(f"- reused {report}; no timings")
    else:
        run = run_measured([sys.executable, "-m", "cocoscope", "surface", "--source", str(tree),
                            "--config", str(args.config), "--no-cache", "--jobs",
                            str(args.jobs), "--format", "json"], report, tree)
        out.append(f"- cocoscope surface CLI (--no-cache, -j {args.jobs}): {run['wall']:.2f} s"
                   f" wall, {run['cpu']:.2f} s CPU, peak RSS {int(run['rss_kib']) // 1024} MiB (largest process),"
                   f" exit {run['rc']}")
    doc = json.loads(report.read_text())
    listed = set(files)
    names = set(load_catalogue().primitives)
    # Calls of catalogue primitives, whether reported as direct or, for accessors whose body the
    # tree shows (ioapic_read_entry over io_apic_read), with a longer chain.
    ours = {(s["file"], int(s["line"]), s["primitive"]) for s in doc["sites"]
            if s["primitive"] in names and s["file"] in listed}
    out.append(f"- cocoscope: {len(doc['sites'])} sites, {len(ours)} of them calls of catalogue"
               f" primitives in these files; {len(doc['problems'])} files with parse problems")
    compare("Coccinelle", sp_hits, "cocoscope", ours, tree, out, False, args.work)
    compare("ripgrep", rg_hits, "cocoscope", ours, tree, out, True, args.work)


if __name__ == "__main__":
    raise SystemExit(main())
