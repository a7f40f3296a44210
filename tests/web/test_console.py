"""The organization console: signing in (lockout, sessions, no open redirect), form posts
guarded against cross-site requests, issuing and revoking through forms, rosters, and each
role seeing only its own pages."""

from __future__ import annotations

import base64
import io
import os
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from issuer.core.identity import check_character
from issuer.service.certificates import Search
from issuer.service.jobs import InProcessQueue
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import DAMAGED_XLSX, ID_NUMBER, damaged_xlsx, id17s, photos_zip, simple_roster
from tests.builders import issue_request as request
from tests.conftest import ORG_CODE, OTHER_CODE, Clock, Keys, auth, issuer_principal
from tests.factories import id_number, photo

PHOTOS = photos_zip()

SAME_SITE = {"Origin": "http://localhost"}
MULTIPART = "multipart/form-data"
PASSWORD = "correct-horse-42"


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no csrf field"
    return found.group(1)


def account(svc: UseCases, username: str, role: str = "org_issuer", organization: str | None = ORG_CODE) -> None:
    svc.accounts.create(
        OPERATOR,
        username=username,
        display_name="李四",
        role=role,
        password=PASSWORD,
        organization=organization if role == "org_issuer" else None,
    )


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, next_: str | None = None) -> Any:
    url = "/console/sign-in" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"username": username, "password": password}, headers=SAME_SITE)


def problem_of(response: Any) -> str:
    found = re.search(r'id="sign-in-problem">([^<]*)<', html(response))
    assert found, "no sign-in problem shown"
    return found.group(1)


@pytest.fixture()
def issuer(app: Flask, keys: Keys, svc: UseCases, client: FlaskClient) -> FlaskClient:
    """A client signed in as an issuer of ORG_CODE."""
    account(svc, "issuer1")
    assert sign_in(client, "issuer1").status_code == 302
    return client


def issued_number(svc: UseCases) -> str:
    body, _ = svc.issuing.issue(issuer_principal(svc), request())
    return str(body.number)


def certificates(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(m.Certificate)) or 0)


def post_form(client: FlaskClient, source: str, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Post a form of the page ``source`` as a browser would: with its csrf token, from this site."""
    token = csrf_of(html(client.get(source)))
    return client.post(path, data={"csrf": token, **data}, headers=SAME_SITE, **kwargs)


# --- signing in ---------------------------------------------------------------------------------


def test_the_console_requires_signing_in_and_returns_to_the_page(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    account(svc, "issuer1")
    response = client.get("/console/certificates")
    assert response.status_code == 302
    assert response.location == "/console/sign-in?next=/console/certificates"
    assert sign_in(client, "issuer1", next_="/console/certificates").location == "/console/certificates"
    assert client.get("/console/certificates").status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    account(svc, "issuer1")
    wrong = sign_in(client, "issuer1", "wrong-horse-42")
    unknown = sign_in(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert problem_of(wrong) == problem_of(unknown) == "用户名或密码错误（连续失败5次将锁定15分钟）"
    assert client.get("/console/certificates").status_code == 302


def test_five_failures_lock_the_account_for_15_minutes(
    keys: Keys, svc: UseCases, client: FlaskClient, clock: Clock
) -> None:
    account(svc, "issuer1")
    for _ in range(5):
        assert sign_in(client, "issuer1", "wrong-horse-42").status_code == 401
    locked = sign_in(client, "issuer1", PASSWORD)
    assert locked.status_code == 401 and "15分钟" in problem_of(locked)
    clock.advance(minutes=14)
    assert sign_in(client, "issuer1", PASSWORD).status_code == 401
    clock.advance(minutes=2)
    assert sign_in(client, "issuer1", PASSWORD).status_code == 302


def test_passwords_are_stored_as_scrypt_hashes(keys: Keys, svc: UseCases) -> None:
    account(svc, "issuer1")
    with svc.database.read_sessions() as session:
        stored = session.scalar(select(m.Account.password_hash).where(m.Account.username == "issuer1"))
    assert stored is not None and stored.startswith("scrypt$")
    assert PASSWORD not in stored and PASSWORD.encode().hex() not in stored


def test_signing_out_ends_the_session_even_for_a_copied_cookie(app: Flask, issuer: FlaskClient) -> None:
    copied = issuer.get_cookie("session")
    assert copied is not None
    assert post_form(issuer, "/console/certificates", "/console/sign-out", {}).location == "/console/sign-in"
    assert issuer.get("/console/certificates").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", copied.value)
    response = replay.get("/console/certificates")
    assert response.status_code == 302 and response.location.startswith("/console/sign-in")


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example", "/\\evil.example", "/console/\r\nSet-Cookie: evil=1"]
)
def test_signing_in_never_redirects_off_the_console(
    keys: Keys, svc: UseCases, client: FlaskClient, target: str
) -> None:
    account(svc, "issuer1")
    response = client.post(
        "/console/sign-in",
        query_string={"next": target},
        data={"username": "issuer1", "password": PASSWORD},
        headers=SAME_SITE,
    )
    assert response.status_code == 302
    assert "evil" not in response.location and response.location.startswith("/console/")


# --- cross-site posts -----------------------------------------------------------------------------


def test_a_console_post_needs_this_sessions_token_from_this_site(
    app: Flask, keys: Keys, svc: UseCases, issuer: FlaskClient
) -> None:
    number = issued_number(svc)
    path = f"/console/certificates/{number}/revoke"
    token = csrf_of(html(issuer.get(f"/console/certificates/{number}")))
    other = app.test_client()
    account(svc, "issuer2")
    sign_in(other, "issuer2")
    other_token = csrf_of(html(other.get("/console/certificates")))
    assert other_token != token
    form = {"reason": "fraud"}
    refused = [
        issuer.post(path, data=form, headers=SAME_SITE),
        issuer.post(path, data={**form, "csrf": ""}, headers=SAME_SITE),
        issuer.post(path, data={**form, "csrf": other_token}, headers=SAME_SITE),
        issuer.post(path, data={**form, "csrf": "令牌" * 20}, headers=SAME_SITE),
        issuer.post(path, data={**form, "csrf": token}, headers={"Origin": "https://evil.example"}),
        issuer.post(path, data={**form, "csrf": token}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    record = svc.certificates.by_number(number)
    assert record is not None and record.revoked_at is None


# --- issuing one certificate --------------------------------------------------------------------------

GOOD = {
    "holder_name": "王五",
    "document_type": "1",
    "document_number": ID_NUMBER,
    "occupation": "6-31-01-03",
    "work_type": "",
    "level": "3",
    "theory": "80",
    "practical": "75",
    "review": "",
}


def issue_page(client: FlaskClient) -> tuple[str, str]:
    """The issue form's csrf token and its one-time key."""
    page = html(client.get("/console/issue"))
    once = re.search(r'name="once" value="([^"]+)"', page)
    assert once
    return csrf_of(page), once.group(1)


def with_photo(form: dict[str, Any]) -> dict[str, Any]:
    """The form with the holder's photo attached, as the browser sends the file field."""
    return {**form, "photo": (io.BytesIO(photo()), "photo.jpg")}


def submit(client: FlaskClient, **changes: str) -> Any:
    token, once = issue_page(client)
    form = with_photo({**GOOD, **changes, "csrf": token, "once": once})
    return client.post("/console/issue", data=form, headers=SAME_SITE)


def test_issuing_through_the_form(svc: UseCases, issuer: FlaskClient) -> None:
    response = submit(issuer)
    assert response.status_code == 302
    number = response.location.split("/console/certificates/")[1].split("?")[0]
    page = html(issuer.get(response.location))
    assert 'id="certificate-status">已发证' in page and "王五" in page and number in page
    assert certificates(svc) == 1


def reddish(picture: Image.Image) -> int:
    """Pixels much redder than green: the title, a seal, the preview's mark."""
    red, green, _ = picture.convert("RGB").split()
    return int(ImageChops.subtract(red, green).point(lambda v: 255 if v > 60 else 0).histogram()[255])


def test_a_preview_shows_the_certificate_marked_as_a_sample_and_issues_nothing(
    svc: UseCases, issuer: FlaskClient
) -> None:
    response = submit(issuer, preview="1")
    assert response.status_code == 200
    page = html(response)
    shown = re.search(r'id="preview-image" src="data:image/png;base64,([^"]+)"', page)
    assert shown is not None and certificates(svc) == 0
    image = Image.open(io.BytesIO(base64.b64decode(shown.group(1)))).convert("RGB")
    assert image.size == (1240, 1754)  # A4 at 150 dpi
    assert [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)] == [
        "HTTPS://CERT.HRSS.EXAMPLE.CN/V/PREVIEW"
    ]
    marked = reddish(image)
    kept = re.search(r'name="kept_photo" value="([^"]+)"', page)
    assert kept is not None and base64.b64decode(kept.group(1)) == photo()
    token, once = csrf_of(page), re.search(r'name="once" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {**GOOD, "csrf": token, "once": once, "kept_photo": kept.group(1)}  # no file chosen again
    issued = issuer.post("/console/issue", data=form, headers=SAME_SITE)
    assert issued.status_code == 302 and certificates(svc) == 1
    number = issued.location.split("/console/certificates/")[1]
    assert svc.certificates.photo(issuer_principal(svc), number) == photo()
    real = issuer.get(f"/console/certificates/{number}/image.png")
    unmarked = reddish(Image.open(io.BytesIO(real.data)).resize(image.size))
    assert marked > unmarked + 20_000, (marked, unmarked)  # marked across as a sample


def test_a_preview_of_a_failing_form_shows_its_problems_and_no_image(svc: UseCases, issuer: FlaskClient) -> None:
    response = submit(issuer, preview="1", practical="59")
    assert response.status_code == 422
    assert 'id="error-practical"' in html(response) and 'id="preview-image"' not in html(response)


def test_a_competition_winner_is_issued_through_the_form_and_the_page_shows_method_and_result(
    svc: UseCases, issuer: FlaskClient
) -> None:
    changes = {"level": "2", "method": "competition", "theory": "", "practical": ""}
    result = {"competition_tier": "provincial_1", "competition_rank": "4", "competition_date": "2026-10-12"}
    response = submit(issuer, **changes, **result)
    assert response.status_code == 302, html(response)
    page = html(issuer.get(response.location))
    assert "竞赛选拔" in page and "省级一类竞赛" in page and "2026年10月12日" in page
    assert certificates(svc) == 1


def test_a_rank_the_tier_does_not_promote_is_shown_beside_the_competition(svc: UseCases, issuer: FlaskClient) -> None:
    changes = {"level": "3", "method": "competition", "theory": "", "practical": ""}
    response = submit(issuer, **changes, competition_tier="provincial_2", competition_rank="7")
    assert response.status_code == 422
    beside = re.search(r'<span class="field-error" id="error-competition">([^<]+)<', html(response))
    assert beside and "省级二类竞赛第7名不符合晋升条件" in beside.group(1)
    assert certificates(svc) == 0


def test_a_failing_score_is_shown_beside_its_field(svc: UseCases, issuer: FlaskClient) -> None:
    response = submit(issuer, practical="50")
    assert response.status_code == 422
    beside = re.search(
        r'技能操作成绩<input name="practical"[^>]*><span class="field-error" id="error-practical">([^<]+)<',
        html(response),
    )
    assert beside and "60分" in beside.group(1)
    assert 'value="王五"' in html(response)  # what was typed is kept
    assert certificates(svc) == 0


def test_every_problem_of_the_form_is_shown_at_once_beside_its_field(svc: UseCases, issuer: FlaskClient) -> None:
    token, once = issue_page(issuer)
    form = {**GOOD, "csrf": token, "once": once, "holder_name": "", "practical": "50", "theory_date": "2026-13-01"}
    form["document_number"] = ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] != "1" else "2")
    response = issuer.post("/console/issue", data=form, headers=SAME_SITE)  # and no photo
    assert response.status_code == 422
    page = html(response)
    beside = dict(re.findall(r'<span class="field-error" id="error-([a-z_]+)">([^<]+)<', page))
    assert set(beside) == {"holder_name", "document_number", "practical", "theory_date", "photo"}, beside
    assert "校验码" in beside["document_number"] and "60" in beside["practical"] and "照片" in beside["photo"]
    assert not any(m.startswith("第") for m in beside.values())  # no roster row numbers on a form
    assert 'id="issue-problem"' not in page and certificates(svc) == 0


def test_a_suspended_organization_is_one_problem_above_the_form(
    svc: UseCases, issuer: FlaskClient, clock: Clock
) -> None:
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="责令整改")
    clock.advance(seconds=1)  # in force from the next whole second
    for practical in ("50", "85"):
        response = submit(issuer, practical=practical)
        assert response.status_code == 422
        problem = re.search(r'id="issue-problem">([^<]+)<', html(response))
        assert problem and "暂停" in problem.group(1), html(response)
    assert certificates(svc) == 0


@pytest.mark.parametrize("score", ["80.001", "89.99999999", "1e-3", "9" * 5000, "1e999999999"])
def test_a_score_that_is_not_two_decimals_in_0_to_100_is_shown_beside_its_field(
    svc: UseCases, issuer: FlaskClient, score: str
) -> None:
    response = submit(issuer, practical=score)
    assert response.status_code == 422
    beside = re.search(r'<span class="field-error" id="error-practical">([^<]+)<', html(response))
    assert beside and re.search(r"[\u4e00-\u9fff]", beside.group(1))
    assert certificates(svc) == 0


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/console/certificates?q=%00", 400),
        ("/console/certificates?q=Y%00", 400),
        ("/console/certificates?%00=1", 400),
        ("/console/certificates?q=Y&q=%00", 400),
        ("/console/issue?replaces=%00", 400),
        ("/console/certificates/Y%00", 404),
        ("/console/batches/%00", 404),
    ],
)
def test_nul_in_a_query_or_path_is_a_page_not_a_500(issuer: FlaskClient, path: str, status: int) -> None:
    """On PostgreSQL each of these was a 500 (NUL in a query parameter)."""
    response = issuer.get(path)
    assert response.status_code == status and response.mimetype == "text/html"
    assert ("请求无效" if status == 400 else "页面不存在") in html(response)


def test_nul_in_a_form_field_is_a_bad_request(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    account(svc, "issuer1")
    response = client.post(
        "/console/sign-in", data={"username": "issuer1\x00", "password": PASSWORD}, headers=SAME_SITE
    )
    assert response.status_code == 400 and "请求无效" in html(response)
    assert sign_in(client, "issuer1").status_code == 302  # no failure was counted against the account


@pytest.mark.parametrize("page", ["100001", "9" * 30, "-5", "x"])
def test_any_page_number_shows_a_page(issuer: FlaskClient, page: str) -> None:
    assert issuer.get(f"/console/certificates?page={page}").status_code == 200


def test_a_bad_id_checksum_is_shown_beside_the_document_number(svc: UseCases, issuer: FlaskClient) -> None:
    response = submit(issuer, document_number=ID_NUMBER[:-1] + "1")
    assert response.status_code == 422
    beside = re.search(
        r'证件号码<input name="document_number"[^>]*><span class="field-error" id="error-document_number">([^<]+)<',
        html(response),
    )
    assert beside and "校验码" in beside.group(1)
    assert certificates(svc) == 0


def test_a_number_of_another_document_type_is_shown_beside_the_type(svc: UseCases, issuer: FlaskClient) -> None:
    first17 = "81000019900307013"
    response = submit(issuer, document_number=first17 + check_character(first17))  # a 居住证 number as a 居民身份证
    assert response.status_code == 422
    beside = re.search(r'</select><span class="field-error" id="error-document_type">([^<]+)<', html(response))
    assert beside and "证件类型请选择“港澳台居民居住证”" in beside.group(1)
    assert certificates(svc) == 0


def test_a_holder_under_16_is_shown_beside_the_document_number(svc: UseCases, issuer: FlaskClient) -> None:
    first17 = "11010520101130013"  # 16 the day after the issue date
    response = submit(issuer, document_number=first17 + check_character(first17))
    assert response.status_code == 422
    beside = re.search(r'id="error-document_number">([^<]+)<', html(response))
    assert beside and "持证人在签发日（2026-11-29）未满16周岁" in beside.group(1)
    assert certificates(svc) == 0


def test_a_name_beginning_like_a_formula_is_shown_beside_the_name(svc: UseCases, issuer: FlaskClient) -> None:
    response = submit(issuer, holder_name="=1+2")
    assert response.status_code == 422
    beside = re.search(r'id="error-holder_name">([^<]+)<', html(response))
    assert beside and beside.group(1).startswith("持证人姓名不能以=、+、-、@、制表符或回车开头")
    assert certificates(svc) == 0


def test_a_double_submit_issues_once(svc: UseCases, issuer: FlaskClient) -> None:
    token, once = issue_page(issuer)
    form = {**GOOD, "csrf": token, "once": once}
    first = issuer.post("/console/issue", data=with_photo(form), headers=SAME_SITE)
    second = issuer.post("/console/issue", data=with_photo(form), headers=SAME_SITE)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert certificates(svc) == 1


# --- revoking and downloading ----------------------------------------------------------------------------


def test_revoking_through_the_form(keys: Keys, svc: UseCases, client: FlaskClient, issuer: FlaskClient) -> None:
    number = issued_number(svc)
    form_page = html(issuer.get(f"/console/certificates/{number}"))
    assert '<option value="" selected disabled>请选择撤销原因</option>' in form_page  # no reason chosen for them
    path, source = f"/console/certificates/{number}/revoke", f"/console/certificates/{number}"
    asked = post_form(issuer, source, path, {"reason": "data_error", "note": "姓名有误"})
    confirm = html(asked)
    assert asked.status_code == 200 and 'id="confirm-button"' in confirm
    assert f'id="confirm-number">{number}<' in confirm and 'id="confirm-name">张三丰<' in confirm
    assert "证书信息有误" in confirm and "姓名有误" in confirm
    record = svc.certificates.by_number(number)
    assert record is not None and record.revoked_at is None, "asking to confirm revokes nothing"
    response = post_form(issuer, source, path, {"reason": "data_error", "note": "姓名有误", "confirm": "1"})
    assert response.status_code == 302
    page = html(issuer.get(response.location))
    assert 'id="certificate-status">已撤销' in page and 'id="revoke-button"' not in page
    assert f'class="warning" id="notice" role="status">证书{number}已撤销' in page  # a warning, not a success
    assert "姓名有误" in page and "data_error" not in page  # the reason in words, the note, who and when
    api = client.get(f"/api/v1/certificates/{number}", headers=auth(keys.issuer)).get_json()
    assert api["revoked_at"] is not None and api["revocation_reason"] == "data_error"


def test_ticked_certificates_are_revoked_together_after_one_confirmation(svc: UseCases, issuer: FlaskClient) -> None:
    first = issued_number(svc)
    second = svc.issuing.issue(issuer_principal(svc), request(holder_name="李四", document_number=id_number(7)))[0]
    form = {"number": [first, second.number], "reason": "fraud", "note": "冒名顶替"}
    asked = post_form(issuer, "/console/certificates", "/console/certificates/revoke", form)
    listing = html(asked)
    assert asked.status_code == 200 and "确认撤销这2张证书" in listing
    assert f"<td>{first}</td><td>张三丰</td>" in listing and f"<td>{second.number}</td><td>李四</td>" in listing
    assert svc.certificates.search(issuer_principal(svc), Search(revoked=True)).total == 0
    done = post_form(issuer, "/console/certificates", "/console/certificates/revoke", {**form, "confirm": "1"})
    assert done.status_code == 302 and done.location == "/console/certificates"
    assert 'class="warning" id="notice" role="status">已撤销2张证书' in html(issuer.get(done.location))
    assert svc.certificates.search(issuer_principal(svc), Search(revoked=True)).total == 2


def test_revoking_together_is_all_or_nothing(svc: UseCases, issuer: FlaskClient) -> None:
    first = issued_number(svc)
    second = svc.issuing.issue(issuer_principal(svc), request(holder_name="李四", document_number=id_number(7)))[0]
    svc.revoking.revoke(issuer_principal(svc), second.number, reason="data_error")
    form = {"number": [first, second.number], "reason": "fraud", "confirm": "1"}
    done = post_form(issuer, "/console/certificates", "/console/certificates/revoke", form)
    assert f"证书{second.number}已撤销" in html(issuer.get(done.location))
    record = svc.certificates.by_number(first)
    assert record is not None and record.revoked_at is None, "the other one stays as it was"


def test_ticked_certificates_download_as_one_zip_named_for_people(svc: UseCases, issuer: FlaskClient) -> None:
    first = issued_number(svc)
    second = svc.issuing.issue(issuer_principal(svc), request(holder_name="李四", document_number=id_number(7)))[0]
    revoked = svc.issuing.issue(issuer_principal(svc), request(holder_name="王五", document_number=id_number(8)))[0]
    svc.revoking.revoke(issuer_principal(svc), revoked.number, reason="data_error")
    numbers = [first, second.number, revoked.number]
    response = post_form(issuer, "/console/certificates", "/console/certificates/download", {"number": numbers})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert unquote(response.headers["Content-Disposition"]).endswith("证书_20261129.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == sorted(
        [
            f"png/{first}_张三丰.png",
            f"pdf/{first}_张三丰.pdf",
            f"png/{second.number}_李四.png",
            f"pdf/{second.number}_李四.pdf",
            "未包含.txt",
        ]
    )
    assert (
        archive.read(f"png/{first}_张三丰.png").startswith(b"\x89PNG")
        and revoked.number in archive.read("未包含.txt").decode()
    )


def test_a_revocation_without_a_chosen_reason_revokes_nothing(svc: UseCases, issuer: FlaskClient) -> None:
    number = issued_number(svc)
    source, path = f"/console/certificates/{number}", f"/console/certificates/{number}/revoke"
    for reason in ("", "made_up"):
        response = post_form(issuer, source, path, {"reason": reason, "confirm": "1"})
        assert response.status_code == 302
        assert "请选择撤销原因" in html(issuer.get(response.location))
    record = svc.certificates.by_number(number)
    assert record is not None and record.revoked_at is None


def test_downloading_the_certificate_image(svc: UseCases, issuer: FlaskClient) -> None:
    number = issued_number(svc)
    png = issuer.get(f"/console/certificates/{number}/image.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert f'filename="{number}.png"' in png.headers["Content-Disposition"]  # for ASCII-only clients
    pdf = issuer.get(f"/console/certificates/{number}/image.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    saved = unquote(pdf.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1])
    assert saved == f"{number}_张三丰.pdf"


# --- rosters ---------------------------------------------------------------------------------------------


def upload(client: FlaskClient, roster: bytes, photos: bytes | None = PHOTOS, **flags: str) -> Any:
    files: dict[str, Any] = {"roster": (io.BytesIO(roster), "名单.csv"), **flags}
    if photos is not None:
        files["photos"] = (io.BytesIO(photos), "照片.zip")
    return post_form(client, "/console/batches", "/console/batches", files, content_type="multipart/form-data")


def _batch_page(issuer: FlaskClient, response: Any) -> str:
    """The batch page an upload redirects to, once its validation has ended."""
    assert response.status_code == 302 and response.location.startswith("/console/batches/"), response.status_code
    while True:
        page = html(issuer.get(response.location))
        status = re.search(r'data-status="([a-z]+)"', page)
        assert status
        if status.group(1) not in ("validating", "issuing"):
            return page
        time.sleep(0.01)


def test_the_upload_page_explains_the_roster_and_gives_its_template(svc: UseCases, issuer: FlaskClient) -> None:
    page = html(issuer.get("/console/batches"))
    assert 'href="/console/batches/template.xlsx"' in page
    assert "11010519491231002X.jpg" in page  # how photos are named, before the clerk uploads
    guide = page[page.index('id="column-guide"') :]
    for header in ("姓名", "证件号码", "职业编码", "理论知识成绩", "照片"):
        assert f"<td>{header}</td>" in guide, header
    assert "<td>姓名</td><td>是</td>" in guide and "<td>职业编码</td><td>二选一</td>" in guide
    template = issuer.get("/console/batches/template.xlsx")
    assert template.status_code == 200
    assert "职业技能等级认定名单模板.xlsx" in unquote(template.headers["Content-Disposition"])
    book = openpyxl.load_workbook(io.BytesIO(template.data), read_only=True)
    assert [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))][:3] == ["姓名", "证件类型", "证件号码"]


def test_an_upload_is_answered_at_once_and_its_page_follows_the_validation(svc: UseCases, issuer: FlaskClient) -> None:
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()  # the validation waits: the page shows it waiting and refreshes itself
    response = upload(issuer, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(4))]))
    assert response.status_code == 302
    page = html(issuer.get(response.location))
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "状态：正在校验名单" in page and 'id="batch-checked">已校验行数：0 / 4<' in page
    svc.batches.run_validation(response.location.rsplit("/", 1)[1])
    page = html(issuer.get(response.location))
    assert "状态：正在生成证书图片" in page and "已发证：4" in page


def test_a_roster_with_a_bad_row_is_rejected_with_its_problems(svc: UseCases, issuer: FlaskClient) -> None:
    first, second = id17s(2)
    page = _batch_page(issuer, upload(issuer, simple_roster([("学员甲", first, 3), ("学员乙", second, 9)])))
    assert "状态：名单未通过校验，未发证" in page and "refresh" not in page
    assert 'id="batch-refusal">名单中2行有1行存在问题，未发放任何证书<' in page
    table = re.search(r'<table id="roster-problems">.*?</table>', page, re.S)
    assert table
    row = re.search(r"<tr><td>3</td><td>[^<]*</td><td>[^<]*</td><td>([^<]+)</td></tr>", table.group(0))
    assert row and re.search(r"[\u4e00-\u9fff]", row.group(1))
    link = re.search(r'id="result-link" href="([^"]+)"', page)
    assert link and issuer.get(link.group(1)).data.startswith(b"PK")
    assert certificates(svc) == 0


def test_a_roster_sent_while_the_organization_validates_another_is_asked_to_wait(
    svc: UseCases, issuer: FlaskClient
) -> None:
    roster = simple_roster([("学员甲", id17s(1)[0], 3)])
    with svc.validations.held(issuer_principal(svc)):
        for flags in ({"dry_run": "1"}, {}):
            response = upload(issuer, roster, **flags)
            assert response.status_code == 429 and response.headers["Retry-After"] == "30"
            problem = re.search(r'id="batch-problem">([^<]*)<', html(response))
            assert problem and problem.group(1) == "本机构已有1份花名册正在校验（同时最多1份），请30秒后再试"
    assert certificates(svc) == 0
    _batch_page(issuer, upload(issuer, roster))
    assert certificates(svc) == 1


@pytest.mark.parametrize("dry_run", [{}, {"dry_run": "1"}], ids=["upload", "dry run"])
@pytest.mark.parametrize("kind", [*DAMAGED_XLSX, "not a zip"])
def test_a_damaged_xlsx_roster_is_a_clear_problem_on_the_page(
    svc: UseCases, issuer: FlaskClient, kind: str, dry_run: dict[str, str]
) -> None:
    response = upload(issuer, damaged_xlsx(kind), **dry_run)
    assert response.status_code == 422
    shown = re.search(r'id="batch-problem">([^<]+)<', html(response))
    assert shown and shown.group(1).startswith("无法读取花名册：")
    assert certificates(svc) == 0


def test_a_dry_run_issues_nothing(svc: UseCases, issuer: FlaskClient) -> None:
    response = upload(issuer, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(2))]), dry_run="1")
    page = _batch_page(issuer, response)
    assert "状态：校验完成（试校验，未发证）" in page and 'id="batch-counts">有效行：2 / 2；' in page
    assert certificates(svc) == 0


def test_a_rejected_roster_is_sent_again_fixed_without_its_photos_zip(svc: UseCases, issuer: FlaskClient) -> None:
    first, second = id17s(2)
    rejected = upload(issuer, simple_roster([("学员甲", first, 3), ("学员乙", second, 9)]))
    page = _batch_page(issuer, rejected)
    assert 'id="batch-again"' in page and 'id="issue-checked"' not in page
    fixed = {"roster": (io.BytesIO(simple_roster([("学员甲", first, 3), ("学员乙", second, 4)])), "名单（改）.csv")}
    again = post_form(issuer, rejected.location, f"{rejected.location}/again", fixed, content_type=MULTIPART)
    page = _batch_page(issuer, again)  # no photos ZIP chosen: the rejected batch's is taken over
    assert again.location != rejected.location and "已发证：2" in page and certificates(svc) == 2
    old = html(issuer.get(rejected.location))
    assert 'id="batch-again"' not in old  # its files went to the new batch
    gone = post_form(issuer, rejected.location, f"{rejected.location}/again", {}, content_type="multipart/form-data")
    problem = re.search(r'id="again-problem">([^<]+)<', html(gone))
    assert gone.status_code == 422 and problem and "不再保留" in problem.group(1)


def test_a_checked_roster_shows_its_first_certificates_then_issues_without_a_new_upload(
    svc: UseCases, issuer: FlaskClient
) -> None:
    rows = [(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(4))]
    checked = upload(issuer, simple_roster(rows), dry_run="1")
    page = _batch_page(issuer, checked)
    shown = re.findall(r'class="batch-preview" src="([^"]+)"', page)
    assert len(shown) == 3 and certificates(svc) == 0
    images = [Image.open(io.BytesIO(issuer.get(src).data)).convert("RGB") for src in shown]
    assert all(reddish(image) > 20_000 for image in images)  # marked across as samples
    assert [r.text for r in zxingcpp.read_barcodes(images[0], formats=zxingcpp.BarcodeFormat.QRCode)] == [
        "HTTPS://CERT.HRSS.EXAMPLE.CN/V/PREVIEW"
    ]
    assert images[0].tobytes() != images[1].tobytes()  # each row its own certificate
    assert issuer.get(shown[0].replace("/0.png", "/3.png")).status_code == 404
    assert certificates(svc) == 0
    button = re.search(r'id="issue-checked">([^<]+)<', page)
    assert button and "4张" in button.group(1)
    issued = post_form(issuer, checked.location, f"{checked.location}/again", {}, content_type="multipart/form-data")
    assert "已发证：4" in _batch_page(issuer, issued) and certificates(svc) == 4
    assert issuer.get(shown[0]).status_code == 404  # nothing kept once issued


def test_another_organizations_clerk_cannot_resend_or_preview_a_roster(
    keys: Keys, svc: UseCases, issuer: FlaskClient, client: FlaskClient
) -> None:
    checked = upload(issuer, simple_roster([("学员甲", id17s(1)[0], 3)]), dry_run="1")
    _batch_page(issuer, checked)
    account(svc, "other1", organization=OTHER_CODE)
    sign_in(client, "other1")
    assert client.get(f"{checked.location}/preview/0.png").status_code == 404
    response = post_form(client, "/console/batches", f"{checked.location}/again", {}, content_type=MULTIPART)
    assert response.status_code == 404 and certificates(svc) == 0


def test_kept_roster_files_are_deleted_a_day_after_their_batch_ended(svc: UseCases, issuer: FlaskClient) -> None:
    checked = upload(issuer, simple_roster([("学员甲", id17s(1)[0], 3)]), dry_run="1")
    _batch_page(issuer, checked)
    batch_id = checked.location.rsplit("/", 1)[1]
    folder = svc.drawing.batch_dir / "uploads" / batch_id
    svc.batches.purge(timedelta(days=30))
    assert folder.exists()
    day_ago = time.time() - 25 * 3600
    os.utime(folder, (day_ago, day_ago))
    svc.batches.purge(timedelta(days=30))
    assert not folder.exists() and 'id="batch-again"' not in html(issuer.get(checked.location))


def test_a_roster_larger_than_other_requests_may_be_is_accepted(svc: UseCases, issuer: FlaskClient) -> None:
    """Photos make a roster upload far larger than the 1 MiB any other request may be."""
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("说明.bin", bytes(range(256)) * 6 * 1024)  # 1.5 MiB
    form = {
        "csrf": csrf_of(html(issuer.get("/console/batches"))),
        "dry_run": "1",
        "roster": FileStorage(io.BytesIO(simple_roster([("学员甲", id17s(1)[0], 3)])), "名单.csv"),
        "photos": FileStorage(io.BytesIO(photos.getvalue()), "照片.zip"),
    }
    # Encoded in memory: the test client would spool a body this large to a file it never closes.
    boundary, body = encode_multipart(form)
    assert len(body) > 1024 * 1024
    response = issuer.post(
        "/console/batches", data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=SAME_SITE
    )
    assert "校验完成" in _batch_page(issuer, response)


def test_a_roster_is_issued_and_followed_to_its_archive(svc: UseCases, issuer: FlaskClient) -> None:
    response = upload(issuer, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))]))
    page = _batch_page(issuer, response)
    assert certificates(svc) == 3
    assert 'id="batch-status"' in page and "已发证：3" in page
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.join()
    page = html(issuer.get(response.location))
    assert "已完成" in page and "3 / 3" in page
    link = re.search(r'id="archive-link" href="([^"]+)"', page)
    assert link
    with issuer.get(link.group(1)) as archive:
        assert archive.status_code == 200 and archive.mimetype == "application/zip"
        assert zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert 'id="batch-created">上传时间：2026年11月29日 10:00<' in page  # Beijing time, as a clerk reads it
    listed = page[page.index('id="batch-certificates"') :]
    assert listed.count("<tr>") == 1 + 3 and "学员0" in listed and "已发证" in listed, listed
    assert "本批次证书（3）" in page
    batches = html(issuer.get("/console/batches"))
    row = batches[batches.index('id="recent-batches"') :]
    assert "名单.csv" in row and "2026年11月29日 10:00" in row and "<td>3</td>" in row and "已完成" in row


def _printed_batch(issuer: FlaskClient, svc: UseCases, people: int) -> tuple[str, str, list[str]]:
    """A roster issued and drawn through the console: its page's address, its page, and its
    certificates' numbers in order."""
    response = upload(issuer, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(people))]))
    _batch_page(issuer, response)
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.join()
    batch_id = response.location.rsplit("/", 1)[1]
    found = svc.certificates.search(issuer_principal(svc), Search(batch=batch_id))
    return response.location, html(issuer.get(response.location)), sorted(r.number for r in found.items)


def test_a_batch_is_printed_as_one_pdf_from_its_page(svc: UseCases, issuer: FlaskClient) -> None:
    import pypdfium2

    location, page, numbers = _printed_batch(issuer, svc, 3)
    batch_id = location.rsplit("/", 1)[1]
    link = re.search(r'id="print-pdf-link" href="([^"]+)">下载整批PDF（打印用）<', page)
    assert link and link.group(1) == f"/console/batches/{batch_id}/certificates.pdf"
    assert "已撤销的证书不含在内" in page
    svc.revoking.revoke(issuer_principal(svc), numbers[0], reason="data_error")
    with issuer.get(link.group(1)) as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        data, headers = response.get_data(), response.headers
    assert int(headers["Content-Length"]) == len(data)
    assert headers["Content-Disposition"].startswith(f'attachment; filename="{batch_id}.pdf"; ')
    assert unquote(headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1]) == f"{batch_id}_证书.pdf"
    document = pypdfium2.PdfDocument(data)
    texts = [p.get_textpage().get_text_range() for p in document]
    document.close()
    assert len(texts) == 2 and numbers[1] in texts[0] and numbers[2] in texts[1]
    assert not any(numbers[0] in text for text in texts), "a revoked certificate is not printed"
    for number in numbers[1:]:
        svc.revoking.revoke(issuer_principal(svc), number, reason="data_error")
    refused = issuer.get(link.group(1))
    assert refused.status_code == 302 and refused.location == location
    assert "证书均已撤销，没有可打印的证书" in html(issuer.get(location))


def test_only_the_organizations_clerks_print_its_batch(app: Flask, svc: UseCases, issuer: FlaskClient) -> None:
    location, _, _ = _printed_batch(issuer, svc, 1)
    url = f"{location}/certificates.pdf"
    account(svc, "issuer2", organization=OTHER_CODE)
    other = app.test_client()
    assert sign_in(other, "issuer2").status_code == 302
    assert other.get(url).status_code == 404
    account(svc, "admin1", role="authority_admin")
    admin = app.test_client()
    assert sign_in(admin, "admin1").status_code == 302
    assert admin.get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # to signing in
    assert issuer.get("/console/batches/0123456789abcdef0123456789abcdef/certificates.pdf").status_code == 404


def test_finding_certificates_by_box_and_filters_paging_both_ways(svc: UseCases, issuer: FlaskClient) -> None:
    response = upload(issuer, simple_roster([(f"学员{i}", id17, 4) for i, id17 in enumerate(id17s(23))]))
    batch_id = response.location.rsplit("/", 1)[1]
    _batch_page(issuer, response)
    svc.issuing.issue(issuer_principal(svc), request())  # 张三丰, level 3, outside the batch
    assert certificates(svc) == 24

    def listed(query: str) -> tuple[str, list[str]]:
        page = html(issuer.get(f"/console/certificates?{query}"))
        count = re.search(r'id="result-count">([^<]+)<', page)
        assert count is not None
        return count.group(1), re.findall(r'/console/certificates/(Y\d{21})"', page)

    count, first = listed("")
    assert count == "共24张 · 第1/2页" and len(first) == 20
    page_one = html(issuer.get("/console/certificates"))
    assert 'id="page-next"' in page_one and 'id="page-previous"' not in page_one
    following = re.search(r'href="([^"]+)" id="page-next"', page_one)
    assert following is not None
    page_two = html(issuer.get(following.group(1).replace("&amp;", "&")))
    assert "第2/2页" in page_two and 'id="page-previous"' in page_two and 'id="page-next"' not in page_two
    assert listed("q=学员1")[0] == "共11张 · 第1/1页"  # 学员1, 学员10 … 学员19
    assert listed("q=张三")[0] == "共1张 · 第1/1页"
    assert listed(f"q={ID_NUMBER[-4:]}")[0] == "共1张 · 第1/1页"
    assert listed("level=3")[0] == "共1张 · 第1/1页" and listed("level=4")[0] == "共23张 · 第1/2页"
    assert listed(f"batch={batch_id}")[0] == "共23张 · 第1/2页"
    assert listed(f"batch={batch_id}&q=学员2")[0] == "共4张 · 第1/1页"  # 学员2, 学员20, 学员21, 学员22
    assert listed("status=revoked")[0] == "共0张 · 第1/1页"
    assert listed("issued_from=2026-11-30")[0] == "共0张 · 第1/1页"
    assert listed("issued_until=2026-11-29&occupation=6-31-01-03")[0] == "共24张 · 第1/2页"
    kept = html(issuer.get(f"/console/certificates?batch={batch_id}&level=4"))
    assert f'<option value="{batch_id}" selected>' in kept and '<option value="4" selected>' in kept
    nxt = re.search(r'href="([^"]+)" id="page-next"', kept)
    assert nxt is not None and f"batch={batch_id}" in nxt.group(1) and "level=4" in nxt.group(1)


# --- who sees what ----------------------------------------------------------------------------------------


def test_an_issuer_cannot_open_the_authority_pages(issuer: FlaskClient) -> None:
    assert issuer.get("/console/organizations").status_code == 403
    assert issuer.get(f"/console/organizations/{ORG_CODE}").status_code == 403


def test_an_administrator_manages_organizations_but_not_certificates(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    number = issued_number(svc)
    account(svc, "admin1", role="authority_admin")
    assert client.get(sign_in(client, "admin1").location).location == "/console/organizations"
    assert client.get("/console/certificates").status_code == 403
    assert client.get(f"/console/certificates/{number}").status_code == 403
    assert client.get("/console/issue").status_code == 403
    listing = html(client.get("/console/organizations"))
    assert ORG_CODE in listing and OTHER_CODE in listing
    assert 'id="org-status">正常' in html(client.get(f"/console/organizations/{ORG_CODE}"))
    page, action = f"/console/organizations/{ORG_CODE}", f"/console/organizations/{ORG_CODE}/status"
    unexplained = post_form(client, page, action, {"status": "suspended"})
    assert "请选择新状态并填写原因" in html(client.get(unexplained.location))
    form = {"status": "suspended", "note": "年检未通过", "since": "2026-11-30T09:00"}
    asked = html(post_form(client, page, action, form))
    assert 'id="confirm-org_status">正常 → 暂停<' in asked
    assert 'id="confirm-status_since">2026年11月30日 09:00<' in asked
    assert "之后签发的证书验证为无效" in asked
    assert svc.registry.read(OPERATOR, ORG_CODE).status == "active", "nothing changes before the confirmation"
    changed = post_form(client, page, action, {**form, "confirm": "1"})
    assert changed.status_code == 302
    shown = html(client.get(changed.location))
    assert "机构状态已变更为：暂停" in shown
    history = shown[shown.index('id="status-history"') :]
    assert "2026年11月30日 09:00" in history and "年检未通过" in history
    org = svc.registry.read(OPERATOR, ORG_CODE)
    assert max(org.status_history, key=lambda c: c.since).since == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_an_issuer_sees_only_its_own_organizations_certificates(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number = issued_number(svc)
    account(svc, "other1", organization=OTHER_CODE)
    sign_in(client, "other1")
    assert client.get(f"/console/certificates/{number}").status_code == 404
    assert client.get(f"/console/certificates/{number}/image.png").status_code == 404
    assert number not in html(client.get("/console/certificates"))


# --- languages ----------------------------------------------------------------------------------------------


def test_the_console_speaks_english_on_request(issuer: FlaskClient) -> None:
    page = html(issuer.get("/console/issue?lang=en"))
    assert "Practical score" in page and "技能操作成绩" not in page
    assert "Sign out" in html(issuer.get("/console/certificates"))  # remembered
    assert "Sign in" in html(issuer.get("/console/sign-in"))


def test_every_console_page_needs_a_session(app: Flask, client: FlaskClient) -> None:
    """Anonymous: a page redirects to sign-in, a form post is refused; only sign-in is open."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith(("console.", "console_admin."))]
    assert len(rules) >= 20
    for rule in rules:
        path = re.sub(r"<int:[^>]+>", "0", rule.rule)
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", path)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, headers=SAME_SITE)
            if rule.endpoint == "console.sign_in":
                assert response.status_code in (200, 401), (method, path)
            elif method == "GET":
                assert response.status_code == 302 and "/console/sign-in" in response.location, (method, path)
            else:
                assert response.status_code in (302, 403), (method, path)
                if response.status_code == 302:
                    assert "/console/sign-in" in response.location, (method, path)


def test_the_language_switch_keeps_the_pages_other_parameters(issuer: FlaskClient) -> None:
    page = html(issuer.get("/console/certificates?q=%E5%BC%A0%E4%B8%89"))
    link = re.search(r'class="lang" href="([^"]+)"', page)
    assert link is not None
    assert link.group(1).replace("&amp;", "&") == "/console/certificates?q=%E5%BC%A0%E4%B8%89&lang=en"


def test_a_person_changes_their_password_and_every_session_ends(issuer: FlaskClient, app: Flask, svc: UseCases) -> None:
    other_device = app.test_client()
    assert sign_in(other_device, "issuer1").status_code == 302

    def change(current: str, new: str, repeat: str | None = None) -> Any:
        fields = {"current_password": current, "new_password": new, "repeat_password": repeat or new}
        return post_form(issuer, "/console/password", "/console/password", fields)

    assert "当前密码不正确" in html(change("not-the-password-1", "another-password-2"))
    assert "两次输入的新密码不一致" in html(change(PASSWORD, "another-password-2", "another-password-3"))
    assert "密码至少10位" in html(change(PASSWORD, "short1"))
    done = change(PASSWORD, "another-password-2")
    assert done.status_code == 302 and done.location == "/console/sign-in"
    assert "密码已修改" in html(issuer.get(done.location))
    assert other_device.get("/console/certificates").status_code == 302  # the other session ended too
    assert sign_in(issuer, "issuer1").status_code == 401
    assert sign_in(issuer, "issuer1", "another-password-2").status_code == 302


def test_the_same_person_twice_through_the_form_is_refused_with_a_link_to_the_first(
    svc: UseCases, issuer: FlaskClient
) -> None:
    first = submit(issuer).location.split("/console/certificates/")[1]
    again = submit(issuer)
    assert again.status_code == 422
    problem = html(again)
    assert "此人已持有本机构颁发的该职业（工种）等级证书" in problem
    assert f'href="/console/certificates/{first}"' in problem
    assert certificates(svc) == 1


def test_re_issue_from_the_certificate_page_with_the_fields_filled_in(svc: UseCases, issuer: FlaskClient) -> None:
    old = submit(issuer, holder_name="王吴").location.split("/console/certificates/")[1]  # a typo
    page = html(issuer.get(f"/console/certificates/{old}"))
    assert f'href="/console/issue?replaces={old}"' in page
    form = html(issuer.get(f"/console/issue?replaces={old}"))
    assert 'value="王吴"' in form and f'name="replaces" value="{old}"' in form and 'value="80.00"' in form
    token, once = issue_page(issuer)
    fixed = issuer.post(
        "/console/issue",
        data={**GOOD, "holder_name": "王五", "replaces": old, "csrf": token, "once": once},
        headers=SAME_SITE,
    )
    assert fixed.status_code == 302
    new = fixed.location.split("/console/certificates/")[1].split("?")[0]
    new_page = html(issuer.get(fixed.location))
    assert f'id="replaces">换发自 ← <a href="/console/certificates/{old}"' in new_page and "王五" in new_page
    old_page = html(issuer.get(f"/console/certificates/{old}"))
    assert f'href="/console/certificates/{new}">{new}</a>' in old_page
    assert 'id="certificate-status">已换发新证' in old_page and "撤销原因" in old_page
    assert "reissue-link" not in old_page and "revoke-button" not in old_page
