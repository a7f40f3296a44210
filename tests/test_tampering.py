"""Tampering with the database shows: changes made with direct SQL on the service's own
database (not through the service) are answered from the signed data and reported by the
storage audit (``issuer audit --instance``), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from issuer.api.ratelimit import MemoryLimiter
from issuer.cli import main
from issuer.core import qrtext
from issuer.service import audit
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import issue_request as request
from tests.builders import resident_id
from tests.conftest import WELDER, Keys, auth, issuer_principal, point_the_cli_at
from tests.servers import serving

SAME_SITE = {"Origin": "http://localhost"}


@dataclass(frozen=True)
class Issued:
    number: str
    name: str
    document_number: str
    qr_text: str


@pytest.fixture()
def issued(app: Flask, keys: Keys, svc: UseCases, monkeypatch: pytest.MonkeyPatch) -> list[Issued]:
    """Four certificates, the second revoked, the fourth with a 工种; the lookup limiter held in one window; the
    command line pointed at the test database."""
    found = []
    for i, name in enumerate(("张三丰", "李四光", "王五一")):
        record, _ = svc.issuing.issue(issuer_principal(svc), request(holder_name=name, document_number=resident_id(i)))
        found.append(Issued(record.number, name, resident_id(i), qrtext.encode(record.credential, svc.ctx.qr_host)))
    svc.revoking.revoke(issuer_principal(svc), found[1].number, reason="fraud")
    welder = request(holder_name="钱七", document_number=resident_id(3), occupation=WELDER, work_type="电焊工", level=4)
    record, _ = svc.issuing.issue(issuer_principal(svc), welder)  # with a 工种: compared too
    found.append(Issued(record.number, "钱七", resident_id(3), qrtext.encode(record.credential, svc.ctx.qr_host)))
    limiter = app.extensions["issuer.lookup_limiter"]
    assert isinstance(limiter, MemoryLimiter)
    limiter.limit = 1000
    point_the_cli_at(app, monkeypatch)
    return found


def sql(app: Flask, statement: str, **params: Any) -> None:
    """Change the database as an intruder would: directly, not through the service."""
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def verify(client: FlaskClient, cert: Issued) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"qr_text": cert.qr_text})
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def scan(client: FlaskClient, cert: Issued) -> str:
    response = client.get("/V/" + cert.qr_text.split("/V/")[1])
    assert response.status_code == 200
    return response.get_data(as_text=True)


def lookup(client: FlaskClient, cert: Issued, name: str | None = None) -> str:
    form = {"number": cert.number, "name": name or cert.name, "document_number": cert.document_number}
    response = client.post("/lookup", data=form, headers=SAME_SITE)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def storage_audit() -> tuple[Result, dict[str, Any]]:
    result = CliRunner().invoke(main, ["audit", "--instance", "--json"])
    return result, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def findings(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(f["code"], f["number"]) for f in report["findings"]]


def assert_untouched(client: FlaskClient, cert: Issued) -> None:
    assert verify(client, cert)["status"] == "valid"
    assert "<h1>证书有效</h1>" in scan(client, cert)
    assert "证书有效" in lookup(client, cert)


def test_an_untampered_database_audits_clean(issued: list[Issued], client: FlaskClient) -> None:
    result, report = storage_audit()
    assert result.exit_code == 0, result.output
    assert report["findings"] == [] and report["audit_checkpoints"] > 0
    for cert in (issued[0], issued[2], issued[3]):
        assert_untouched(client, cert)
    assert verify(client, issued[1])["status"] == "revoked"


def test_an_un_revoked_certificate_stays_revoked_by_its_signed_status_list(
    app: Flask, issued: list[Issued], client: FlaskClient, svc: UseCases, clock: Any
) -> None:
    revoked = issued[1]
    sql(app, "UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE number = :n", n=revoked.number)
    answer = verify(client, revoked)
    assert (answer["status"], answer["recorded"]) == ("revoked", True)
    assert "证书已撤销" in scan(client, revoked)
    assert "证书已撤销" in lookup(client, revoked) and "证书有效" not in lookup(client, revoked)
    result, report = storage_audit()
    assert result.exit_code == 1
    assert findings(report) == [("record_damaged", revoked.number)]
    assert "revoked_at" in report["findings"][0]["detail"]
    # the next signed list keeps the bit: the row is not laundered into it
    clock.advance(hours=25)
    assert svc.publishing.refresh()
    assert verify(client, revoked)["status"] == "revoked"
    assert_untouched(client, issued[0])


def test_a_changed_holder_name_is_a_damaged_record(app: Flask, issued: list[Issued], client: FlaskClient) -> None:
    cert = issued[0]
    sql(app, "UPDATE certificates SET holder_name = '赵六' WHERE number = :n", n=cert.number)
    answer = verify(client, cert)
    assert (answer["status"], answer["reason"]) == ("not_valid", "record_damaged")
    assert answer["explanation"]["headline_zh"] == "证书无效：记录已损坏"
    page = scan(client, cert)
    assert "记录已损坏" in page and "<code>record_damaged</code>" in page
    for name in ("赵六", cert.name):  # the stored name and the signed one both find it, damaged
        page = lookup(client, cert, name)
        assert "记录已损坏" in page and "赵六" not in page.split("</form>")[-1]
    api = client.post(
        "/api/v1/lookup", json={"number": cert.number, "name": "赵六", "document_number": cert.document_number}
    )
    assert (api.get_json()["status"], api.get_json()["reason"]) == ("not_valid", "record_damaged")
    assert api.get_json()["holder_name"] == cert.name  # from the signed credential
    result, report = storage_audit()
    assert result.exit_code == 1 and findings(report) == [("record_damaged", cert.number)]
    assert "holder_name" in report["findings"][0]["detail"]
    assert_untouched(client, issued[2])


def test_a_revocation_only_in_the_row_is_a_damaged_record(
    app: Flask, issued: list[Issued], client: FlaskClient
) -> None:
    cert = issued[2]
    sql(
        app,
        "UPDATE certificates SET revoked_at = created_at, revocation_reason = 'fraud' WHERE number = :n",
        n=cert.number,
    )
    assert verify(client, cert)["reason"] == "record_damaged"
    assert findings(storage_audit()[1]) == [("record_damaged", cert.number)]
    assert_untouched(client, issued[0])


def _events(client: FlaskClient, keys: Keys) -> dict[str, Any]:
    response = client.get("/api/v1/audit", query_string={"limit": 1000}, headers=auth(keys.auditor))
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_deleting_the_newest_audit_events_shows(
    app: Flask, issued: list[Issued], client: FlaskClient, keys: Keys
) -> None:
    before = _events(client, keys)
    assert before["chain_intact"] is True and before["first_broken"] is None
    events = before["events"]
    sql(app, "DELETE FROM audit_events WHERE id >= :id", id=events[-2]["id"])
    after = _events(client, keys)
    assert after["chain_intact"] is False
    broken = after["first_broken"]
    assert (broken["code"], broken["position"], broken["event_id"]) == ("audit_events_missing", len(events) - 1, None)
    result, report = storage_audit()
    assert result.exit_code == 1 and findings(report) == [("audit_events_missing", None)]
    assert f"#{len(events) - 1}" in report["findings"][0]["detail"]
    assert_untouched(client, issued[0])


def test_events_deleted_then_appended_over_still_show(
    app: Flask, issued: list[Issued], client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    events = _events(client, keys)["events"]
    sql(app, "DELETE FROM audit_events WHERE id = :id", id=events[-1]["id"])
    svc.api_keys.create(OPERATOR, role="auditor", name="新的审计员")  # a new event takes the deleted one's place
    page = _events(client, keys)
    assert page["chain_intact"] is False
    broken = page["first_broken"]
    assert (broken["code"], broken["position"]) == ("audit_event_rewritten", len(events))
    result, report = storage_audit()
    assert result.exit_code == 1
    assert {"audit_event_rewritten", "audit_checkpoint_out_of_order"} <= {f["code"] for f in report["findings"]}


def test_a_chain_rewritten_with_the_documented_algorithm_shows(
    app: Flask, issued: list[Issued], client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    events = _events(client, keys)["events"]
    target = events[2]
    prev = target["prev_hash"]
    with svc.database.read_sessions() as session:  # the rows as stored, to hash them again
        rows = [
            (e.id, e.at, e.actor, e.action, e.target, dict(e.details))
            for e in session.query(m.AuditEvent).order_by(m.AuditEvent.id)
        ]
    for id_, at, actor, action, target_name, details in rows:
        if id_ < target["id"]:
            continue
        if id_ == target["id"]:
            details = {**details, "note": "篡改"}
        digest = audit.event_hash(svc.ctx.crypto_suite, prev, at, actor, action, target_name, details)
        sql(
            app,
            "UPDATE audit_events SET details = :d, prev_hash = :p, hash = :h WHERE id = :id",
            d=json.dumps(details, ensure_ascii=False),
            p=prev,
            h=digest,
            id=id_,
        )
        prev = digest
    page = _events(client, keys)
    assert page["chain_intact"] is False
    assert (page["first_broken"]["code"], page["first_broken"]["event_id"]) == ("audit_event_rewritten", target["id"])
    result, report = storage_audit()
    assert result.exit_code == 1 and findings(report) == [("audit_event_rewritten", None)]
    assert f"event {target['id']} " in report["findings"][0]["detail"]


def test_a_corrupted_log_entry_is_named_and_the_others_still_served(
    app: Flask, issued: list[Issued], client: FlaskClient, svc: UseCases, tmp_path: Path
) -> None:
    sql(app, 'UPDATE log_entries SET data = :d WHERE "index" = 3', d=b"\xff\x00garbage")
    response = client.get("/api/v1/log/entries", query_string={"start": 0, "end": 6})
    assert response.status_code == 200
    entries = response.get_json()["entries"]
    assert [e["index"] for e in entries] == list(range(6))
    assert entries[3]["type"] == "unreadable" and entries[3]["problem"]["message_zh"]
    assert base64.b64decode(entries[3]["entry"]) == b"\xff\x00garbage"
    assert all(e["type"] != "unreadable" and e["problem"] is None for i, e in enumerate(entries) if i != 3)
    result, report = storage_audit()
    assert result.exit_code == 1
    codes = [(f["code"], f["index"]) for f in report["findings"]]
    assert ("entry_unreadable", 3) in codes and ("log_root_mismatch", None) in codes
    # the offline auditor, reading the log over HTTP, names it too
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(svc.publishing.bundle()[1]), encoding="utf-8")
    with serving(app) as url:
        offline = CliRunner().invoke(main, ["audit", str(bundle), "--log", url])
    assert offline.exit_code == 1 and "#3 entry_unreadable" in offline.output
    assert_untouched(client, issued[0])
