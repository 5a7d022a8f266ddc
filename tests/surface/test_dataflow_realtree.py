"""Pass-1 parameter flows (dataflow.py) and the sinks fixpoint over them (sinks.py): the
shortcuts pass 1 takes (expressions that spell no parameter-carrying name are not walked, a
function whose parameters all escape gets no flows) must never drop a flow that makes a sink,
least of all one that becomes a sink only through the cross-file fixpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.surface.cparse import parse
from cocoscope.surface.dataflow import EXIT, RETURN, TESTED, Def, FileSummary, file_summary
from cocoscope.surface.derive import Resolver
from cocoscope.surface.grade import Grade
from cocoscope.surface.sinks import derive_sinks, kind_at


def _summary(path: str, source: bytes) -> FileSummary:
    return file_summary(path, "", parse(source), frozenset())


def _def(summary: FileSummary, name: str) -> Def:
    found = [d for d in summary.defs if d.name == name]
    assert len(found) == 1, [d.name for d in summary.defs]
    return found[0]


def test_flow_through_a_local_copy_is_kept() -> None:
    src = b"""
static void put(unsigned int val, void *base)
{
	unsigned int v2 = val + 1;
	unsigned int valx = 3;
	helper(v2, base);
	other(valx);
	third(base);
}
static unsigned int back(unsigned int val)
{
	log_it(val);
	return val;
}
"""
    s = _summary("drivers/demo/flows.c", src)
    # v2 holds val: the call spells v2, not val, and must still be walked; `valx` merely
    # contains the name `val` and carries nothing.
    assert _def(s, "put").flows == ((1, "helper", 1),)
    # a function that assigns nothing keeps its returned parameter (it may be a value
    # function, sinks.py) and so where else the parameter goes
    assert _def(s, "back").flows == ((1, RETURN, 0), (1, "log_it", 1))


@pytest.mark.realtree
def test_sink_only_through_the_fixpoint_real_6_12(linux_tree: Path) -> None:
    """`CMOS_WRITE(val, addr)` (mc146818rtc.h:94) calls `rtc_cmos_write`, which is no
    primitive: only once the fixpoint has made rtc_cmos_write (rtc.c:93, `outb(val, ...)`) a
    write wrapper does CMOS_WRITE become one. Pass 1 cannot know that; it must keep the
    macro's flow into rtc_cmos_write."""
    header = "arch/x86/include/asm/mc146818rtc.h"
    impl = "arch/x86/kernel/rtc.c"
    sums = [_summary(rel, (linux_tree / rel).read_bytes()) for rel in (header, impl)]
    macro = _def(sums[0], "CMOS_WRITE")
    assert (1, "rtc_cmos_write", 1) in macro.flows
    assert (1, "outb", 1) in _def(sums[1], "rtc_cmos_write").flows
    assert all(c != RETURN for _p, c, _k in macro.flows if _p == 1)
    sinks = derive_sinks(Resolver(sums, frozenset()))
    assert kind_at(sinks[("", "rtc_cmos_write")], 1) == Grade.WRITTEN_BACK.value
    assert kind_at(sinks[("", "CMOS_WRITE")], 1) == Grade.WRITTEN_BACK.value


def test_store_helpers_are_short_and_only_store() -> None:
    """A short function whose parameter is only assigned into memory or handed to another
    store helper (or x86's inline-assembly atomics) stores it; one that also prints it, or
    spans more than a one-line helper, does not."""
    src = b"""
static inline void stat_add(struct stat *p, unsigned long val)
{
	p->v += val;
}
static inline void stat_set(struct stat *p, unsigned long val)
{
	stat_add(p, val);
}
static inline void counter_add(struct stat *p, long val)
{
	arch_atomic64_add(val, &p->a);
}
static void logged(struct stat *p, unsigned long val)
{
	p->v = val;
	printk("%lu\\n", val);
}
static void long_one(struct stat *p, unsigned long val)
{
	p->v = val;
	p->w = 1;
	p->x = 2;
	p->y = 3;
	p->z = 4;
	p->a = 5;
	p->b = 6;
	p->c = 7;
}
"""
    sinks = derive_sinks(Resolver([_summary("drivers/demo/stats.c", src)], frozenset()))
    path = "drivers/demo/stats.c"
    for name in ("stat_add", "stat_set", "counter_add"):
        assert kind_at(sinks[(path, name)], 2) == Grade.STORED.value, name
    assert (path, "logged") not in sinks  # it prints the value too: passed
    assert (path, "long_one") not in sinks  # no one-line helper


def test_a_macro_that_returns_from_its_user() -> None:
    # ACPICA: `#define return_ACPI_STATUS(s) return(s)`; a macro whose value is `s` is a value
    # macro instead, and a `return` of something else only tests its parameter.
    s = _summary("drivers/demo/ret.c", b"""
#define return_ACPI_STATUS(s) return(s)
#define VALUE_OF(s) ((s) & 0xff)
#define CHECK(x) do { if (!(x)) return -22; } while (0)
""")
    assert _def(s, "return_ACPI_STATUS").flows == ((1, EXIT, 0),)
    assert _def(s, "VALUE_OF").flows == ((1, RETURN, 0),)
    assert _def(s, "CHECK").flows == ((1, TESTED, 0),)
    # the sink fixpoint: the argument is returned by the function using the macro
    res = Resolver([s], frozenset())
    sinks = derive_sinks(res)
    key = res.resolve("drivers/demo/ret.c", "return_ACPI_STATUS")
    assert kind_at(sinks[key], 1) == Grade.RETURNED.value
