"""Kconfig tree layer on the project's miniature tree (tests/data/kconfig_tree)."""

from __future__ import annotations

import shutil
from pathlib import Path

import kconfiglib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.errors import InputError
from cocoscope.evidence.dotconfig import KernelConfig, parse_config_text
from cocoscope.evidence.kconfig import KconfigTree, load_tree, parse_fragment
from cocoscope.evidence.kconfig.compat import kernel_environment
from cocoscope.evidence.kconfig.toolchain import (
    ProbeAnswerer,
    dump_table,
    host_toolchain,
    recorded_toolchain,
)
from tests.paths import DATA

FIXTURE = DATA / "kconfig_tree"


@pytest.fixture
def tree() -> KconfigTree:
    return load_tree(FIXTURE)


def config(text: str) -> KernelConfig:
    return parse_config_text("#\n# Linux/x86 6.99.3 Kernel Configuration\n#\n" + text, "test.config")


def configured(tree: KconfigTree, text: str) -> KconfigTree:
    tree.apply(config(text))
    return tree


# --- parsing: the bare "modules" attribute ----------------------------------------------------

def test_bare_modules_attribute_parses_and_marks_modules(tree: KconfigTree) -> None:
    assert tree.kernel_version == "6.99.3-fixture"
    assert tree.kconf.modules.name == "MODULES"
    assert tree.value("MODULES") == "y"
    assert tree.value("HW_RANDOM") == "m"  # default m survives only because MODULES=y


def test_stock_kconfiglib_rejects_bare_modules() -> None:
    # Why the layer exists: the plain class stops on kernel/module/Kconfig.
    env = dict(recorded_toolchain().env, srctree=str(FIXTURE), KERNELVERSION="6.99.3")
    with kernel_environment(env), pytest.raises(kconfiglib.KconfigError, match="modules"):
        kconfiglib.Kconfig("kernel/module/Kconfig", warn=False)


def test_modules_off_turns_m_into_y(tree: KconfigTree) -> None:
    configured(tree, "# CONFIG_MODULES is not set\n")
    assert tree.value("HW_RANDOM") == "y"  # C kconfig: tristate behaves as bool without MODULES
    assert tree.value("IMPLIER_M") == "y"


def test_modules_attribute_with_extra_tokens_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "tree"
    shutil.copytree(FIXTURE, bad)
    (bad / "kernel/module/Kconfig").write_text('menuconfig MODULES\n\tbool "m"\n\tmodules FOO\n')
    with pytest.raises(InputError) as err:
        load_tree(bad)
    assert err.value.path == str(bad / "kernel/module/Kconfig")
    assert err.value.where == "line 3"


# --- imply: C semantics ------------------------------------------------------------------------

def test_user_m_under_imply_y_stays_m(tree: KconfigTree) -> None:
    configured(tree, "CONFIG_IMPLIER_Y=y\nCONFIG_IMPLIED_USER_M=m\n")
    assert tree.value("IMPLIED_USER_M") == "m"
    assert 1 in tree.kconf.syms["IMPLIED_USER_M"].assignable  # C: m is a valid choice


def test_stock_kconfiglib_promotes_m_under_imply(tree: KconfigTree) -> None:
    # The bug being fixed, measured with kconfiglib's own Symbol.tri_value on the same graph.
    from cocoscope.evidence.kconfig.compat import _STOCK_TRI_VALUE

    configured(tree, "CONFIG_IMPLIER_Y=y\nCONFIG_IMPLIED_USER_M=m\n")
    sym = tree.kconf.syms["IMPLIED_USER_M"]
    sym._cached_tri_val = None
    assert _STOCK_TRI_VALUE.fget(sym) == 2
    sym._cached_tri_val = None
    assert sym.tri_value == 1


def test_imply_y_is_limited_by_own_dependency(tree: KconfigTree) -> None:
    # symbol.c: newval = (default || implied) && dir_dep; HW_RANDOM=m caps IMPLIED_DEP_M at m.
    configured(tree, "CONFIG_HW_RANDOM=m\n")
    assert tree.value("IMPLIED_DEP_M") == "m"


def test_imply_sets_value_without_user_value(tree: KconfigTree) -> None:
    assert tree.value("IMPLIED_NO_DEFAULT") == "y"
    assert tree.value("IMPLIED_BY_M") == "m"
    configured(tree, "# CONFIG_IMPLIER_Y is not set\n")
    assert tree.value("IMPLIED_NO_DEFAULT") == "n"


def test_user_n_wins_over_imply(tree: KconfigTree) -> None:
    configured(tree, "# CONFIG_IMPLIED_USER_N is not set\n")
    assert tree.value("IMPLIED_USER_N") == "n"
    e = tree.explain("IMPLIED_USER_N")
    assert [t.symbol for t in e.implied_by] == ["IMPLIER_Y"]
    assert e.implied_by[0].active


# --- choices: C semantics of "n" on a member (Linux >= 6.11) -----------------------------------

def choice_value(tree: KconfigTree) -> str:
    on = [s for s in ("IOMMU_DEFAULT_ON", "IOMMU_DEFAULT_ON_INTGPU_OFF", "IOMMU_DEFAULT_OFF")
          if tree.value(s) == "y"]
    assert len(on) == 1, on
    return on[0]


def test_choice_default_and_user_y(tree: KconfigTree) -> None:
    assert choice_value(tree) == "IOMMU_DEFAULT_ON"
    configured(tree, "CONFIG_IOMMU_DEFAULT_OFF=y\n")
    assert choice_value(tree) == "IOMMU_DEFAULT_OFF"


def test_choice_default_set_to_n_picks_next_unset_member(tree: KconfigTree) -> None:
    configured(tree, "# CONFIG_IOMMU_DEFAULT_ON is not set\n")
    assert choice_value(tree) == "IOMMU_DEFAULT_ON_INTGPU_OFF"
    # kconfiglib's own rule ignores the n and keeps the default.
    from cocoscope.evidence.kconfig.compat import _STOCK_SELECTION

    assert _STOCK_SELECTION(tree.kconf.syms["IOMMU_DEFAULT_ON"].choice).name == "IOMMU_DEFAULT_ON"


@pytest.mark.parametrize("order", [("IOMMU_DEFAULT_ON", "IOMMU_DEFAULT_ON_INTGPU_OFF",
                                    "IOMMU_DEFAULT_OFF"),
                                   ("IOMMU_DEFAULT_OFF", "IOMMU_DEFAULT_ON",
                                    "IOMMU_DEFAULT_ON_INTGPU_OFF")])
def test_choice_all_members_n_picks_first_assigned(tree: KconfigTree,
                                                   order: tuple[str, ...]) -> None:
    # symbol.c: every assignment moves the member to the front of the priority list; with no
    # y and no unset member, the list is walked backwards: the first member assigned n wins.
    configured(tree, "".join(f"# CONFIG_{s} is not set\n" for s in order))
    assert choice_value(tree) == order[0]


def test_choice_last_y_wins(tree: KconfigTree) -> None:
    configured(tree, "CONFIG_IOMMU_DEFAULT_OFF=y\nCONFIG_IOMMU_DEFAULT_ON_INTGPU_OFF=y\n")
    assert choice_value(tree) == "IOMMU_DEFAULT_ON_INTGPU_OFF"


def test_choice_in_fragment(tree: KconfigTree) -> None:
    result = tree.merge_fragment(config("CONFIG_IOMMU_DEFAULT_ON=y\n"),
                                 "# CONFIG_IOMMU_DEFAULT_ON is not set\n")
    assert choice_value(tree) == "IOMMU_DEFAULT_ON_INTGPU_OFF"
    assert result.not_taken == ()
    result = tree.merge_fragment(config("CONFIG_IOMMU_DEFAULT_ON=y\n"),
                                 "CONFIG_IOMMU_DEFAULT_OFF=y\n")
    assert choice_value(tree) == "IOMMU_DEFAULT_OFF"
    assert "IOMMU_DEFAULT_ON" in {c.symbol for c in result.changed}


# --- select, depends, defaults, explain --------------------------------------------------------

def test_explain_selected_symbol(tree: KconfigTree) -> None:
    configured(tree, "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_MMIO=m\n")
    e = tree.explain("CONFIG_VIRTIO")
    assert e.value == "y"
    assert e.prompt is None
    assert {(t.symbol, t.symbol_value, t.active) for t in e.selected_by} == {
        ("VIRTIO_PCI", "y", True), ("VIRTIO_MMIO", "m", True)}
    assert not e.can_turn_off
    assert "selected by VIRTIO_PCI=y" in e.blocked_by
    assert e.why[0] == "selected by VIRTIO_MMIO=m"


def test_explain_turning_off_drags_dependents(tree: KconfigTree) -> None:
    configured(tree, "CONFIG_VIRTIO_PCI=y\nCONFIG_HW_RANDOM=y\nCONFIG_HW_RANDOM_VIRTIO=m\n")
    e = tree.explain("VIRTIO_PCI")
    assert e.can_turn_off
    dropped = {c.symbol: (c.before, c.after) for c in e.turning_off_changes}
    assert dropped["VIRTIO_PCI_LEGACY"] == ("y", "n")
    assert dropped["VIRTIO"] == ("y", "n")  # its only active selector goes away
    assert dropped["HW_RANDOM_VIRTIO"] == ("m", "n")
    assert dropped["NR_QUEUES"] == ("8", "1")  # the conditional default moves too
    assert tree.value("VIRTIO_PCI") == "y"  # the simulation restored the user's value
    assert tree.value("HW_RANDOM_VIRTIO") == "m"


def test_explain_defaults_and_dependencies(tree: KconfigTree) -> None:
    e = tree.explain("NR_QUEUES")
    assert e.type == "int" and e.value == "8"
    assert [(d.value, d.condition, d.evaluates_to, d.in_effect) for d in e.defaults] == [
        ("8", "VIRTIO_PCI", "8", True), ("1", "", "1", False)]
    configured(tree, "# CONFIG_VIRTIO_MENU is not set\n")
    e = tree.explain("VIRTIO_MMIO")
    assert e.value == "n" and e.visibility == "n"
    assert e.unmet_dependencies == ("VIRTIO_MENU",)
    assert e.defined_at == ("drivers/Kconfig:27",)


def test_explanation_summary(tree: KconfigTree) -> None:
    configured(tree, "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_MMIO=m\n")
    assert tree.explain("VIRTIO").summary.startswith(
        "VIRTIO=y; selected by VIRTIO_MMIO=m; selected by VIRTIO_PCI=y; cannot be turned off: ")
    assert tree.explain("VIRTIO_PCI").summary == (
        "VIRTIO_PCI=y; set to y in the configuration; depends on PCI && VIRTIO_MENU (=y); "
        "turning it off also turns off VIRTIO_PCI_LEGACY")


def test_turn_off_plan_follows_selects(tree: KconfigTree) -> None:
    configured(tree, "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_MMIO=m\nCONFIG_HW_RANDOM=y\n"
                     "CONFIG_HW_RANDOM_VIRTIO=y\n")
    plan = tree.turn_off_plan("VIRTIO")
    assert plan.feasible and plan.reason == ""
    assert set(plan.turn_off) == {"VIRTIO_PCI", "VIRTIO_MMIO"}  # VIRTIO has no prompt
    changed = {c.symbol: (c.before, c.after) for c in plan.changes}
    assert changed["VIRTIO"] == ("y", "n")
    assert changed["HW_RANDOM_VIRTIO"] == ("y", "n")
    assert tree.value("VIRTIO") == "y" and tree.value("VIRTIO_PCI") == "y"  # restored


def test_turn_off_plan_refuses_what_it_cannot_do(tree: KconfigTree) -> None:
    assert tree.turn_off_plan("HAS_IOMEM").reason == \
        "HAS_IOMEM has no prompt and no active select: its default keeps it on"
    assert not tree.turn_off_plan("IOMMU_DEFAULT_ON").feasible
    assert not tree.turn_off_plan("NR_QUEUES").feasible
    configured(tree, "# CONFIG_VIRTIO_PCI is not set\n")
    assert tree.turn_off_plan("VIRTIO_PCI") == type(tree.turn_off_plan("VIRTIO_PCI"))(
        "VIRTIO_PCI", True, (), "", ())


def test_explain_unknown_symbol(tree: KconfigTree) -> None:
    with pytest.raises(InputError, match="NOT_A_SYMBOL is not defined"):
        tree.explain("NOT_A_SYMBOL")


# --- merge_fragment (olddefconfig) -------------------------------------------------------------

BASE = "CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_PCI_LEGACY=y\nCONFIG_VIRTIO_MMIO=m\nCONFIG_HW_RANDOM=m\n"


def test_merge_fragment_turns_symbols_off(tree: KconfigTree) -> None:
    frag = ("# CONFIG_VIRTIO_MMIO is not set\n# CONFIG_VIRTIO_PCI_LEGACY is not set\n"
            "CONFIG_NR_QUEUES=4\n")
    result = tree.merge_fragment(config(BASE), frag)
    assert result.not_taken == ()
    merged = parse_config_text(result.config_text, "merged")
    assert not merged.is_on("VIRTIO_MMIO")
    assert not merged.is_on("VIRTIO_PCI_LEGACY")
    assert merged.value("NR_QUEUES") == "4"
    assert merged.value("VIRTIO") == "y"  # still selected by VIRTIO_PCI
    assert {c.symbol for c in result.changed} == {"VIRTIO_MMIO", "VIRTIO_PCI_LEGACY", "NR_QUEUES",
                                                  "VIRTIO_MMIO_MAX_DEVICES"}


def test_merge_fragment_reports_lines_that_did_not_take(tree: KconfigTree) -> None:
    frag = ("# CONFIG_VIRTIO is not set\n"  # line 1: forced by selects
            "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n"  # line 2: takes (VIRTIO_MMIO=m allows it)
            "CONFIG_HW_RANDOM_VIRTIO=y\n"  # line 3: capped at m by HW_RANDOM=m
            "CONFIG_NO_SUCH_THING=y\n"  # line 4
            "CONFIG_PCI=m\n")  # line 5: bool
    result = tree.merge_fragment(config(BASE), frag)
    by_line = {fl.line: fl for fl in result.lines}
    assert by_line[1].result == "y" and "select from VIRTIO_MMIO=m" in by_line[1].reason
    assert "select from VIRTIO_PCI=y" in by_line[1].reason
    assert by_line[2].reason == ""
    assert by_line[2].result == "y"
    assert by_line[3].result == "m" and "HW_RANDOM" in by_line[3].reason
    assert by_line[4].reason == "no such symbol in this tree"
    assert by_line[5].result == "y" and "bool" in by_line[5].reason
    assert [fl.line for fl in result.not_taken] == [1, 3, 4, 5]


def test_merge_value_for_a_symbol_whose_dependency_goes_is_moot(tree: KconfigTree) -> None:
    result = tree.merge_fragment(config(BASE), "# CONFIG_VIRTIO_PCI is not set\n"
                                 "CONFIG_NR_QUEUES=4\n# CONFIG_VIRTIO_MENU is not set\n")
    (line,) = [fl for fl in result.lines if fl.symbol == "NR_QUEUES"]
    assert line.result == "4"  # NR_QUEUES does not depend on the menu: taken
    result = tree.merge_fragment(config(BASE), "# CONFIG_VIRTIO_MMIO is not set\n"
                                 "CONFIG_VIRTIO_MMIO_MAX_DEVICES=0\n")
    assert result.not_taken == ()
    (line,) = [fl for fl in result.lines if fl.reason]
    assert (line.symbol, line.result, line.moot) == ("VIRTIO_MMIO_MAX_DEVICES", "", True)
    assert "VIRTIO_MMIO (n)" in line.reason
    assert "VIRTIO_MMIO_MAX_DEVICES" not in result.config_text
    result = tree.merge_fragment(config(BASE), "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n"
                                 "# CONFIG_VIRTIO_MENU is not set\n")
    (line,) = result.not_taken  # a bool asked to be y whose dependency went: really refused
    assert line.symbol == "VIRTIO_MMIO_CMDLINE_DEVICES" and "VIRTIO_MENU" in line.reason


def test_merge_roundtrip_changes_nothing(tree: KconfigTree) -> None:
    tree.apply(config(BASE))
    text = tree.config_text()
    again = tree.merge_fragment(parse_config_text(text, "written"), "")
    assert again.config_text == text
    assert again.changed == ()


def test_apply_reports_unknown_symbols_and_recomputed_values(tree: KconfigTree) -> None:
    r = tree.apply(config("CONFIG_GONE_IN_THIS_TREE=y\nCONFIG_GCC_VERSION=120200\n"
                          "CONFIG_VIRTIO_PCI=n\n"))
    assert r.unknown_symbols == ("GONE_IN_THIS_TREE",)
    # GCC_VERSION has no prompt: the toolchain decides, not the .config.
    assert ("GCC_VERSION", "120200", "140200") in {(c.symbol, c.before, c.after)
                                                  for c in r.changed}


def test_fragment_syntax_errors_name_the_line() -> None:
    assert parse_fragment('CONFIG_A=y\n\n# comment\n# CONFIG_B is not set\nCONFIG_C="x y"\n') == [
        ("A", "y", 1), ("B", "n", 4), ("C", "x y", 5)]
    with pytest.raises(InputError) as err:
        parse_fragment("CONFIG_A=y\nVIRTIO=y\n", "tdx.fragment")
    assert err.value.path == "tdx.fragment" and err.value.where == "line 2"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fragment_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_fragment(text)
    except InputError as err:
        assert err.where is not None and err.where.startswith("line ")
    else:
        assert all(line >= 1 and name for name, _value, line in parsed)


# --- toolchain probes --------------------------------------------------------------------------

def test_recorded_toolchain_answers_probes(tree: KconfigTree) -> None:
    assert tree.value("CC_IS_GCC") == "y"
    assert tree.value("GCC_VERSION") == "140200"
    assert tree.value("CC_HAS_MIN_FUNCTION_ALIGNMENT") == "y"  # gcc 14 has it, gcc 12 not
    sources = {p.command.split()[0]: p.source for p in tree.probes}
    assert sources["$(srctree)/scripts/cc-version.sh"] == "table"
    assert sources["set"] == "builtin"


def test_unknown_probe_is_reported_not_guessed(tree: KconfigTree) -> None:
    (probe,) = tree.unanswered_probes
    assert "-fcocoscope-test-flag" in probe.command
    assert (probe.file, probe.line) == ("arch/x86/Kconfig", 17)
    assert tree.value("CC_HAS_COCOSCOPE_TEST_FLAG") == "n"


def test_probe_dependent_symbols(tree: KconfigTree) -> None:
    deps = tree.probe_dependent_symbols()
    assert set(deps) == {"CC_IS_GCC", "GCC_VERSION", "CC_HAS_MIN_FUNCTION_ALIGNMENT",
                         "CC_HAS_COCOSCOPE_TEST_FLAG"}
    # GCC_VERSION reads $(cc-version), a ":=" variable computed from cc-version.sh.
    assert any("cc-version.sh" in p.command for p in deps["GCC_VERSION"])


def test_host_probes_run_outside_the_tree(tmp_path: Path) -> None:
    # The host mode really executes; the answer for a shell builtin is the shell's.
    answerer = ProbeAnswerer(host_toolchain(), str(tmp_path))
    try:
        out = answerer('{ test -d . ; } >/dev/null 2>&1 && echo "y" || echo "n"', "K", 1)
        pwd = answerer("pwd", "K", 2)
    finally:
        answerer.close()
    assert out == "y"
    assert pwd != str(tmp_path) and "cocoscope-kconfig-" in pwd
    table = dump_table("t", {"CC": "gcc"}, answerer.probes)
    assert "test -d ." in table and "ok = true" in table


def test_builtin_test_does_not_run_compound_commands() -> None:
    answerer = ProbeAnswerer(recorded_toolchain(), "/nonexistent")
    out = answerer('{ test a = a; touch /tmp/x; } >/dev/null 2>&1 && echo "y" || echo "n"', "K", 1)
    assert out == "n"
    assert answerer.probes[0].source == "unanswered"


# --- bad input ---------------------------------------------------------------------------------

def test_missing_tree(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_tree(tmp_path / "nope")


def test_not_a_kernel_tree(tmp_path: Path) -> None:
    (tmp_path / "Kconfig").write_text("config A\n\tbool\n")
    with pytest.raises(InputError, match="not a kernel source tree: Makefile is missing"):
        load_tree(tmp_path)


def test_kconfig_parse_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "tree"
    shutil.copytree(FIXTURE, bad)
    text = (bad / "drivers/Kconfig").read_text().replace("\tdepends on PCI\n",
                                                         "\tdepends on PCI\n\tfrobnicate\n")
    (bad / "drivers/Kconfig").write_text(text)
    with pytest.raises(InputError) as err:
        load_tree(bad)
    assert err.value.path == str(bad / "drivers/Kconfig")
    assert err.value.where == "line 19"
    assert "frobnicate" in err.value.message


def test_missing_sourced_file(tmp_path: Path) -> None:
    bad = tmp_path / "tree"
    shutil.copytree(FIXTURE, bad)
    (bad / "drivers/Kconfig").unlink()
    with pytest.raises(InputError) as err:
        load_tree(bad)
    assert "drivers/Kconfig" in err.value.render()


def test_dependency_loop_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "tree"
    shutil.copytree(FIXTURE, bad)
    with (bad / "drivers/Kconfig").open("a") as fh:
        fh.write("config LOOP_A\n\tbool \"a\"\n\tdepends on LOOP_B\n"
                 "config LOOP_B\n\tbool \"b\"\n\tdepends on LOOP_A\n")
    with pytest.raises(InputError) as err:
        load_tree(bad)
    assert err.value.message in ("dependency loop: LOOP_A -> LOOP_B",
                                 "dependency loop: LOOP_B -> LOOP_A")
    assert err.value.path == str(bad / "drivers/Kconfig")
    assert err.value.where is not None and err.value.where.startswith("line ")


def test_non_utf8_kconfig_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "tree"
    shutil.copytree(FIXTURE, bad)
    (bad / "drivers/Kconfig").write_bytes(b'config X\n\tbool "\xff\xfe"\n')
    with pytest.raises(InputError) as err:
        load_tree(bad)
    assert err.value.path == str(bad / "drivers/Kconfig")
    assert "utf-8" in err.value.message


def test_makefile_without_version(tmp_path: Path) -> None:
    bad = tmp_path / "tree"
    shutil.copytree(FIXTURE, bad)
    (bad / "Makefile").write_text("all:\n\ttrue\n")
    with pytest.raises(InputError, match="not a kernel Makefile"):
        load_tree(bad)
