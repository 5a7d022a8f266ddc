"""Callees known by name: print and write primitives, sizes, addresses, value conversions,
poll macros, assertions, table walkers, copies and bit loops, and the grade of an argument
handed to one of them."""

from __future__ import annotations

import re

from cocoscope.surface.cparse import Node, arg_position, callee_name
from cocoscope.surface.grades import Grade

# Driver logging wrappers: mlx5_core_warn(), ata_dev_err(), ..._dbg().
_PRINT_SUFFIXES = ("_err", "_warn", "_info", "_dbg", "_debug", "_notice", "_printk", "_log",
                   "_crit", "_alert", "_emerg", "_err_ratelimited", "_warn_once", "_info_once",
                   "_warn_ratelimited", "_dbg_ratelimited")
_PRINT_PREFIXES = ("printk", "_printk", "pr_", "dev_", "_dev_", "netdev_", "netif_", "seq_printf",
                   "seq_puts", "sysfs_emit", "snprintf", "scnprintf", "sprintf", "WARN",
                   "trace_", "print_hex_dump", "pci_info", "pci_warn", "pci_err", "pci_dbg",
                   "pci_notice")
_WRITE_PREFIXES = ("write", "__raw_write", "iowrite", "out", "wrmsr", "native_write_msr",
                   "apic_write", "pci_write_config", "pci_bus_write_config", "pcie_capability_write",
                   "vp_iowrite", "virtio_cwrite", "serial_out", "serial_port_out", "mmio_out")
# Callee -> 1-based argument positions that are sizes or counts.
_SIZE_ARGS: dict[str, tuple[int, ...]] = {
    "memcpy": (3,), "memmove": (3,), "memset": (3,), "memcmp": (3,), "memcpy_fromio": (3,),
    "memcpy_toio": (3,), "copy_to_user": (3,), "copy_from_user": (3,), "kmemdup": (2,),
    "kmalloc": (1,), "kzalloc": (1,), "kvmalloc": (1,), "kvzalloc": (1,), "vmalloc": (1,),
    "vzalloc": (1,), "kcalloc": (1, 2), "kmalloc_array": (1, 2), "kvcalloc": (1, 2),
    "devm_kzalloc": (2,), "devm_kmalloc": (2,), "devm_kcalloc": (2, 3),
    "devm_kmalloc_array": (2, 3), "krealloc": (2,), "skb_put": (2,), "skb_put_data": (3,),
    "skb_pull": (2,), "skb_reserve": (2,), "skb_trim": (2,), "netdev_alloc_skb": (2,),
    "napi_alloc_skb": (2,), "alloc_skb": (1,), "dma_alloc_coherent": (2,),
    "dma_map_single": (3,), "strscpy": (3,), "strncpy": (3,), "sg_init_one": (3,),
    "alloc_pages": (2,), "get_order": (1,), "bitmap_zalloc": (1,), "ioremap": (2,),
    "devm_ioremap": (3,),
    # a slab cache's object size sizes every allocation from it
    "kmem_cache_create": (2,), "kmem_cache_create_usercopy": (2,),
}
# Functions that map an address or turn it into a pointer: the address handed to them is a
# `pointer` (labels README).
_ADDRESS_FUNCS = frozenset({"ioremap", "ioremap_cache", "ioremap_wc", "ioremap_uc",
                            "ioremap_encrypted", "ioremap_prot", "devm_ioremap", "memremap",
                            "devm_memremap", "early_memremap", "early_memremap_ro",
                            "early_memremap_decrypted", "early_ioremap", "set_fixmap",
                            "phys_to_virt", "__va", "pfn_to_page", "virt_to_page",
                            "page_address", "acpi_os_map_memory"})
# Calls whose result is (a part of) their argument: the value keeps flowing through them.
VALUE_FUNCS = frozenset({
    "FIELD_GET", "le16_to_cpu", "le32_to_cpu", "le64_to_cpu", "be16_to_cpu", "be32_to_cpu",
    "be64_to_cpu", "__le16_to_cpu", "__le32_to_cpu", "__le64_to_cpu", "__be16_to_cpu",
    "__be32_to_cpu", "__be64_to_cpu", "le16_to_cpup", "le32_to_cpup", "swab16", "swab32",
    "swab64", "upper_32_bits", "lower_32_bits", "min", "max", "min_t", "max_t", "clamp",
    "clamp_t", "clamp_val", "READ_ONCE", "abs", "ilog2", "fls", "ffs", "__fls", "__ffs",
    "hweight32", "hweight64", "hweight8", "hweight16", "ALIGN", "DIV_ROUND_UP", "roundup",
    "rounddown", "round_up", "round_down", "BIT", "GENMASK", "u8_get_bits", "u16_get_bits",
    "u32_get_bits", "le32_get_bits", "le16_get_bits", "cpu_to_le16", "cpu_to_le32",
    "cpu_to_le64", "cpu_to_be16", "cpu_to_be32", "cpu_to_be64", "__cpu_to_le16",
    "__cpu_to_le32", "__cpu_to_le64", "__cpu_to_be16", "__cpu_to_be32", "__cpu_to_be64",
    "ns_to_timespec64", "ns_to_ktime", "ktime_to_ns", "div_u64", "div64_u64",
    # overflow.h's size arithmetic: the size computed from a count is still that count
    "struct_size", "struct_size_t", "flex_array_size", "size_add", "size_mul", "size_sub",
    "array_size", "array3_size",
})
# bitfield.h's encoders: the field value shifted into its mask (FIELD_PREP(mask, v)). Grading
# follows the value through them like VALUE_FUNCS; deriving write wrappers (sinks.py) does not
# count them as conversions, so a function that encodes and writes a value (pcie_set_mps)
# stays a function of its own rather than becoming a write wrapper.
ENCODERS = frozenset({"FIELD_PREP", "FIELD_PREP_CONST", "u8_encode_bits", "u16_encode_bits",
                      "u32_encode_bits", "u64_encode_bits", "le16_encode_bits",
                      "le32_encode_bits", "le64_encode_bits", "be16_encode_bits",
                      "be32_encode_bits", "be64_encode_bits"})
# iopoll.h's poll macros read with an accessor into a value argument until a condition on it
# holds: (accessor argument, value argument, condition argument), 1-based. The generic forms
# take the accessor as an argument (`read_poll_timeout(inb, val, cond, ...)`); readX forms
# (`readl_poll_timeout(addr, val, cond, ...)`) are catalogue primitives.
POLL_MACROS = {"read_poll_timeout": (1, 2, 3), "read_poll_timeout_atomic": (1, 2, 3),
               "readx_poll_timeout": (1, 3, 4), "readx_poll_timeout_atomic": (1, 3, 4)}
_POLL_READ_RE = re.compile(r"read[bwlq](_relaxed)?_poll_timeout(_atomic)?$")


def poll_condition(name: str) -> int:
    """The condition argument of a poll macro (0 when ``name`` is not one): the value read is
    tested there on every round, so a use in it is a loop bound."""
    if name in POLL_MACROS:
        return POLL_MACROS[name][2]
    return 3 if _POLL_READ_RE.match(name) else 0


# Assertions test their first argument (WARN(cond, fmt, args...) prints the others):
# WARN_ON, WARN_ON_ONCE, WARN_ONCE, WARN_TAINT, BUG_ON, VM_BUG_ON, VM_WARN_ON_ONCE, ...
_ASSERT_RE = re.compile(r"(VM_)?(BUG_ON|WARN)(_ON)?(_ONCE|_SMP|_RATELIMIT|_TAINT)*$")
# A callback registered with an ACPI table walker receives each host table entry (or the
# table) as its first parameter: (walker, 1-based position of the callback argument).
# IRQ and command-line handler registrations stay events (their handlers get no host data
# through a parameter the walker fills).
TABLE_CALLBACKS = {"acpi_table_parse": 2, "acpi_table_parse_madt": 2,
                   "acpi_table_parse_cedt": 2, "acpi_table_parse_entries": 4}
COPY_FUNCS = frozenset({"memcpy", "memmove", "__memcpy", "memcpy_fromio"})

# find.h's bit loops: (loop variable, bitmap) argument positions, 1-based. The loop runs over
# the bitmap's set (or clear) bits and the variable takes each bit's position.
BIT_LOOPS = {"for_each_set_bit": (1, 2), "for_each_set_bit_from": (1, 2),
             "for_each_clear_bit": (1, 2), "for_each_clear_bit_from": (1, 2)}


# Stores through a user pointer, `put_user(x, ptr)` (uaccess.h): x lands in *ptr.
PUT_USER = frozenset({"put_user", "__put_user", "unsafe_put_user"})

# Formatting into a buffer: (callee, position of the format string); the buffer is argument 1.
FORMAT_INTO = {"sprintf": 2, "snprintf": 3, "scnprintf": 3, "sysfs_emit": 2,
                "sysfs_emit_at": 3}


def primitive_sink(name: str) -> Grade | None:
    """`printed` / `written-back` for the print and write primitives known by name."""
    if name.startswith(_PRINT_PREFIXES) or name.endswith(_PRINT_SUFFIXES):
        return Grade.PRINTED
    if name.startswith(_WRITE_PREFIXES):
        return Grade.WRITTEN_BACK
    return None


# Print primitives that take no format string: tracepoints print their arguments by the
# event's own format, print_hex_dump a buffer.
_UNFORMATTED_PRINTS = ("trace_", "print_hex_dump")
_STRINGS = frozenset({"string_literal", "concatenated_string"})


def _formatted(args: Node) -> bool:
    """Is a string literal (a format or message) among the arguments, as in every
    printk-family call (`dev_info(dev, "%x\\n", v)`, `cxl_err(dev, status, "timeout")`)? A
    function merely named like a logger (`x86_find_pci_root_info(bus)`,
    `dev_set_drvdata(dev, p)`) has none."""
    return any(c.type in _STRINGS for c in args.named_children)


def sized_or_address(name: str, position: int) -> bool:
    """Is argument ``position`` of ``name`` a size (`sg_init_one`'s length) or an address
    handed to a mapping function: a known use that no derived sink overrides?"""
    return position in _SIZE_ARGS.get(name, ()) or name in _ADDRESS_FUNCS


def call_argument(call: Node, arg_parent: Node, child: Node) -> Grade:
    name = callee_name(call)
    pos = arg_position(arg_parent, child)
    if pos == 1 and _ASSERT_RE.match(name):
        return Grade.COMPARED  # WARN_ON(v), WARN(v, fmt, ...): the condition is only tested
    sink = primitive_sink(name)
    if sink is Grade.PRINTED and not name.startswith(_UNFORMATTED_PRINTS) and \
            not _formatted(arg_parent):
        sink = None  # named like a logger but given no format: x86_find_pci_root_info(bus)
    if sink is not None:
        return sink
    if pos in _SIZE_ARGS.get(name, ()):
        return Grade.LENGTH
    if name in _ADDRESS_FUNCS:
        return Grade.POINTER
    if name in ("likely", "unlikely", "IS_ERR"):
        return Grade.COMPARED
    return Grade.PASSED

