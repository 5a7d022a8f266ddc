"""The make-subset interpreter behind Kbuild resolution: expansion, functions, directives,
and odd input that must give diagnostics, not exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoscope.evidence.dotconfig import parse_config_text
from cocoscope.evidence.kbuild import Diagnostic, resolve
from cocoscope.evidence.kbuild.context import Var
from cocoscope.evidence.kbuild.make import Interp


def run(text: str, tree: Path | None = None, **config: str) -> Interp:
    base = {f"CONFIG_{k}": Var(v, False) for k, v in config.items()}
    it = Interp(tree or Path("/nonexistent"), base, [])
    it.eval_text(text, "Makefile")
    return it


@pytest.mark.parametrize(("expr", "expected"), [
    ("$(subst ee,EE,feet on the street)", "fEEt on the strEEt"),
    ("$(patsubst %.c,%.o,a.c b.c c.h)", "a.o b.o c.h"),
    ("$(filter %.c %.s,a.c b.h c.s)", "a.c c.s"),
    ("$(filter-out %.h,a.c b.h)", "a.c"),
    ("$(sort foo bar lose foo)", "bar foo lose"),
    ("$(strip   a   b  )", "a b"),
    ("$(findstring a,a b c)|$(findstring z,a b c)", "a|"),
    ("$(addprefix src/,a b)", "src/a src/b"),
    ("$(addsuffix .o,a b)", "a.o b.o"),
    ("$(join a b,.c .o)", "a.c b.o"),
    ("$(word 2,foo bar baz)|$(wordlist 2,3,foo bar baz)|$(words foo bar)", "bar|bar baz|2"),
    ("$(firstword a b c) $(lastword a b c)", "a c"),
    ("$(dir src/foo.c hacks)|$(notdir src/foo.c hacks)", "src/ ./|foo.c hacks"),
    ("$(suffix src/foo.c bar)|$(basename src/foo.c bar)", ".c|src/foo bar"),
    ("$(if ,yes,no)|$(if x,yes,no)|$(or ,,b,c)|$(and a,b)|$(and a,,c)", "no|yes|b|b|"),
    ("$(foreach d,a b,$(d)/)", "a/ b/"),
    ("$(intcmp 1,2,lt,eq,gt)$(intcmp 2,2,lt,eq,gt)$(intcmp 3,2,lt,eq)", "lteqeq"),
    ("$$(not expanded) $(empty)", "$(not expanded) "),
])
def test_functions(expr: str, expected: str) -> None:
    it = run("empty :=\n")
    assert it.expand(expr) == expected


def test_flavours_and_substitution_reference() -> None:
    it = run(
        "a := one\n"
        "lazy = $(a)\n"
        "now := $(a)\n"
        "a := two\n"
        "x ?= first\n"
        "x ?= second\n"
        "objs = foo.c bar.c\n"
        "subst_ref := $(objs:.c=.o) $(objs:%.c=%.s) ${CONFIG_E1000:m=y}\n"
        "override over := yes\n"
        "export exp := 1\n"
        "gone := 1\n"
        "undefine gone\n",
        E1000="m")
    assert (it.get("lazy"), it.get("now"), it.get("x")) == ("two", "one", "first")
    assert it.get("subst_ref") == "foo.o bar.o foo.s bar.s y"
    assert it.get("over") == "yes" and "exp" in it.exported
    assert it.lookup("gone") is None
    assert it.expand("$(flavor lazy) $(flavor now) $(origin now) $(origin nope)") == (
        "recursive simple file undefined")


def test_call_define_eval_and_value() -> None:
    it = run(
        "reverse = $(2) $(1)\n"
        "define add\n"
        "obj-y += $(1).o\n"
        "endef\n"
        "$(foreach n,a b,$(eval $(call add,$(n))))\n"
        "r := $(call reverse,x,y)\n")
    assert it.get("obj-y") == "a.o b.o"
    assert it.get("r") == "y x"
    assert it.expand("$(value reverse)") == "$(2) $(1)"


def test_continuations_comments_and_rules() -> None:
    it = run(
        "obj-y += a.o \\\n"
        "\tb.o # a comment \\\n"
        "still comment\n"
        "hash := a\\#b\n"
        "target: dep ; recipe\n"
        "\tobj-y += recipe.o\n"
        "$(obj)/foo.o: CFLAGS += -O0\n"
        "obj-y += c.o\n")
    assert it.get("obj-y") == "a.o b.o c.o"
    assert it.get("hash") == "a#b"


def test_conditionals_and_symbols() -> None:
    it = run(
        "ifdef CONFIG_A\n"
        "  ifeq ($(CONFIG_B),m)\n"
        "obj-y += ab.o\n"
        "  else ifneq '$(CONFIG_B)' ''\n"
        "obj-y += wrong.o\n"
        "  else\n"
        "obj-y += wrong2.o\n"
        "  endif\n"
        "endif\n"
        "ifndef CONFIG_C\n"
        "obj-$(CONFIG_A) += a.o\n"
        "endif\n",
        A="y", B="m")
    assert it.get("obj-y") == "ab.o a.o"
    assert it.symbol_of("obj-y", "ab.o") == "B"  # the innermost condition
    assert it.symbol_of("obj-y", "a.o") == "A"  # the variable name beats the condition


@pytest.mark.parametrize(("text", "message"), [
    ("endif\n", "endif without a matching if"),
    ("else\n", "else without a matching if"),
    ("ifdef X\nobj-y += a.o\n", "not closed by endif"),
    ("ifeq (a b)\nendif\n", "cannot parse ifeq arguments"),
    ("obj-y += $(shell echo a.o)\n", "uses $(shell) or an unknown function"),
    ("ifneq ($(call cc-option,-x),)\nendif\n", "condition uses $(shell)"),
    ("x := $(oops\n", "unterminated variable reference"),
    ("a = $(a)\nb := $(a)\n", "nested too deeply"),
    ("include nothere.mk\n", "included file nothere.mk not in the tree"),
    ("just some words\n", "neither assignment, rule nor directive"),
    ("$(error stop here)\n", "$(error stop here) reached"),
])
def test_diagnostics(text: str, message: str) -> None:
    it = run(text)
    assert any(message in d.message for d in it.diags), it.diags
    assert all(d.file.startswith("Makefile") and d.line >= 1 for d in it.diags)


def test_exponential_expansion_is_capped() -> None:
    chain = "".join(f"v{i} = $(v{i + 1})$(v{i + 1})\n" for i in range(30))
    it = run(chain + "v30 = x\nobj-y := $(v0)\n")
    assert any("variable references" in d.message for d in it.diags)


def test_include_and_wildcard_in_tree(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "frag.mk").write_text("obj-y += frag.o\n")
    (tmp_path / "d" / "w1.c").write_text("")
    it = run("src := d\ninclude $(src)/frag.mk\n-include $(src)/none.mk\n"
             "w := $(wildcard $(src)/w*.c)\n", tree=tmp_path)
    assert it.get("obj-y") == "frag.o"
    assert it.get("w") == "d/w1.c"
    assert it.diags == []


_MAKE_ALPHABET = st.sampled_from(
    [*"abxy$(){}:=+?!#\\\t\n ,%.-/'\"",
     "obj-y", "obj-m", "ifeq", "ifdef", "ifneq", "ifndef", "else", "endif", "define", "endef",
     "include", "export", "$(call ", "$(eval ", "$(foreach ", "$(CONFIG_A)", "foo-y", "dir/",
     "foo.o", "$(shell ", "$(if ", "$(wildcard ", "\\\n", "-objs", "subdir-y"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MAKE_ALPHABET, max_size=80).map("".join))
def test_fuzz_interpreter_never_raises(text: str) -> None:
    it = run(text, A="y")
    assert all(isinstance(d, Diagnostic) for d in it.diags)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_MAKE_ALPHABET, max_size=60).map("".join))
def test_fuzz_resolve_never_raises(tmp_path: Path, text: str) -> None:
    (tmp_path / "arch" / "x86").mkdir(parents=True, exist_ok=True)
    (tmp_path / "arch" / "x86" / "Makefile").write_text(text)
    (tmp_path / "Kbuild").write_text(text + "\nobj-y += foo.o dir/\n")
    (tmp_path / "dir").mkdir(exist_ok=True)
    (tmp_path / "dir" / "Makefile").write_bytes(text.encode() + b"\xff\x00\n")
    result = resolve(tmp_path, parse_config_text("CONFIG_A=y\n", "cfg"))
    assert all(f.built in ("y", "m") for f in result.files)


def test_nothing_outside_the_tree_is_read(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "arch" / "x86").mkdir(parents=True)
    (tree / "arch" / "x86" / "Makefile").write_text("")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Makefile").write_text("obj-y += secret.o\n")
    (tmp_path / "outside" / "secret.c").write_text("")
    (tmp_path / "evil.mk").write_text("obj-y += evil.o\n")
    (tree / "Kbuild").write_text("obj-y += ../outside/\ninclude ../evil.mk\n"
                                 "w := $(wildcard ../outside/*.c /etc/*)\nobj-y += $(w)\n")
    result = resolve(tree, parse_config_text("CONFIG_A=y\n", "cfg"))
    assert result.files == () and result.generated == ()
    messages = " ".join(d.message for d in result.diagnostics)
    assert "outside the tree" in messages and "evil.mk" in messages


def test_composite_fan_out_and_cycles_stay_cheap(tmp_path: Path) -> None:
    (tmp_path / "arch" / "x86").mkdir(parents=True)
    (tmp_path / "arch" / "x86" / "Makefile").write_text("")
    levels = "".join(f"c{i}-y := " + " ".join([f"c{i + 1}.o"] * 50) + "\n" for i in range(8))
    (tmp_path / "Kbuild").write_text(
        levels + "obj-y += c0.o loop.o\nloop-y := a.o b.o\na-y := loop.o x.o\nx-y := lib.a\n")
    for name in ("c8", "b"):
        (tmp_path / f"{name}.c").write_text("")
    result = resolve(tmp_path, parse_config_text("CONFIG_A=y\n", "cfg"))
    assert [f.path for f in result.files] == ["b.c", "c8.c"]
    assert {f.object for f in result.files} == {"c0", "loop"}
    assert any("part 'lib.a' is not an object" in d.message for d in result.diagnostics)
