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


@pytest.fixture()
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty deployment: its own database, key store and instance folder."""
    monkeypatch.setenv("ISSUER_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("ISSUER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'issuer.sqlite3'}")
    return tmp_path


def test_dev_init_creates_keys_an_organization_and_api_keys_once(runner: CliRunner, deployment: Path) -> None:
    first = runner.invoke(main, ["dev", "init"])
    assert first.exit_code == 0, first.output
    key_file = deployment / "keys" / "authority" / "root.key.pem"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert key_file.stat().st_mode & 0o077 == 0
    secrets_file = deployment / "instance" / "dev-api-keys.txt"
    assert secrets_file.stat().st_mode & 0o077 == 0
    assert [line.split()[0] for line in secrets_file.read_text().splitlines()] == [
        "authority_admin",
        "org_issuer",
        "auditor",
    ]
    again = runner.invoke(main, ["dev", "init"])
    assert "already present" in again.output


def test_trust_export_writes_a_bundle_the_verifier_reads(runner: CliRunner, deployment: Path) -> None:
    runner.invoke(main, ["dev", "init"])
    out = deployment / "bundle.json"
    assert runner.invoke(main, ["trust", "export", str(out)]).exit_code == 0
    from issuer.core import trust

    store = trust.load_bundle(out.read_bytes())
    assert [o.code for o in store.trust_list.organizations] == ["S000011000001"]


def test_api_keys_are_created_listed_and_revoked(runner: CliRunner, deployment: Path) -> None:
    runner.invoke(main, ["db", "upgrade"])
    created = runner.invoke(main, ["apikey", "create", "--role", "auditor", "--name", "审计组"])
    assert created.exit_code == 0, created.output
    secret = created.output.splitlines()[0]
    key_id = secret.split("_")[1]
    listing = runner.invoke(main, ["apikey", "list"]).output
    assert key_id in listing and secret.split("_", 2)[2] not in listing
    assert runner.invoke(main, ["apikey", "revoke", key_id]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["apikey", "list"]).output
    assert runner.invoke(main, ["apikey", "revoke", key_id]).exit_code == 1


def test_an_issuer_key_needs_an_existing_organization(runner: CliRunner, deployment: Path) -> None:
    runner.invoke(main, ["db", "upgrade"])
    result = runner.invoke(main, ["apikey", "create", "--role", "org_issuer", "--name", "x", "--org", "Y000123000009"])
    assert result.exit_code == 1
    assert "organization_not_found" in result.output


def test_a_wrong_passphrase_is_one_clear_line_and_writes_nothing(
    runner: CliRunner, deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(main, ["keys", "init-authority", "--name", "某省人社厅"]).exit_code == 0
    monkeypatch.setenv("ISSUER_KEY_PASSPHRASE", "wrong")
    result = runner.invoke(main, ["dev", "init"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "key_unreadable" in result.output
    monkeypatch.delenv("ISSUER_KEY_PASSPHRASE")
    from issuer.app import create_app
    from issuer.service.principal import OPERATOR
    from issuer.service.registry import list_organizations

    svc = create_app().extensions["issuer.services"]
    assert list_organizations(svc, OPERATOR) == []
