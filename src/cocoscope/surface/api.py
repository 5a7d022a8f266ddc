"""Public entry points for other commands (``cocoscope audit --source``) and scripts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from cocoscope.errors import InputError
from cocoscope.model.platform import Platform
from cocoscope.surface.catalogue import Catalogue, load_catalogue
from cocoscope.surface.files import FileSpec, all_c_files, files_for_config
from cocoscope.surface.inventory import Inventory
from cocoscope.surface.rollup import by_subsystem
from cocoscope.surface.scan import scan

SUMMARY_ROWS = 15  # subsystems and drivers site_counts names, largest first


def inventory(source: str, config: str | None = None, *, platform: Platform | None = None,
              all_files: bool = False, catalogue: Catalogue | str | None = None, jobs: int = 0,
              use_cache: bool = True, quiet: bool = False) -> Inventory:
    """Host-input sites in the files ``config`` builds from ``source`` (or all .c files)."""
    tree = Path(source)
    if not tree.is_dir() or not (tree / "Makefile").is_file():
        raise InputError("not a kernel source tree (no top-level Makefile)", path=source)
    if config is None and not all_files:
        raise InputError("a kernel config is needed to know which files are built "
                         "(or scan every file with all_files)", path=source)
    cat = load_catalogue(catalogue) if not isinstance(catalogue, Catalogue) else catalogue
    files: list[FileSpec] | Callable[[], list[FileSpec]]
    if not all_files:
        files = partial(files_for_config, tree, str(config))  # scan runs it (workers start first)
    else:
        files = all_c_files(tree)
        if config is not None:
            # Keep y/m/symbol facts for the files the config does build.
            built = {f.path: f for f in files_for_config(tree, config)}
            files = [built.get(f.path, f) for f in files]
    return scan(tree, files, config=config or "", platform=platform, catalogue=cat, jobs=jobs,
                use_cache=use_cache, all_headers=all_files, quiet=quiet)


def site_counts(source: str, config: str, platform: Platform | None = None) -> dict[str, int]:
    """For the audit's malformed-runtime-input row: total, risky and per-interface counts."""
    return summarise(inventory(source, config, platform=platform))


def summarise(inv: Inventory) -> dict[str, int]:
    """Total, risky and per-interface counts, the largest subsystems and drivers."""
    counts = {"sites": len(inv.host_sites), "risky": sum(s.risky for s in inv.host_sites)}
    for iface, n in sorted(inv.counts("interface").items()):
        counts[f"interface:{iface}"] = n
    # The largest subsystems and drivers, for the HTML report's surface section.
    for row in by_subsystem(inv)[:SUMMARY_ROWS]:
        counts[f"subsystem:{row.key}"] = row.sites
    drivers = Counter(s.module for s in inv.host_sites if s.module)
    for module, n in sorted(drivers.items(), key=lambda kv: (-kv[1], kv[0]))[:SUMMARY_ROWS]:
        counts[f"driver:{module}"] = n
    return counts
