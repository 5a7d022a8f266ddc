"""The one policy loader (attest/policy.py): a closed schema for SNP and TDX.

Each case was a silent weakening before (issue 8): null turned a check off, top-level keys next
to a platform table were ignored, the last of two JSON keys won, an empty nonce matched every
report. Each is now an InputError (exit 3) naming the file and the key once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoscope.attest.policy import load_policy
from cocoscope.attest.snp.policy import SnpPolicy
from cocoscope.attest.tdx.policy import TdxPolicy
from cocoscope.cli import main
from cocoscope.errors import InputError

M48 = "ab" * 48

SNP_BAD = [
    ('{"allow_debug": null}', "allow_debug", "null"),
    ('{"measurement": null}', "measurement", "null"),
    ('{"allow_debug": false, "allow_debug": true}', "allow_debug", "duplicate key"),
    ('{"nonce": ""}', "nonce", "empty hex"),
    ('{"measurement": "abcd"}', "measurement", "2 bytes, expected 48"),
    ('{"measurement": []}', "measurement", "empty list"),
    ('{"host_data": "' + "00" * 31 + '"}', "host_data", "expected 32"),
    ('{"vmpl": -1}', "vmpl", "negative"),
    ('{"vmpl": 4}', "vmpl", "above the maximum 3"),
    ('{"vmpl": true}', "vmpl", "got a boolean"),
    ('{"vmpl": 1.5}', "vmpl", "fractional"),
    ('{"min_guest_svn": "-3"}', "min_guest_svn", "negative"),
    ('{"min_tcb": {"snp": -1}}', "min_tcb", "negative"),
    ('{"min_tcb": {"snp": null}}', "min_tcb", "null"),
    ('{"min_launch_tcb": {"bogus": 1}}', "min_launch_tcb", "unknown component"),
    ('{"allow_debug": "false"}', "allow_debug", "expected true or false"),
    ('{"signing_keys": []}', "signing_keys", "empty list"),
    ('{"measurement": {"a": 1}}', "measurement", "got a table"),
    ("measurement = '" + M48 + "'\nvmpl = 0\n[snp]\nallow_debug = true\n", "measurement",
     "next to a [snp] table"),
    ("[snpp]\nvmpl = 0\n", "snpp", "misspelt platform table"),
    ("[tdx]\nallow_debug = false\n", "snp", "no [snp] table"),
    ("snp = 3\n[tdx]\nallow_debug = true\n", "snp", "expected a table"),
    ("permit_provisional = true\n", "permit_provisional", "unknown key"),
]

TDX_BAD = [
    ('{"debug": null}', "debug", "unknown key 'debug' (renamed 'allow_debug'"),
    ('{"allow_debug": null}', "allow_debug", "null"),
    ('{"accepted_tcb": null}', "accepted_tcb", "null"),
    ('{"accepted_tcb": []}', "accepted_tcb", "empty list"),
    ('{"accepted_tcb": ["Uptodate"]}', "accepted_tcb", "unknown status 'Uptodate'"),
    ('{"nonce": ""}', "nonce", "empty hex"),
    ('{"mrtd": ["' + M48 + '", ""]}', "mrtd", "empty hex"),
    ('{"rtmr1": "' + M48[:-2] + '"}', "rtmr1", "47 bytes, expected 48"),
    ('{"report_data": "00"}', "report_data", "expected 64"),
    ('{"min_tee_tcb_svn": "01"}', "min_tee_tcb_svn", "expected 16"),
    ('{"xfam": [-1]}', "xfam", "negative"),
    ('{"mrtd": "' + M48 + '", "mrtd": "' + "00" * 48 + '"}', "mrtd", "duplicate key"),
    ("mrtd = '" + M48 + "'\n[tdx]\naccepted_tcb = ['UpToDate']\n", "mrtd", "next to a [tdx]"),
]


def _load(cls: type, tmp_path: Path, text: str) -> None:
    p = tmp_path / ("policy.json" if text.startswith("{") else "policy.toml")
    p.write_text(text)
    load_policy(cls, str(p))


@pytest.mark.parametrize(("cls", "text", "key", "why"),
                         [(SnpPolicy, *c) for c in SNP_BAD] + [(TdxPolicy, *c) for c in TDX_BAD])
def test_bad_policy_is_input_error_naming_file_and_key_once(
        tmp_path: Path, cls: type, text: str, key: str, why: str) -> None:
    with pytest.raises(InputError) as exc:
        _load(cls, tmp_path, text)
    assert exc.value.path is not None and exc.value.path.startswith(str(tmp_path))
    assert why in exc.value.message
    assert exc.value.message.count(repr(key)) + exc.value.message.count(f"[{key}]") == 1, \
        exc.value.message


def test_shared_file_with_both_tables(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text(f"[snp]\nmeasurement = '{M48}'\n[tdx]\nmrtd = ['{M48}']\nallow_debug = true\n")
    assert load_policy(SnpPolicy, str(p)).measurement == frozenset({bytes.fromhex(M48)})
    tdx = load_policy(TdxPolicy, str(p))
    assert tdx.mrtd == (bytes.fromhex(M48),) and tdx.allow_debug


def test_flags_are_held_to_the_same_limits() -> None:
    with pytest.raises(InputError, match="key 'nonce': empty hex") as exc:
        load_policy(SnpPolicy, None, {"nonce": b""})
    assert exc.value.path == "command line"
    with pytest.raises(InputError, match="key 'measurement': 2 bytes"):
        load_policy(SnpPolicy, None, {"measurement": frozenset({b"ab"})})


@pytest.mark.parametrize(("platform", "text"), [
    ("snp", '{"allow_debug": null}'), ("tdx", '{"debug": null}'),
    ("snp", '{"nonce": ""}'), ("tdx", '{"accepted_tcb": null}'),
])
def test_cli_exit_3_names_the_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          platform: str, text: str) -> None:
    p = tmp_path / "policy.json"
    p.write_text(text)
    code = main(["attest", platform, "verify", str(tmp_path / "no-evidence"), "--policy", str(p)])
    err = capsys.readouterr().err
    assert code == 3 and str(p) in err, err


def test_cli_empty_nonce_flag_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    code = main(["attest", "snp", "verify", str(tmp_path / "r"), "--nonce", ""])
    assert code == 3 and "key 'nonce': empty hex" in capsys.readouterr().err
