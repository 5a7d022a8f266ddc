"""Out-arguments a literal command argument switches off (literals.py): the integer evaluator,
the constant macros, pass 1's write conditions, the fixpoint and pass 2 on small C; the real
6.12 lines are in test_literals_realtree.py."""

from __future__ import annotations

import pytest

from cocoscope.surface.catalogue import load_catalogue
from cocoscope.surface.cparse import Node, parse
from cocoscope.surface.dataflow import file_summary
from cocoscope.surface.derive import derive
from cocoscope.surface.grade import Grade
from cocoscope.surface.literals import (
    Expr,
    compile_expr,
    evaluate,
    macro_constants,
    number,
    substitute,
    switched_off,
)
from cocoscope.surface.sites import SourceRef, find_sites


def _expr_node(src: str) -> tuple[Node, bytes]:
    text = f"int f(void) {{ return {src}; }}".encode()
    node = parse(text).tree.root_node
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "return_statement":
            return n.named_children[0], text
        stack.extend(n.children)
    raise AssertionError(src)


def value(src: str, **constants: int) -> int | None:
    node, text = _expr_node(src)
    expr = compile_expr(node, text, lambda name: ("n", name))
    return None if expr is None else evaluate(expr, constants.get)


@pytest.mark.parametrize(("src", "expected"), [
    ("((0x1060 >> 8) & 0xf)", 0),
    ("((0x0120 >> 8) & 0xf)", 1),
    ("(0x11d3 & 0xf0ff) >> 8 & 0xf", 0),
    ("1 + 2 * 3 - 4 / 2 % 3", 5),
    ("(1 << 4) | 3 ^ 1", 18),
    ("!0 && 5 > 3 && 3 >= 3 && 2 < 1 == 0 && 1 != 2 && 2 <= 2", 1),
    ("~0x0f & 0xff", 0xf0),
    ("010 + 7U + 0x10UL", 31),  # C's octal and suffixes
    ("(u8)0x1234", 0x34),  # a cast to an unsigned type truncates
    ("(unsigned char)300", 44),
    ("(int)5", 5),
    ("0 && unknown_name", 0),  # three-valued: false whatever the unknown is
    ("1 || unknown_name", 1),
    ("I8042_CMD_CTL_WCTR >> 8 & 0xf", 0),
])
def test_evaluates_integer_expressions(src: str, expected: int) -> None:
    assert value(src, I8042_CMD_CTL_WCTR=0x1060) == expected


@pytest.mark.parametrize("src", [
    "unknown_name",  # a name with no constant
    "1 && unknown_name",
    "(struct foo *)0 + 1",  # a cast to a type that is no integer type it knows
    "(int)0x80000000",  # does not fit the signed type
    "0 - 1 < 2",  # a negative operand of a comparison: signedness decides
    "(0 - 8) >> 1",
    "1 / 0",
    "1 << 64",
    "f(1)",
    "sizeof(int)",
    "x = 1",
    "'a'",
])
def test_anything_uncertain_has_no_value(src: str) -> None:
    assert value(src) is None


def test_number() -> None:
    assert number("0x4000000aULL") == 0x4000000A
    assert number("0755") == 0o755
    assert number("0") == 0
    assert number("1e3") is None


def test_macro_constants_are_integer_constant_expressions() -> None:
    text = (b"#define A 0x10\n#define B (A << 2)\n#define C (u8)3\n#define D 7U /* x */\n"
            b"#define E(x) x\n#define F foo(1)\n#define G -1\n#define H 0x1\n#define H 0x2\n"
            b"#define I \\\n  (A + 1)\n")
    assert macro_constants([text]) == {"A": 16, "B": 64, "D": 7, "I": 17}


def test_substitute_leaves_what_the_call_does_not_give_unknown() -> None:
    cond: Expr = ("&&", ("p", 1), ("<", ("i", 0), ("&", (">>", ("p", 2), ("i", 8)), ("i", 15))))
    # `param` is a pointer the caller passes (&x: no integer): unknown; the command decides
    assert evaluate(substitute(cond, {2: ("i", 0x1060)})) == 0
    assert evaluate(substitute(cond, {2: ("i", 0x0120)})) is None
    assert evaluate(substitute(cond, {})) is None


I8042 = """
static int __cmd(unsigned char *param, int command)
{
	int i, error;

	if (command == 0x11d3)
		return -1;
	for (i = 0; i < ((command >> 12) & 0xf); i++)
		outb(param[i], 0x60);
	for (i = 0; i < ((command >> 8) & 0xf); i++) {
		error = wait();
		if (error)
			return error;
		param[i] = inb(0x60);
	}
	return 0;
}

int cmd(unsigned char *param, int command)
{
	int retval;

	lock();
	retval = __cmd(param, command);
	unlock();
	return retval;
}

int wctr(unsigned char *p) { return cmd(p, 0x1060); }
int rctr(unsigned char *p) { return cmd(p, 0x0120); }
int masked(unsigned char *p, int c) { return cmd(p, c & 0xf0ff); }
int shifted(unsigned char *p, int c) { c >>= 4; return cmd(p, c); }
"""

PS2 = """
int __ps2(struct ps2dev *ps2dev, u8 *param, unsigned int command)
{
	unsigned int send = (command >> 12) & 0xf;
	unsigned int receive = (command >> 8) & 0xf;
	int i;

	if (receive > sizeof(ps2dev->cmdbuf))
		return -EINVAL;
	if (param) {
		for (i = 0; i < receive; i++)
			param[i] = inb(0x60);
	}
	return 0;
}

int again(u8 *param, unsigned int command)
{
	unsigned int receive = (command >> 8) & 0xf;
	int i;

	receive = 2;
	for (i = 0; i < receive; i++)
		param[i] = inb(0x60);
	return 0;
}
"""


def _sources(src: str) -> dict[str, tuple[frozenset[int], tuple[tuple[int, Expr], ...]]]:
    summary = file_summary("drivers/demo/cmd.c", "", parse(src.encode()), frozenset())
    sources, _res = derive([summary], load_catalogue())
    return {s.name: (s.out_args, s.counts) for s in sources.values() if s.defined_in}


def test_a_write_under_a_loop_over_a_parameter_is_conditional() -> None:
    found = _sources(I8042)
    receives = ("<", ("i", 0), ("&", (">>", ("p", 2), ("i", 8)), ("i", 15)))
    assert found["__cmd"] == (frozenset({1}), ((1, receives),))
    # the wrapper passes its own parameter on: the same condition over its parameters
    assert found["cmd"] == (frozenset({1}), ((1, receives),))
    assert "wctr" not in found  # 0x1060 receives nothing: no out-argument, no source
    assert found["rctr"] == (frozenset({1}), ())  # 0x0120 receives one byte
    masked = found["masked"]
    assert masked[0] == frozenset({1}) and masked[1][0][0] == 1  # still depends on c
    # a parameter the function changes before passing it is not its caller's value
    assert found["shifted"] == (frozenset({1}), ())


def test_libps2_shape_local_copies_and_a_null_test() -> None:
    found = _sources(PS2)
    (out, cond), = found["__ps2"][1]
    assert out == 2
    assert evaluate(substitute(cond, {3: ("i", 0x00f4)})) == 0  # PSMOUSE_CMD_ENABLE
    assert evaluate(substitute(cond, {3: ("i", 0x02f2)})) is None  # GETID: 2 bytes, if param
    # `receive` assigned again: not the parameter's value, the write is unconditional
    assert found["again"] == (frozenset({1}), ())


def test_a_call_site_with_a_constant_command_gets_no_value() -> None:
    receives = ("<", ("i", 0), ("&", (">>", ("p", 2), ("i", 8)), ("i", 15)))
    src = ("u8 ctr, res;\n"
           "void f(void) { if (cmd(&ctr, CTL_WCTR)) return; }\n"
           "void g(void) { if (cmd(&res, CTL_RCTR)) return; }\n"
           "void h(int c) { if (cmd(&res, c)) return; }\n"
           "void k(void) { if (cmd(&res, CTL_WCTR | 0x100)) return; }\n")
    sources = {"cmd": SourceRef("cmd", True, frozenset({1}), False, False, (),
                                ((1, receives),),
                                (("CTL_RCTR", 0x0120), ("CTL_WCTR", 0x1060)))}
    got = {s.function: s.grade for s in find_sites(parse(src.encode()), sources)}
    assert got == {"f": Grade.COMPARED, "g": Grade.STORED, "h": Grade.STORED,
                   "k": Grade.STORED}
    # a counted loop's variable: each value it takes is tried (i8042.c:665 MUX_PFX + i)
    loops = ("u8 res;\n"
             "void m(void) { int i; for (i = 0; i < PORTS; i++) if (cmd(&res, PFX + i)) return; }\n"
             "void n(void) { int i; for (i = 0; i <= 3; i++) if (cmd(&res, 0x100 + i)) return; }\n"
             "void o(void) { int i; for (i = 0; i < 4; i++) { i += 2;\n"
             "  if (cmd(&res, PFX + i)) return; } }\n"
             "void q(void) { int i; for (i = 0; i < 1000; i++) if (cmd(&res, PFX + i)) return; }\n")
    sources = {"cmd": SourceRef("cmd", True, frozenset({1}), False, False, (),
                                ((1, receives),), (("PFX", 0x90), ("PORTS", 4)))}
    got = {s.function: s.grade for s in find_sites(parse(loops.encode()), sources)}
    assert got == {"m": Grade.COMPARED, "n": Grade.STORED, "o": Grade.STORED,
                   "q": Grade.STORED}
    text = src.encode()
    args = parse(text).tree.root_node  # switched_off directly, without a known constant
    call = next(n for n in _walk(args) if n.type == "argument_list")
    assert switched_off(((1, receives),), call.named_children, text, {}) == set()
    assert switched_off(((1, receives),), call.named_children, text,
                        {"CTL_WCTR": 0x1060}) == {1}


def _walk(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out
