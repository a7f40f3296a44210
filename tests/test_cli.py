"""The ``issuer`` command, run as a user runs it: exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import segno
from click.testing import CliRunner
from PIL import Image

from issuer.cli import main
from tests.vectors.test_vectors import HERE as VECTORS
from tests.vectors.test_vectors import MANIFEST

BUNDLE = str(VECTORS / "bundle.json")
AT = MANIFEST["at"]


def _vector(name: str) -> str:
    return next(v["qr_text"] for v in MANIFEST["vectors"] if v["name"] == name)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_number_explain_prints_the_parts(runner: CliRunner) -> None:
    result = runner.invoke(main, ["number", "explain", "Y000123000001263000001"])
    assert result.exit_code == 0
    assert "黑龙江省（23）" in result.output
    assert "三级/高级工" in result.output


def test_number_explain_json_has_the_documented_keys(runner: CliRunner) -> None:
    result = runner.invoke(main, ["number", "explain", " y000123000001263000001 ", "--json"])
    parts = json.loads(result.output)
    assert parts["kind"] == "skill-level-2019"
    assert (parts["org_code"], parts["province"], parts["year"], parts["level"], parts["serial"]) == (
        "Y000123000001",
        "23",
        2026,
        3,
        1,
    )


def test_number_explain_explains_legacy_numbers(runner: CliRunner) -> None:
    result = runner.invoke(main, ["number", "explain", "1923010012300001", "--json"])
    assert json.loads(result.output)["legacy"] is True


def test_an_invalid_number_exits_1_with_one_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["number", "explain", "Y000123000001263000000"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "第17位" in result.output and "position 17" in result.output


def test_verify_a_valid_text_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(main, ["verify", _vector("valid-typical"), "--trust", BUNDLE, "--at", AT])
    assert result.exit_code == 0, result.output
    assert "有效 VALID" in result.output
    assert "张三丰" in result.output and "三级/高级工" in result.output and "2026年11月29日" in result.output


def test_verify_a_tampered_text_exits_1_and_names_the_check(runner: CliRunner) -> None:
    result = runner.invoke(main, ["verify", _vector("wrong-signature"), "--trust", BUNDLE, "--at", AT, "--json"])
    assert result.exit_code == 1
    verdict = json.loads(result.output)
    assert verdict["status"] == "not_valid" and verdict["failed_check"] == "signature"


def test_verify_reads_a_png_and_a_jpeg(runner: CliRunner, tmp_path: Path) -> None:
    qr = segno.make(_vector("valid-typical"), error="m", boost_error=False)
    png = tmp_path / "code.png"
    qr.save(png, scale=6, border=4)
    jpeg = tmp_path / "code.jpg"
    Image.open(png).convert("RGB").save(jpeg, quality=60)
    for path in (png, jpeg):
        result = runner.invoke(main, ["verify", str(path), "--trust", BUNDLE, "--at", AT])
        assert result.exit_code == 0, result.output


def test_an_image_without_a_code_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    result = runner.invoke(main, ["verify", str(blank), "--trust", BUNDLE])
    assert result.exit_code == 2
    assert "no QR code" in result.output


def test_a_file_that_is_not_an_image_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not an image")
    assert runner.invoke(main, ["verify", str(fake), "--trust", BUNDLE]).exit_code == 2


def test_a_missing_or_broken_bundle_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    text = _vector("valid-typical")
    assert runner.invoke(main, ["verify", text, "--trust", str(tmp_path / "none.json")]).exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    result = runner.invoke(main, ["verify", text, "--trust", str(broken)])
    assert result.exit_code == 2
    assert "untrusted_bundle" in result.output


def test_a_bad_at_date_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["verify", _vector("valid-typical"), "--trust", BUNDLE, "--at", "yesterday"])
    assert result.exit_code == 2
    assert "--at" in result.output


def test_keys_init_dev_creates_encrypted_keys_and_a_bundle_that_verifies(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUER_KEYS_DIR", str(tmp_path))
    first = runner.invoke(main, ["keys", "init-dev"])
    assert first.exit_code == 0, first.output
    key_file = tmp_path / "authority" / "root.key.pem"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert key_file.stat().st_mode & 0o077 == 0
    again = runner.invoke(main, ["keys", "init-dev"])
    assert "already present" in again.output

    from issuer.core import trust

    store = trust.load_bundle((tmp_path / "trust-bundle.json").read_bytes())
    assert [o.code for o in store.trust_list.organizations] == ["S000011000001"]


def test_keys_add_organization_rebuilds_the_bundle(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUER_KEYS_DIR", str(tmp_path))
    runner.invoke(main, ["keys", "init-dev"])
    result = runner.invoke(
        main,
        [
            "keys",
            "add-organization",
            "Y000023000009",
            "某某公司",
            "--scope",
            "6-18-02-04:5-3:电焊工",
            "--from",
            "2026-01-01",
            "--until",
            "2028-12-31",
        ],
    )
    assert result.exit_code == 0, result.output
    from issuer.core import trust

    store = trust.load_bundle((tmp_path / "trust-bundle.json").read_bytes())
    org = store.organization("Y000023000009")
    assert org is not None and org.scope[0].work_types == ("电焊工",)
    assert store.trust_list.sequence == 2


def test_keys_add_organization_with_a_bad_code_exits_1(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUER_KEYS_DIR", str(tmp_path))
    runner.invoke(main, ["keys", "init-dev"])
    result = runner.invoke(
        main,
        [
            "keys",
            "add-organization",
            "X000023000009",
            "某某公司",
            "--scope",
            "6-18-02-04:5-3",
            "--from",
            "2026-01-01",
            "--until",
            "2028-12-31",
        ],
    )
    assert result.exit_code == 1
    assert "第1位" in result.output


def test_a_wrong_passphrase_is_one_clear_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUER_KEYS_DIR", str(tmp_path))
    runner.invoke(main, ["keys", "init-dev"])
    monkeypatch.setenv("ISSUER_KEY_PASSPHRASE", "wrong")
    result = runner.invoke(main, ["trust", "build"])
    assert result.exit_code == 1
    assert "key_unreadable" in result.output
