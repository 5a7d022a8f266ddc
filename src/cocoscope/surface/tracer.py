"""Following a local variable to its uses inside one function body (path-aware), for the
grades of ``grade.classify``; where a value stored in memory is read back is ``readback.py``."""

from __future__ import annotations

from collections.abc import Callable

from cocoscope.surface import readback
from cocoscope.surface.body_names import BodyNames
from cocoscope.surface.cparse import Node, arg_position, call_args, callee_name, node_text
from cocoscope.surface.grade import (
    MAX_DEPTH,
    POLL_MACROS,
    RISKY,
    Grade,
    classify,
    riskiest,
    strip,
)
from cocoscope.surface.paths import (
    Jumps,
    before_on_every_path,
    both_arms,
    enclosing_loops,
    in_macro_loop,
    jumps,
    leaves_switch_before,
    other_arm,
    pinning_test,
    reachable_jumps,
    unconditional_within,
)
from cocoscope.surface.readback import ParamGrader, ParamUse

__all__ = ["OutArgGrader", "OutArgTest", "ParamGrader", "ParamUse", "UseTracer"]

# Does this call write its k-th argument (an out-argument of a source)?
OutArgTest = Callable[[Node, int], bool]
# The grade of a value written through a call's argument, by the argument's target (a local:
# its uses; the caller's pointer: into_caller; a field: stored): sites.py's out-arguments.
OutArgGrader = Callable[[Node, bytes, "UseTracer", tuple[str, ...]], Grade]


class UseTracer:
    """Grades the uses of a local variable inside one function body.

    A value ends where a write certainly replaces it (a plain assignment or the variable
    passed as a source's out-argument, on every path to the use: ``paths``); uses reached
    through a loop's back edge count; ``v = f(v)`` reads the old value before ending it.
    ``param_grader(function, position, depth, field)`` grades how a function of the same
    file uses its parameter, for values passed straight into it; None when the function is
    unknown. A value that function returns goes on as the call's value in the caller.
    """

    def __init__(self, body: Node, text: bytes, param_grader: ParamGrader | None = None,
                 writes_arg: OutArgTest | None = None, params: tuple[str, ...] = (),
                 macro: bool = False, sink_kind: Callable[[str, int], str] | None = None,
                 out_arg: OutArgGrader | None = None) -> None:
        self._body = body
        self._sink_kind = sink_kind
        self._params = frozenset(params)
        self._param_list = params
        self._macro = macro
        self._out_arg = out_arg
        self._gotos: Jumps | None = None
        self._text = text
        self._param_grader = param_grader
        self._writes_arg = writes_arg
        self._names: BodyNames | None = None
        self._active: set[tuple[str, int]] = set()
        self.note = ""  # why the last grade was `unknown` (the caller resets it per site)
        self._param_mode = False  # grading a parameter for a caller (grade_parameter)
        self._returns = False  # ... and a return statement was reached
        self._outs: set[int] = set()  # ... and the pointer parameters it was written through
        self._pointee_param = ""  # ... grading what that pointer parameter points at
        # What grading asks again for every value of a function (each site, each copy into a
        # local): a name's uses in order with the writes among them, the write at a use (both
        # also by the member graded: grade_member), a use's pinning test.
        self._flows: dict[tuple[str, tuple[str, str] | None],
                          tuple[list[Node], list[tuple[Node, Node]]]] = {}
        self._writes: dict[tuple[int, tuple[str, str] | None], Node | None] = {}
        self._pins: dict[int, Node | None] = {}  # node id -> pinning_test's answer
        # (structure, member) while grading one member of a local structure (grade_member)
        self._member: tuple[str, str] | None = None

    def _build(self) -> BodyNames:
        """The body's names (body_names.py): each name's uses and declarations."""
        if self._names is None:
            self._names = BodyNames(self._body, self._text, self._params)
        return self._names

    def caller_memory(self, name: str, through: bool) -> bool:
        """Does writing into ``name`` (through it, when ``through``) write memory the caller
        passed: the function's pointer parameter or a local copy of it, or a macro's
        parameter (the caller's lvalue itself)?"""
        declared = self._build().declared(name)
        if self._macro and name in self._params and not declared.local:
            return True
        return through and (name in self._params or bool(declared.alias))

    def _jumps(self) -> Jumps:
        if self._gotos is None:
            self._gotos = jumps(self._body, self._text) if b"goto" in \
                self._text[self._body.start_byte:self._body.end_byte] else ()
        return self._gotos

    def is_local(self, name: str) -> bool:
        return self._build().declared(name).local

    def is_own_array(self, name: str) -> bool:
        """Is ``name`` an array declared in this function's body (not static)?"""
        return self._build().declared(name).array

    def is_pointer(self, name: str) -> bool:
        return self._build().declared(name).pointer

    def into_caller(self, name: str) -> Grade:
        """A value written through ``name``, the caller's pointer (caller_memory): `returned`;
        for a caller grading what this function does with its parameter (grade_parameter),
        no use of its own but a write into the caller's argument for that pointer parameter
        (`encode_l12_threshold(t, &scale, &value)` writes into the caller's locals, whose
        uses decide: _through)."""
        if self._param_mode and not self._macro:
            param = name if name in self._params else \
                self._build().declared(name).alias or None
            if param is not None and param in self._param_list:
                self._outs.add(self._param_list.index(param) + 1)
                return Grade.DISCARDED
        return Grade.RETURNED

    def callee_parameter(self, call: Node, function: str, position: int,
                         depth: int) -> Grade | None:
        """A value handed straight to ``function`` of this file, by how it uses it."""
        if self._param_grader is None:
            return None
        return self._through(call, self._param_grader(function, position, depth, ""), depth)

    def _written_back_to(self, call: Node, outs: frozenset[int], depth: int) -> list[Grade]:
        """Grades of a value a same-file function writes through its pointer parameters
        ``outs``: by the call's arguments there, as a source's out-arguments are graded."""
        args = call.child_by_field_name("arguments")
        nodes = call_args(args) if args is not None else []
        if self._out_arg is None:
            return [Grade.RETURNED]  # the old answer: written through some pointer
        if depth >= MAX_DEPTH:
            return [self.limit("same-file calls")]
        return [self._out_arg(nodes[k - 1], self._text, self, self._param_list)
                for k in sorted(outs) if k <= len(nodes)]

    def _through(self, call: Node, found: ParamUse | None, depth: int) -> Grade | None:
        """The grade of a value given to a same-file function that uses it as ``found`` says:
        what the function returns is the call's value, graded where the call is used; what it
        writes through a pointer parameter lands in the call's argument there; a value the
        function only tests, called in a loop's condition, bounds that loop
        (`do ... while (!hpet_cnt_ahead(cmp, hpet_readl(HPET_COUNTER)))`)."""
        if found is None:
            return None
        inner, returns, outs = found
        if outs:
            inner = riskiest([inner, *self._written_back_to(call, outs, depth)])
        if inner is Grade.UNKNOWN and not self.note:
            self.note = f"same-file calls nested deeper than {MAX_DEPTH} levels not followed"
        if not returns and inner is not Grade.COMPARED:
            return inner
        if depth >= MAX_DEPTH:
            if not returns:
                return inner
            # What the call's value does next is cut: a benign grade of the function's own
            # would hide that (`unknown` ranks last), so only a risky one stands.
            cut = self.limit("same-file calls")
            return inner if inner in RISKY else cut
        outer = classify(call, self._text, self, depth + 1)
        if returns:
            return riskiest([inner, outer])
        return Grade.LOOP_BOUND if outer is Grade.LOOP_BOUND else inner

    def grade_parameter(self, name: str, start: int, depth: int, field: str = "",
                        ) -> ParamUse:
        """How this function uses its parameter ``name`` (or what it reads from
        ``name->field``) for a caller, whether it returns it and which pointer parameters
        it writes it through: a return statement or such a write counts as no use here, the
        caller grades the call's value and its arguments instead."""
        saved = self._param_mode, self._returns, self._outs
        self._param_mode, self._returns, self._outs = True, False, set()
        try:
            if field == "*":  # what the pointer parameter points at (address_handed)
                saved_pointee, self._pointee_param = self._pointee_param, name
                try:
                    grade = self.grade_local(name, start, depth, pointee=True)
                finally:
                    self._pointee_param = saved_pointee
            elif field:
                grade = riskiest([classify(n, self._text, self, depth + 1)
                                  for n in readback.field_reads(self, name, field)])
            else:
                grade = self.grade_local(name, start, depth)
            return grade, self._returns, frozenset(self._outs)
        finally:
            self._param_mode, self._returns, self._outs = saved

    def offsets_pointer(self, arith: Node, operand: Node) -> bool:
        """Is ``arith`` (`a + b`, `a - b`) pointer arithmetic that offsets a base address by
        ``operand``: the other operand a local or parameter declared as a pointer or array
        (`base + off`, `base - off`), ``operand`` itself none?"""
        left, right = arith.child_by_field_name("left"), arith.child_by_field_name("right")
        other = right if left == operand else left
        op = arith.child_by_field_name("operator")
        if other is None or (op is not None and op.type == "-" and other != left):
            return False
        other, own = strip(other), strip(operand)
        if own.type == "identifier" and self.is_pointer(node_text(self._text, own)):
            return False
        if other.type == "identifier" and self.is_pointer(node_text(self._text, other)):
            return True
        # the sum is a pointer: returned by a function that returns one, or set into a local
        # pointer (`return iommu->reg + off;` in a `void __iomem *` function)
        node, p = arith, arith.parent
        while p is not None and p.type == "parenthesized_expression":
            node, p = p, p.parent
        if p is None:
            return False
        if p.type == "return_statement":
            return self._returns_pointer()
        if p.type == "init_declarator" and p.child_by_field_name("value") == node:
            d = p.child_by_field_name("declarator")
            return d is not None and d.type == "pointer_declarator"
        if p.type == "assignment_expression" and p.child_by_field_name("right") == node:
            left = p.child_by_field_name("left")
            return left is not None and left.type == "identifier" and \
                self.is_pointer(node_text(self._text, left)) and \
                not self.is_own_array(node_text(self._text, left))
        return False

    def _returns_pointer(self) -> bool:
        """Is this a function declared to return a pointer (`void __iomem *f(...)`)?"""
        d = self._body.child_by_field_name("declarator") \
            if self._body.type == "function_definition" else None
        return d is not None and d.type == "pointer_declarator" and not self._macro

    def returned(self) -> Grade:
        """A return statement reached: `returned`, or for a caller grading the call's value
        (grade_parameter) no use of its own."""
        if self._param_mode:
            self._returns = True
            return Grade.DISCARDED
        return Grade.RETURNED

    def points_into_structure(self, name: str) -> bool:
        """Is local pointer ``name`` set to memory inside a structure that is not a local
        (readback.py)? Writes through it are stored there."""
        return readback.points_into_structure(self, name)

    def stored(self, target: Node, depth: int) -> Grade:
        """A value stored into ``target`` (a field, global or own array element): `stored`, or
        by its uses where this function reads it back (readback.py); into the caller's own
        local when ``target`` is a field of what address_handed's parameter points at."""
        if self._pointee_param:
            base = strip(target)
            while base.type == "field_expression":
                base = strip(base.child_by_field_name("argument") or base)
                if base.type == "identifier" and \
                        node_text(self._text, base) == self._pointee_param:
                    return self.into_caller(self._pointee_param)
        return readback.stored(self, target, depth)

    def address_handed(self, addr: Node, depth: int) -> Grade | None:
        """`&v` of a local (or a pointer to the caller's local) handed to a function of this
        file: what that function reads through its pointer parameter, graded as a local
        pointer's contents are (`__pci_config_acs(dev, &caps, ...)` prints `caps->ctrl`);
        its writes through the pointer land back in the local, already followed. None for
        other callees."""
        node, p = addr, addr.parent
        while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
            node, p = p, p.parent
        if p is None or p.type != "argument_list" or p.parent is None or \
                self._param_grader is None:
            return None
        call, pos = p.parent, arg_position(p, node)
        # `&s` while one member of local structure s is graded: what the function reads of
        # that member (`tr->lvt_off`), not of the others
        member = self._member[1] if self._member is not None and \
            node_text(self._text, strip(addr.child_by_field_name("argument") or addr)) == \
            self._member[0] else "*"
        found = self._param_grader(callee_name(call), pos, depth, member)
        if found is None:
            return None
        inner, returns, outs = found
        return self._through(call, (inner, returns, outs - {pos}), depth)

    def callee_kind(self, name: str, position: int) -> str:
        """What a derived sink does with argument ``position`` (sinks.py), or ""."""
        return self._sink_kind(name, position) if self._sink_kind is not None else ""

    def limit(self, what: str) -> Grade:
        self.note = f"{what} deeper than {MAX_DEPTH} levels not followed"
        return Grade.UNKNOWN

    def _write(self, use: Node) -> Node | None:
        """The assignment or call that replaces the variable's value at ``use``, if any."""
        key = (use.id, self._member)
        if key not in self._writes:
            self._writes[key] = self._find_write(use)
        return self._writes[key]

    def _find_write(self, use: Node) -> Node | None:
        parent = use.parent
        if parent is None:
            return None
        if self._member and parent.type == "field_expression" and \
                node_text(self._text, use) == self._member[0]:
            # grading one member: `s.member = x` replaces it (a write of another member or
            # through `s.member` is no write of the member's value)
            op = parent.parent
            return op if op is not None and op.type == "assignment_expression" and \
                op.child_by_field_name("left") == parent and self._member_of(parent) and \
                _plain(op) else None
        if parent.type == "assignment_expression" and parent.child_by_field_name("left") == use:
            op = parent.child_by_field_name("operator")
            return parent if op is not None and op.type == "=" else None
        if parent.type == "init_declarator" and parent.child_by_field_name("declarator") == use:
            # `u32 val = f();` inside a loop body sets val afresh on every round: the back
            # edge brings no earlier value to the uses after it (amd_bus.c:363)
            return parent
        node = use
        if parent.type == "pointer_expression" and self._text[parent.start_byte] == 0x26:
            node, parent = parent, parent.parent  # &v
        if parent is not None and parent.type == "argument_list" and parent.parent is not None:
            call = parent.parent
            pos = arg_position(parent, node)
            if self._writes_arg is not None and self._writes_arg(call, pos):
                return call
            poll = POLL_MACROS.get(callee_name(call))
            if poll is not None and pos == poll[1] and node is use:
                return call  # read_poll_timeout(op, v, ...) assigns op(...) to v
        return None

    def grade_local(self, name: str, defined_at: Node | int, depth: int,
                    pointee: bool = False) -> Grade:
        after = defined_at if isinstance(defined_at, int) else defined_at.start_byte
        key = (name + "." + self._member[1] if self._member and self._member[0] == name
               else name, after)
        if key in self._active:
            return Grade.DISCARDED  # a cycle through a loop: the other visit grades these uses
        self._active.add(key)
        try:
            return self._grade_local(name, defined_at, after, depth, pointee)
        finally:
            self._active.discard(key)

    def grade_member(self, name: str, member: str, defined_at: Node, depth: int) -> Grade:
        """Uses of member ``member`` of local structure ``name`` (`name.member`, and `name`
        as a whole), from ``defined_at`` on; a plain write of `name.member` ends it."""
        saved, self._member = self._member, (name, member)
        try:
            return self.grade_local(name, defined_at, depth)
        finally:
            self._member = saved

    def grade_pointee(self, name: str, defined_at: Node) -> Grade:
        """Uses of the data a source wrote into the memory local pointer ``name`` points at:
        `*p`, `p[i]` and `p->f` read it; `p` handed on passes it."""
        return self.grade_local(name, defined_at, 0, pointee=True)

    def _use(self, use: Node, depth: int, pointee: bool) -> Grade:
        p = use.parent
        if p is not None and p.type == "update_expression" and _value_used(p):
            # `while (--num_buf)`, `buf[i++]`, `*p++`: the update's value is the variable's
            # (one off), used where the update is
            use, p = p, p.parent
        if pointee and p is not None and (
                (p.type == "pointer_expression" and self._text[p.start_byte] == 0x2A)
                or (p.type in ("subscript_expression", "field_expression")
                    and p.child_by_field_name("argument") == use)):
            if p.type == "subscript_expression" and self._element_out_arg(p):
                return Grade.DISCARDED  # `cpuid(1, &r[0], &r[1], ...)`: written, not read
            return classify(p, self._text, self, depth + 1)
        if pointee and _compared_by_call(use):
            return Grade.COMPARED  # memcmp(TDX_IDENT, sig, sizeof(sig)): the contents tested
        if pointee and p is not None and p.type == "argument_list":
            handed = self.address_handed(use, depth + 1)  # on to another same-file function
            if handed is not None:
                return handed
        elif pointee and self._pointee_param and (p is None or p.type != "return_statement"):
            # a pointer to the caller's memory set into a local pointer (`msg = (T *)((long)p
            # + off)`) reads it through that local; tested (`if (!p)`) or kept elsewhere, it
            # is no read of what it points at
            copy = _pointer_copy(use, self._text)
            if copy is not None and self.is_pointer(node_text(self._text, copy)) and \
                    depth < MAX_DEPTH:
                return self.grade_local(node_text(self._text, copy), copy, depth + 1,
                                        pointee=True)
            return Grade.DISCARDED
        return classify(use, self._text, self, depth + 1)

    def _element_out_arg(self, element: Node) -> bool:
        """Is ``element`` (`a[i]`) given as `&a[i]` to a call that writes that argument?"""
        p = element.parent
        if p is None or p.type != "pointer_expression" or self._text[p.start_byte] != 0x26:
            return False
        args = p.parent
        return args is not None and args.type == "argument_list" and args.parent is not None \
            and self._writes_arg is not None \
            and self._writes_arg(args.parent, arg_position(args, p))

    def _member_of(self, field: Node) -> bool:
        """Is ``field`` (`s.f`, the parent of a use of `s`) the member being graded?"""
        op, member = field.child_by_field_name("operator"), field.child_by_field_name("field")
        return op is not None and op.type == "." and member is not None and \
            self._member is not None and node_text(self._text, member) == self._member[1]

    def _other_member(self, use: Node) -> bool:
        """Is ``use`` (of a local structure) a read of another member than the one graded?"""
        p = use.parent
        return self._member is not None and p is not None and \
            p.type == "field_expression" and p.child_by_field_name("argument") == use and \
            node_text(self._text, use) == self._member[0] and not self._member_of(p)

    def _pinning(self, use: Node, name: str) -> Node | None:
        key = use.id
        if key not in self._pins:
            self._pins[key] = pinning_test(use, name.encode(), self._text)
        return self._pins[key]

    def _grade_local(self, name: str, defined_at: Node | int, after: int, depth: int,
                     pointee: bool) -> Grade:
        key = (name, self._member)
        flows = self._flows.get(key)
        if flows is None:
            ordered = sorted((u for u in self._build().get(name, ())
                              if not self._other_member(u)), key=lambda n: n.start_byte)
            flows = self._flows[key] = ordered, [(u, w) for u in ordered
                                                 if (w := self._write(u)) is not None]
        uses, writes = flows
        loops = [] if isinstance(defined_at, int) else enclosing_loops(defined_at)
        # A write after the definition that always runs before the loop turns ends the
        # value before the back edge.
        def_end = rhs_end = after
        if not isinstance(defined_at, int):
            own = self._write(defined_at)
            def_end = own.end_byte if own is not None else defined_at.end_byte
            if own is not None and own.type in ("assignment_expression", "init_declarator") \
                    and not in_macro_loop(own):
                # (a poll macro's condition runs after its write; an iterator macro's back
                # edge, which would bring the value round to the right side, is not seen)
                rhs_end = own.end_byte
        grades = []
        forward = reachable_jumps(self._jumps(), after, loops)  # gotos after the definition
        # `if (rc != K) { rc = -EIO; goto out; }` after the definition: past it rc is K
        pins = [pin for u in uses if u.start_byte >= def_end and
                (pin := self._pinning(u, name)) is not None]
        ending: list[Node] | None = None  # the writes that end the value after def_end
        for use in uses:
            if self._write(use) is not None or use.start_byte == after:
                continue  # a write, or the definition itself
            # `ret = (v >> regs[ret].shift) & regs[ret].mask;`: the right side reads the
            # value before the write (only a loop brings the new one back to it)
            rhs = after < use.start_byte < rhs_end
            if use.start_byte > after and not rhs:
                if not isinstance(defined_at, int) and other_arm(defined_at, use, self._jumps()):
                    continue  # the other arm of an `if` around the definition: not reached
                if not isinstance(defined_at, int) and leaves_switch_before(defined_at, use) \
                        and not any(lp.start_byte <= use.start_byte < lp.end_byte
                                    for lp in loops):
                    continue  # a later case of the switch, after a `break`: never reached
                if ending is None:  # the same for every use after the definition
                    ending = [w for _u, w in writes if w.start_byte >= def_end]
                    if len(ending) > 1:
                        # `if (x) v = a(); else v = b();` after the definition ends it too
                        ending += [s for s in both_arms(ending) if s.start_byte >= def_end]
                killers = ending
                gotos, since = forward, None if isinstance(defined_at, int) else defined_at
            else:
                loop = next((lp for lp in loops if lp.start_byte <= use.start_byte), None)
                if loop is None:
                    # earlier code outside any loop around the definition: reached only by a
                    # goto after the definition back to a label before the use (`again:
                    # ...use...; status = read(); if (status) goto again;`, knc.c:262)
                    label = max((lab for goto, lab in self._jumps() if goto >= def_end
                                 and lab <= use.start_byte), default=None)
                    if label is None:
                        continue
                    killers = [w for _u, w in writes if w.start_byte >= label]
                    if any(before_on_every_path(w, use, self._jumps()) for w in killers):
                        continue
                    grades.append(self._use(use, depth, pointee))
                    continue
                init = _within(loop, "initializer")
                if init is not None and init.start_byte <= use.start_byte < init.end_byte:
                    continue  # a for's initializer runs once, before the loop
                body = loop.child_by_field_name("body") or loop
                step = _within(loop, "update")
                # (a value set by a for's step reaches its condition before the body runs)
                in_step = step is not None and step.start_byte <= after < step.end_byte
                if not in_step and any(w.start_byte >= def_end and w.end_byte <= loop.end_byte
                                       and unconditional_within(w, body) for _u, w in writes):
                    continue  # replaced before the loop comes round
                # The back edge never runs a for's initializer again.
                killers = [w for _u, w in writes if w.start_byte >= loop.start_byte
                           and (init is None or w.start_byte >= init.end_byte)]
                gotos, since = self._jumps(), None
            if any(before_on_every_path(w, use, gotos, since) for w in killers):
                continue
            if pins and use.start_byte > after and any(before_on_every_path(
                    pin, use, tuple(j for j in gotos if not pin.start_byte <= j[0] <
                                    pin.end_byte), since) for pin in pins):
                continue  # only the constant the test let through reaches the use
            grades.append(self._use(use, depth, pointee))
        return riskiest(grades)


# C-library comparisons: a buffer handed to one has its contents only tested.
_COMPARE_FUNCS = frozenset({"memcmp", "__builtin_memcmp", "strcmp", "strncmp", "strcasecmp",
                            "strncasecmp"})


def _pointer_copy(use: Node, text: bytes) -> Node | None:
    """The local that ``use`` (a pointer), through casts and `+`/`-`, is assigned to."""
    node, p = use, use.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression",
                                       "binary_expression"):
        op = p.child_by_field_name("operator") if p.type == "binary_expression" else None
        if op is not None and op.type not in ("+", "-"):
            return None
        node, p = p, p.parent
    if p is not None and p.type == "assignment_expression" and \
            p.child_by_field_name("right") == node and _plain(p):
        target = p.child_by_field_name("left")
    elif p is not None and p.type == "init_declarator" and p.child_by_field_name("value") == node:
        target = p.child_by_field_name("declarator")
        while target is not None and target.type == "pointer_declarator":
            target = target.child_by_field_name("declarator")
    else:
        return None
    return target if target is not None and target.type == "identifier" else None


def _plain(assign: Node) -> bool:
    op = assign.child_by_field_name("operator")
    return op is not None and op.type == "="


def _compared_by_call(use: Node) -> bool:
    p = use.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
        p = p.parent
    return p is not None and p.type == "argument_list" and p.parent is not None and \
        callee_name(p.parent) in _COMPARE_FUNCS


def _value_used(update: Node) -> bool:
    """Is the value of ``update`` (`v++`) used, not only its effect (a statement of its own,
    a for's step `i++, p++`)?"""
    p = update.parent
    if p is None or p.type in ("expression_statement", "comma_expression"):
        return False
    return not (p.type == "for_statement" and p.child_by_field_name("update") == update)


def _within(loop: Node, field: str) -> Node | None:
    """A `for` loop's initializer or update ("" for other loops)."""
    return loop.child_by_field_name(field) if loop.type == "for_statement" else None
