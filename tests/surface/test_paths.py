"""Which writes end a value on every path (paths.py), on small C snippets graded by pass 2:
a write in the definition's own branch, gotos before the definition, later switch cases.
The same rules on the Debian 6.12 lines that show them are in test_grade_realtree.py."""

from __future__ import annotations

from cocoscope.surface.cparse import parse
from cocoscope.surface.grade import Grade
from cocoscope.surface.sites import SourceRef, find_sites

SOURCES = {"readl": SourceRef("readl", True, frozenset(), False, False),
           "rd": SourceRef("rd", True, frozenset({2}), False, False)}


def grades(code: str) -> dict[int, Grade]:
    """Grade of each source call, by line."""
    return {s.line: s.grade for s in find_sites(parse(code.encode(), None), SOURCES)}


def test_a_write_in_the_definitions_own_branch_ends_it() -> None:
    # seco-cec.c:123: the status is overwritten in the same `else` block; the gotos to
    # `err` sit in the other branch, before the definition, so no path from it takes them.
    g = grades("""int f(int on)
{
	int status;
	if (on) {
		status = g();
		if (status)
			goto err;
	} else {
		status = readl(A);
		status = h();
	}
	return 0;
err:
	return status;
}
""")
    assert g[9] is Grade.DISCARDED


def test_the_write_must_run_on_every_path_from_the_definition() -> None:
    # The new rule does not reach past a goto or break between the definition and the
    # write, nor past gotos before the definition that a backward goto brings back.
    g = grades("""int f(int on)
{
	int status;
	if (on) {
		status = readl(A);
		if (status)
			goto err;
		status = h();
	}
	return 0;
err:
	return status;
}
int k(int n)
{
	int v = 0;
	while (n--) {
		v = readl(A);
		if (v & 1)
			break;
		v = 0;
	}
	return v;
}
int m(int on)
{
	int status;
again:
	if (on) {
		status = g();
		if (status)
			goto err;
	} else {
		status = readl(A);
		if (status == 7)
			goto again;
		status = h();
	}
	return 0;
err:
	return status;
}
int q(int on)
{
	int status;
	if (on) {
		status = readl(A);
		status = h();
	}
	return status;
}
""")
    assert g[5] is Grade.RETURNED  # goto err between the read and the write
    assert g[18] is Grade.RETURNED  # break between them
    assert g[34] is Grade.RETURNED  # goto again brings `goto err` back
    assert g[47] is Grade.DISCARDED  # replaced in its own branch: the new rule


def test_a_field_read_in_a_later_case_after_a_break_is_not_reached() -> None:
    # pciback_ops.c:343: `&op->value` filled in one case; the enable_msix case that reads
    # op->value as a loop bound is another pass of the switch.
    g = grades("""void f(struct op *op, int cmd, int *out)
{
	unsigned int nr = 0, i;
	switch (cmd) {
	case 1:
		rd(X, &op->value);
		break;
	case 2:
		nr = op->value;
		break;
	}
	for (i = 0; i < nr; i++)
		out[i] = 0;
}
""")
    assert g[6] is Grade.STORED


def test_a_test_that_lets_one_value_through_pins_it() -> None:
    # ipr.c:9556's shape: past `if (rc != K) { rc = -EIO; goto out; }` rc is K, a constant
    # the host only chose by the test; a body that leaves another way keeps the value.
    g = grades("""int f(void)
{
	int rc = readl(A);
	if (rc != PCIBIOS_SUCCESSFUL) {
		pr_err("failed\\n");
		rc = -EIO;
		goto out;
	}
	g();
out:
	return rc;
}
int k(void)
{
	int rc = readl(A);
	if (unlikely(rc != 0))
		return -ENODEV;
	return rc;
}
int m(int x)
{
	int rc = readl(A);
	if (rc) {
		if (x)
			goto out;
		rc = -EIO;
		goto out;
	}
	g();
out:
	return rc;
}
int q(void)
{
	int rc = readl(A);
	if (rc > 0)
		return -EIO;
	return rc;
}
""")
    assert g[3] is Grade.COMPARED
    assert g[15] is Grade.COMPARED
    assert g[22] is Grade.RETURNED  # `goto out` with rc unknown
    assert g[35] is Grade.RETURNED  # `rc > 0` lets many values through


def test_jumps_from_the_goto_keywords_and_label_names() -> None:
    from cocoscope.surface.paths import jumps

    code = b"""int f(int x)
{
	/* goto out; in a comment */
	const char *s = "goto again;";
	int goto_count = 0, out = 0;
again:
	if (x--)
		goto again;
	s->retry.out = out;
	goto out;
	goto nowhere;
out:
	return goto_count;
}
"""
    parsed = parse(code, None)
    body = parsed.bodies[0]
    found = jumps(body.node, parsed.text)
    again, out = code.index(b"again:"), code.index(b"out:\n")
    # not the comment's or the string's `goto`, not `goto_count`, not the field `out`; a
    # goto to no label of the body has no jump
    assert found == ((code.index(b"goto again;\n"), again), (code.index(b"goto out;\n"), out))
