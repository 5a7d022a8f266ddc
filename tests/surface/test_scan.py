"""Scanner behaviour on small C fixtures the project wrote (tests/data/surface/tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.model.platform import Platform
from cocoscope.surface.catalogue import Trust, load_catalogue
from cocoscope.surface.files import FileSpec
from cocoscope.surface.grade import Grade
from cocoscope.surface.inventory import Inventory, Site
from cocoscope.surface.scan import scan
from tests.paths import DATA

TREE = DATA / "surface" / "tree"


def _scan(platform: str | None = None, jobs: int = 1) -> Inventory:
    files = [FileSpec(p.relative_to(TREE).as_posix(), "m" if "demo" in p.name else "y", "",
                      "DEMO") for p in sorted(TREE.rglob("*.c"))]
    return scan(TREE, files, platform=Platform(platform) if platform else None, jobs=jobs,
                use_cache=False)


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return _scan()


def site(inv: Inventory, file: str, line: int, primitive: str) -> Site:
    found = [s for s in inv.sites if s.file.endswith(file) and s.line == line
             and s.primitive == primitive]
    assert len(found) == 1, [(s.file, s.line, s.primitive) for s in inv.sites]
    return found[0]


def test_every_interface_class_in_the_fixtures_is_found(inv: Inventory) -> None:
    assert {s.interface for s in inv.sites} == {
        "port-io", "mmio", "pci-config", "dma-shared-memory", "interrupts", "cpuid", "msr",
        "vmm-hypercall", "coco-hypercall", "time", "acpi-firmware-tables", "fw-cfg",
        "boot-configuration", "entropy"}


def test_annotations_do_not_break_the_parse(inv: Inventory) -> None:
    # __must_check / __init / __iomem annotated functions keep their names and __init flag.
    assert site(inv, "mmio_pio.c", 15, "RDEMO_R32").function == "demo_status"
    probe = site(inv, "mmio_pio.c", 26, "inb")
    assert probe.function == "demo_probe" and probe.in_init
    assert not site(inv, "mmio_pio.c", 40, "demo_ioread32").in_init
    assert not [p for p in inv.problems if p.file.endswith("mmio_pio.c")]


def test_call_inside_macro_body_is_a_site(inv: Inventory) -> None:
    s = site(inv, "mmio_pio.c", 4, "readl")
    assert s.in_macro and s.function == "RDEMO_R32" and s.grade is Grade.RETURNED


def test_macro_wrapper_becomes_a_primitive_with_its_chain(inv: Inventory) -> None:
    s = site(inv, "mmio_pio.c", 15, "RDEMO_R32")
    assert s.chain == ("RDEMO_R32", "readl") and s.interface == "mmio"
    # A header macro too.
    assert site(inv, "mmio_pio.c", 33, "DEMO_READ_REG").chain == ("DEMO_READ_REG", "readl")


def test_call_inside_scoped_guard_block(inv: Inventory) -> None:
    s = site(inv, "mmio_pio.c", 26, "inb")
    assert s.grade is Grade.STORED


def test_derived_sources_cross_files_to_a_fixpoint(inv: Inventory) -> None:
    # header inline -> .c global function -> other .c file's out-parameter writer -> caller
    s = site(inv, "consumer.c", 13, "demo_features_out")
    assert s.chain == ("demo_features_out", "demo_get_features", "demo_ioread32", "ioread32")
    assert s.grade is Grade.LENGTH  # n reaches memcpy's size argument
    names = {d.name: d for d in inv.derived}
    assert names["demo_features_out"].out_args == (2,)
    assert names["demo_get_features"].returns
    assert names["demo_get_features"].defined_in == "drivers/demo/mmio_pio.c"


@pytest.mark.parametrize(("file", "line", "primitive", "grade"), [
    ("mmio_pio.c", 20, "demo_status", Grade.INDEX),
    ("mmio_pio.c", 28, "ioread32", Grade.LOOP_BOUND),
    ("mmio_pio.c", 30, "inb_p", Grade.COMPARED),
    ("mmio_pio.c", 33, "DEMO_READ_REG", Grade.PRINTED),
    ("mmio_pio.c", 34, "readl", Grade.WRITTEN_BACK),
    ("mmio_pio.c", 40, "demo_ioread32", Grade.RETURNED),
    ("pci_virtio.c", 14, "pci_read_config_word", Grade.COMPARED),
    ("pci_virtio.c", 17, "virtqueue_get_buf", Grade.LENGTH),
    ("pci_virtio.c", 22, "dma_sync_single_for_cpu", Grade.EVENT),
    ("pci_virtio.c", 23, "virtio16_to_cpu", Grade.INDEX),
])
def test_use_grades(inv: Inventory, file: str, line: int, primitive: str, grade: Grade) -> None:
    assert site(inv, file, line, primitive).grade is grade


def test_risky_versus_benign(inv: Inventory) -> None:
    assert site(inv, "mmio_pio.c", 20, "demo_status").risky
    assert not site(inv, "mmio_pio.c", 30, "inb_p").risky


def test_virtio_config_ops_get_is_recognised(inv: Inventory) -> None:
    assert site(inv, "pci_virtio.c", 20, "config->get").interface == "mmio"


def test_cpuid_leaf_decoded_and_platform_trust() -> None:
    generic = _scan()
    tdx = _scan("tdx")
    snp = _scan("snp")
    assert site(generic, "platform.c", 8, "cpuid").leaf == 0x40000000
    assert site(generic, "platform.c", 9, "cpuid_eax").leaf == 0x16
    assert site(generic, "platform.c", 9, "cpuid_eax").trust is Trust.HOST
    assert site(tdx, "platform.c", 8, "cpuid").trust is Trust.HOST  # hypervisor leaf range
    assert site(tdx, "platform.c", 9, "cpuid_eax").trust is Trust.TRUSTED
    assert site(snp, "platform.c", 9, "cpuid_eax").trust is Trust.CHECKED
    # cpuid_eax(0x16), cpuid_ebx(DEMO_TOPO_LEAF), MSR_IA32_TSC, and leaf 0xd in leaf.c read
    # directly and through the demo_xsave_size wrapper
    assert len(tdx.host_sites) == len(tdx.sites) - 5


def test_symbolic_cpuid_leaf_from_a_define() -> None:
    tdx = _scan("tdx")
    hv = site(tdx, "leaf.c", 8, "cpuid_eax")
    topo = site(tdx, "leaf.c", 8, "cpuid_ebx")
    assert (hv.leaf, hv.trust) == (0x40000010, Trust.HOST)
    assert (topo.leaf, topo.trust) == (0x1F, Trust.TRUSTED)


def test_msr_trust_table() -> None:
    snp = _scan("snp")
    assert site(snp, "platform.c", 11, "rdmsrl").msr == "MSR_AMD64_SEV"
    assert site(snp, "platform.c", 11, "rdmsrl").trust is Trust.TRUSTED
    assert site(_scan("tdx"), "platform.c", 11, "rdmsrl").trust is Trust.HOST


def test_parse_errors_reported_with_byte_ranges_and_calls_kept(inv: Inventory) -> None:
    (problem,) = [p for p in inv.problems if p.file == "drivers/demo/broken.c"]
    assert problem.kind == "parse-errors" and problem.lost_bytes > 0
    assert {line for _, _, line in problem.lost_ranges} == {4, 9}
    assert site(inv, "broken.c", 4, "inb").function == "demo_broken"
    assert site(inv, "broken.c", 5, "readl").function == "demo_broken"


def test_parallel_scan_matches_serial(inv: Inventory) -> None:
    assert _scan(jobs=2).sites == inv.sites


def test_driver_header_macros_are_scoped_to_their_directory(inv: Inventory) -> None:
    assert site(inv, "sub/user.c", 4, "DEMO_LOCAL_R32").chain == ("DEMO_LOCAL_R32", "readl")
    assert not [s for s in inv.sites if s.file.endswith("unrelated.c")]


def test_local_definition_of_a_catalogue_name_does_not_hide_it(inv: Inventory) -> None:
    assert site(inv, "sub/user.c", 9, "serial_in").interface == "port-io"


def test_sites_in_included_headers_are_reported_once_at_the_header(inv: Inventory) -> None:
    s = site(inv, "include/linux/demo_io.h", 4, "ioread32")
    assert s.function == "demo_ioread32" and s.built == "y" and s.symbol == ""
    assert site(inv, "include/linux/demo_io.h", 7, "readl").in_macro
    # demo_local.h is not #included by any scanned file: its sites are not reported.
    assert not [x for x in inv.sites if x.file.endswith("demo_local.h")]


def test_declarations_of_a_global_source_are_not_reads(inv: Inventory) -> None:
    assert [s.line for s in inv.sites if s.primitive == "boot_params"] == [18]


def test_unparsable_macro_body_is_reported_and_its_calls_recovered(inv: Inventory) -> None:
    (problem,) = [p for p in inv.problems if p.file == "drivers/demo/broken.c"]
    assert any(line == 9 for _, _, line in problem.lost_ranges)
    s = site(inv, "broken.c", 9, "inw")
    assert s.recovered and s.grade is Grade.UNKNOWN


def test_member_call_matches_a_catalogue_op(tmp_path: Path) -> None:
    extra = tmp_path / "ops.toml"
    extra.write_text('[[group]]\ninterface = "port-io"\nvalue = "return"\n'
                     'names = ["->serial_in"]\n')
    files = [FileSpec(p.relative_to(TREE).as_posix()) for p in sorted(TREE.rglob("*.c"))]
    inv = scan(TREE, files, jobs=1, use_cache=False, catalogue=load_catalogue(str(extra)))
    s = site(inv, "sub/user.c", 14, "->serial_in")
    assert s.interface == "port-io" and s.grade is Grade.RETURNED
    assert {d.name: d for d in inv.derived}["demo_sub_iir"].chain == ("demo_sub_iir", "->serial_in")


@pytest.mark.parametrize(("line", "primitive", "grade"), [
    (6, "readq", Grade.POINTER),  # cast to a pointer and dereferenced
    (7, "readl", Grade.WRITTEN_BACK),  # v only goes back to the device
    (9, "readl", Grade.PASSED),
    (10, "readl", Grade.DISCARDED),
    (13, "inb", Grade.COMPARED),
    (15, "inw", Grade.STORED),
])
def test_more_grades(inv: Inventory, line: int, primitive: str, grade: Grade) -> None:
    assert site(inv, "grades.c", line, primitive).grade is grade


def test_value_passed_to_a_same_file_helper_takes_the_helpers_use(inv: Inventory) -> None:
    assert site(inv, "grades.c", 25, "readl").grade is Grade.INDEX  # demo_set() indexes with it
    assert site(inv, "grades.c", 26, "readl").grade is Grade.INDEX  # through FIELD_GET()


def test_wrapper_through_a_byte_order_conversion(inv: Inventory) -> None:
    assert {d.name: d for d in inv.derived}["demo_le_reg"].chain == ("demo_le_reg", "readw")


def test_reassignment_ends_a_value_and_logging_wrappers_print(inv: Inventory) -> None:
    assert site(inv, "grades.c", 38, "readl").grade is Grade.PRINTED
    assert site(inv, "grades.c", 40, "readl").grade is Grade.INDEX
    assert site(inv, "grades.c", 42, "readl").grade is Grade.PRINTED


@pytest.mark.parametrize(("line", "primitive", "grade"), [
    (15, "virtio_cread", Grade.LENGTH),  # the value is argument 4, &capacity
    (17, "demo_inb", Grade.INDEX),  # object-like alias of inb
    (18, "demo_rdmsr", Grade.INDEX),  # a macro that assigns its 3rd argument
    (20, "readl_poll_timeout", Grade.INDEX),
])
def test_macro_semantics(inv: Inventory, line: int, primitive: str, grade: Grade) -> None:
    assert site(inv, "macros.c", line, primitive).grade is grade


def test_aliases_and_argument_assigning_macros_are_derived(inv: Inventory) -> None:
    derived = {d.name: d for d in inv.derived}
    assert derived["demo_inb"].chain == ("demo_inb", "inb") and derived["demo_inb"].returns
    assert derived["demo_rdmsr"].out_args == (2, 3)
    assert derived["demo_rdmsr"].chain == ("demo_rdmsr", "__rdmsr")


@pytest.mark.parametrize(("line", "primitive", "grade"), [
    (7, "readl", Grade.INDEX),  # a reassignment in another case arm does not end the value
    (21, "readl", Grade.INDEX),  # v = v & 0xff reads v before replacing it
    (34, "readl", Grade.INDEX),  # used through the loop's back edge
    (40, "readl", Grade.DISCARDED),  # replaced on every path before its only use
    (51, "pci_read_config_word", Grade.DISCARDED),  # &w reused as the next read's out-argument
    (52, "pci_read_config_word", Grade.INDEX),
    (54, "pci_read_config_word", Grade.DISCARDED),  # NULL out-argument
    (55, "pci_read_config_word", Grade.STORED),  # a global
    (56, "pci_read_config_word", Grade.STORED),  # a field
    (57, "pci_read_config_word", Grade.INDEX),  # an array: its element indexes
    (65, "memcpy_fromio", Grade.INDEX),  # s.lo is a field of the value, not a dereference
])
def test_flow_grades(inv: Inventory, line: int, primitive: str, grade: Grade) -> None:
    assert site(inv, "flow.c", line, primitive).grade is grade


def test_unmap_of_a_to_device_buffer_is_not_host_input(inv: Inventory) -> None:
    assert [s.line for s in inv.sites if s.file.endswith("flow.c")
            and s.primitive == "dma_unmap_single"] == [72]


def test_code_that_cannot_run_on_the_platform_is_flagged_not_dropped() -> None:
    tdx, snp = _scan("tdx"), _scan("snp")
    amd = site(tdx, "arch/x86/kernel/cpu/amd.c", 4, "inl")
    assert amd in tdx.host_sites and "Intel CPU" in amd.unreachable
    assert site(snp, "arch/x86/kernel/cpu/amd.c", 4, "inl").unreachable == ""
    assert site(_scan(), "arch/x86/kernel/cpu/amd.c", 4, "inl").unreachable == ""


def test_cpuid_leaf_decoded_through_a_wrapper() -> None:
    tdx = _scan("tdx")
    assert site(tdx, "leaf.c", 15, "cpuid_count").leaf == 0xD
    through = site(tdx, "leaf.c", 21, "demo_xsave_size")
    assert through.chain == ("demo_xsave_size", "cpuid_count")
    assert (through.leaf, through.trust) == (0xD, Trust.TRUSTED)
    assert site(_scan("snp"), "leaf.c", 21, "demo_xsave_size").trust is Trust.CHECKED


def test_read_write_helper_called_to_write_is_not_host_input(inv: Inventory) -> None:
    assert {d.name: d for d in inv.derived}["demo_copy_tofrom"].out_args == (1,)
    calls = [s for s in inv.sites if s.primitive == "demo_copy_tofrom"]
    assert [(s.line, s.grade) for s in calls] == [(87, Grade.INDEX)]  # the `0` call is gone


def test_copy_depth_limit_says_unknown_with_the_reason(inv: Inventory) -> None:
    s = site(inv, "flow.c", 94, "readl")
    assert s.grade is Grade.UNKNOWN and "copies into locals" in s.note


@pytest.mark.parametrize(("line", "grade"), [
    (10, Grade.WRITTEN_BACK),  # DEMO_WRITE(a, ...) expands to outb
    (11, Grade.PRINTED),  # demo_dbg(fmt, arg...) only prints its variadic arguments
    (12, Grade.STORED),  # DEMO_SET64 assigns through its pointer argument
    (13, Grade.COMPARED),  # DEMO_FIELD is arithmetic on its argument: a value conversion
    (14, Grade.WRITTEN_BACK),  # demo_write_reg (include/linux/demo_io.h) writes it with writel
    (15, Grade.INDEX),  # demo_res(d, i) subscripts with i
])
def test_derived_sinks(inv: Inventory, line: int, grade: Grade) -> None:
    assert site(inv, "sinks.c", line, "readl").grade is grade


def test_pass2_uses_a_parse_made_ahead_only_of_the_same_content(tmp_path: Path) -> None:
    # Workers parse files ahead while the parent computes the fixpoint (parallel.prepare);
    # file_sites takes such a parse only for the content (digest) and config it was made for.
    from cocoscope.surface import parallel
    from cocoscope.surface.cache import Cache
    from cocoscope.surface.file_work import FileContext, file_sites, parse_ahead
    from cocoscope.surface.sites import SourceRef

    (tmp_path / "a.c").write_text("int f(void) { return inb(0x60); }\n")
    ctx = FileContext(tmp_path, Cache(None), "fp", frozenset())
    key, (config_key, sha, parsed) = parse_ahead(ctx, "a.c")
    assert (key, config_key) == ("a.c", "")
    inb = {"inb": SourceRef("inb", True, frozenset(), False, False)}
    try:
        parallel._PREPARED["a.c"] = (config_key, sha, parsed)
        (tmp_path / "a.c").write_text("int f(void) { return 0; }\n")  # changed since: unread
        assert [s.line for s in file_sites(ctx, ("a.c", sha, inb, {}))[1]] == [1]
        assert "a.c" not in parallel._PREPARED  # handed out once
        parallel._PREPARED["a.c"] = ("another config", sha, parsed)
        assert file_sites(ctx, ("a.c", sha, inb, {})) == ("a.c", [], "changed during the scan")
    finally:
        parallel._PREPARED.clear()
