"""Batch issuance over HTTP: a roster file in, answered at once (202, validating, where to
poll), then followed: validated, issued, drawn, its report and numbers and archive out."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pypdfium2
from flask.testing import FlaskClient
from openpyxl import load_workbook

from issuer.service.jobs import InProcessQueue
from issuer.service.wiring import UseCases, build
from tests.builders import PHOTO, follow, id17s, numbers, post, simple_roster, to_xlsx, uploaded
from tests.conftest import ORG_CODE, Keys, auth

BAD_ROW = f"\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75,{PHOTO}".encode("gbk")


def test_the_upload_is_answered_at_once_with_the_batch_validating_and_where_to_poll(
    client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()  # nothing runs: the answer cannot wait for the validation
    response = post(client, keys.issuer, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(5))]))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    path = f"/api/v1/batches/{body['id']}"
    assert response.headers["Location"] == path and response.headers["Idempotency-Replayed"] == "false"
    assert (body["status"], body["status_zh"], body["rows"], body["checked"], body["issued"]) == (
        "validating",
        "正在校验名单",
        5,
        0,
        0,
    )
    assert body["links"] == {"self": path, "result": None, "archive": None}
    assert client.get(path, headers=auth(keys.issuer)).get_json()["status"] == "validating"
    early = client.get(f"{path}/result", headers=auth(keys.issuer))
    assert early.status_code == 409 and early.get_json()["code"] == "batch_not_ready"
    assert early.get_json()["message_zh"] == "名单正在校验：已校验0/5行"


def test_a_roster_is_validated_then_issued_in_one_block(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(5))])
    body = uploaded(client, keys.issuer, data)
    assert (body["status"], body["checked"], body["issued"], body["progress"]) == ("rendering", 5, 5, 0.0)
    assert body["report"]["valid_rows"] == 5 and body["refusal"] is None
    assert numbers(client, keys.issuer, body["id"]) == [(r, f"{ORG_CODE}263{r - 1:06d}") for r in range(2, 7)]


def test_a_dry_run_is_checked_and_issues_nothing(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)])
    dry = uploaded(client, keys.issuer, data, dry_run="true")
    assert (dry["status"], dry["dry_run"], dry["issued"], dry["report"]["valid_rows"]) == ("checked", True, 0, 1)
    archive = client.get(f"/api/v1/batches/{dry['id']}/archive", headers=auth(keys.issuer))
    assert archive.status_code == 409 and archive.get_json()["code"] == "batch_not_issued"
    real = uploaded(client, keys.issuer, data)
    assert numbers(client, keys.issuer, real["id"])[0][1].endswith("000001")


def test_a_roster_with_errors_is_rejected_with_every_problem_and_its_result_sheet(
    client: FlaskClient, keys: Keys
) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)]) + BAD_ROW
    body = uploaded(client, keys.issuer, data)
    assert (body["status"], body["status_zh"], body["issued"]) == ("rejected", "名单未通过校验，未发证", 0)
    assert body["refusal"]["code"] == "roster_has_errors"
    assert [(p["row"], p["code"]) for p in body["report"]["problems"]] == [(3, "invalid_id_checksum")]
    assert body["links"]["result"] == f"/api/v1/batches/{body['id']}/result" and body["links"]["archive"] is None
    result = client.get(body["links"]["result"], headers=auth(keys.issuer))
    assert result.status_code == 200 and result.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(result.data), read_only=True).worksheets[0]
    [refused] = [r for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert refused[:2] == (3, "未发证") and "校验码" in str(refused[-1])
    partial = uploaded(client, keys.issuer, data, valid_rows_only="true")
    assert partial["status"] == "rendering" and [r for r, _ in numbers(client, keys.issuer, partial["id"])] == [2]


def test_a_retried_upload_answers_the_same_batch(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(2)[0], 3), ("乙", id17s(2)[1], 3)])
    once = {"Idempotency-Key": "session-2026-11-29"}
    first = post(client, keys.issuer, data, headers=once)
    assert first.status_code == 202
    follow(client, keys.issuer, first.get_json()["id"])
    again = post(client, keys.issuer, data, headers=once)
    assert again.status_code == 202 and again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["status"] != "validating"
    assert [b["id"] for b in client.get("/api/v1/batches", headers=auth(keys.issuer)).get_json()["items"]] == [
        first.get_json()["id"]
    ]


def test_an_unreadable_roster_is_a_clear_422_at_once(client: FlaskClient, keys: Keys) -> None:
    response = post(client, keys.issuer, b"\x00\x01 not a roster")
    assert response.status_code == 422
    assert response.get_json()["code"].startswith("roster_")
    for name, empty_roster in (("名单.csv", simple_roster([])), ("名单.xlsx", to_xlsx([]))):
        empty = post(client, keys.issuer, empty_roster, name)
        assert empty.status_code == 422 and empty.get_json()["code"] == "roster_empty", name
    photos = client.post(
        "/api/v1/batches",
        data={
            "roster": (io.BytesIO(simple_roster([("甲", id17s(1)[0], 3)])), "名单.csv"),
            "photos": (io.BytesIO(b"x"), "p.zip"),
        },
        headers=auth(keys.issuer),
        content_type="multipart/form-data",
    )
    assert photos.status_code == 422 and photos.get_json()["code"] == "photos_unreadable"
    assert client.get("/api/v1/batches", headers=auth(keys.issuer)).get_json()["items"] == []


def test_the_template_downloads_as_xlsx(client: FlaskClient, keys: Keys) -> None:
    response = client.get("/api/v1/batches/template", headers=auth(keys.issuer))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None and sheet["A1"].value == "姓名"


def test_a_batch_is_followed_to_its_archive(client: FlaskClient, keys: Keys, svc: UseCases) -> None:
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()  # nothing is validated or drawn until the service "restarts" below
    data = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))])
    response = post(client, keys.issuer, data, formats="pdf", dpi="150")
    assert response.status_code == 202
    batch_id = response.get_json()["id"]
    svc.batches.run_validation(batch_id)  # validated and issued; the drawing's queue is stopped
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
    assert done["links"]["archive"] == done["archive"]["url"] == f"/api/v1/batches/{batch_id}/archive"
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


def test_a_batch_is_printed_as_one_pdf_once_issued(client: FlaskClient, keys: Keys, svc: UseCases) -> None:
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()  # nothing is validated or drawn but by hand
    data = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))])
    batch_id = post(client, keys.issuer, data, formats="pdf", dpi="150").get_json()["id"]
    path = f"/api/v1/batches/{batch_id}/pdf"
    early = client.get(path, headers=auth(keys.issuer))
    assert early.status_code == 409 and early.get_json()["code"] == "batch_not_ready"
    svc.batches.run_validation(batch_id)  # issued, its images not drawn: it prints already
    response = client.get(path, headers=auth(keys.issuer))
    pdf = response.data
    response.close()
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith(f"filename*=UTF-8''{batch_id}_%E8%AF%81%E4%B9%A6.pdf")
    document = pypdfium2.PdfDocument(pdf)
    texts = [page.get_textpage().get_text_range() for page in document]
    document.close()
    issued = sorted(number for _, number in numbers(client, keys.issuer, batch_id))
    assert len(texts) == len(issued) == 3
    assert all(n in t and f"学员{i}" in t for i, (n, t) in enumerate(zip(issued, texts, strict=True)))


def test_another_organization_cannot_follow_or_download_a_batch(client: FlaskClient, keys: Keys) -> None:
    batch_id = uploaded(client, keys.issuer, simple_roster([("甲", id17s(1)[0], 3)]))["id"]
    for path in (
        f"/api/v1/batches/{batch_id}",
        f"/api/v1/batches/{batch_id}/archive",
        f"/api/v1/batches/{batch_id}/pdf",
        f"/api/v1/batches/{batch_id}/result",
        "/api/v1/batches/nonexistent",
    ):
        response = client.get(path, headers=auth(keys.other_issuer))
        assert response.status_code == 404 and response.get_json()["code"] == "batch_not_found"


def test_bad_output_settings_are_clear_422s(client: FlaskClient, keys: Keys) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)])
    for form in ({"formats": "gif"}, {"dpi": "72"}):
        response = post(client, keys.issuer, data, **form)
        assert response.status_code == 422, form
