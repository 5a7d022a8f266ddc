import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoscope.errors import InputError
from cocoscope.evidence.cmdline import load_cmdline, parse_bool, parse_cmdline


def test_kernel_semantics() -> None:
    c = parse_cmdline('console=tty0 console=ttyS0,115200 foo="a b" "bar=c d" '
                      'no-kvmclock virtio_mmio.device=4K@0xd0000000:5 mce=off mce=on -- init=x --y')
    assert [p.value for p in c.all("console")] == ["tty0", "ttyS0,115200"]
    assert c.value("foo") == "a b" and c.value("bar") == "c d"
    assert c.has("no_kvmclock") and c.last("no-kvmclock").value is None  # type: ignore[union-attr]
    assert c.last("virtio-mmio.device").module == "virtio_mmio"  # type: ignore[union-attr]
    assert c.value("mce") == "on"  # last wins
    assert c.init_args == ("init=x", "--y")
    assert not c.has("init")
    assert c.last("foo").column == 35  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("y", True), ("Yes", True), ("1", True), ("on", True), ("ON", True),
     ("n", False), ("0", False), ("off", False), ("oF", False), ("o", None), ("", None),
     ("2", None), ("true", None)],
)
def test_kstrtobool(value: str | None, expected: bool | None) -> None:
    assert parse_bool(value) is expected


def test_unbalanced_quote_is_bad_input() -> None:
    with pytest.raises(InputError, match="unbalanced"):
        parse_cmdline('root=/dev/vda foo="bar', "cmdline.txt")


def test_file_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="not found"):
        load_cmdline(str(tmp_path / "missing"))
    p = tmp_path / "bin"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError):
        load_cmdline(str(p))


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_fuzz(text: str) -> None:
    try:
        c = parse_cmdline(text)
    except InputError:
        return
    for p in c.params:
        assert p.name and " " not in p.key
