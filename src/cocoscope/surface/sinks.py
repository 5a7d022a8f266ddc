"""Derived sinks: functions and macros that write a parameter back to the device, print it,
store it, or merely compute a value from it, to a fixpoint across all files (like derived
sources in ``derive.py``, in the other direction).

A value handed to another file's function is graded `passed`, except where the callee's use is
known: the write and print primitives named by ``grade`` (`writel`, `outb`, `printk`,
`dev_err`, ...) and what this module derives over them:

- a **write wrapper** hands a parameter, through locals and arithmetic, to write primitives or
  wrappers (and perhaps print ones or value conversions) and to no other function, and neither
  returns it nor assigns it into memory (`CMOS_WRITE(val, addr)` -> `rtc_cmos_write` ->
  `outb(val, ...)`): the value is `written-back` there;
- a **print wrapper** does the same with print primitives or wrappers only (i8042's
  `dbg(fmt, arg...)` -> `printk`): `printed`;
- a **store macro** assigns a parameter into memory (`MLX5_SET64(typ, p, fld, v)` writes
  `*(... p ...) = cpu_to_be64(v)`): `stored`;
- a **store helper** is a function whose only uses of a parameter are assignments into memory
  and calls that store it (or convert it), and which neither returns it nor
  subscripts with it (`u64_stats_add(p, val)` is `local64_add(val, &p->v)`, down to x86's
  `arch_atomic64_add`; `arch_atomic_set(v, i)` is `__WRITE_ONCE(v->counter, i)`): `stored`;
- a macro that subscripts an array with a parameter makes it an `index`
  (`pci_resource_n(dev, bar)` is `&(dev)->resource[(bar)]`);
- a **value macro** has no assignment and calls only value conversions and other value
  macros (`GHCB_MSR_PROTO_MAX(v)` is `((v) >> 48) & 0xffff`): the parameters that reach its
  value pass through it like `FIELD_GET`; a parameter it only tests is `compared`;
- a macro parameter the body never mentions is `discarded`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from operator import itemgetter

from cocoscope.surface.callees import sized_or_address
from cocoscope.surface.dataflow import EXIT, INDEX, RETURN, STORE, TESTED, UNUSED, Def
from cocoscope.surface.derive import Key, Resolver, Source
from cocoscope.surface.grade import VALUE_FUNCS, Grade, primitive_sink

# A sink's kinds by parameter: ((position, kind), ...); kind is a Grade value or VALUE. The
# last position of a variadic macro (Def.variadic) takes every later argument too.
VALUE = "value"
SinkInfo = tuple[tuple[int, str], ...]
_callee = itemgetter(1)  # of a Def.flows entry (parameter, callee, argument)
# Compile-time helpers a value macro may use without stopping being one.
_COMPILE_TIME = frozenset({"sizeof", "typeof", "__typeof__", "__same_type", "_Generic",
                           "__is_constexpr", "__BF_FIELD_CHECK", "__bf_shf"})
# Grade values by name, read once (an enum member's .value is a descriptor call, and the
# fixpoint asks ~10^5 times)
_DISCARDED, _RETURNED, _COMPARED, _INDEX, _STORED, _WRITTEN_BACK, _PRINTED = (
    g.value for g in (Grade.DISCARDED, Grade.RETURNED, Grade.COMPARED, Grade.INDEX, Grade.STORED,
                      Grade.WRITTEN_BACK, Grade.PRINTED))
_SINKS = frozenset({Grade.WRITTEN_BACK.value, Grade.PRINTED.value, VALUE})
# Pseudo-callees (dataflow.Def.flows): what a macro does with a parameter by itself, what
# lets the value escape, and a parameter's uses that say it only tests or ignores it
_OWN_USES = frozenset({RETURN, STORE, INDEX, TESTED, UNUSED, EXIT})
_ESCAPES = frozenset({RETURN, STORE, INDEX})
_ONLY_UNUSED = frozenset({(UNUSED, 0)})
_ONLY_TESTED = frozenset({(TESTED, 0)})
# What a store helper may do with a parameter besides assigning it into memory: convert it
# and hand it to other store helpers. A function that also prints or writes the value does more
# than store it (pcibios_scan_root(busnum) prints it and scans a bus): its argument stays
# `passed`, as a reviewer who does not follow other files' functions grades it.
_STORE_SINKS = frozenset({VALUE, Grade.STORED.value})
# x86's atomic read-modify-write operations are inline assembly pass 1 cannot follow
# (asm/atomic.h, asm/atomic64_64.h, asm/local.h: `asm volatile(LOCK_PREFIX "addq %1,%0" :
# "=m" (v->counter) : "er" (i), ...)`): each adds (subtracts, ands, ors, xors) its argument 1
# into the variable its argument 2 points to. Argument -> kind, by name.
_ASM_STORES: dict[str, tuple[int, str]] = {
    **{f"arch_atomic{width}_{op}": (1, Grade.STORED.value)
       for width in ("", "64") for op in ("add", "sub", "and", "or", "xor")},
    "local_add": (1, Grade.STORED.value), "local_sub": (1, Grade.STORED.value),
}


def kind_at(info: SinkInfo, position: int) -> str:
    """The kind of ``info`` for argument ``position`` ("" when it is not a sink there)."""
    last = 0
    for pos, kind in info:
        if pos == position:
            return kind
        last = max(last, pos)
    if info and position > last and info[-1][0] < 0:  # variadic: the marker entry
        return kind_at(info, -info[-1][0])
    return ""


def derive_sinks(res: Resolver, sources: Mapping[Key, Source] | None = None,
                 ) -> dict[Key, SinkInfo]:
    """Every definition that is a sink (or a value macro) for some parameter. A parameter
    reaching a ``sources`` call's out-argument is written there, not read: that flow does not
    count (`pci_clear_and_set_config_dword`'s `set` is merged into `v`, which is also
    `pci_read_config_dword(dev, pos, &v)`'s out-argument, and only written back)."""
    # Names some source has: a flow into any other callee cannot be into a source's
    # out-argument, and most definitions have no such flow, so keep their Def as it is.
    source_names = {k[1] for k in sources} if sources else set()
    items = []
    for path, key, d in res.defs:
        if d.flows and sources:
            flows = _reads(res, path, d, sources, source_names)
            if flows is not d.flows:
                d = d._replace(flows=flows)
        elif d.pure is None and not d.flows:
            continue
        items.append((path, key, d))
    base: dict[str, str] = {}  # primitive sinks and value conversions by name ("": neither)
    dependants: dict[str, list[int]] = {}
    seeds = []
    for i, (_p, _k, d) in enumerate(items):
        callees = set(map(_callee, d.flows))
        # A macro whose parameter reaches its value, memory or a subscript can be a value,
        # store or index macro without any sink below it.
        # So can a function that assigns nothing and returns a parameter (a value function),
        # and one that stores a parameter (a store helper).
        seed = (d.kind == "macro" and not callees.isdisjoint(_OWN_USES)) \
            or (d.pure is not None and RETURN in callees) or STORE in callees
        if d.pure:
            callees.update(d.pure)
        for callee in callees:
            known = base.get(callee)
            if known is None:
                prim = primitive_sink(callee)
                known = base[callee] = prim.value if prim is not None else \
                    VALUE if callee in VALUE_FUNCS else \
                    _ASM_STORES[callee][1] if callee in _ASM_STORES else ""
            if known:
                seed = True
            else:
                dependants.setdefault(callee, []).append(i)
        if seed:
            seeds.append(i)
    out: dict[Key, SinkInfo] = {}
    pure: set[Key] = set()
    named: set[str] = set()  # names of definitions in out or pure: nothing else resolves
    # Only those macros and definitions that call a primitive sink can be sinks first; the
    # rest wake when a callee becomes one.
    queue = deque(seeds)
    queued = set(queue)
    while queue:
        i = queue.popleft()
        queued.discard(i)
        path, key, d = items[i]

        def kind(callee: str, position: int, path: str = path) -> str:
            asm = _ASM_STORES.get(callee)
            if asm is not None:
                return asm[1] if asm[0] == position else ""
            if sized_or_address(callee, position):
                return ""  # `sg_init_one(sg, buf, len)` stores len, but as a length
            known = base.get(callee, "")
            if known or callee not in named:
                return known
            info = out.get(res.resolve(path, callee))
            return kind_at(info, position) if info else ""

        is_pure = d.pure is not None and all(
            base.get(c) == VALUE or c in _COMPILE_TIME or c.startswith(("__builtin_", "BUILD_BUG"))
            or (c in named and res.resolve(path, c) in pure) for c in d.pure)
        info = _evaluate(d, kind, is_pure)
        if info == out.get(key, ()) and is_pure == (key in pure):
            continue
        if info:
            out[key] = info
        else:
            out.pop(key, None)
        (pure.add if is_pure else pure.discard)(key)
        named.add(d.name)
        for j in dependants.get(d.name, ()):
            if j not in queued:
                queue.append(j)
                queued.add(j)
    return out


def _reads(res: Resolver, path: str, d: Def, sources: Mapping[Key, Source],
           source_names: set[str]) -> tuple[tuple[int, str, int], ...]:
    """``d.flows`` without those into an out-argument of a source (``d.flows`` itself when
    there are none); ``source_names`` are the names of ``sources``' keys."""
    if source_names.isdisjoint(map(_callee, d.flows)):
        return d.flows
    kept = []
    for flow in d.flows:
        src = sources.get(res.resolve(path, flow[1])) if flow[1] in source_names else None
        if src is None or flow[2] not in src.out_args:
            kept.append(flow)
    return tuple(kept) if len(kept) != len(d.flows) else d.flows


def _evaluate(d: Def, kind: Callable[[str, int], str], is_pure: bool) -> SinkInfo:
    by_param: dict[int, set[tuple[str, int]]] = {}
    for p, callee, k in d.flows:
        by_param.setdefault(p, set()).add((callee, k))
    found: list[tuple[int, str]] = []
    for p, uses in sorted(by_param.items()):
        escapes = {c for c, _k in uses if c in _ESCAPES}
        if uses == _ONLY_UNUSED:
            found.append((p, _DISCARDED))  # `#define DEBUG_AUTOCONF(fmt...) do {} ...`
            continue
        if (EXIT, 0) in uses:
            found.append((p, _RETURNED))  # `#define return_ACPI_STATUS(s) return(s)`
            continue
        if uses == _ONLY_TESTED:
            if is_pure:
                found.append((p, _COMPARED))  # only tested: IRQ_RETVAL(x)
            continue
        kinds = {kind(c, k) for c, k in uses if c not in _ESCAPES}
        if d.kind == "macro" and _RETURNED in kinds and not escapes:
            # handed to a macro that returns it from the user: `#define return_ACPI_STATUS(s)
            # ACPI_TRACE_EXIT(acpi_ut_status_exit, acpi_status, s)` when ACPI debugging is on
            found.append((p, _RETURNED))
            continue
        if d.kind == "macro" and INDEX in escapes:
            found.append((p, _INDEX))  # `#define pci_resource_n(d, i) ...[(i)]`
        elif is_pure and (RETURN in escapes or VALUE in kinds):
            found.append((p, VALUE))
        elif d.kind == "macro" and STORE in escapes:
            found.append((p, _STORED))
        elif (STORE in escapes or _STORED in kinds) and escapes <= {STORE} \
                and kinds <= _STORE_SINKS:
            found.append((p, _STORED))  # a store helper
        elif escapes or not kinds <= _SINKS:
            continue  # returned, stored, or handed to a function that is no sink
        elif _WRITTEN_BACK in kinds:
            found.append((p, _WRITTEN_BACK))  # a write wrapper
        elif _PRINTED in kinds:
            found.append((p, _PRINTED))  # a print wrapper
    if d.variadic and any(p == d.variadic for p, _k in found):
        found.append((-d.variadic, ""))  # marker: later arguments are the variadic one
    return tuple(found)
