#!/usr/bin/env python3
"""Regenerate the probe-dependent symbol table in docs/kconfig.md from linux-source-6.12.

Usage: scripts/kconfig_probe_doc.py [TREE]   (default: the fetch_debian.py cache)
The table sits between the two marker comments in docs/kconfig.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN probe-symbols (scripts/kconfig_probe_doc.py) -->\n"
END = "<!-- END probe-symbols -->\n"


def main() -> int:
    sys.path.insert(0, str(REPO / "src"))
    from cocoscope.evidence.kconfig import load_tree, probe_symbols_markdown

    if len(sys.argv) > 1:
        tree_dir = Path(sys.argv[1])
    else:
        out = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_debian.py"),
                              "linux-source-6.12"], check=True, capture_output=True, text=True)
        tree_dir = Path(out.stdout.strip().splitlines()[-1]) / "tree"
    table = probe_symbols_markdown(load_tree(tree_dir))
    doc = REPO / "docs" / "kconfig.md"
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(head + BEGIN + table + END + tail, encoding="utf-8")
    print(f"updated {doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
