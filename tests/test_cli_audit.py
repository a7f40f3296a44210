"""``issuer audit``: the service's log, read from an export or over HTTP, checked against the
downloaded trust bundle; a tampered log is a finding, an unreadable one exit 2."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from issuer.cli import main
from issuer.core import transparency
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.builders import issue_request as request
from tests.builders import resident_id
from tests.conftest import ORG_CODE, Keys, issuer_principal, point_the_cli_at
from tests.servers import serving


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture()
def world(app: Flask, keys: Keys, svc: UseCases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    numbers = []
    for i in range(5):
        body, _ = svc.issuing.issue(
            issuer_principal(svc), request(holder_name=f"学员{i}", document_number=resident_id(i))
        )
        numbers.append(body.number)
    svc.revoking.revoke(issuer_principal(svc), numbers[1], reason="fraud")
    svc.issuing.issue(  # a re-issue: one more certificate, one more revocation (reissued)
        issuer_principal(svc), request(holder_name="学员二", document_number=resident_id(2), replaces=numbers[2])
    )
    svc.registry.rotate_key(OPERATOR, ORG_CODE)
    _, bundle = svc.publishing.bundle()
    (tmp_path / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    point_the_cli_at(app, monkeypatch)
    exported = _run("log", "export", str(tmp_path / "log.jsonl"))
    assert exported.exit_code == 0, exported.output
    return {"bundle": tmp_path / "bundle.json", "log": tmp_path / "log.jsonl", "dir": tmp_path}


def _type(line: str) -> str:
    return transparency.decode_entry(base64.b64decode(json.loads(line)["entry"])).type


def test_a_sound_log_audits_clean_from_an_export_and_over_http(world: dict[str, Path], app: Flask) -> None:
    result = _run("audit", str(world["bundle"]), "--log", str(world["log"]))
    assert result.exit_code == 0, result.output
    assert "证书 6, 撤销 2, 密钥事件 4" in result.output and "无问题 / no finding" in result.output
    with serving(app) as url:
        over_http = _run("audit", str(world["bundle"]), "--log", url, "--json")
    assert over_http.exit_code == 0, over_http.output
    report = json.loads(over_http.stdout)
    assert (report["issued"], report["revoked"], report["findings"]) == (6, 2, [])


def test_a_tampered_entry_is_reported_and_exits_1(world: dict[str, Path]) -> None:
    lines = world["log"].read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines[1:], 1) if _type(line) == "issue")  # the first issuance
    row = json.loads(lines[at])
    entry = transparency.decode_entry(base64.b64decode(row["entry"]))
    forged = bytearray(entry.signed)
    forged[-1] ^= 1
    row["entry"] = base64.b64encode(transparency.Entry("issue", bytes(forged), entry.logged_at).encode()).decode()
    lines[at] = json.dumps(row)
    world["log"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run("audit", str(world["bundle"]), "--log", str(world["log"]))
    assert result.exit_code == 1
    assert f"#{row['index']} bad_signature" in result.output and "log_root_mismatch" in result.output
    one, two = (_run("audit", str(world["bundle"]), "--log", str(world["log"]), "--json", "--workers", n) for n in "12")
    assert two.exit_code == one.exit_code == 1
    assert json.loads(two.stdout) == json.loads(one.stdout)


def test_a_saved_head_is_the_next_audits_since(world: dict[str, Path]) -> None:
    head = world["dir"] / "head.json"
    first = _run("audit", str(world["bundle"]), "--log", str(world["log"]), "--save-head", str(head))
    exported = json.loads(world["log"].read_text(encoding="utf-8").splitlines()[0])["tree_size"]
    assert first.exit_code == 0 and json.loads(head.read_text())["tree_size"] == exported
    again = _run("audit", str(world["bundle"]), "--log", str(world["log"]), "--since", str(head))
    assert again.exit_code == 0, again.output


def test_a_log_that_cannot_be_read_exits_2_with_one_line(world: dict[str, Path]) -> None:
    for where in (str(world["dir"] / "missing.jsonl"), str(world["bundle"]), "http://127.0.0.1:9"):
        result = _run("audit", str(world["bundle"]), "--log", where)
        assert result.exit_code == 2, (where, result.output)
        assert result.output.strip().count("\n") == 0 and "log_unreadable" in result.output


def test_the_two_forms_of_audit_are_not_mixed(tmp_path: Path) -> None:
    for args in ([], [str(tmp_path / "bundle.json")], ["--instance", str(tmp_path / "bundle.json")]):
        result = _run("audit", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.strip().count("\n") == 0 and "usage" in result.output


def test_an_instance_with_nothing_logged_cannot_be_audited(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    point_the_cli_at(app, monkeypatch)
    result = _run("audit", "--instance")
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0 and "log_empty" in result.output
