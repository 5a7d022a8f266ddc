"""Blanking what tree-sitter-c cannot parse (neutralise.py), byte for byte."""

from __future__ import annotations

from cocoscope.surface.cparse import parse
from cocoscope.surface.grade import Grade
from cocoscope.surface.neutralise import neutralise
from cocoscope.surface.sites import SourceRef, find_sites

SOURCES = {n: SourceRef(n, True, frozenset(), False, False) for n in ("__readq", "readl")}

# asm/io.h: function-defining macro invocations without `;` at file scope, then the
# accessor macros.
IO_H = b"""#define build_mmio_read(name, size, type, reg, barrier) \\
static inline type name(const volatile void __iomem *addr) \\
{ type ret; asm volatile("mov" size " %1,%0":reg (ret) \\
:"m" (*(volatile type __force *)addr) barrier); return ret; }

build_mmio_read(readq, "q", u64, "=r", :"memory")
build_mmio_read(__readq, "q", u64, "=r", )

#define readq_relaxed(a)\t__readq(a)
"""


def test_bare_macro_invocations_no_longer_hide_the_macros_after_them() -> None:
    out = neutralise(IO_H)
    assert len(out) == len(IO_H) and out.count(b"\n") == IO_H.count(b"\n")
    assert b"build_mmio_read(readq" not in out
    assert b"#define build_mmio_read(name" in out  # the definition itself stays
    sites = find_sites(parse(IO_H, None), SOURCES)
    assert [(s.function, s.grade) for s in sites] == [("readq_relaxed", Grade.RETURNED)]


def test_function_heads_statements_and_macro_bodies_stay() -> None:
    src = (b"SYSCALL_DEFINE1(peek, int, x)\n{\n\treturn readl(p);\n}\n"
           b"#define PEEK(a) \\\nreadl(a)\n"
           b"static int f(void)\n{\n\tint v = 0;\n"
           b"do_thing(v);\n"  # a statement at column 0: it has its `;`
           b"\treturn v;\n}\n")
    assert neutralise(src) == src


def test_annotations_are_whole_words_found_anywhere() -> None:
    # The candidate scan looks for `__` and the plain annotation names; a match inside a
    # longer word (`my__iomem`, `xnotrace`, `noinline_fn`) is not an annotation.
    src = (b"noinline int a(void __iomem *p);\n"
           b"int my__iomem, xnotrace, noinline_fn, __user_ok;\n"
           b"static void __acquires(l) asmlinkage b(int notrace);\n")
    out = neutralise(src)
    assert out == (b"         int a(void         *p);\n"
                   b"int my__iomem, xnotrace, noinline_fn, __user_ok;\n"
                   b"static void                          b(int        );\n")


def test_bare_invocation_on_the_first_line_is_blanked() -> None:
    src = b"build_mmio_read(readq, \"q\", u64)\n#define readq_relaxed(a) __readq(a)\n"
    out = neutralise(src)
    assert out.startswith(b" " * len(b"build_mmio_read(readq, \"q\", u64)") + b"\n#define")


def test_a_comment_inside_a_define_no_longer_ends_it() -> None:
    src = (b"#define rd(vdev, ptr) \\\n do { int v; \\\n /* the member's type */ \\\n"
           b" readl(&v); /* two\n lines */ \\\n *(ptr) = v; \\\n } while (0)\n"
           b"/* outside */ int x; /* c \n */\n")
    out = neutralise(src)
    assert len(out) == len(src) and out.count(b"\n") == src.count(b"\n")
    assert b"member's" not in out and b"two" not in out and b"/* outside */" in out
    tree = parse(src).tree.root_node
    assert not tree.has_error
    assert [c.type for c in tree.named_children][:1] == ["preproc_function_def"]


def test_a_typeof_of_an_expression_becomes_a_type() -> None:
    src = (b"void f(void) { typeof(((struct s *)0)->m) v; __typeof__(*p) w; typeof(x) y;"
           b" typeof(struct foo *) q; }")
    out = neutralise(src)
    assert len(out) == len(src)
    assert b"typeof(int " in out and b"__typeof__(T )" in out
    assert b"typeof(x) y" in out and b"typeof(struct foo *) q" in out
    assert not parse(src).tree.root_node.has_error
