"""A Kconfig fragment made a whole config through a kernel tree, for the audit.

A fragment (no Kconfig header) says nothing about the symbols it does not set; with a tree those
are what the kernel's own ``scripts/kconfig/merge_config.sh`` would make of them: their Kconfig
defaults (the script's default, alldefconfig) or n where they have a prompt (its ``-n``,
allnoconfig, which Kata Containers' kernel build uses). The result is audited like any full
config of the tree's kernel version; symbols the fragment sets keep their fragment line, so
findings still point at the line that asked for the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from cocoscope.evidence.dotconfig import ConfigEntry, KernelConfig, parse_config_text
from cocoscope.evidence.kconfig.tree import FragmentLine, KconfigTree


@dataclass(frozen=True)
class ResolvedFragment:
    config: KernelConfig  # a full config of the tree's version; unset symbols have line 0
    fragment_path: str
    tree: str  # the kernel source directory
    kernel_version: str
    base: str  # "alldefconfig" or "allnoconfig"
    not_taken: tuple[FragmentLine, ...]  # lines whose value did not hold, with the reason
    not_in_tree: tuple[str, ...]  # symbols this tree's Kconfig does not define

    def note(self) -> str:
        how = "merge_config.sh -n (allnoconfig)" if self.base == "allnoconfig" else \
            "merge_config.sh (alldefconfig)"
        text = (f"{self.fragment_path} is a Kconfig fragment, resolved through the Kconfig tree "
                f"{self.tree} (Linux {self.kernel_version}) as {how} would: symbols it does not "
                "set take "
                + ("n where they have a prompt, else their default" if self.base == "allnoconfig"
                   else "their Kconfig defaults"))
        taken = [fl for fl in self.not_taken if fl.reason != "no such symbol in this tree"]
        if taken:
            shown = "; ".join(f"CONFIG_{fl.symbol}={fl.requested} (now {fl.result or 'unset'}: "
                              f"{fl.reason})" for fl in taken[:8])
            more = f" (+{len(taken) - 8} more)" if len(taken) > 8 else ""
            text += f"; {len(taken)} of its lines did not take: {shown}{more}"
        if self.not_in_tree:
            names = ", ".join(self.not_in_tree[:10])
            more = f" (+{len(self.not_in_tree) - 10} more)" if len(self.not_in_tree) > 10 else ""
            text += (f"; {len(self.not_in_tree)} of its symbols are not in this tree (newer or "
                     f"older kernel): {names}{more}")
        return text


def resolve_fragment(fragment: KernelConfig, tree: KconfigTree,
                     base: str = "alldefconfig") -> ResolvedFragment:
    text = "".join(e.raw.strip() + "\n" for e in fragment.entries.values())
    merged = tree.resolve_fragment(text, fragment.path, base)
    full = parse_config_text(merged.config_text, fragment.path, fragment.sha256)
    entries = {}
    for sym, e in full.entries.items():
        own = fragment.entries.get(sym)
        entries[sym] = ConfigEntry(sym, e.value, own.line, own.raw) if own is not None else \
            ConfigEntry(sym, e.value, 0, e.raw)
    # A fragment line for a symbol that ended up hidden (its dependencies off) still points at
    # the fragment's line, with the value the tree gives it: off.
    for sym, own in fragment.entries.items():
        if sym not in entries and tree.has_symbol(sym) and own.value in ("y", "m", "n"):
            entries[sym] = ConfigEntry(sym, "n", own.line, own.raw)
    missing = tuple(sorted(s for s in fragment.entries if not tree.has_symbol(s)))
    config = KernelConfig(fragment.path, entries, full.version, full.version_text,
                          fragment.sha256)
    return ResolvedFragment(config, fragment.path, str(tree.srcdir), tree.kernel_version, base,
                            merged.not_taken, missing)
