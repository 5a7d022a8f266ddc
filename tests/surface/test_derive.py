"""The cross-file fixpoint on the project's C fixtures (tests/data/surface/tree)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cocoscope.surface.catalogue import load_catalogue
from cocoscope.surface.cparse import parse
from cocoscope.surface.dataflow import file_summary
from cocoscope.surface.derive import derive, resolve_in
from tests.paths import DATA

TREE = DATA / "surface" / "tree"


def test_fixpoint_does_not_depend_on_file_order() -> None:
    summaries = [file_summary(p.relative_to(TREE).as_posix(), "", parse(p.read_bytes()),
                              frozenset({"boot_params"}))
                 for p in sorted(TREE.rglob("*.[ch]"))]
    results = []
    for seed in range(3):
        random.Random(seed).shuffle(summaries)
        sources, res = derive(summaries, load_catalogue())
        results.append(dict(sources))  # the whole source, also the chain it is named by
        assert resolve_in(res.private, res.names, "drivers/demo/sub/user.c",
                          "DEMO_LOCAL_R32")[0] == "dir:drivers/demo"
    assert results[0] == results[1] == results[2]


@pytest.mark.realtree
def test_literal_guard_argument_through_a_wrapper_real_6_12(linux_tree: Path) -> None:
    """ghes.c:460 `ghes_clear_estatus` calls `ghes_copy_tofrom_phys(estatus, buf_paddr, len,
    0, fixmap_idx)`: from_phys 0 selects the copy TO the physical buffer, so the void wrapper
    hands its caller no host data and is no derived source; `__ghes_read_estatus` (:423,
    from_phys 1) is one, through its estatus out-argument."""
    rel = "drivers/acpi/apei/ghes.c"
    summary = file_summary(rel, "", parse((linux_tree / rel).read_bytes()), frozenset())
    clear = next(d for d in summary.defs if d.name == "ghes_clear_estatus")
    # the parameter passed next to literals waits for the callee's guard; other calls do not
    assert not [o for o in clear.outs if o[1][0] == "ghes_copy_tofrom_phys"]
    assert (2, ("ghes_copy_tofrom_phys", 1), ((4, False),)) in clear.literal_outs
    sources, _res = derive([summary], load_catalogue())
    names = {s.name: s for s in sources.values()}
    assert names["ghes_copy_tofrom_phys"].guards == ((1, 4, True),)
    assert "ghes_clear_estatus" not in names
    assert names["__ghes_read_estatus"].out_args == frozenset({1})


@pytest.mark.realtree
def test_status_decided_by_a_host_test_real_6_12(linux_tree: Path) -> None:
    """i8042.c `__i8042_command` fills param[] from the data port and returns -1 when
    `!(i8042_read_status() & I8042_STR_AUXDATA)` (the host-emulated status port): the
    returned status is decided by host data (control.py), so the wrapper returns host data
    too. `wdat_wdt_run_action`'s own tests are argument checks (`action >= ARRAY_SIZE(...)`,
    `!wdat->instructions[action]`): they decide nothing the host gives."""
    summaries = [file_summary(rel, "", parse((linux_tree / rel).read_bytes()), frozenset())
                 for rel in ("drivers/input/serio/i8042.c", "drivers/input/serio/i8042-io.h")]
    command = next(d for d in summaries[0].defs if d.name == "__i8042_command")
    assert ("i8042_read_status", 0) in command.decided
    sources, _res = derive(summaries, load_catalogue())
    names = {s.name: s for s in sources.values()}
    assert names["__i8042_command"].returns and names["__i8042_command"].out_args == {1}
    # the status port read alone, with no out-argument, does not make a status a source
    assert "i8042_wait_write" not in names
    rel = "drivers/watchdog/wdat_wdt.c"
    summary = file_summary(rel, "", parse((linux_tree / rel).read_bytes()), frozenset())
    sources, _res = derive([summary], load_catalogue())
    names = {s.name: s for s in sources.values()}
    assert names["wdat_wdt_run_action"].out_args == {4}
    assert not names["wdat_wdt_run_action"].returns


@pytest.mark.realtree
def test_status_decided_through_a_pointer_parameter_real_6_12(linux_tree: Path) -> None:
    """What a condition reads through a pointer parameter counts (probe.c
    `pci_bus_generic_read_dev_vendor_id`: `if (PCI_POSSIBLE_ERROR(*l) || *l == 0 ...) return
    false;` after the config read into `l`); a test of the pointer itself does not (osl.c
    `acpi_os_read_pci_configuration`: `if (!value) return AE_BAD_PARAMETER;`)."""
    for rel, name, decided in (
            ("drivers/pci/probe.c", "pci_bus_generic_read_dev_vendor_id", True),
            ("drivers/acpi/osl.c", "acpi_os_read_pci_configuration", False)):
        summary = file_summary(rel, "", parse((linux_tree / rel).read_bytes()), frozenset())
        found = next(d for d in summary.defs if d.name == name)
        assert bool([c for c, k in found.decided if k > 0]) is decided, found.decided


def test_chain_does_not_depend_on_file_order() -> None:
    # `both` reaches inb through wa -> wa2 and through wb: which path names its chain must not
    # depend on the order pass 1's workers hand the summaries over.
    files = {
        "drivers/a.c": b"int wa2(void) { return inb(1); }\nint wa(void) { return wa2(); }\n",
        "drivers/b.c": b"int wb(void) { return inb(2); }\n",
        "drivers/c.c": b"int both(void) { return wa() + wb(); }\n",
    }
    summaries = [file_summary(path, "", parse(text), frozenset()) for path, text in files.items()]
    vias = set()
    for order in (summaries, summaries[::-1], summaries[1:] + summaries[:1]):
        sources, _res = derive(order, load_catalogue())
        vias.add(sources[("", "both")].via)
    assert len(vias) == 1
