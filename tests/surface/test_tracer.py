"""Following a value to its uses (tracer.py): loops, same-file helpers, fields read back.
Small C snippets graded by pass 2 (sites.find_sites); the same rules on the Debian 6.12 lines
that show them are in test_follow_realtree.py."""

from __future__ import annotations

from cocoscope.surface.cparse import parse
from cocoscope.surface.grade import Grade
from cocoscope.surface.sites import SourceRef, find_sites

SOURCES = {name: SourceRef(name, True, frozenset(), False, False)
           for name in ("readl", "get_buf", "alloc_ring")}


def grades(code: str) -> dict[int, Grade]:
    """Grade of each source call, by line."""
    return {s.line: s.grade for s in find_sites(parse(code.encode(), None), SOURCES)}


def test_value_tested_by_a_same_file_helper_in_a_loop_condition_bounds_the_loop() -> None:
    g = grades("""static inline int ahead(unsigned c1, unsigned c2)
{
	return (int)(c2 - c1) < 0;
}
void f(void)
{
	unsigned cmp = 0;
	do {
		cmp += 5;
	} while (!ahead(cmp, readl(X)));
	if (ahead(cmp, readl(Y)))
		g();
}
""")
    assert g[10] is Grade.LOOP_BOUND
    assert g[11] is Grade.COMPARED  # the same helper outside a loop only compares


def test_value_a_same_file_helper_returns_is_graded_where_the_call_is_used() -> None:
    g = grades("""static unsigned low(unsigned v)
{
	return v & 0xff;
}
void *f(void)
{
	return kzalloc(low(readl(X)), GFP_KERNEL);
}
unsigned g(void)
{
	unsigned n = low(readl(X));
	if (n > 3)
		return 0;
	return 1;
}
""")
    assert g[7] is Grade.LENGTH
    assert g[11] is Grade.COMPARED  # not `returned`: low() returns it, g() only tests it


def test_value_set_by_a_for_step_reaches_the_condition() -> None:
    g = grades("""void f(void)
{
	int up, done = 0;
	for (up = readl(X); !done && up; up = readl(X))
		done = g();
}
""")
    assert g[4] is Grade.LOOP_BOUND
    assert list(g) == [4]  # both reads are on line 4: the step's one must not be dropped


def test_for_step_read_is_not_ended_by_the_initializer() -> None:
    g = grades("""void f(void)
{
	int up, done = 0;
	for (up = 0;
		!done && up;
		up = readl(X))
		done = g();
}
""")
    assert g[6] is Grade.LOOP_BOUND


def test_assignment_in_a_loop_condition_is_tested_there() -> None:
    g = grades("""void f(struct vq *vq)
{
	struct evt *evt;
	while ((evt = get_buf(vq)) != NULL)
		handle(evt->head);
}
""")
    assert g[4] is Grade.LOOP_BOUND  # riskier than the dereference (pointer)


def test_field_read_back_in_the_same_function_is_followed() -> None:
    g = grades("""static unsigned hdr_size(struct vi *vi)
{
	return sizeof(struct hdr) + vi->table_size * 2;
}
int probe(struct vi *vi, struct ctx *c)
{
	struct er *er;
	vi->table_size = readl(X);
	vi->hdr = kzalloc(hdr_size(vi), GFP_KERNEL);
	c->ring = alloc_ring(dev);
	er = c->ring;
	er->intmod = 0;
	return 0;
}
""")
    assert g[8] is Grade.LENGTH  # read back by a same-file helper whose result sizes kzalloc
    assert g[10] is Grade.POINTER  # read back into a local and dereferenced


def test_field_read_elsewhere_stays_stored_read_after_a_hand_off_is_followed() -> None:
    g = grades("""static void setup(struct dev *d)
{
	int i;
	for (i = 0; i < d->nr; i++)
		d->q[i] = 0;
}
int probe(struct dev *d)
{
	d->nr = readl(X);
	setup(d);
	d->max = readl(Y);
	other_file(d);
	d->arr[d->max] = 0;
	return 0;
}
""")
    assert g[9] is Grade.STORED  # setup() reads d->nr, but in another function
    # other_file(d) may change d->max but need not replace it (like a local, the value
    # ends only at a plain write on every path): the subscript reads the host's value
    assert g[11] is Grade.INDEX


def test_later_case_after_a_break_is_not_reached() -> None:
    g = grades("""void f(int cmd, unsigned *data)
{
	unsigned val;
	switch (cmd) {
	case 1:
		val = readl(X);
		val |= 4;
		writel(val, X);
		break;
	case 2:
		val = readl(Y);
		if (val & 1)
			data[1] = 0;
	case 3:
		data[0] = val;
		break;
	}
}
""")
    assert g[6] is Grade.WRITTEN_BACK  # case 2's test and case 3's store are never reached
    assert g[11] is Grade.RETURNED  # case 2 falls through into case 3: data is the caller's


def test_reads_through_a_local_pointer_to_host_data_are_its_uses() -> None:
    sources = {"bp": SourceRef("bp", True, frozenset(), False, True)}
    sites = find_sites(parse(b"""void f(void)
{
	struct params *p = &bp;
	unsigned i;
	for (i = 0; i < p->nr; i++)
		g(i);
}
""", None), sources)
    assert [s.grade for s in sites] == [Grade.LOOP_BOUND]


def test_bit_loop_over_a_host_bitmap_drives_its_variable() -> None:
    g = grades("""void f(void)
{
	unsigned long status;
	int i;
	status = readl(X);
	for_each_set_bit(i, &status, 32) {
		q[i] = 0;
	}
}
""")
    assert g[5] is Grade.INDEX


def test_same_file_helper_is_graded_the_same_wherever_it_is_first_reached() -> None:
    # lowest_bit's own copies (s, then s = s & ~(s - 1)) are followed to its return even when
    # a long chain of the caller's copies reached it first: the helper's answer is cached,
    # so it is computed from its own depth, not from the first caller's.
    code = """static unsigned long lowest_bit(unsigned long m)
{
	unsigned long s = m & 0xff0;
	if (!s)
		return 0;
	s = s & ~(s - 1);
	return s;
}
void deep(void)
{
	unsigned long a = readl(X);
	unsigned long b = a + 1;
	unsigned long c = b + 1;
	unsigned long d = c + 1;
	unsigned long e = d + 1;
	unsigned long h = lowest_bit(e);
	t->size = h;
}
void *shallow(void)
{
	return kzalloc(lowest_bit(readl(Y)), GFP_KERNEL);
}
"""
    g = grades(code)
    assert g[11] is Grade.STORED
    assert g[21] is Grade.LENGTH


def test_copy_chain_past_the_depth_limit_is_unknown_with_a_note() -> None:
    copies = "".join(f"\tunsigned v{i + 1} = v{i} + 1;\n" for i in range(12))
    sites = find_sites(parse(("void f(void)\n{\n\tunsigned v0 = readl(X);\n" + copies +
                              "\tt->f = v12;\n}\n").encode(), None), SOURCES)
    assert [s.grade for s in sites] == [Grade.UNKNOWN]
    assert "copies into locals deeper than 8 levels" in sites[0].note


def test_same_file_helper_at_the_depth_limit_still_gives_its_own_use() -> None:
    # At the end of a long chain of copies, slot()'s own use of its parameter (a subscript)
    # is still known (it is cached, independent of the depth): `index`, not a silent `passed`.
    copies = "".join(f"\tunsigned v{i + 1} = v{i} + 1;\n" for i in range(7))
    code = ("static int slot(unsigned i)\n{\n\treturn table[i];\n}\n"
            "static unsigned same(unsigned i)\n{\n\treturn i;\n}\n"
            "void f(void)\n{\n\tunsigned v0 = readl(X);\n" + copies + "\tslot(v7);\n}\n"
            "void g(void)\n{\n\tunsigned v0 = readl(Y);\n" + copies +
            "\tt->f = same(v7);\n}\n")
    sites = {s.line: s for s in find_sites(parse(code.encode(), None), SOURCES)}
    assert sites[11].grade is Grade.INDEX
    # what comes back from the call is where the limit cuts: `unknown`, with the reason
    assert sites[23].grade is Grade.UNKNOWN
    assert "deeper than 8 levels" in sites[23].note


def test_value_a_same_file_helper_writes_through_a_pointer_parameter_lands_in_the_argument(
        ) -> None:
    # encode() writes what it computes from t through its pointer parameters: the caller's
    # argument there receives it, graded by its target (aspm.c encode_l12_threshold(..., &scale,
    # &value)), not `returned` as a write into the helper's caller's memory.
    g = grades("""static void encode(unsigned t, unsigned *scale, unsigned *value)
{
	if (t > 1024) {
		*scale = 2;
		*value = t / 1024;
	} else {
		*scale = 0;
		*value = t;
	}
}
static void copy_out(unsigned *to, unsigned t)
{
	unsigned *p = to;
	*p = t + 1;
}
void tested(void)
{
	unsigned scale, value;
	encode(readl(X), &scale, &value);
	if (value > 3)
		g();
}
void kept(struct s *s)
{
	unsigned v;
	encode(readl(X), &v, &s->value);
}
int handed_back(unsigned *out)
{
	copy_out(out, readl(X));
	return 0;
}
void *sized(void)
{
	unsigned n;
	copy_out(&n, readl(X));
	return kzalloc(n, GFP_KERNEL);
}
""")
    assert g[19] is Grade.COMPARED  # value only tested after the call
    assert g[26] is Grade.STORED  # a write through a field's address is stored there
    assert g[30] is Grade.RETURNED  # the caller's own pointer: returned, through a local copy
    assert g[36] is Grade.LENGTH  # into a local that sizes an allocation


def test_helper_writing_through_another_helper_passes_the_write_on() -> None:
    # wrap() hands its pointer parameter to inner(), which writes the value through it:
    # wrap's caller's argument receives it (a local that indexes a table).
    g = grades("""static void inner(unsigned *o, unsigned v)
{
	*o = v;
}
static void wrap(unsigned v, unsigned *o)
{
	inner(o, v);
}
int f(void)
{
	unsigned i;
	wrap(readl(X), &i);
	return table[i];
}
""")
    assert g[12] is Grade.INDEX


def test_bitfield_encoders_pass_the_value_on() -> None:
    g = grades("""void f(void)
{
	unsigned v = FIELD_PREP(MASK, readl(X));
	if (v == 3)
		g();
}
""")
    assert g[3] is Grade.COMPARED


def test_designated_member_of_a_local_structure_initializer_is_followed() -> None:
    # `struct resource r = { .end = v }` is followed like `r.end = v`: through reads of r.end
    # and uses of r as a whole (tpm_crb.c crb_map_res), not reads of r's other members; a
    # union's members overlay each other, so there it stays `stored`.
    g = grades("""int f(void)
{
	struct resource r = { .start = 0, .end = readl(X), };
	if (r.end > 4)
		return -EINVAL;
	t->start = r.start;
	return 0;
}
int g(void)
{
	struct resource r = { .start = 0, .end = readl(X), };
	t->start = r.start;
	return lookup(&r);
}
int h(void)
{
	union reg u = { .full = readl(X) };
	return u.split.type > 2;
}
""")
    assert g[3] is Grade.COMPARED
    assert g[11] is Grade.PASSED
    assert g[17] is Grade.STORED


def test_backward_goto_after_the_definition_reaches_uses_before_it() -> None:
    # again: ... table[status] ...; status = readl(X); if (status) goto again;  (knc.c:262)
    g = grades("""int f(void)
{
	unsigned status = readl(Y);
again:
	handle(table[status]);
	status = readl(X);
	if (status)
		goto again;
	return 0;
}
int g(void)
{
	unsigned status = 0;
again:
	status = 0;
	handle(table[status]);
	status = readl(X);
	if (status)
		goto again;
	return 0;
}
""")
    assert g[6] is Grade.INDEX
    assert g[17] is Grade.COMPARED  # replaced after the label, before the use


def test_value_added_to_a_base_address_is_a_pointer() -> None:
    # `base + off` with base a pointer local or parameter, or a sum a function returning a
    # pointer returns or a local pointer is set to: the host value offsets an address
    # (labels README: "added to a base address"), whatever then happens to the address.
    g = grades("""void f(void __iomem *base)
{
	unsigned off = readl(X);
	use(base + off);
}
static void __iomem *addr_of(struct iommu *iommu, unsigned reg)
{
	unsigned off = readl(X);
	return iommu->reg + off;
}
void g(struct s *s)
{
	void __iomem *p;
	p = s->regs + readl(Y);
	t->p = p;
}
unsigned long h(struct s *s)
{
	return s->base + readl(Z);
}
""")
    assert g[3] is Grade.POINTER
    assert g[8] is Grade.POINTER
    assert g[14] is Grade.POINTER
    assert g[19] is Grade.RETURNED  # an integer sum returned by an integer function


def test_address_of_a_local_handed_to_a_same_file_function_reads_through_it() -> None:
    # `&caps` (or `&n`) handed to a function of this file: what it reads through its pointer
    # parameter is the value's use (pci.c pci_enable_acs -> __pci_config_acs prints
    # caps->ctrl); its writes through the pointer land back in the caller's local; a test of
    # the pointer itself reads nothing. Other files' functions stay `passed`.
    g = grades("""struct acs { unsigned short cap, ctrl; };
static void show(struct acs *c)
{
	if (!c)
		return;
	c->ctrl |= 1;
	pr_info("ctrl %x\\n", c->ctrl);
}
static void walk(unsigned *n)
{
	for (int i = 0; i < *n; i++)
		g(i);
}
void f(void)
{
	struct acs caps;
	caps.ctrl = readl(X);
	show(&caps);
}
void g(void)
{
	unsigned n = readl(Y);
	walk(&n);
}
void h(void)
{
	unsigned n = readl(Z);
	other_file(&n);
}
""")
    assert g[17] is Grade.PRINTED
    assert g[22] is Grade.LOOP_BOUND
    assert g[27] is Grade.PASSED
