"""The scan page's offline check through the real service: lifecycle events of one morning,
then the employer's phone scans each certificate and taps "在本机验证". The
browser's clock is the service's clock (Playwright's ``page.clock``), so the device judges at
the same instant the server does, with the bundle it downloads from ``/api/v1/trust-bundle``.

Screenshots go to ``ISSUER_SCREENSHOTS`` when set (the ``shots`` fixture of ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from issuer.core import qrtext
from issuer.core.errors import IssuerError
from issuer.service import registry
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.browser.offline_check import PHONE, checks_ed25519_on_the_device, needs_browser, playwright
from tests.builders import issue_request as request
from tests.conftest import ELECTRICIAN, ORG_CODE, OTHER_CODE, WELDER, Clock, issuer_principal
from tests.factories import china, id_number

pytestmark = [needs_browser, checks_ed25519_on_the_device]

KEY_COMPROMISED = "证书无效：发证机构的签名密钥已注销"
AI_TRAINER = "4-04-05-05"


@pytest.fixture()
def clock() -> Clock:
    """The morning of 2026-11-29 in China (overrides ``tests/conftest.py``)."""
    return Clock(china("2026-11-29 09:30"))


@pytest.fixture()
def phone(phone: Any, clock: Clock) -> Any:
    """An employer's phone whose clock reads the service's clock."""
    phone.clock.set_fixed_time(clock.now)
    return phone


def _issue(svc: UseCases, code: str, person: int, **changes: Any) -> str:
    """Issue to the ``person``-th holder (one live certificate per person and qualification)."""
    return _issued(svc, code, person, **changes)["qr_text"]


def _issued(svc: UseCases, code: str, person: int, **changes: Any) -> dict[str, str]:
    record, _ = svc.issuing.issue(issuer_principal(svc, code), request(document_number=id_number(person), **changes))
    return {"number": record.number, "qr_text": qrtext.encode(record.credential, svc.ctx.qr_host)}


def _scan_offline(page: Any, server: str, qr_text: str, *, lang: str = "") -> tuple[str, Any]:
    """The server's verdict class, and the offline verdict block once the check has run."""
    page.goto(server + "/V/" + qr_text.split("/V/", 1)[1] + (f"?lang={lang}" if lang else ""))
    on_server = page.locator("section.verdict").get_attribute("class")
    page.click("#offline-button")
    block = page.locator("#offline-verdict")
    playwright.expect(block).to_be_visible(timeout=20_000)
    return on_server, block


def test_events_later_the_same_morning_leave_earlier_certificates_valid_on_the_device(
    server: str, svc: UseCases, clock: Clock, phone: Any, shots: Path
) -> None:
    clock.now = china("2026-11-29 09:36")
    before_suspension = _issue(svc, ORG_CODE, 1)
    other = _issue(svc, OTHER_CODE, 2)
    welder = _issue(svc, OTHER_CODE, 3, occupation=WELDER, work_type="电焊工", level=4)

    clock.now = china("2026-11-29 09:37")
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="暂停评价")
    clock.advance(seconds=1)
    with pytest.raises(IssuerError) as refused:  # nothing is issued after the suspension: it cannot be shown "after"
        _issue(svc, ORG_CODE, 4)
    assert refused.value.code == "organization_suspended"

    with pytest.raises(IssuerError) as refused:  # not yet in the other organization's scope
        _issue(svc, OTHER_CODE, 5, occupation=AI_TRAINER, level=4)
    assert refused.value.code == "out_of_scope"
    clock.now = china("2026-11-29 09:38")  # the welder leaves the other organization's scope, the AI trainer enters
    scope = [registry.ScopeItem(ELECTRICIAN, (5, 4, 3, 2, 1)), registry.ScopeItem(AI_TRAINER, (4, 3))]
    svc.registry.set_scope(OPERATOR, OTHER_CODE, scope, effective=None)
    clock.advance(seconds=1)
    with pytest.raises(IssuerError) as refused:
        _issue(svc, OTHER_CODE, 6, occupation=WELDER, work_type="电焊工", level=4)
    assert refused.value.code == "out_of_scope"
    after_scope_change = _issue(svc, OTHER_CODE, 5, occupation=AI_TRAINER, level=4)

    clock.now = china("2026-11-29 09:45")
    phone.clock.set_fixed_time(clock.now)
    for qr_text in (before_suspension, other, welder, after_scope_change):
        on_server, block = _scan_offline(phone, server, qr_text)
        assert on_server == "verdict valid"
        assert block.get_attribute("class") == "verdict valid"
        assert block.locator("h3").inner_text() == "证书有效"
        assert "本设备" in block.inner_text() and "信任包获取于2026年11月29日 09:45" in block.inner_text()
        if qr_text == before_suspension:
            assert "黑龙江某某电力股份有限公司" in block.inner_text()
            block.screenshot(path=str(shots / "scan-offline-valid-block.png"))
            phone.screenshot(path=str(shots / "scan-offline-valid.png"), full_page=True)
    color = phone.evaluate("getComputedStyle(document.getElementById('offline-verdict')).backgroundColor")
    assert color == "rgb(23, 114, 69)"


def test_a_key_compromised_before_a_certificate_makes_it_red_on_the_device_and_not_the_earlier_one(
    server: str, svc: UseCases, clock: Clock, phone: Any, shots: Path
) -> None:
    clock.now = china("2026-11-29 09:36")
    early = _issue(svc, OTHER_CODE, 1)
    untouched = _issue(svc, ORG_CODE, 2)
    clock.now = china("2026-11-29 09:40")
    late = _issue(svc, OTHER_CODE, 3)
    clock.now = china("2026-11-29 09:41")
    kid = next(k.kid for k in svc.registry.read(OPERATOR, OTHER_CODE).keys if k.status == "active")
    svc.registry.compromise_key(OPERATOR, OTHER_CODE, kid, compromised_at=china("2026-11-29 09:39"))
    clock.advance(seconds=1)
    after = _issue(svc, OTHER_CODE, 4)  # with the replacement key

    clock.now = china("2026-11-29 09:50")
    phone.clock.set_fixed_time(clock.now)
    for qr_text in (early, untouched, after):
        on_server, block = _scan_offline(phone, server, qr_text)
        assert (on_server, block.get_attribute("class")) == ("verdict valid", "verdict valid")

    on_server, block = _scan_offline(phone, server, late)
    assert on_server == "verdict not_valid"
    assert block.get_attribute("class") == "verdict not_valid"
    assert (block.get_attribute("data-failed-check"), block.get_attribute("data-reason")) == (
        "key_status",
        "key_compromised",
    )
    assert block.locator("h3").inner_text() == KEY_COMPROMISED
    assert "2026年11月29日09:39:00起注销" in block.inner_text()
    assert "更新" not in block.inner_text()
    color = phone.evaluate("getComputedStyle(document.getElementById('offline-verdict')).backgroundColor")
    assert color == "rgb(92, 15, 10)"
    phone.screenshot(path=str(shots / "scan-offline-key-compromised.png"), full_page=True)

    on_server, block = _scan_offline(phone, server, late, lang="en")
    assert block.locator("h3").inner_text() == "Not valid: the organization's signing key was reported compromised"
    assert "Checked on this device" in block.inner_text()


def test_a_revoked_certificate_is_red_on_the_device_and_the_cached_bundle_is_reused(
    server: str, svc: UseCases, clock: Clock, phone: Any
) -> None:
    clock.now = china("2026-11-29 09:36")
    kept = _issue(svc, ORG_CODE, 1)
    cert = _issued(svc, ORG_CODE, 2)
    revoked = cert["qr_text"]
    svc.revoking.revoke(issuer_principal(svc), cert["number"], reason="fraud")
    clock.now = china("2026-11-29 09:40")
    phone.clock.set_fixed_time(clock.now)
    downloads: list[str] = []
    phone.on("request", lambda r: downloads.append(r.url) if r.url.endswith("/api/v1/trust-bundle") else None)

    _, block = _scan_offline(phone, server, revoked)
    assert block.get_attribute("class") == "verdict revoked"
    assert block.locator("h3").inner_text() == "证书已撤销"
    _, block = _scan_offline(phone, server, kept)
    assert block.get_attribute("class") == "verdict valid"
    assert len(downloads) == 1  # the second check used the cached bundle

    clock.advance(hours=25)  # a day later the device fetches the bundle again
    phone.clock.set_fixed_time(clock.now)
    _, block = _scan_offline(phone, server, kept)
    assert block.get_attribute("class") == "verdict valid"
    assert len(downloads) == 2


def test_a_bundle_that_goes_back_does_not_replace_the_cached_one(
    server: str, svc: UseCases, clock: Clock, phone: Any
) -> None:
    """Whoever answers /api/v1/trust-bundle with an older bundle (here: the one from before a
    revocation, replayed by a route) does not take the device back: it keeps its bundle, says
    so in plain words, and the revoked certificate stays revoked."""
    clock.now = china("2026-11-29 09:36")
    kept = _issue(svc, ORG_CODE, 1)
    cert = _issued(svc, ORG_CODE, 2)
    clock.now = china("2026-11-29 09:38")
    phone.clock.set_fixed_time(clock.now)
    _, block = _scan_offline(phone, server, cert["qr_text"])
    assert block.get_attribute("class") == "verdict valid"
    stored = "() => [localStorage.getItem('issuer-trust-bundle'), localStorage.getItem('issuer-trust-bundle-at')]"
    before_revocation = phone.evaluate(stored)[0]

    svc.revoking.revoke(issuer_principal(svc), cert["number"], reason="fraud")
    clock.advance(hours=25)
    phone.clock.set_fixed_time(clock.now)
    _, block = _scan_offline(phone, server, cert["qr_text"])
    assert block.get_attribute("class") == "verdict revoked"
    assert "先前获取" not in block.inner_text()
    cached = phone.evaluate(stored)

    clock.advance(hours=25)  # the cached bundle is fetched again, and the older one comes back
    phone.clock.set_fixed_time(clock.now)
    served: list[str] = []

    def replay(route: Any) -> None:
        served.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=before_revocation)

    phone.route("**/api/v1/trust-bundle", replay)
    _, block = _scan_offline(phone, server, cert["qr_text"])
    assert served
    assert block.get_attribute("class") == "verdict revoked"
    text = block.inner_text()
    assert "本设备继续使用先前获取的信任数据，未采用刚下载的信任包：它的清单缺失或比本机的旧。" in text, text
    assert "信任包获取于2026年11月30日 10:38" in text  # the bundle it kept
    assert "更新" not in text
    assert phone.evaluate(stored) == cached
    _, block = _scan_offline(phone, server, kept)
    assert block.get_attribute("class") == "verdict valid"
    _, block = _scan_offline(phone, server, cert["qr_text"], lang="en")
    text = block.inner_text()
    assert "This device kept its earlier trust data and did not take the bundle it just downloaded" in text
    assert "update" not in text.lower(), text
    assert phone.evaluate(stored) == cached

    assert svc.publishing.refresh()  # the schedule signs the day-old status lists again
    phone.unroute("**/api/v1/trust-bundle")  # the service's own bundle is newer: it replaces the cached one
    _, block = _scan_offline(phone, server, cert["qr_text"])
    assert block.get_attribute("class") == "verdict revoked"
    assert "先前获取" not in block.inner_text()
    assert phone.evaluate(stored)[0] != cached[0]


def test_without_javascript_the_page_gives_the_servers_verdict_and_hides_the_offline_check(
    server: str, svc: UseCases, clock: Clock, browser: Any
) -> None:
    clock.now = china("2026-11-29 09:36")
    qr_text = _issue(svc, ORG_CODE, 1)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/V/" + qr_text.split("/V/", 1)[1])
    assert page.locator("section.verdict").get_attribute("class") == "verdict valid"
    assert page.locator("#offline").is_hidden()
    context.close()
