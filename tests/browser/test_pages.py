"""The pages in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, against the test app served over HTTP on 127.0.0.1 (the fixtures of
``tests/browser/conftest.py``).

Screenshots go to ``ISSUER_SCREENSHOTS`` when set (``make screenshots`` sets it to
``docs/screenshots``), else to the test's temporary folder."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from issuer.core import qrtext
from issuer.core.identity import check_character
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.browser.offline_check import checks_ed25519_on_the_device, needs_browser, playwright
from tests.builders import ID_NUMBER, id17s, photos_zip, simple_roster
from tests.builders import issue_request as request
from tests.conftest import ORG_CODE, PROFILE, Clock, issuer_principal
from tests.factories import photo

pytestmark = needs_browser

PASSWORD = "console-password-1"


_PHOTO = {"name": "一寸照.jpg", "mimeType": "image/jpeg", "buffer": photo()}


def _issued(svc: UseCases, **changes: Any) -> dict[str, str]:
    record, _ = svc.issuing.issue(issuer_principal(svc), request(**changes))
    return {"number": record.number, "qr_text": qrtext.encode(record.credential, svc.ctx.qr_host)}


def _path(qr_text: str) -> str:
    return "/V/" + qr_text.split("/V/", 1)[1]


def test_scanning_a_valid_code_shows_the_verdict_first_and_the_document_number_matches(
    server: str, svc: UseCases, phone: Any, shots: Path
) -> None:
    cert = _issued(svc)
    phone.goto(server + _path(cert["qr_text"]))
    verdict = phone.locator("section.verdict")
    assert verdict.get_attribute("class") == "verdict valid"
    assert "证书有效" in verdict.inner_text()
    assert phone.evaluate("document.querySelector('section.verdict').getBoundingClientRect().top") < 120
    assert cert["number"] in phone.content() and ID_NUMBER not in phone.content()
    phone.screenshot(path=str(shots / "scan-valid.png"), full_page=True)

    box = phone.locator("#match input[name=document_number]")
    assert box.bounding_box()["y"] < 844 * 1.6, "the match is far below the certificate's fields"
    box.fill(ID_NUMBER.lower())
    phone.click("#match button[type=submit]")
    playwright.expect(phone.locator("#match-result")).to_have_text(re.compile("^一致"))
    assert box.input_value() == ID_NUMBER.lower(), "the number typed stays in its box"
    assert phone.evaluate("window.scrollY") > 0, "the page jumped back to the top"
    box.fill("110105194912310021")
    phone.click("#match button[type=submit]")
    playwright.expect(phone.locator("#match-result")).to_have_text(re.compile("^不一致"))
    served = phone.evaluate("document.documentElement.outerHTML")
    assert "110105194912310021" not in served, "the number typed was written into the page"


@checks_ed25519_on_the_device
def test_the_signature_is_verified_in_the_browser_with_the_cached_bundle(
    server: str, svc: UseCases, clock: Clock, phone: Any
) -> None:
    phone.clock.set_fixed_time(clock.now)  # the device judges at the service's time
    cert = _issued(svc)
    phone.goto(server + _path(cert["qr_text"]))
    phone.click("#offline-button")
    result = phone.locator("#offline-result .verdict")
    playwright.expect(result).to_have_class("verdict valid", timeout=20_000)  # no page script may be eval'd (CSP)
    text = result.inner_text()
    assert "证书有效" in text and "黑龙江某某电力股份有限公司" in text and "未被撤销" in text, text
    assert phone.evaluate("localStorage.getItem('issuer-trust-bundle') !== null")
    tampered = cert["qr_text"][:-12] + ("A" if cert["qr_text"][-12] != "A" else "B") + cert["qr_text"][-11:]
    phone.goto(server + _path(tampered))
    assert "证书无效" in phone.locator("section.verdict").inner_text()


@pytest.mark.skipif(PROFILE != "sm2", reason="the 国密 profile's scan page (ISSUER_TEST_PROFILE=sm2)")
def test_in_the_sm2_profile_the_device_says_the_services_verdict_is_the_one(
    server: str, svc: UseCases, clock: Clock, phone: Any
) -> None:
    phone.clock.set_fixed_time(clock.now)
    phone.goto(server + _path(_issued(svc)["qr_text"]))
    assert "证书有效" in phone.locator("section.verdict").inner_text()  # the service's verdict
    phone.click("#offline-button")
    result = phone.locator("#offline-result .verdict")
    playwright.expect(result).to_have_class("verdict unknown", timeout=20_000)
    assert "请以上方服务器的验证结果为准" in result.inner_text()


def test_scanning_a_revoked_code_says_so_in_red(server: str, svc: UseCases, phone: Any, shots: Path) -> None:
    cert = _issued(svc, holder_name="王五")
    svc.revoking.revoke(issuer_principal(svc), cert["number"], reason="fraud")
    phone.goto(server + _path(cert["qr_text"]))
    verdict = phone.locator("section.verdict")
    assert verdict.get_attribute("class") == "verdict revoked"
    assert "证书已撤销" in verdict.inner_text() and "弄虚作假取得" in phone.content()
    color = phone.evaluate("getComputedStyle(document.querySelector('section.verdict')).backgroundColor")
    assert color == "rgb(179, 38, 30)"
    phone.screenshot(path=str(shots / "scan-revoked.png"), full_page=True)


def test_scanning_a_tampered_code_shows_not_valid_and_no_fields(server: str, svc: UseCases, phone: Any) -> None:
    text = _issued(svc)["qr_text"]
    middle = len(text) // 2
    tampered = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    phone.goto(server + _path(tampered))
    assert phone.locator("section.verdict").get_attribute("class") == "verdict not_valid"
    assert phone.locator("main > dl.fields").count() == 0  # only the 技术详情 fold


def _sign_in(page: Any, server: str, username: str) -> None:
    page.goto(server + "/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_an_issuer_signs_in_issues_one_certificate_and_revokes_it(
    server: str, svc: UseCases, desktop: Any, shots: Path
) -> None:
    svc.accounts.create(
        OPERATOR,
        username="zhang",
        display_name="张发证",
        role="org_issuer",
        password=PASSWORD,
        organization=ORG_CODE,
    )
    _sign_in(desktop, server, "zhang")
    desktop.click("text=发证")
    desktop.fill("input[name=holder_name]", "赵六")
    desktop.fill("input[name=document_number]", ID_NUMBER)
    desktop.select_option("select[name=occupation]", "6-31-01-03")
    desktop.select_option("select[name=level]", "3")
    assert desktop.locator("select[name=method]").input_value() == "exam"  # 考试考核 unless chosen
    desktop.fill("input[name=theory]", "81")
    desktop.fill("input[name=theory_date]", "2025-06-20")  # passed at an earlier sitting
    desktop.fill("input[name=practical]", "59")
    desktop.fill("input[name=document_number]", ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] != "1" else "2"))
    desktop.click("#issue-button")  # no photo chosen either: every problem at once, each beside its field
    assert "60" in desktop.locator("#error-practical").inner_text()  # failed component, beside its field
    assert "校验码" in desktop.locator("#error-document_number").inner_text()
    assert "照片" in desktop.locator("#error-photo").inner_text()
    desktop.screenshot(path=str(shots / "console-form-errors.png"), full_page=True)
    assert desktop.locator("input[name=theory_date]").input_value() == "2025-06-20"  # what was typed is kept
    desktop.fill("input[name=document_number]", ID_NUMBER)
    desktop.fill("input[name=practical]", "77.5")
    desktop.set_input_files("input[name=photo]", files=[_PHOTO])  # a browser does not keep a chosen file
    desktop.click("#issue-button")
    assert "已发证" in desktop.locator("#notice").inner_text()
    shown = desktop.locator("dl.fields").inner_text()
    assert "考试考核" in shown and "理论知识考试 81（2025年6月20日通过）；技能操作考核 77.5（" in shown
    number = re.search(r"/console/certificates/([A-Z0-9]{22})", desktop.url).group(1)  # type: ignore[union-attr]
    desktop.screenshot(path=str(shots / "console-certificate.png"), full_page=True)
    assert desktop.locator("select[name=reason]").input_value() == ""  # no reason chosen for the clerk
    desktop.select_option("select[name=reason]", "data_error")
    desktop.click("#revoke-button")
    assert desktop.locator("#confirm-number").inner_text() == number
    assert desktop.locator("#confirm-name").inner_text() == "赵六"
    assert desktop.locator("#certificate-status").count() == 0, "nothing revoked before the confirmation"
    desktop.click("#confirm-button")
    assert desktop.locator("#certificate-status").inner_text() == "已撤销"
    assert desktop.locator("#notice").get_attribute("class") == "warning"
    with svc.database.read_sessions() as session:
        from sqlalchemy import select

        from issuer.store import models as m

        assert session.scalar(select(m.Certificate.revocation_reason).where(m.Certificate.number == number)) == (
            "data_error"
        )


def test_a_roster_from_the_template_is_fixed_issued_followed_and_printed_as_one_pdf(
    server: str, svc: UseCases, desktop: Any, shots: Path
) -> None:
    svc.accounts.create(
        OPERATOR, username="lisi", display_name="李发证", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )
    _sign_in(desktop, server, "lisi")
    desktop.click("text=批量发证")
    with desktop.expect_download() as template:
        desktop.click("#template-link")
    assert template.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(template.value.path()).read_bytes())).active
    assert any(row.count("姓名") and row.count("证件号码") for row in sheet.iter_rows(max_row=3, values_only=True))
    first, second = id17s(2)
    bad = simple_roster([("甲", first, 3)]) + "\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75,photo.jpg".encode(
        "gbk"
    )
    desktop.set_input_files("input[name=roster]", files=[_csv(bad)])
    desktop.set_input_files(
        "input[name=photos]", files=[{"name": "照片.zip", "mimeType": "application/zip", "buffer": photos_zip()}]
    )
    desktop.click("#upload-button")
    table = desktop.locator("#roster-problems")
    assert "3" in table.inner_text() and "证件号码" in table.inner_text() and "校验码" in table.inner_text()
    desktop.screenshot(path=str(shots / "console-roster-error.png"), full_page=True)
    desktop.set_input_files("#again-roster", files=[_csv(simple_roster([("甲", first, 3), ("乙", second, 3)]))])
    desktop.click("#again-button")  # the fixed roster alone: the photos ZIP is taken over
    link = desktop.locator("#print-pdf-link")
    link.wait_for(timeout=60_000)  # the page refreshes itself while the batch is checked and issued
    assert "已发证：2" in desktop.locator("#batch-counts").inner_text()
    assert desktop.locator("#batch-certificates tbody tr").count() == 2
    desktop.screenshot(path=str(shots / "console-batch.png"), full_page=True)
    with desktop.expect_download() as printed:
        link.click()
    pdf = Path(printed.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2
    assert printed.value.suggested_filename.endswith(".pdf")


def _csv(data: bytes) -> dict[str, Any]:
    return {"name": "名单.csv", "mimeType": "text/csv", "buffer": data}


def test_a_checked_roster_shows_sample_certificates_before_it_is_issued(
    server: str, svc: UseCases, desktop: Any, shots: Path
) -> None:
    svc.accounts.create(
        OPERATOR, username="lisi", display_name="李发证", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )
    _sign_in(desktop, server, "lisi")
    desktop.click("text=批量发证")
    desktop.set_input_files("input[name=roster]", files=[_csv(simple_roster([("甲", id17s(1)[0], 3)]))])
    desktop.set_input_files(
        "input[name=photos]", files=[{"name": "照片.zip", "mimeType": "application/zip", "buffer": photos_zip()}]
    )
    desktop.check("input[name=dry_run]")
    desktop.click("#upload-button")
    preview = desktop.locator("img.batch-preview")
    preview.first.wait_for(timeout=30_000)
    desktop.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    desktop.screenshot(path=str(shots / "console-batch-preview.png"), full_page=True)
    desktop.click("#issue-checked")
    desktop.locator("#batch-certificates").wait_for(timeout=60_000)
    assert desktop.locator("#batch-certificates tbody tr").count() == 1


def test_the_landing_page_opens_a_pasted_code_on_a_phone_and_fits_both_screens(
    server: str, svc: UseCases, phone: Any, desktop: Any, shots: Path
) -> None:
    cert = _issued(svc)
    for page, name in ((phone, "home-phone.png"), (desktop, "home-desktop.png")):
        page.goto(server + "/")
        assert page.title() == "职业技能等级证书查验"
        for entry in ("#scan", "#lookup", "#console", "#auditors"):
            assert page.locator(entry).is_visible(), entry
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name}: {overflow} px wider than the screen"
        page.screenshot(path=str(shots / name), full_page=True)
    assert phone.locator("#scan input[name=text]").bounding_box()["y"] < 844, "the paste box is below the fold"
    phone.fill("#scan input[name=text]", cert["qr_text"])
    phone.click("#scan button[type=submit]")
    assert "证书有效" in phone.locator("section.verdict").inner_text()
    assert cert["number"] in phone.content()
    desktop.click("#lookup a")
    assert desktop.url.endswith("/lookup")


def test_a_person_looks_up_every_certificate_by_name_and_document_number_on_a_phone(
    server: str, svc: UseCases, phone: Any, shots: Path
) -> None:
    first = _issued(svc)
    second = _issued(svc, occupation="6-18-02-04", work_type="电焊工", level=4)
    phone.goto(server + "/lookup")
    phone.fill("input[name=name]", "张三丰")
    phone.fill("input[name=document_number]", ID_NUMBER)
    phone.click("form button[type=submit]")
    playwright.expect(phone.locator("#lookup-count")).to_have_text("共查到2张证书")
    results = phone.locator("article.result")
    assert results.count() == 2
    text = phone.locator("#results").inner_text()
    assert first["number"] in text and second["number"] in text and "1101**********002X" in text
    assert phone.locator("#holder-photo").first.evaluate("img => img.naturalWidth") > 0  # the photo shows
    phone.screenshot(path=str(shots / "lookup-person.png"), full_page=True)


def test_a_clerk_re_issues_a_certificate_from_its_page_with_the_form_filled_in(
    server: str, svc: UseCases, desktop: Any
) -> None:
    svc.accounts.create(
        OPERATOR, username="zhang", display_name="张发证", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )
    old = _issued(svc)
    _sign_in(desktop, server, "zhang")
    desktop.goto(f"{server}/console/certificates/{old['number']}")
    desktop.click("#reissue-link")
    assert desktop.locator("input[name=holder_name]").input_value() == "张三丰"  # filled in from the old one
    assert desktop.locator("#reissue-of").inner_text().endswith(old["number"])
    desktop.fill("input[name=holder_name]", "张三峰")  # the correction
    desktop.click("#issue-button")  # the old certificate's photo is taken over
    assert "已换发" in desktop.locator("#notice").inner_text()
    assert desktop.locator("#replaces a").inner_text() == old["number"]
    new = desktop.locator("h1.page").inner_text()
    desktop.click("#replaces a")
    assert desktop.locator("#replaced-by a").inner_text() == new
    assert desktop.locator("#certificate-status").inner_text() == "已换发新证"


def test_a_clerk_finds_certificates_ticks_the_page_and_revokes_them_with_one_reason(
    server: str, svc: UseCases, desktop: Any, shots: Path
) -> None:
    svc.accounts.create(
        OPERATOR, username="zhang", display_name="张发证", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )
    for i, id17 in enumerate(id17s(3)):
        svc.issuing.issue(
            issuer_principal(svc),
            request(holder_name=f"学员{i}", document_number=id17 + check_character(id17)),
        )
    kept = _issued(svc)  # 张三丰
    _sign_in(desktop, server, "zhang")
    desktop.goto(server + "/console/certificates")
    desktop.fill("input[name=q]", "学员")
    desktop.click("#search button[type=submit]")
    playwright.expect(desktop.locator("#result-count")).to_have_text("共3张 · 第1/1页")
    desktop.check("#select-all")
    assert desktop.locator('input[name="number"]:checked').count() == 3
    desktop.select_option("#bulk select[name=reason]", "fraud")
    desktop.screenshot(path=str(shots / "console-certificates.png"), full_page=True)
    desktop.click("#revoke-selected")
    assert desktop.locator("#confirm-list tbody tr").count() == 3
    desktop.click("#confirm-button")
    assert "已撤销3张证书" in desktop.locator("#notice").inner_text()
    assert desktop.locator("#notice").get_attribute("class") == "warning"
    assert "q=" in desktop.url  # back to the list as it was searched
    record = svc.certificates.by_number(kept["number"])
    assert record is not None and record.revoked_at is None


def test_an_administrator_registers_an_organization_scopes_it_from_the_search_and_previews_its_seal(
    server: str, svc: UseCases, desktop: Any, shots: Path
) -> None:
    from issuer.render.samples import placeholder_seal

    svc.accounts.create(OPERATOR, username="wuhr", display_name="吴管理", role="authority_admin", password=PASSWORD)
    _sign_in(desktop, server, "wuhr")
    desktop.click("#register-link")
    desktop.select_option("select[name=kind]", "S")
    desktop.fill("input[name=authority_code]", "0000")
    desktop.select_option("select[name=province]", "44")
    desktop.fill("input[name=site_code]", "000003")
    desktop.fill("input[name=name]", "广州某某职业培训学校")
    desktop.fill("#occupation-q", "焊")  # answered as typed (console_scope.js), no page load
    welder = desktop.locator("#occupation-matches option[value='6-18-02-04']")
    playwright.expect(welder).to_have_text("焊工（6-18-02-04）")
    desktop.select_option("#occupation-matches", "6-18-02-04")
    desktop.click("#add-row")
    desktop.check("input[name=level-0][value='5']")
    desktop.check("input[name=level-0][value='4']")
    desktop.check("input[name=work_type-0][value='电焊工']")
    desktop.click("#register-button")
    assert "已备案：广州某某职业培训学校（S000044000003）" in desktop.locator("#notice").inner_text()
    assert "电焊工" in desktop.locator("#scope").inner_text()
    desktop.click("#appearance-link")
    seal = {"name": "印章.png", "mimeType": "image/png", "buffer": placeholder_seal("广州某某职业培训学校")}
    desktop.set_input_files("input[name=seal]", files=[seal])
    desktop.click("#appearance-preview-button")
    image = desktop.locator("#appearance-preview-image")
    playwright.expect(image).to_be_visible()
    assert desktop.evaluate("document.getElementById('appearance-preview-image').naturalWidth") > 1000
    assert "已选择新图片" in desktop.locator("#image-state-seal").inner_text()
    desktop.screenshot(path=str(shots / "console-organization-appearance.png"), full_page=True)
    desktop.click("#appearance-save")
    assert desktop.locator("#org-seal").inner_text() == "已上传"


def test_every_page_fits_a_phone_and_a_desktop_screen(
    server: str, svc: UseCases, phone: Any, desktop: Any, shots: Path
) -> None:
    """No page is wider than the screen it is shown on (a table scrolls inside its own box)."""
    cert = _issued(svc)
    svc.accounts.create(
        OPERATOR, username="zhang", display_name="张发证", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )
    svc.accounts.create(OPERATOR, username="admin1", display_name="管理员", role="authority_admin", password=PASSWORD)
    public = ["/", "/lookup", _path(cert["qr_text"]), f"/check?text={cert['qr_text']}"]
    clerk = ["/console/certificates", "/console/issue", "/console/batches", f"/console/certificates/{cert['number']}"]
    authority = [
        "/console/organizations",
        f"/console/organizations/{ORG_CODE}",
        "/console/organizations/new",
        f"/console/organizations/{ORG_CODE}/scope",
        f"/console/organizations/{ORG_CODE}/appearance",
        "/console/api-keys",
        "/console/accounts",
        "/console/statistics",
        "/console/audit",
    ]
    for page, screen in ((phone, "phone"), (desktop, "desktop")):
        for who, paths in ((None, public), ("zhang", clerk), ("admin1", authority)):
            if who is not None:
                page.context.clear_cookies()
                _sign_in(page, server, who)
            for path in paths:
                response = page.goto(server + path)
                assert response is not None and response.status == 200, (screen, path)
                wider = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert wider <= 0, f"{path} on a {screen}: {wider} px wider than the screen"
