#!/usr/bin/env python3
"""Fetch Debian packages by name into a local cache and unpack them.

The real inputs cocoscope is checked against (linux-source-6.12, linux-config-6.12,
linux-image-*-cloud-amd64, ovmf; linux-source-6.1 from bookworm for diffs across kernel versions)
come from Debian's archive, never from the repository.
This script uses only the standard library so it can run before the project is installed.

    python3 scripts/fetch_debian.py linux-source-6.12 ovmf ...
    python3 scripts/fetch_debian.py --print-path linux-source-6.12

Each package is unpacked under $COCOSCOPE_CACHE (default ~/.cache/cocoscope)/debian/<name>/
and the directory is printed.  A package already unpacked is not fetched again.  For
linux-source-* the inner tarball is unpacked too, to .../linux-source-6.12/tree/.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import lzma
import os
import re
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

MIRROR = os.environ.get("COCOSCOPE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = os.environ.get("COCOSCOPE_DEBIAN_SUITE", "trixie")
# Packages that exist only in another suite: the previous kernel generation for `surface diff`
# across kernel versions (labels carried from 6.1 to 6.12).
SUITES = {"linux-source-6.1": "bookworm", "linux-config-6.1": "bookworm"}

# Virtual names the project uses for packages whose real name carries an ABI version.
ALIASES = {
    "linux-image-cloud-amd64": re.compile(r"^linux-image-6\.12\.[0-9]+\+deb13-cloud-amd64-unsigned$"),
}


# The versions the tests' known answers were taken from (kbuild module counts, SNP launch digests
# of OVMF.fd, Kconfig probe table). The archive drops superseded versions; then the newest is
# used with a warning, and tests tied to exact figures say which package moved.
PINS = {
    "linux-source-6.12": "6.12.117-1",
    "linux-config-6.12": "6.12.117-1",
    "linux-image-cloud-amd64": "6.12.117-1",
    "ovmf": "2025.02-8+deb13u1",
    "linux-source-6.1": "6.1.176-1",
    "linux-config-6.1": "6.1.176-1",
}


def cache_root() -> Path:
    base = os.environ.get("COCOSCOPE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "cocoscope"
    )
    return Path(base) / "debian"


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_suffix(dest.suffix + ".part")
    print(f"fetch_debian: downloading {url}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=120) as resp, open(tmp, "wb") as out:
        shutil.copyfileobj(resp, out, 1 << 20)
    tmp.rename(dest)


def suite_of(name: str) -> str:
    return SUITES.get(name, SUITE)


def _index(suite: str = SUITE) -> list[dict[str, str]]:
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    idx = root / f"Packages-{suite}.xz"
    if not idx.exists():
        _download(f"{MIRROR}/dists/{suite}/main/binary-amd64/Packages.xz", idx)
    text = lzma.decompress(idx.read_bytes()).decode("utf-8", "replace")
    out = []
    for stanza in text.split("\n\n"):
        rec: dict[str, str] = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                k, v = line.split(":", 1)
                rec[k] = v.strip()
        if "Package" in rec:
            out.append(rec)
    return out


def _version_key(v: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", v)]


def resolve(name: str, index: list[dict[str, str]]) -> dict[str, str]:
    pat = ALIASES.get(name)
    cands = [r for r in index if (pat.match(r["Package"]) if pat else r["Package"] == name)]
    if not cands:
        raise SystemExit(f"fetch_debian: package {name!r} not found in {suite_of(name)}")
    pinned = [r for r in cands if r.get("Version") == PINS.get(name)]
    if pinned:
        return pinned[0]
    newest = max(cands, key=lambda r: _version_key(r["Package"] + " " + r.get("Version", "")))
    if name in PINS:
        print(f"fetch_debian: warning: {name} {PINS[name]} is no longer in {suite_of(name)}; using "
              f"{newest.get('Version')} (tests with exact known answers may need updating)",
              file=sys.stderr)
    return newest


def _ar_members(data: bytes) -> dict[str, bytes]:
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit("fetch_debian: not a .deb (ar) archive")
    pos, out = 8, {}
    while pos + 60 <= len(data):
        hdr = data[pos : pos + 60]
        name = hdr[:16].decode().strip().rstrip("/")
        size = int(hdr[48:58].decode().strip())
        out[name] = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size & 1)
    return out


def unpack_deb(deb: Path, dest: Path) -> None:
    members = _ar_members(deb.read_bytes())
    data_name = next(n for n in members if n.startswith("data.tar"))
    with tarfile.open(fileobj=io.BytesIO(members[data_name])) as tf:
        tf.extractall(dest, filter="data")


def fetch(name: str, index: list[dict[str, str]] | None = None) -> Path:
    dest = cache_root() / name
    stamp = dest / ".complete"
    if stamp.exists():
        return dest
    index = index if index is not None and suite_of(name) == SUITE else _index(suite_of(name))
    rec = resolve(name, index)
    debs = cache_root() / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deb = debs / Path(rec["Filename"]).name
    if not deb.exists():
        _download(f"{MIRROR}/{rec['Filename']}", deb)
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    if rec.get("SHA256") and digest != rec["SHA256"]:
        deb.unlink()
        raise SystemExit(f"fetch_debian: SHA-256 mismatch for {deb.name}")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    unpack_deb(deb, dest)
    if name.startswith("linux-source-"):
        tarballs = list(dest.glob("usr/src/linux-source-*.tar.*"))
        if tarballs:
            print(f"fetch_debian: unpacking {tarballs[0].name}", file=sys.stderr)
            with tarfile.open(tarballs[0]) as tf:
                tf.extractall(dest / "tree-tmp", filter="data")
            inner = next((dest / "tree-tmp").iterdir())
            inner.rename(dest / "tree")
            (dest / "tree-tmp").rmdir()
    (dest / "PROVENANCE").write_text(
        f"{rec['Package']} {rec.get('Version', '?')} from {suite_of(name)} ({rec['Filename']}) "
        f"sha256 {digest}\n"
    )
    stamp.touch()
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("packages", nargs="+")
    ap.add_argument("--print-path", action="store_true", help="print the unpack directory only")
    args = ap.parse_args()
    index = None
    for name in args.packages:
        if not (cache_root() / name / ".complete").exists() and index is None \
                and suite_of(name) == SUITE:
            index = _index()
        print(fetch(name, index))
    return 0


if __name__ == "__main__":
    sys.exit(main())
