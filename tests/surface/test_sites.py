"""Grades of call outputs on small synthetic C (sites.py / grade.py); each rule also has a test
on the real 6.12 line that shows it in test_grade_realtree.py."""

from __future__ import annotations

from cocoscope.surface.cparse import parse
from cocoscope.surface.grade import Grade
from cocoscope.surface.sites import SourceRef, find_sites

SOURCES = {
    "readl": SourceRef("readl", True, frozenset(), False, False),
    "acpi_table_parse_cedt": SourceRef("acpi_table_parse_cedt", False, frozenset(), True, False),
    "request_irq": SourceRef("request_irq", False, frozenset(), True, False),
}


def grades(src: str) -> dict[tuple[str, int], Grade]:
    """(function, column) -> grade of every site in ``src``."""
    return {(s.function, s.column): s.grade for s in find_sites(parse(src.encode()), SOURCES)}


def only(src: str) -> Grade:
    (g,) = grades(src).values()
    return g


def test_returned_test_result() -> None:
    assert only("int f(void) { return x && readl(p); }") is Grade.RETURNED
    assert only("bool f(void) { return !!(readl(p) & 4); }") is Grade.RETURNED
    assert only("bool f(void) { u32 v = readl(p); return (v & 4) ? true : false; }") \
        is Grade.RETURNED
    assert only("int f(void) { int ok = readl(p) == 1; return ok; }") is Grade.RETURNED
    # only tested: the function returns constants chosen by the test
    assert only("int f(void) { if (!(readl(p) & 4)) return 1; return 0; }") is Grade.COMPARED
    assert only("void f(void) { while (!(readl(p) & 4)) ; }") is Grade.LOOP_BOUND


def test_same_file_helper_returning_a_test() -> None:
    src = ("static bool ahead(u32 a, u32 b) { return (s32)(b - a) < 0; }\n"
           "void f(void) { do { } while (ahead(t, readl(p))); }")
    assert only(src) is Grade.LOOP_BOUND
    src = ("static u32 id(u32 a) { return a; }\n"
           "void f(u32 *s) { s[id(readl(p))] = 0; }")
    assert only(src) is Grade.INDEX


def test_assertion_condition_is_compared_and_its_format_printed() -> None:
    g = grades('void f(void) { WARN_ON(readl(p)); WARN(readl(p) == 1, "%d", readl(p)); }')
    assert sorted(g.values()) == sorted([Grade.COMPARED, Grade.COMPARED, Grade.PRINTED])
    assert only("void f(void) { BUG_ON(readl(p) != 3); }") is Grade.COMPARED


def test_local_pointer_assigned_from_a_parameter_is_the_callers_memory() -> None:
    src = ("void f(u32 *log) { u32 *a; int i; a = log;"
           " for (i = 0; i < 4; i++) { *a = readl(p); a++; } }")
    assert only(src) is Grade.RETURNED
    src = "void f(u32 *log) { u32 *a; a = kmalloc(4); *a = readl(p); }"
    assert only(src) is Grade.STORED


def test_table_walker_callback_takes_the_callbacks_use() -> None:
    src = ("static int cb(union acpi_subtable_headers *h, void *arg, const unsigned long end)\n"
           "{ struct acpi_cedt_cfmws *c = (struct acpi_cedt_cfmws *)h; return c->x; }\n"
           "void f(void) { acpi_table_parse_cedt(1, cb, NULL);"
           " acpi_table_parse_cedt(1, elsewhere, NULL); request_irq(1, cb, 0, \"x\", 0); }")
    assert sorted(grades(src).values()) == sorted([Grade.POINTER, Grade.EVENT, Grade.EVENT])
