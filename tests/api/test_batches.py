"""Batch issuance over HTTP: a roster file in, a report and numbers out."""

from __future__ import annotations

import hashlib
import io
import zipfile

from flask.testing import FlaskClient
from openpyxl import load_workbook

from issuer.service.jobs import InProcessQueue
from issuer.service.wiring import UseCases, build
from tests.builders import id17s, simple_roster
from tests.conftest import ORG_CODE, Keys, auth


def _post(client: FlaskClient, key: str, data: bytes, **form: str) -> object:
    return client.post(
        "/api/v1/batches",
        data={"roster": (io.BytesIO(data), "名单.csv"), **form},
        headers=auth(key),
        content_type="multipart/form-data",
    )


def test_a_roster_is_issued_over_http(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(5))])
    response = _post(client, keys.issuer, data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["report"]["valid_rows"] == 5
    assert [r["number"] for r in body["issued"]] == [f"{ORG_CODE}263{n:06d}" for n in range(1, 6)]


def test_a_dry_run_issues_nothing(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)])
    dry = _post(client, keys.issuer, data, dry_run="true")
    assert dry.status_code == 200 and dry.get_json()["issued"] == []
    real = _post(client, keys.issuer, data)
    assert real.get_json()["issued"][0]["number"].endswith("000001")


def test_a_roster_with_errors_is_refused_with_every_problem(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)]) + "\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75".encode(
        "gbk"
    )
    response = _post(client, keys.issuer, data)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "roster_has_errors"
    assert [(p["row"], p["code"]) for p in body["errors"]["problems"]] == [(3, "invalid_id_checksum")]
    partial = _post(client, keys.issuer, data, valid_rows_only="true")
    assert partial.status_code == 201 and [r["row"] for r in partial.get_json()["issued"]] == [2]


def test_a_retried_upload_issues_nothing_twice(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(2)[0], 3), ("乙", id17s(2)[1], 3)])
    headers = {**auth(keys.issuer), "Idempotency-Key": "session-2026-11-29"}
    form = {"roster": (io.BytesIO(data), "名单.csv")}
    first = client.post("/api/v1/batches", data=form, headers=headers, content_type="multipart/form-data")
    form = {"roster": (io.BytesIO(data), "名单.csv")}
    again = client.post("/api/v1/batches", data=form, headers=headers, content_type="multipart/form-data")
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotency-Replayed"] == "true"


def test_an_unreadable_roster_is_a_clear_422(client: FlaskClient, keys: Keys) -> None:
    response = _post(client, keys.issuer, b"\x00\x01 not a roster")
    assert response.status_code == 422
    assert response.get_json()["code"].startswith("roster_")


def test_the_template_downloads_as_xlsx(client: FlaskClient, keys: Keys) -> None:
    response = client.get("/api/v1/batches/template", headers=auth(keys.issuer))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None and sheet["A1"].value == "姓名"


def test_a_batch_is_followed_to_its_archive(client: FlaskClient, keys: Keys, svc: UseCases) -> None:
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()  # nothing is drawn until the service "restarts" below
    data = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))])
    response = _post(client, keys.issuer, data, formats="pdf", dpi="150")
    assert response.status_code == 201
    batch_id = response.get_json()["batch"]["id"]
    assert response.headers["Location"] == f"/api/v1/batches/{batch_id}"
    pending = client.get(f"/api/v1/batches/{batch_id}", headers=auth(keys.issuer)).get_json()
    assert (pending["status"], pending["status_zh"], pending["rendered"], pending["issued"]) == (
        "rendering",
        "正在生成证书图片",
        0,
        3,
    )
    assert pending["archive"] is None and pending["formats"] == ["pdf"] and pending["dpi"] == 150
    early = client.get(f"/api/v1/batches/{batch_id}/archive", headers=auth(keys.issuer))
    assert early.status_code == 409 and early.get_json()["code"] == "batch_not_ready"
    assert "已生成0/3张" in early.get_json()["message_zh"]

    app = client.application
    restarted = build(app.config, app.instance_path, clock=svc.ctx.clock)
    assert restarted.batches.resume() == [batch_id]
    assert isinstance(restarted.queue, InProcessQueue)
    restarted.queue.join()
    done = client.get(f"/api/v1/batches/{batch_id}", headers=auth(keys.issuer)).get_json()
    assert (done["status"], done["rendered"], done["progress"]) == ("done", 3, 1.0)
    listed = client.get("/api/v1/batches", headers=auth(keys.issuer)).get_json()["items"]
    assert [b["id"] for b in listed] == [batch_id]

    whole = client.get(done["archive"]["url"], headers=auth(keys.issuer))
    data = whole.data
    whole.close()
    assert whole.status_code == 200 and whole.mimetype == "application/zip"
    assert len(data) == done["archive"]["bytes"] and hashlib.sha256(data).hexdigest() == done["archive"]["sha256"]
    assert whole.headers["X-Content-SHA256"] == done["archive"]["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist())[0].startswith("pdf/") and "result.xlsx" in archive.namelist()
    rest = client.get(done["archive"]["url"], headers={**auth(keys.issuer), "Range": "bytes=100-"})
    tail = rest.data
    rest.close()
    assert rest.status_code == 206 and tail == data[100:]
    beyond = client.get(done["archive"]["url"], headers={**auth(keys.issuer), "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.get_json()["code"] == "range_not_satisfiable"
    beyond.close()
    restarted.close()


def test_another_organization_cannot_follow_or_download_a_batch(client: FlaskClient, keys: Keys) -> None:
    batch_id = _post(client, keys.issuer, simple_roster([("甲", id17s(1)[0], 3)])).get_json()["batch"]["id"]
    for path in (f"/api/v1/batches/{batch_id}", f"/api/v1/batches/{batch_id}/archive", "/api/v1/batches/nonexistent"):
        response = client.get(path, headers=auth(keys.other_issuer))
        assert response.status_code == 404 and response.get_json()["code"] == "batch_not_found"


def test_bad_output_settings_are_clear_422s(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)])
    for form in ({"formats": "gif"}, {"dpi": "72"}):
        response = _post(client, keys.issuer, data, **form)
        assert response.status_code == 422, form
