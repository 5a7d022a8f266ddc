"""Out-arguments a command argument switches off (literals.py), on the Debian linux-source-6.12
lines that show it, scanned with Debian's cloud config (through the normal surface cache, like
test_grade_realtree.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface.cparse import parse
from cocoscope.surface.dataflow import file_summary
from cocoscope.surface.grade import Grade
from cocoscope.surface.inventory import Inventory
from cocoscope.surface.literals import evaluate, substitute
from cocoscope.surface.write_conditions import Names, write_condition
from tests.surface.test_grade_realtree import at, inv  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.realtree


# i8042.c __i8042_command receives `(command >> 8) & 0xf` bytes into param[]: a command that
# receives none (WCTR 0x1060; AUX_LOOP & 0xf0ff) writes nothing into the out-argument, so the
# call's grade is its status's. Commands that receive keep the out-argument's grade.
@pytest.mark.parametrize(("line", "primitive", "grade"), [
    (738, "i8042_command", Grade.COMPARED),  # sample D: if (i8042_command(&i8042_ctr, WCTR))
    (1095, "i8042_command", Grade.COMPARED),  # sample D
    (1201, "i8042_command", Grade.COMPARED),  # sample E
    (644, "i8042_command", Grade.COMPARED),  # sample F
    (1118, "i8042_command", Grade.COMPARED),  # &i8042_initial_ctr, WCTR
    (904, "__i8042_command", Grade.RETURNED),  # AUX_LOOP & 0xf0ff: the status, returned
    (1014, "i8042_command", Grade.LOOP_BOUND),  # RCTR receives one byte into ctr[]
    (700, "i8042_command", Grade.RETURNED),  # AUX_LOOP receives: *mux_version = param
    (794, "i8042_command", Grade.COMPARED),  # RCTR into a local only tested
    # for (i = 0; i < I8042_NUM_MUX_PORTS; i++) i8042_command(&param, I8042_CMD_MUX_PFX + i):
    # no value of i makes it receive; the status is ignored
    (665, "i8042_command", Grade.DISCARDED),
])
def test_a_command_that_receives_nothing_writes_no_out_argument(
        inv: Inventory, line: int, primitive: str, grade: Grade) -> None:  # noqa: F811
    assert at(inv, "drivers/input/serio/i8042.c", line, primitive).grade is grade


def test_i8042_command_carries_the_receive_count(linux_tree: Path) -> None:
    rel = "drivers/input/serio/i8042.c"
    summary = file_summary(rel, "", parse((linux_tree / rel).read_bytes()), frozenset())
    defs = {d.name: d for d in summary.defs}
    receives = ("<", ("i", 0), ("&", (">>", ("p", 2), ("i", 8)), ("i", 15)))
    assert defs["__i8042_command"].counts == ((1, ("i8042_read_data", 0), receives),)
    # i8042_command passes its own `command` on as __i8042_command's second argument
    assert (1, ("__i8042_command", 1), ((2, ("p", 2)),)) in defs["i8042_command"].passes


@pytest.mark.parametrize(("command", "receives"), [
    (0x00f4, False),  # PSMOUSE_CMD_ENABLE: no reply bytes
    (0x10f3, False),  # PSMOUSE_CMD_SETRATE: sends one byte, receives none
    (0x02f2, True),  # PSMOUSE_CMD_GETID: two bytes
    (0x03e9, True),  # PSMOUSE_CMD_GETINFO
])
def test_libps2_receive_loop_through_local_copies(linux_tree: Path, command: int,
                                                  receives: bool) -> None:
    """libps2.c __ps2_command copies `receive = (command >> 8) & 0xf` bytes into param[]
    under `if (param)`: the condition reads through the local copy. (cmdbuf is filled by the
    interrupt handler, not by a read the scanner knows, so libps2's callers have no site.)"""
    rel = "drivers/input/serio/libps2.c"
    parsed = parse((linux_tree / rel).read_bytes())
    body = next(b for b in parsed.bodies if b.name == "__ps2_command")
    text = parsed.text
    write = next(a for a in parsed.caps["a"]
                 if body.node.start_byte <= a.start_byte < body.node.end_byte
                 and text[a.start_byte:a.end_byte].startswith(b"param[i] ="))
    decls = [d for d in parsed.caps["d"] if body.node.start_byte <= d.start_byte < body.node.end_byte]
    names = Names.of(body.node, text, {"ps2dev": 1, "param": 2, "command": 3}, decls)
    cond = write_condition(write, body.node, text, names)
    assert cond is not None
    got = evaluate(substitute(cond, {3: ("i", command)}))  # `param` (&x at a call): unknown
    assert (got != 0) is receives
