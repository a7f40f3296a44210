"""The ``issuer`` command, run as a user runs it: exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import segno
from click.testing import CliRunner, Result
from PIL import Image

from issuer.cli import main
from issuer.core import suites, trust
from tests import factories as f
from tests.qrfiles import certificate, images_pdf, png_header, qr_png

VECTORS = Path(__file__).parent / "vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))

BUNDLE = str(VECTORS / "bundle.json")
AT = MANIFEST["at"]


def _vector(name: str) -> str:
    return next(v["qr_text"] for v in MANIFEST["vectors"] if v["name"] == name)


def shown(result: Result) -> str:
    """What the command printed but the warnings about parts of the bundle set aside (the
    vector bundle holds one broken status list on purpose)."""
    return "".join(line for line in result.output.splitlines(keepends=True) if not line.startswith("warning: "))


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
    assert result.exit_code == 0, shown(result)
    assert "有效 VALID" in shown(result)
    assert "张三丰" in shown(result) and "三级/高级工" in shown(result) and "2026年11月29日" in shown(result)
    assert "签名算法: Ed25519" in shown(result)


def test_verify_names_the_sm2_suite_of_a_credential_of_the_sm2_profile(runner: CliRunner, tmp_path: Path) -> None:
    world = f.world(suites.SM2_SM3)
    signed = f.trust_list([world.organization]).sign(world.authority.key, world.authority.root)
    bundle = trust.make_bundle(world.authority.root_der, signed, [f.status_list(world.signer)])
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    result = runner.invoke(main, ["verify", world.qr(), "--trust", str(tmp_path / "bundle.json"), "--at", AT])
    assert result.exit_code == 0, shown(result)
    assert "有效 VALID" in shown(result) and "签名算法: SM2/SM3（国密）" in shown(result)


def test_verify_a_tampered_text_exits_1_and_names_the_check(runner: CliRunner) -> None:
    result = runner.invoke(main, ["verify", _vector("wrong-signature"), "--trust", BUNDLE, "--at", AT, "--json"])
    assert result.exit_code == 1
    assert shown(result).count("\n") == 1  # the verdict object, on one line
    verdict = json.loads(shown(result))
    assert verdict["status"] == "not_valid" and verdict["failed_check"] == "signature"


def test_verify_reads_a_png_and_a_jpeg(runner: CliRunner, tmp_path: Path) -> None:
    qr = segno.make(_vector("valid-typical"), error="m", boost_error=False)
    png = tmp_path / "code.png"
    qr.save(png, scale=6, border=4)
    jpeg = tmp_path / "code.jpg"
    Image.open(png).convert("RGB").save(jpeg, quality=60)
    for path in (png, jpeg):
        result = runner.invoke(main, ["verify", str(path), "--trust", BUNDLE, "--at", AT])
        assert result.exit_code == 0, shown(result)


def test_an_image_without_a_code_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    result = runner.invoke(main, ["verify", str(blank), "--trust", BUNDLE])
    assert result.exit_code == 2
    assert "no QR code" in shown(result)


def test_a_file_that_is_not_an_image_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not an image")
    assert runner.invoke(main, ["verify", str(fake), "--trust", BUNDLE]).exit_code == 2


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The renderer's certificate carrying the ``valid-typical`` vector, as PNG and PDF."""
    folder = tmp_path_factory.mktemp("certificates")
    for fmt in ("png", "pdf"):
        (folder / f"cert.{fmt}").write_bytes(certificate(_vector("valid-typical"), fmt))
    return folder


def _no_traceback(result: Result) -> None:
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in shown(result)


@pytest.mark.parametrize("name", ["cert.pdf", "cert.png"])
def test_verify_reads_a_certificate_the_service_draws(runner: CliRunner, certificates: Path, name: str) -> None:
    result = runner.invoke(main, ["verify", str(certificates / name), "--trust", BUNDLE, "--at", AT])
    assert result.exit_code == 0, shown(result)
    assert "结果 / Result: 有效 VALID" in shown(result) and "张三丰" in shown(result)


def test_verify_a_folder_gives_one_line_per_file_and_a_count(runner: CliRunner, tmp_path: Path) -> None:
    qr_png(tmp_path / "valid.png", _vector("valid-typical"))
    qr_png(tmp_path / "tampered.png", _vector("wrong-signature"))
    (tmp_path / "notes.txt").write_text("第一批证书", encoding="utf-8")
    images_pdf(tmp_path / "empty.pdf", [Image.new("L", (595, 842), "white")])
    qr_png(tmp_path / ".hidden.png", _vector("revoked"))
    result = runner.invoke(main, ["verify", str(tmp_path), "--trust", BUNDLE, "--at", AT])
    assert result.exit_code == 1, shown(result)
    lines = shown(result).splitlines()
    assert lines[:4] == [
        f"{tmp_path / 'empty.pdf'}: 无法读取 UNREADABLE · 未找到二维码 / no QR code found",
        f"{tmp_path / 'notes.txt'}: 无法读取 UNREADABLE · 不是图片或PDF文件 / not an image or a PDF",
        f"{tmp_path / 'tampered.png'}: 无效 NOT VALID · 证书无效：二维码内容未通过验证 / "
        "Not valid: the code failed verification · signature: 签名不匹配 / the signature does not match",
        f"{tmp_path / 'valid.png'}: 有效 VALID · Y000123000001263000001 张三丰",
    ]
    assert lines[4] == (
        "合计 / Total 4: 有效 VALID 1, 无效 NOT VALID 1, 已撤销 REVOKED 0, "
        "无法判断 CANNOT TELL 0, 无法读取 UNREADABLE 2"
    )


def test_verify_reads_qr_texts_from_standard_input(runner: CliRunner) -> None:
    lines = [_vector("valid-typical"), "", _vector("revoked"), "NOT-A-CODE"]
    result = runner.invoke(main, ["verify", "-", "--trust", BUNDLE, "--at", AT], input="\n".join(lines) + "\n")
    assert result.exit_code == 1, shown(result)
    out = shown(result).splitlines()
    assert out[0] == "stdin:1: 有效 VALID · Y000123000001263000001 张三丰"
    assert out[1].startswith("stdin:3: 已撤销 REVOKED · ") and "status: 已撤销" in out[1]
    assert out[2].startswith("stdin:4: 无效 NOT VALID · 证书无效：二维码内容未通过验证 / ")
    assert " · decodable: " in out[2]
    assert out[3].startswith("合计 / Total 3: 有效 VALID 1, 无效 NOT VALID 1, 已撤销 REVOKED 1,")


def test_a_missing_file_cannot_be_read_while_other_text_is_still_a_qr_text(runner: CliRunner) -> None:
    for missing in ("nosuch.pdf", "scans/cert"):
        result = runner.invoke(main, ["verify", missing, "--trust", BUNDLE])
        assert result.exit_code == 2, shown(result)
        assert shown(result) == f"{missing}: 无法读取 UNREADABLE · 文件不存在 / no such file\n"
    not_a_path = runner.invoke(main, ["verify", "NOSUCH", "--trust", BUNDLE, "--at", AT])
    assert not_a_path.exit_code == 1 and "无效 NOT VALID" in shown(not_a_path)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("corrupt.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\n" + bytes(range(256))),
        ("truncated.png", None),
        ("bomb.png", png_header(30_000, 30_000)),
        ("large.png", png_header(10_000, 10_000)),  # over Pillow's limit, under twice it: a warning there
    ],
)
def test_damaged_or_oversized_files_exit_2_without_a_traceback(
    runner: CliRunner, tmp_path: Path, name: str, data: bytes | None
) -> None:
    path = tmp_path / name
    if data is None:
        whole = qr_png(tmp_path / "whole.png", _vector("valid-typical")).read_bytes()
        data = whole[: len(whole) // 2]
    path.write_bytes(data)
    result = runner.invoke(main, ["verify", str(path), "--trust", BUNDLE, "--at", AT])
    assert result.exit_code == 2, shown(result)
    _no_traceback(result)
    assert shown(result).startswith(f"{path}: 无法读取 UNREADABLE · ") and shown(result).count("\n") == 1


def test_verify_json_with_several_inputs_is_one_object_per_line(runner: CliRunner, tmp_path: Path) -> None:
    png = qr_png(tmp_path / "valid.png", _vector("valid-typical"))
    args = [_vector("revoked"), str(png), str(tmp_path / "gone.png"), _vector("status-list-too-old")]
    result = runner.invoke(main, ["verify", *args, "--trust", BUNDLE, "--at", AT, "--json"])
    assert result.exit_code == 1, shown(result)
    rows = [json.loads(line) for line in shown(result).splitlines()]
    assert [(r["input"], r["status"]) for r in rows] == [
        ("arg:1", "revoked"),
        (str(png), "valid"),
        (str(tmp_path / "gone.png"), "unreadable"),
        ("arg:4", "valid"),  # at the manifest's default time its status list is still current
    ]
    assert rows[0]["verdict"]["failed_check"] == "status"
    assert rows[1]["verdict"]["credential"]["holder_name"] == "张三丰"
    assert rows[2]["error"] == {"code": "no_such_file", "message": "no such file", "message_zh": "文件不存在"}


def test_several_inputs_exit_2_when_none_is_invalid_but_one_cannot_be_told(runner: CliRunner, tmp_path: Path) -> None:
    valid = _vector("valid-typical")
    assert runner.invoke(main, ["verify", valid, valid, "--trust", BUNDLE, "--at", AT]).exit_code == 0
    stale_at = next(v["at"] for v in MANIFEST["vectors"] if v["name"] == "status-list-too-old")
    unknown = runner.invoke(
        main, ["verify", valid, _vector("status-list-too-old"), "--trust", BUNDLE, "--at", stale_at]
    )
    assert unknown.exit_code == 2, shown(unknown)
    assert "arg:2: 无法判断 CANNOT TELL · " in shown(unknown)
    unreadable = runner.invoke(main, ["verify", valid, str(tmp_path), "--trust", BUNDLE, "--at", AT])
    assert unreadable.exit_code == 2
    assert f"{tmp_path}: 无法读取 UNREADABLE · 文件夹中没有文件 / no files in the folder" in shown(unreadable)


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


def test_publish_signs_again_only_the_status_lists_a_day_old(
    runner: CliRunner, deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(main, ["dev", "init"]).exit_code == 0
    fresh = runner.invoke(main, ["publish"])
    assert fresh.exit_code == 0 and fresh.output.startswith("status-lists: ")
    assert "所有状态列表均在一天内签发" in fresh.output
    monkeypatch.setenv("ISSUER_CLOCK", "2099-01-01T00:00:00+08:00")  # the lists are long past a day old
    old = runner.invoke(main, ["publish"])
    assert old.exit_code == 0 and "S000011000001" in old.output and "已重新签发1个状态列表" in old.output
    assert old.output.count("\n") == 1  # `issuer scheduler --once --only status-lists`: that job alone


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

    use = create_app().extensions["issuer.use_cases"]
    try:
        assert use.registry.list(OPERATOR) == []
    finally:
        use.close()
