"""The public pages: what a phone shows after scanning a certificate's QR code, the
document-number match beside it, and the lookup by number + name + document number."""

from __future__ import annotations

import base64
import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from issuer.api.ratelimit import MemoryLimiter
from issuer.core import qrtext
from issuer.service.wiring import UseCases
from tests.builders import ID_NUMBER, WELDER
from tests.builders import issue_request as request
from tests.conftest import OTHER_CODE, Keys, issuer_principal

SAME_SITE = {"Origin": "http://localhost"}
NAME = "张三丰"


def issue(svc: UseCases) -> tuple[str, str]:
    """A certificate issued through the service: its number and the base32 of its QR code."""
    record, _ = svc.issuing.issue(issuer_principal(svc), request())
    return record.number, qrtext.encode(record.credential, svc.ctx.qr_host).split("/V/")[1]


def freeze(app: Flask) -> int:
    """Keep the lookup limiter in one window for the whole test; return its limit."""
    limiter = app.extensions["issuer.lookup_limiter"]
    assert isinstance(limiter, MemoryLimiter)
    limiter.clock = lambda: 1000.0
    return limiter.limit


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


# --- the scan page ------------------------------------------------------------------------------


def test_the_scan_page_shows_the_verdict_first_then_the_certificate(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    number, payload = issue(svc)
    for path in (f"/V/{payload}", f"/v/{payload.lower()}"):
        response = client.get(path)
        page = html(response)
        assert response.status_code == 200
        assert page.index('class="verdict valid"') < page.index("<h2>证书信息</h2>") < page.index(number)
        assert "<h1>证书有效</h1>" in page  # in the HTML itself: no script needed for the verdict
        for shown in (
            number,
            NAME,
            "三级/高级工",
            "2026年11月29日",
            "黑龙江某某电力股份有限公司",
            "备案有效期",
            "核验时间",
        ):
            assert shown in page
        for secret in (ID_NUMBER, ID_NUMBER[:6], ID_NUMBER[6:14], ID_NUMBER[-4:], "1101**"):
            assert secret not in page


def test_the_scan_page_weighs_under_100_kb(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    page = client.get(f"/V/{payload}").data
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.decode())
    assert sorted(assets) == ["/static/offline.js", "/static/scan.js", "/static/web.css"]
    total = len(page)
    for path in assets:
        with client.get(path) as response:
            assert response.status_code == 200
            total += len(response.data)
    assert total < 100 * 1024


def test_a_revoked_certificate_says_so_with_the_reason(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number, payload = issue(svc)
    svc.revoking.revoke(issuer_principal(svc), number, reason="fraud")
    page = html(client.get(f"/V/{payload}"))
    assert "<h1>证书已撤销</h1>" in page
    assert "撤销原因" in page and "弄虚作假取得" in page
    assert "证书有效" not in page


def test_a_tampered_code_is_not_valid_and_shows_no_holder(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    middle = len(payload) // 2
    tampered = payload[:middle] + ("B" if payload[middle] == "A" else "A") + payload[middle + 1 :]
    response = client.get(f"/V/{tampered}")
    page = html(response)
    assert response.status_code == 200
    assert "<h1>证书无效：二维码内容未通过验证</h1>" in page
    assert "请勿采信" in page and "技术详情" in page and "bad_signature" in page
    assert NAME not in page and "证书信息" not in page and 'name="document_number"' not in page


def test_in_english_the_document_type_level_and_dates_are_english_too(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    _, payload = issue(svc)
    page = html(client.get(f"/V/{payload}?lang=en"))
    for shown in ("Resident Identity Card", "Level 3 / Senior Worker", "电工 (6-31-01-03)", "29 November 2026"):
        assert shown in page, shown
    for chinese in ("居民身份证", "三级/高级工", "2026年11月29日"):
        assert chinese not in page, chinese


def test_the_match_sits_under_the_certificate_fields_above_the_organization(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    _, payload = issue(svc)
    page = html(client.get(f"/V/{payload}"))
    fields, match_form, organization = (page.index(s) for s in ("<dt>证书编号</dt>", 'id="match"', "<dt>发证机构</dt>"))
    assert fields < match_form < organization
    assert 'action="#match"' in page


def test_english_on_request_and_remembered(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    response = client.get(f"/V/{payload}?lang=en")
    assert "Certificate valid" in html(response) and "证书有效" not in html(response)
    assert client.get_cookie("lang").value == "en"
    assert "Certificate valid" in html(client.get(f"/V/{payload}"))


# --- the document-number match --------------------------------------------------------------------


def match(client: FlaskClient, payload: str, typed: str, headers: dict[str, str] = SAME_SITE) -> TestResponse:
    return client.post(f"/V/{payload}", data={"document_number": typed}, headers=headers)


def test_the_right_document_number_matches_however_typed(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    for typed in (ID_NUMBER, ID_NUMBER.lower(), " 110105 19491231 002x "):
        response = match(client, payload, typed)
        assert response.status_code == 200
        assert 'class="match-result yes"' in html(response)
        assert "一致：证件号码与证书相符" in html(response)
    assert ID_NUMBER not in html(response)  # what was typed is not echoed back


def test_a_wrong_document_number_does_not_match(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    response = match(client, payload, "110105194912310037")
    assert 'class="match-result no"' in html(response) and "不一致" in html(response)


def test_a_cross_site_match_is_refused(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    assert match(client, payload, ID_NUMBER, {"Origin": "https://evil.example"}).status_code == 403
    assert match(client, payload, ID_NUMBER, {"Referer": "https://evil.example/page"}).status_code == 403
    assert match(client, payload, ID_NUMBER, {}).status_code == 403
    assert match(client, payload, ID_NUMBER, {"Referer": f"http://localhost/V/{payload}"}).status_code == 200


def test_the_match_is_rate_limited(app: Flask, keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    limit = freeze(app)
    assert limit == app.config["LOOKUP_RATE_LIMIT"] == 10
    for _ in range(limit):
        assert match(client, payload, ID_NUMBER).status_code == 200
    response = match(client, payload, ID_NUMBER)
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= app.config["LOOKUP_RATE_WINDOW"]
    assert f"查询过于频繁，请{wait}秒后再试" in html(response) and "match-result" not in html(response)
    assert "<h1>证书有效</h1>" in html(response)  # the verdict is still shown


# --- the lookup --------------------------------------------------------------------------------------


def lookup(client: FlaskClient, number: str, name: str, document_number: str) -> TestResponse:
    form = {"number": number, "name": name, "document_number": document_number}
    return client.post("/lookup", data=form, headers=SAME_SITE)


def test_the_lookup_finds_a_certificate_by_all_three(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number, _ = issue(svc)
    assert client.get("/lookup").status_code == 200
    response = lookup(client, number, NAME, ID_NUMBER)
    page = html(response)
    assert response.status_code == 200
    assert "证书有效" in page and number in page and "三级/高级工" in page
    assert "1101**********002X" in page and ID_NUMBER not in page


def test_the_lookup_shows_the_holders_photo_and_the_scan_page_does_not(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    number, text = issue(svc)
    page = html(lookup(client, "", NAME, ID_NUMBER))
    shown = re.search(r'id="holder-photo" src="data:image/(?:jpeg|png);base64,([^"]+)"', page)
    stored = svc.certificates.photo(issuer_principal(svc), number)
    assert shown is not None and stored and base64.b64decode(shown.group(1)) == stored
    assert 'id="holder-photo"' not in html(client.get(f"/V/{text}"))


def test_any_wrong_part_finds_nothing(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number, _ = issue(svc)
    wrong_number = number[:-1] + ("2" if number[-1] != "2" else "3")
    for triple in ((wrong_number, NAME, ID_NUMBER), (number, "张三", ID_NUMBER), (number, NAME, "110105194912310037")):
        page = html(lookup(client, *triple))
        assert "未查到相符的证书" in page
        assert "证书有效" not in page and "1101**" not in page


def test_the_lookup_is_rate_limited(app: Flask, keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number, _ = issue(svc)
    limit = freeze(app)
    for _ in range(limit):
        assert lookup(client, number, NAME, ID_NUMBER).status_code == 200
    response = lookup(client, number, NAME, ID_NUMBER)
    assert response.status_code == 429
    assert f"查询过于频繁，请{response.headers['Retry-After']}秒后再试" in html(response)
    assert 'class="verdict' not in html(response)


def test_the_lookup_escapes_what_was_typed(keys: Keys, client: FlaskClient) -> None:
    page = html(lookup(client, '"><b>x</b>', "<script>alert(1)</script>", "1"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<b>x</b>" not in page


def test_a_cross_site_lookup_is_refused(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number, _ = issue(svc)
    form = {"number": number, "name": NAME, "document_number": ID_NUMBER}
    assert client.post("/lookup", data=form, headers={"Origin": "https://evil.example"}).status_code == 403


# --- headers -----------------------------------------------------------------------------------------


def test_pages_send_strict_security_headers(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    _, payload = issue(svc)
    for path in (f"/V/{payload}", "/lookup", "/console/sign-in"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_re_issued_certificate_points_to_its_successor(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    number, payload = issue(svc)
    new, _ = svc.issuing.issue(issuer_principal(svc), request(replaces=number))
    page = html(client.get(f"/V/{payload}"))
    assert f"<h1>已换发新证 → {new.number}</h1>" in page
    assert f'href="/lookup?number={new.number}"' in page and "证书有效" not in page
    english = html(client.get(f"/V/{payload}?lang=en"))
    assert f"Replaced by a new certificate → {new.number}" in english
    form = {"number": number, "name": NAME, "document_number": ID_NUMBER}
    looked_up = html(client.post("/lookup?lang=zh", data=form, headers=SAME_SITE))
    assert "已换发新证" in looked_up and new.number in looked_up
    prefilled = html(client.get(f"/lookup?number={new.number}"))
    assert f'name="number" value="{new.number}"' in prefilled


def test_the_landing_page_leads_to_the_scan_the_lookup_and_the_console(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = html(page)
    for label, target in (("证书查询", "/lookup"), ("登录", "/console/sign-in"), ("信任包", "/api/v1/trust-bundle")):
        assert label in text and f'href="{target}"' in text, label
    assert 'action="/check"' in text
    assert "Certificate lookup" in html(client.get("/?lang=en"))


def test_a_pasted_qr_text_opens_its_scan_page_however_it_is_pasted(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    number, payload = issue(svc)
    address = qrtext.encode(b"", svc.ctx.qr_host).removesuffix("/")
    for pasted in (f"{address}/{payload}", f"  {address.lower()}/{payload.lower()}\n", payload):
        answer = client.get("/check", query_string={"text": pasted})
        assert answer.status_code == 303, pasted
        assert answer.headers["Location"].upper() == f"/V/{payload}".upper()
        assert number in html(client.get(answer.headers["Location"]))


def test_pasting_nothing_says_what_to_paste(client: FlaskClient) -> None:
    answer = client.get("/check", query_string={"text": "  "})
    assert answer.status_code == 400 and "请粘贴二维码内容" in html(answer)


def test_by_name_and_document_number_alone_the_lookup_lists_all_of_that_persons_certificates(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    first, _ = issue(svc)
    welder, _ = svc.issuing.issue(issuer_principal(svc), request(occupation=WELDER, work_type="电焊工", level=4))
    elsewhere, _ = svc.issuing.issue(issuer_principal(svc, OTHER_CODE), request())
    someone_else, _ = svc.issuing.issue(
        issuer_principal(svc), request(holder_name="李四", document_number="110105198001010016")
    )
    page = html(lookup(client, "", NAME, ID_NUMBER.lower()))
    assert "共查到3张证书" in page and page.count('<article class="result">') == 3
    for number in (first, welder.number, elsewhere.number):
        assert number in page
    assert someone_else.number not in page and "李四" not in page
    assert ID_NUMBER not in page and "1101**********002X" in page
    assert page.index(elsewhere.number) < page.index(first)  # the latest first
    narrowed = html(lookup(client, welder.number, NAME, ID_NUMBER))
    assert welder.number in narrowed and first not in narrowed and "共查到" not in narrowed


def test_by_person_a_wrong_name_or_number_finds_nothing_the_same_way(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    issue(svc)
    for name, document in (("张三", ID_NUMBER), (NAME, "110105194912310037"), ("", ID_NUMBER)):
        page = html(lookup(client, "", name, document))
        assert "未查到相符的证书" in page and 'class="verdict' not in page
