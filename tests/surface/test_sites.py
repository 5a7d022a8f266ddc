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


BUFFERS = dict(SOURCES, early_memremap=SourceRef("early_memremap", True, frozenset(), False,
                                                 False),
               acpi_evaluate_object=SourceRef("acpi_evaluate_object", False, frozenset({4}),
                                              False, False))


def buffer_grade(src: str) -> Grade:
    (g,) = {s.grade for s in find_sites(parse(src.encode()), BUFFERS)}
    return g


def test_a_buffers_contents_count() -> None:
    # what is read through the host pointer bounds a same-file loop
    src = ("static void app(struct e *t, u32 n) { while (n) { t++; n--; } }\n"
           "void f(u64 pa) { struct sd *sd = early_memremap(pa, 16);\n"
           "  u32 n = sd->len / sizeof(struct e); app(sd->data, n); }")
    assert buffer_grade(src) is Grade.LOOP_BOUND
    # the package count of an out-argument buffer sizes an allocation
    src = ("void f(void *h) { struct acpi_buffer b = { 0 }; union acpi_object *o;\n"
           "  acpi_evaluate_object(h, \"_TSS\", NULL, &b); o = b.pointer;\n"
           "  p = kmalloc_array(o->package.count, 8, 0); }")
    assert buffer_grade(src) is Grade.LENGTH
    src = ("void f(void *h) { struct acpi_buffer b = { 0 }; union acpi_object *o;\n"
           "  acpi_evaluate_object(h, \"_X\", NULL, &b); o = b.pointer;\n"
           "  for (i = 0; i < o->package.count; i++) g(o->package.elements[i]); }")
    assert buffer_grade(src) is Grade.LOOP_BOUND
    # only dereferenced, tested or written: still `pointer`
    assert buffer_grade("void f(u64 pa) { struct sd *sd = early_memremap(pa, 16);\n"
                        "  if (sd->len > 3) g(); sd->len = 0; }") is Grade.POINTER


def test_test_result_stored() -> None:
    assert only("void f(struct d *x) { u32 v = readl(p); x->caps = (v != 0); }") is Grade.STORED
    assert only("void f(struct d *x) { x->on = !!(readl(p) & 4); }") is Grade.STORED
    assert only("void f(struct d *x) { if (readl(p) != 0) x->on = 1; }") is Grade.COMPARED


COPIES = dict(SOURCES, pci_read_config_dword=SourceRef(
    "pci_read_config_dword", False, frozenset({3}), False, False),
    ioread32_rep=SourceRef("ioread32_rep", False, frozenset({2}), False, False),
    memcpy_fromio=SourceRef("memcpy_fromio", False, frozenset({1}), False, False))


def copy_grade(src: str) -> Grade:
    (g,) = {s.grade for s in find_sites(parse(src.encode()), COPIES)}
    return g


def test_copies_into_the_callers_or_a_structures_memory() -> None:
    # a local buffer filled by the host, then copied into the caller's buffer
    assert copy_grade("void f(u8 *buf, int n) { u8 pad[4]; buf += n;\n"
                      "  ioread32_rep(a, pad, 1); memcpy(buf, pad, n & 3); }") is Grade.RETURNED
    # a local filled from MMIO, then copied into an array hung on a structure
    assert copy_grade("void f(struct d *in, int i) { struct m m; u8 *r = in->report[i];\n"
                      "  memcpy_fromio(&m, a, sizeof(m)); memcpy(r, &m, sizeof(m)); }") \
        is Grade.STORED
    # an out-argument pointing into a structure's array
    assert copy_grade("void f(struct s *st) { u32 *cap;\n"
                      "  cap = (u32 *)&st->cap.data[0]; pci_read_config_dword(d, 4, cap); }") \
        is Grade.STORED
    # a local buffer: still graded by what is read from it
    assert copy_grade("void f(void) { u32 b[2];\n"
                      "  pci_read_config_dword(d, 4, b); if (b[0]) g(); }") is Grade.COMPARED


def test_formatted_into_the_callers_buffer_is_returned() -> None:
    assert only('int f(char *buf) { return sprintf(buf, "%x", readl(p)); }') is Grade.RETURNED
    assert only('int f(char *buf, int n) { return n + scnprintf(buf + n, 8, "%x", readl(p)); }'
                ) is Grade.RETURNED
    assert only('void f(void) { char b[8]; sprintf(b, "%x", readl(p)); }') is Grade.PRINTED


def test_global_read_back_and_returned() -> None:
    src = "u32 g;\nu32 f(void) { if (g == 0) g = readl(p); return g; }"
    assert only(src) is Grade.RETURNED
    assert only("u32 g;\nvoid f(void) { g = readl(p); }") is Grade.STORED
    assert only("u32 g;\nu32 f(void) { g = readl(p); g = 0; return g; }") is Grade.STORED


def test_flags_word_built_from_a_test() -> None:
    src = ("u8 f(void) { u8 sts = 0;\n"
           "  if ((readl(p) & 1) != 1) sts |= 2; return sts; }")
    assert only(src) is Grade.RETURNED
    # a status chosen by the test (control dependence) is not followed
    assert only("int f(void) { int r = 0; if (readl(p) & 1) r = -5; return r; }") \
        is Grade.COMPARED
    assert only("void f(void) { u8 s = 0; if (readl(p) & 1) s |= 2; g(s != 0); }") \
        is Grade.COMPARED


def test_flags_word_of_several_tests_and_selecting_ternary_stay_compared() -> None:
    src = ("u8 f(u32 *out) { u8 s = 0; if (g()) s |= 1;\n"
           "  if (readl(p) & 1) s |= 2; *out = s; return 0; }")
    assert only(src) is Grade.COMPARED
    assert only("void f(struct d *x) { x->r = readl(p) ? &a : &b; }") is Grade.COMPARED


def test_contents_through_a_pointer_cast() -> None:
    src = ("void f(void *h) { struct acpi_buffer b = { 0 }; union acpi_object *o;\n"
           "  acpi_evaluate_object(h, \"_X\", NULL, &b); o = (union acpi_object *)b.pointer;\n"
           "  for (i = 0; i < o->package.count; i++) g(o->package.elements[i]); }")
    assert buffer_grade(src) is Grade.LOOP_BOUND
    assert only("void f(void) { g((u32 *)readl(p)); }") is Grade.POINTER


def test_out_argument_computed_from_an_address() -> None:
    # uncore_snbep.c:601: `(u32 *)&count + 1` fills the high half of the local `count`;
    # `buf + off` of the caller's `buf` is the caller's memory, of the function's own array
    # that array's uses; `p + i` of another pointer is an element, as `&p[i]`: `stored`.
    rd = {"rd": SourceRef("rd", False, frozenset({2}), False, False)}

    def one(src: str) -> Grade:
        (g,) = [s.grade for s in find_sites(parse(src.encode()), rd)]
        return g

    assert one("u64 f(void) { u64 count = 0; rd(X, (u32 *)&count + 1); return count; }") \
        is Grade.RETURNED
    assert one("void f(u8 *buf) { rd(X, buf + 4); }") is Grade.RETURNED
    assert one("void f(void) { u8 *b = buf; rd(X, b + 4); }") is Grade.STORED
    assert one("void f(void) { u8 b[32]; rd(X, b + 16); g(kmalloc(b[6], 0)); }") \
        is Grade.LENGTH


def test_a_macros_output() -> None:
    # a same-file _Generic macro passes the value on; `*(ptr)` is the caller's lvalue
    src = ("#define to_cpu(x) _Generic((x), __u8: (x), __le16: (u16)le16_to_cpu(x))\n"
           "#define rd(p, ptr) do { u16 v = readl(p); *(ptr) = to_cpu(v); } while (0)\n")
    assert only(src) is Grade.RETURNED
    # the last statement of a statement expression is its value
    assert only("#define rd(p) ({ u32 v_; v_ = readl(p); v_; })\n") is Grade.RETURNED
    assert only("void f(void) { ({ u32 v_; v_ = readl(p); v_; }); }") is Grade.DISCARDED
    # the controlling expression of _Generic is not read
    assert only("int f(void) { u32 v = readl(p); return _Generic((v), u32: 1); }") \
        is Grade.DISCARDED


def test_uses_no_path_reaches() -> None:
    src = "void f(u32 *o) { u32 v; if (a) { v = readl(p); } else { *o = v; } }"
    assert only(src) is Grade.DISCARDED
    src = "void f(u32 *o) { u32 v; while (n--) { if (a) v = readl(p); else *o = v; } }"
    assert only(src) is Grade.RETURNED  # the loop comes round to the else arm
    src = "int f(u32 *t) { int r = g(); r = t[r] + readl(p); return 0; }"
    assert only(src) is Grade.DISCARDED  # t[r] reads r before the write
    src = "void f(u32 *t) { int r = 0; while (n--) r = t[r] + readl(p); }"
    assert only(src) is Grade.INDEX  # ... but the loop brings the new r back


def test_a_write_in_both_arms_ends_the_value() -> None:
    src = "int f(int a) { int v = readl(p); if (a) v = 1; else v = 2; return v; }"
    assert only(src) is Grade.DISCARDED
    src = "int f(int a) { int v = readl(p); if (a) v = 1; else if (a > 2) v = 2; return v; }"
    assert only(src) is Grade.RETURNED  # no write on the last `else` path
    src = ("int f(int a) { int v = readl(p); while (a--) { if (a) { if (g()) break; v = 1; }"
           " else v = 2; } return v; }")
    assert only(src) is Grade.RETURNED  # the arm may leave before its write


def test_put_user_into_a_field_is_stored() -> None:
    src = "void f(struct s __user *u) { struct s __user *i = u; put_user(readl(p), &i->r); }"
    assert only(src) is Grade.STORED
    assert only("void f(u32 __user *buf) { put_user(readl(p), buf); }") is Grade.RETURNED


def test_sites_told_from_a_calls_first_bytes_and_through_fields() -> None:
    """Calls that start `name(` with no source's name are skipped from their bytes; a source
    called through a field is found even when the callee expression starts with a call."""
    src = """
int f(struct uart_port *p, void __iomem *b)
{
    int a = readl (b);
    int c = readl(b) + other(b);
    int d = get_port(p)->serial_in(p, 1);
    return a + c + d + other(readl(b));
}
"""
    serial = dict(SOURCES, **{"->serial_in": SourceRef("serial_in", True, frozenset(), False,
                                                       False)})
    found = sorted((s.callee, s.column) for s in find_sites(parse(src.encode()), serial))
    assert found == [("readl", 13), ("readl", 13), ("readl", 30), ("serial_in", 13)]
    plain = sorted((s.callee, s.column) for s in find_sites(parse(src.encode()), SOURCES))
    assert plain == [("readl", 13), ("readl", 13), ("readl", 30)]
