"""Following a local variable to its uses inside one function body (path-aware), for the
grades of ``grade.classify``."""

from __future__ import annotations

import re
from collections.abc import Callable

from cocoscope.surface.cparse import Node, arg_position, callee_name, node_text
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
    enclosing_loops,
    jumps,
    leaves_switch_before,
    unconditional_within,
)

# (function, position, depth, field) -> how a function of the same file uses its parameter (or
# that parameter's field: `p->field`) and whether it returns it; None when unknown.
ParamGrader = Callable[[str, int, int, str], "tuple[Grade, bool] | None"]
# Does this call write its k-th argument (an out-argument of a source)?
OutArgTest = Callable[[Node, int], bool]



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
                 ) -> None:
        self._body = body
        self._sink_kind = sink_kind
        self._params = frozenset(params)
        self._macro = macro
        self._aliases: set[str] = set()  # local pointers initialised from a parameter
        self._gotos: Jumps | None = None
        self._text = text
        self._param_grader = param_grader
        self._writes_arg = writes_arg
        self._index: dict[str, list[Node]] | None = None
        self._locals: set[str] = set()
        self._pointers: set[str] = set()  # locals declared as pointers or arrays
        self._arrays: set[str] = set()  # arrays of this function's own (not static)
        self._active: set[tuple[str, int]] = set()
        self.note = ""  # why the last grade was `unknown` (the caller resets it per site)
        self._param_mode = False  # grading a parameter for a caller (grade_parameter)
        self._returns = False  # ... and a return statement was reached
        self._fields: dict[str, list[Node]] | None = None  # field expressions by their text

    def _build(self) -> dict[str, list[Node]]:
        if self._index is None:
            from cocoscope.surface.cparse import captures

            index: dict[str, list[Node]] = {}
            caps = captures("(identifier) @i (declaration) @d (parameter_declaration) @d",
                            self._body)
            for n in caps.get("i", ()):
                index.setdefault(self._text[n.start_byte:n.end_byte].decode("utf-8", "replace"),
                                 []).append(n)
            for d in caps.get("d", ()):
                stack = [d.child_by_field_name("declarator")] if d.type == "parameter_declaration" \
                    else list(d.children_by_field_name("declarator"))
                own = d.type == "declaration" and not any(
                    c.type == "storage_class_specifier"
                    and node_text(self._text, c) in ("static", "extern")
                    for c in d.children)
                for decl in stack:
                    pointer = array = False
                    while decl is not None and decl.type != "identifier":
                        pointer |= decl.type in ("pointer_declarator", "array_declarator")
                        array = decl.type == "array_declarator"
                        decl = decl.child_by_field_name("declarator")
                    if decl is not None:
                        name = self._text[decl.start_byte:decl.end_byte].decode()
                        self._locals.add(name)
                        if array and own:
                            self._arrays.add(name)
                        if pointer:
                            self._pointers.add(name)
                            self._alias(name, decl)
            for name in self._pointers - self._params:  # `log_addr = log;` later in the body
                for n in index.get(name, ()):
                    p = n.parent
                    value = p.child_by_field_name("right") if p is not None and \
                        p.type == "assignment_expression" and p.child_by_field_name("left") == n \
                        else None
                    if value is not None and node_text(self._text, strip(value)) in self._params:
                        self._aliases.add(name)
            self._index = index
        return self._index

    def _alias(self, name: str, decl: Node) -> None:
        """`u32 *regs_buff = p;` with p a parameter: regs_buff points at the caller's memory
        (so does a pointer local assigned from a parameter in the body: `log_addr = log;`)."""
        init = decl.parent
        while init is not None and init.type in ("pointer_declarator", "array_declarator",
                                                 "parenthesized_declarator"):
            init = init.parent
        value = init.child_by_field_name("value") if init is not None and \
            init.type == "init_declarator" else None
        if value is not None:
            value = strip(value)
            if value.type == "identifier" and node_text(self._text, value) in self._params:
                self._aliases.add(name)

    def caller_memory(self, name: str, through: bool) -> bool:
        """Does writing into ``name`` (through it, when ``through``) write memory the caller
        passed: the function's pointer parameter or a local copy of it, or a macro's
        parameter (the caller's lvalue itself)?"""
        self._build()
        if self._macro and name in self._params and name not in self._locals:
            return True
        return through and (name in self._params or name in self._aliases)

    def points_into_structure(self, name: str) -> bool:
        """Is local pointer ``name`` set (initialised or assigned) to memory inside a
        structure that is not a local (`cap = (u32 *)&save_state->cap.data[0]`,
        `u8 *r = in_data->input_report[i]`)? Writes through it are stored there."""
        index = self._build()
        if name in self._params or name not in self._pointers:
            return False
        for n in index.get(name, ()):
            p = n.parent
            while p is not None and p.type in ("pointer_declarator", "array_declarator"):
                p = p.parent
            value = p.child_by_field_name("value") if p is not None and \
                p.type == "init_declarator" else p.child_by_field_name("right") \
                if p is not None and p.type == "assignment_expression" and \
                p.child_by_field_name("left") == n else None
            if value is not None and _inside_structure(strip(value), self._text, self):
                return True
        return False

    def _jumps(self) -> Jumps:
        if self._gotos is None:
            self._gotos = jumps(self._body, self._text) if b"goto" in \
                self._text[self._body.start_byte:self._body.end_byte] else ()
        return self._gotos

    def is_local(self, name: str) -> bool:
        self._build()
        return name in self._locals

    def is_pointer(self, name: str) -> bool:
        self._build()
        return name in self._pointers

    def callee_parameter(self, call: Node, function: str, position: int,
                         depth: int) -> Grade | None:
        """A value handed straight to ``function`` of this file, by how it uses it."""
        if self._param_grader is None:
            return None
        return self._through(call, self._param_grader(function, position, depth, ""), depth)

    def _through(self, call: Node, found: tuple[Grade, bool] | None, depth: int,
                 ) -> Grade | None:
        """The grade of a value given to a same-file function that uses it as ``found`` says:
        what the function returns is the call's value, graded where the call is used; a value
        the function only tests, called in a loop's condition, bounds that loop
        (`do ... while (!hpet_cnt_ahead(cmp, hpet_readl(HPET_COUNTER)))`)."""
        if found is None:
            return None
        inner, returns = found
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
                        ) -> tuple[Grade, bool]:
        """How this function uses its parameter ``name`` (or what it reads from
        ``name->field``) for a caller, and whether it returns it: a return statement counts
        as no use here, the caller grades the call's value instead."""
        saved = self._param_mode, self._returns
        self._param_mode, self._returns = True, False
        try:
            if field:
                grade = riskiest([classify(n, self._text, self, depth + 1)
                                  for n in self._field_reads(name, field)])
            else:
                grade = self.grade_local(name, start, depth)
            return grade, self._returns
        finally:
            self._param_mode, self._returns = saved

    def returned(self) -> Grade:
        """A return statement reached: `returned`, or for a caller grading the call's value
        (grade_parameter) no use of its own."""
        if self._param_mode:
            self._returns = True
            return Grade.DISCARDED
        return Grade.RETURNED

    def _field_index(self) -> dict[str, list[Node]]:
        if self._fields is None:
            from cocoscope.surface.cparse import captures

            self._fields = {}
            for n in captures("(field_expression) @f", self._body).get("f", ()):
                self._fields.setdefault(_squeeze(node_text(self._text, n)), []).append(n)
        return self._fields

    def _field_reads(self, base: str, field: str) -> list[Node]:
        return [n for n in self._field_index().get(f"{base}->{field}", ())
                if _assigned(n) is None]

    def stored(self, target: Node, depth: int) -> Grade:
        """A value stored into the field ``target`` (`vi->size = v`, `s->a.b = v`): `stored`,
        and where this function reads that field back, by those uses: later reads of the
        same lvalue that no write replaced on every path, and reads of `base->field` by a
        function of this file that ``base`` is handed to (`kzalloc(hdr_size(vi))`). A field
        read in another function is not followed."""
        target = strip(target)
        if target.type == "identifier" and depth < MAX_DEPTH:
            return self._global_read_back(target, depth)
        array = self._own_array(target)
        if array is not None:
            # `value[i] = v`, `read(dev, i, &value[i / 4])`: an element of the function's own
            # array, followed through the array's uses like a local's
            if depth >= MAX_DEPTH:
                return self.limit("copies into locals")
            return self.grade_local(node_text(self._text, array), target, depth + 1,
                                    pointee=True)
        base = target
        while base.type == "field_expression":
            nxt = base.child_by_field_name("argument")
            if nxt is None:
                return Grade.STORED
            base = strip(nxt)
        if target.type != "field_expression" or base.type != "identifier" or depth >= MAX_DEPTH:
            return Grade.STORED
        after = target.parent.end_byte if target.parent is not None else target.end_byte
        same = [n for n in self._field_index().get(_squeeze(node_text(self._text, target)), ())
                if n.start_byte >= after]
        writes = [w for n in same if (w := _assigned(n)) is not None]
        # Calls ``base`` itself is handed to may rewrite the field: reads after the first
        # one are not followed.
        handed = [u.parent.parent for u in self._build().get(node_text(self._text, base), ())
                  if u.start_byte >= after and u.parent is not None
                  and u.parent.type == "argument_list" and u.parent.parent is not None]
        grades = [Grade.STORED]
        for n in same:
            # A call that ``base`` is handed to may change the field but need not replace it
            # (`comedi_dio_update_state(s, data)` only sets the bits its mask selects): like a
            # local's, the value ends only where a plain write replaces it on every path.
            if _assigned(n) is None and not any(
                    before_on_every_path(w, n, self._jumps()) for w in writes):
                grades.append(classify(n, self._text, self, depth + 1))
        op = target.child_by_field_name("operator")
        fld = target.child_by_field_name("field")
        if strip(target.child_by_field_name("argument") or target).id == base.id and \
                op is not None and op.type == "->" and fld is not None \
                and self._param_grader is not None:
            for use in self._build().get(node_text(self._text, base), ()):
                args = use.parent
                if use.start_byte < after or args is None or args.type != "argument_list" \
                        or args.parent is None:
                    continue
                call = args.parent
                if any(c.start_byte < call.start_byte for c in handed):
                    break  # another call was handed `base` first and may rewrite the field
                found = self._param_grader(callee_name(call), arg_position(args, use),
                                           depth + 1, node_text(self._text, fld))
                if found is not None and found[1]:  # only what comes back here counts
                    grades.append(classify(call, self._text, self, depth + 2))
        return riskiest(grades)

    def _own_array(self, target: Node) -> Node | None:
        """The array of ``target`` = `a[i]` (`a[i][j]`) when `a` is an array of this
        function's own (declared in its body, not static): its memory is like a local's."""
        self._build()
        while target.type == "subscript_expression":
            target = strip(target.child_by_field_name("argument") or target)
            if target.type == "identifier":
                return target if node_text(self._text, target) in self._arrays else None
        return None

    def _global_read_back(self, target: Node, depth: int) -> Grade:
        """A value stored in a global or static (`vm_context_id = f(); ...; return
        vm_context_id;`): `stored`, and where this function reads it back before a write
        replaces it on every path, by those uses."""
        after = target.parent.end_byte if target.parent is not None else target.end_byte
        same = [n for n in self._build().get(node_text(self._text, target), ())
                if n.start_byte >= after]
        writes = [w for n in same if (w := _assigned(n)) is not None]
        grades = [Grade.STORED]
        for n in same:
            if _assigned(n) is None and not any(
                    before_on_every_path(w, n, self._jumps()) for w in writes):
                grades.append(classify(n, self._text, self, depth + 1))
        return riskiest(grades)

    def callee_kind(self, name: str, position: int) -> str:
        """What a derived sink does with argument ``position`` (sinks.py), or ""."""
        return self._sink_kind(name, position) if self._sink_kind is not None else ""

    def limit(self, what: str) -> Grade:
        self.note = f"{what} deeper than {MAX_DEPTH} levels not followed"
        return Grade.UNKNOWN

    def _write(self, use: Node) -> Node | None:
        """The assignment or call that replaces the variable's value at ``use``, if any."""
        parent = use.parent
        if parent is None:
            return None
        if parent.type == "assignment_expression" and parent.child_by_field_name("left") == use:
            op = parent.child_by_field_name("operator")
            return parent if op is not None and op.type == "=" else None
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
        key = (name, after)
        if key in self._active:
            return Grade.DISCARDED  # a cycle through a loop: the other visit grades these uses
        self._active.add(key)
        try:
            return self._grade_local(name, defined_at, after, depth, pointee)
        finally:
            self._active.discard(key)

    def grade_pointee(self, name: str, defined_at: Node) -> Grade:
        """Uses of the data a source wrote into the memory local pointer ``name`` points at:
        `*p`, `p[i]` and `p->f` read it; `p` handed on passes it."""
        return self.grade_local(name, defined_at, 0, pointee=True)

    def _use(self, use: Node, depth: int, pointee: bool) -> Grade:
        p = use.parent
        if pointee and p is not None and (
                (p.type == "pointer_expression" and self._text[p.start_byte] == 0x2A)
                or (p.type in ("subscript_expression", "field_expression")
                    and p.child_by_field_name("argument") == use)):
            if p.type == "subscript_expression" and self._element_out_arg(p):
                return Grade.DISCARDED  # `cpuid(1, &r[0], &r[1], ...)`: written, not read
            return classify(p, self._text, self, depth + 1)
        if pointee and _compared_by_call(use):
            return Grade.COMPARED  # memcmp(TDX_IDENT, sig, sizeof(sig)): the contents tested
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

    def _grade_local(self, name: str, defined_at: Node | int, after: int, depth: int,
                     pointee: bool) -> Grade:
        uses = sorted(self._build().get(name, ()), key=lambda n: n.start_byte)
        writes = [(u, w) for u in uses if (w := self._write(u)) is not None]
        loops = [] if isinstance(defined_at, int) else enclosing_loops(defined_at)
        # A write after the definition that always runs before the loop turns ends the
        # value before the back edge.
        def_end = after
        if not isinstance(defined_at, int):
            own = self._write(defined_at)
            def_end = own.end_byte if own is not None else defined_at.end_byte
        grades = []
        for use in uses:
            if self._write(use) is not None or use.start_byte == after:
                continue  # a write, or the definition itself
            if use.start_byte > after:
                if not isinstance(defined_at, int) and leaves_switch_before(defined_at, use) \
                        and not any(lp.start_byte <= use.start_byte < lp.end_byte
                                    for lp in loops):
                    continue  # a later case of the switch, after a `break`: never reached
                killers = [w for _u, w in writes if w.start_byte >= def_end]
            else:
                loop = next((lp for lp in loops if lp.start_byte <= use.start_byte), None)
                if loop is None:
                    continue  # earlier code outside any loop around the definition
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
            if any(before_on_every_path(w, use, self._jumps()) for w in killers):
                continue
            grades.append(self._use(use, depth, pointee))
        return riskiest(grades)


def _inside_structure(value: Node, text: bytes, tracer: UseTracer) -> bool:
    """Does ``value`` address memory inside a structure that is not a local (`&s->a.b[0]`,
    `s->buf[i]`, `p->f`)?"""
    if value.type == "pointer_expression" and text[value.start_byte] == 0x26:
        value = strip(value.child_by_field_name("argument") or value)
    while value.type == "subscript_expression":
        value = strip(value.child_by_field_name("argument") or value)
    if value.type != "field_expression":
        return False
    while value.type in ("field_expression", "subscript_expression"):
        op = value.child_by_field_name("operator")
        if op is not None and op.type == "->":
            return True  # through a pointer: not a local's own memory
        value = strip(value.child_by_field_name("argument") or value)
    return value.type == "identifier" and not tracer.is_local(node_text(text, value))


# C-library comparisons: a buffer handed to one has its contents only tested.
_COMPARE_FUNCS = frozenset({"memcmp", "__builtin_memcmp", "strcmp", "strncmp", "strcasecmp",
                            "strncasecmp"})


def _compared_by_call(use: Node) -> bool:
    p = use.parent
    while p is not None and p.type in ("parenthesized_expression", "cast_expression"):
        p = p.parent
    return p is not None and p.type == "argument_list" and p.parent is not None and \
        callee_name(p.parent) in _COMPARE_FUNCS


_SPACE_RE = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    return _SPACE_RE.sub("", text)


def _assigned(node: Node) -> Node | None:
    """The plain assignment that ``node`` is the target of, if it is one."""
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        node, parent = parent, parent.parent
    if parent is not None and parent.type == "assignment_expression" and \
            parent.child_by_field_name("left") == node:
        op = parent.child_by_field_name("operator")
        if op is not None and op.type == "=":
            return parent
    return None


def _within(loop: Node, field: str) -> Node | None:
    """A `for` loop's initializer or update ("" for other loops)."""
    return loop.child_by_field_name(field) if loop.type == "for_statement" else None
