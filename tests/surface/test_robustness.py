"""The per-file analysis never raises on arbitrary input: a whole-tree run lists, not crashes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.surface.cparse import parse
from cocoscope.surface.dataflow import file_summary
from cocoscope.surface.neutralise import neutralise
from cocoscope.surface.sites import SourceRef, find_sites

SOURCES = {
    "readl": SourceRef("readl", True, frozenset(), False, False),
    "pci_read_config_dword": SourceRef("pci_read_config_dword", False, frozenset({3}), False,
                                       False),
    "boot_params": SourceRef("boot_params", False, frozenset(), False, True),
}
C_BITS = st.sampled_from([
    "int f(void __iomem *p) {", "}", "{", "(", ")", "readl(p)", "x = ", ";", "#define M(a) ",
    "readl(a)", "\\\n", "__init ", "static ", "return ", "if (", "for (i = 0; i < ", "u32 v",
    "pci_read_config_dword(d, 4, &v)", "boot_params.hdr", "case 1 ... 3:", "scoped_guard(x) ",
    "/*", "*/", "\"", "'", "#if 0\n", "#endif\n", "\n", "[", "]", "->", "&", "*", "...",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(C_BITS, max_size=60).map("".join))
def test_c_like_input_never_raises(src: str) -> None:
    data = src.encode()
    parsed = parse(data)
    summary = file_summary("f.c", "", parsed, frozenset({"boot_params"}))
    assert summary.path == "f.c"
    for site in find_sites(parsed, SOURCES):
        assert site.line >= 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_and_keep_length(data: bytes) -> None:
    assert len(neutralise(data)) == len(data)
    parsed = parse(data)
    file_summary("f.c", "", parsed, frozenset())
    find_sites(parsed, SOURCES)
