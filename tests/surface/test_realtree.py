"""The scanner on Debian's linux-source-6.12 with everything Debian's cloud config builds (one
cold scan, about half a minute on 2 cores)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from cocoscope.surface import render
from cocoscope.surface.catalogue import load_catalogue
from cocoscope.surface.files import files_for_config
from cocoscope.surface.inventory import Inventory
from cocoscope.surface.scan import scan

pytestmark = pytest.mark.realtree

@pytest.fixture(scope="module")
def inv(linux_tree: Path, debian_cloud_config: Path, tmp_path_factory: pytest.TempPathFactory,
        ) -> Inventory:
    files = files_for_config(linux_tree, str(debian_cloud_config))
    assert len(files) > 5000
    return scan(linux_tree, files, config=str(debian_cloud_config),
                cache_dir=tmp_path_factory.mktemp("surface-cache"))


def test_modern_virtio_pci_getters_are_derived_over_ioread(inv: Inventory) -> None:
    derived = {d.name: d for d in inv.derived}
    getter = derived["vp_modern_get_features"]
    assert getter.defined_in == "drivers/virtio/virtio_pci_modern_dev.c"
    assert getter.chain == ("vp_modern_get_features", "vp_ioread32", "ioread32")
    uses = [s for s in inv.sites if s.primitive == "vp_modern_get_features"]
    assert uses and all(s.chain == getter.chain and s.interface == "mmio" for s in uses)
    assert {s.file for s in uses} >= {"drivers/virtio/virtio_pci_modern.c"}


def test_driver_register_macro_over_readl(inv: Inventory) -> None:
    sites = [s for s in inv.sites if s.primitive == "VMXNET3_READ_BAR1_REG"]
    assert len(sites) > 5
    assert all(s.chain == ("VMXNET3_READ_BAR1_REG", "readl") for s in sites)
    assert all(s.built == "m" and s.module == "vmxnet3" and s.symbol == "VMXNET3" for s in sites)


def test_macro_over_function_over_port_io(inv: Inventory) -> None:
    cmos = [s for s in inv.sites if s.primitive == "CMOS_READ" and s.file.startswith("drivers/rtc")]
    assert cmos and cmos[0].chain == ("CMOS_READ", "rtc_cmos_read", "inb")


def _direct_calls(text: str, names: set[str]) -> set[tuple[int, str]]:
    """A textual floor: `name(` outside comments, strings and preprocessor lines, and not a
    definition or prototype (kernel style puts those at column 0 with the return type)."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.S)
    hits = set()
    for no, line in enumerate(text.splitlines(), start=1):
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', line.split("//")[0])
        if code.lstrip().startswith("#") or line.rstrip().endswith("\\"):
            continue
        if code[:1].isalpha() and "=" not in code and not code.startswith("return"):
            continue  # a definition or declaration of the function
        for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", code):
            if m.group(1) in names:
                hits.add((no, m.group(1)))
    return hits


def test_direct_primitive_calls_are_all_found(inv: Inventory, linux_tree: Path) -> None:
    names = {p for p in load_catalogue().primitives if p.isidentifier()}
    found = {(s.file, s.line, s.primitive) for s in inv.sites}
    expected = 0
    missed = []
    for f in sorted({s.file for s in inv.sites if s.file.endswith(".c")}):
        for line, name in _direct_calls((linux_tree / f).read_text(errors="replace"), names):
            expected += 1
            if (f, line, name) not in found:
                missed.append((f, line, name))
    assert expected > 4000
    assert len(missed) <= expected * 0.005, (missed, expected)


def test_json_keys_and_sarif_schema(inv: Inventory, testdata: Path) -> None:
    doc = json.loads(render.to_json(inv))
    for site in doc["sites"][:50]:
        assert {"file", "line", "function", "primitive", "interface", "grade", "built",
                "symbol"} <= site.keys()
        assert not site["file"].startswith("/")
    sarif = json.loads(render.to_sarif(inv))
    schema = json.loads((testdata / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert len(sarif["runs"][0]["results"]) == len(inv.host_sites)
