"""body_names: a body's names found from its bytes, checked against the tree."""

from cocoscope.surface.body_names import BodyNames
from cocoscope.surface.cparse import Node, captures, parse

SRC = b"""
struct s { int val; };
static int f(struct s *p, u32 *out, int n)
{
	u32 *copy = out, *later;
	u8 buf[4];
	static int seen[2];
	int val = p->val; /* val in a comment */
	char *msg = "val";
	later = out;
	val = MACRO_1000baseT_Full + 1000baseT_Full;
	buf[0] = val;
	return val + n;
}
"""


def _names() -> tuple[BodyNames, bytes]:
    parsed = parse(SRC)
    body = next(b for b in parsed.bodies if b.name == "f")
    return BodyNames(body.node, parsed.text, frozenset(body.params)), parsed.text


def test_uses_are_the_identifiers_only() -> None:
    names, text = _names()
    uses = names.get("val")
    # the declarator, `val = ...`, `buf[0] = val`, `return val`: not the field, the comment
    # or the string
    assert [text[n.start_byte:n.end_byte] for n in uses] == [b"val"] * 4
    assert all(n.type == "identifier" for n in uses)
    assert [n.start_byte for n in uses] == sorted(n.start_byte for n in uses)
    assert names.get("nowhere") == ()
    # an identifier the lexer starts inside a word, after a number token
    pasted = _identifiers(text, b"aseT_Full")
    assert pasted and [n.byte_range for n in names.get("aseT_Full")] == \
        [n.byte_range for n in pasted]


def _identifiers(text: bytes, word: bytes) -> list[Node]:
    parsed = parse(SRC)
    body = next(b for b in parsed.bodies if b.name == "f")
    return [n for n in captures("(identifier) @i", body.node).get("i", ())
            if text[n.start_byte:n.end_byte] == word]


def test_declared() -> None:
    names, _text = _names()
    assert names.declared("p") == (True, True, False, "")
    assert names.declared("copy") == (True, True, False, "out")  # initialised from `out`
    assert names.declared("later") == (True, True, False, "out")  # assigned from `out`
    assert names.declared("buf") == (True, True, True, "")
    assert names.declared("seen") == (True, True, False, "")  # static: not the body's own
    assert names.declared("val") == (True, False, False, "")
    assert names.declared("n") == (True, False, False, "")
    assert not names.declared("MACRO_1000baseT_Full").local


FIELDS = b"""
static void g(struct dev *d, struct s *p)
{
	d->regs.val = 1;
	x = d -> regs . val + (d->regs).val + p->val;
	y = (d->regs.val).val;  /* d->regs.val */
}
"""


def test_fields_by_their_text() -> None:
    parsed = parse(FIELDS)
    body = next(b for b in parsed.bodies if b.name == "g")
    names = BodyNames(body.node, parsed.text, frozenset(body.params))
    expected = [n for n in captures("(field_expression) @f", body.node).get("f", ())
                if "".join(parsed.text[n.start_byte:n.end_byte].decode().split()) ==
                "d->regs.val"]
    found = names.fields("d->regs.val")
    assert len(found) == 3  # white space aside; not `(d->regs).val` or the comment
    assert [n.byte_range for n in found] == [n.byte_range for n in expected]
    outer = names.fields("(d->regs.val).val")
    assert len(outer) == 1 and outer[0].start_byte < found[-1].start_byte
    assert names.fields("p->val") and not names.fields("p->nothing")
