"""struct pci_driver definitions read from C text, and ranking by host-input sites."""

from __future__ import annotations

from pathlib import Path

from cocoscope.evidence.kbuild import BuiltFile
from cocoscope.evidence.pcidrivers import PciDriver, drivers_in, find_pci_drivers, rank

NIC = b"""
static const struct pci_device_id foo_ids[] = {
	{ PCI_VDEVICE(INTEL, 0x10ed), 0 },
	{ }
};
/* struct pci_driver commented_out = { .id_table = foo_ids }; */
static struct pci_driver foo_driver = {
	.name     = "foo",
	.id_table = foo_ids,
	.probe    = foo_probe,
};
module_pci_driver(foo_driver);
"""

VFIO_LIKE = b"""
static const struct pci_device_id bar_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
static struct pci_driver bar_driver __refdata = {
	.name = DRV_NAME,
	.id_table = bar_table,
};
static struct pci_driver stub_driver = {
	.name		= "pci-stub",
	.id_table	= NULL,	/* only dynamic id's */
};
"""


def test_driver_with_id_table_binds_on_its_own() -> None:
    (d,) = drivers_in(NIC, "drivers/net/foo.c", "FOO")
    assert (d.symbol, d.file, d.name, d.auto_binds) == ("FOO", "drivers/net/foo.c", "foo", True)


def test_override_only_or_null_table_binds_on_request() -> None:
    bar, stub = drivers_in(VFIO_LIKE, "drivers/vfio/bar.c", "BAR")
    assert bar.name == "bar_driver" and not bar.auto_binds  # name not a literal: the variable
    assert stub.name == "pci-stub" and not stub.auto_binds


def test_bus_symbol_part_belongs_to_its_object(tmp_path: Path) -> None:
    """ccp-$(CONFIG_PCI) += sp-pci.o: the driver is CRYPTO_DEV_CCP_DD's, never PCI's."""
    (tmp_path / "sp-pci.c").write_bytes(NIC)
    (tmp_path / "plain.c").write_text("int x;\n")
    files = [BuiltFile("sp-pci.c", "m", "ccp", "drivers/crypto/ccp/ccp", "PCI",
                       object_symbol="CRYPTO_DEV_CCP_DD"),
             BuiltFile("plain.c", "y", None, "plain", "PLAIN")]
    (d,), unreadable = find_pci_drivers(tmp_path, files)
    assert (d.symbol, d.unit, d.built) == ("CRYPTO_DEV_CCP_DD", "ccp", "m") and not unreadable


def test_unreadable_file_is_listed_not_fatal(tmp_path: Path) -> None:
    files = [BuiltFile("missing.c", "y", None, "missing", "X")]
    drivers, unreadable = find_pci_drivers(tmp_path, files)
    assert drivers == () and unreadable and unreadable[0].startswith("missing.c")


def test_rank_by_sites_then_risky_sites() -> None:
    a, b, c = (PciDriver(s, f"{s}.c", s.lower(), "m", s.lower()) for s in ("A", "B", "C"))
    ranked = rank([a, b, c], {"a": (100, 2), "b": (50, 1), "c": (50, 9)})
    assert [(d.symbol, d.sites, d.risky) for d in ranked] == [("A", 100, 2), ("C", 50, 9),
                                                            ("B", 50, 1)]
    assert rank([a], {})[0].sites == 0
