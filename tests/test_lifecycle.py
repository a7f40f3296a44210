"""Verdicts that stay right over an organization's whole life.

For each lifecycle event (suspension, cancellation, scope change, key rotation, key
compromise, end of registration), end to end through the service: a certificate issued
before the event — the same day, a minute before — verifies ``valid``; a credential issued
after it is ``not_valid`` with the reason; another organization is untouched. Each verdict
is read four ways: the offline verifier on a freshly downloaded bundle (``issuer verify``),
``POST /api/v1/verify``, the scan page, and (tests/browser) the in-browser check."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from issuer.cli import main
from issuer.core import identity, qrtext
from issuer.core.clock import china_date
from issuer.core.credential import Credential
from issuer.core.numbering import CertificateNumber
from issuer.service import registry
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests import factories as f
from tests.conftest import ELECTRICIAN, ORG_CODE, Clock, Keys, auth

EXPIRING = "S000037000004"


def _issue(client: FlaskClient, key: str, person: int) -> dict[str, Any]:
    response = client.post("/api/v1/certificates", json=f.issue_body(person), headers=auth(key))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _active_kid(svc: UseCases, code: str) -> str:
    org = svc.registry.read(OPERATOR, code)
    return next(k.kid for k in org.keys if k.status == "active")


def _signed_directly(svc: UseCases, code: str, kid: str, clock: Clock, serial: int) -> str:
    """A credential signed with the organization's own key, issued now, outside the
    service's checks: what a stolen key or a rogue copy of the software would produce."""
    signer = svc.keystore.signer(code, bytes.fromhex(kid))
    now = clock.now.replace(microsecond=0)
    credential = Credential(
        number=CertificateNumber.parse(f"{code}263{serial:06d}"),
        holder_name="钱七",
        document_type=1,
        document_commitment=identity.commit(f.id_number(9000 + serial)),
        occupation=ELECTRICIAN,
        level=3,
        issue_date=china_date(now),
        issued_at=now,
        status_index=4242 + serial,
    )
    return qrtext.encode(signer.sign(credential), svc.ctx.qr_host)


@dataclass
class Timeline:
    before: str
    """QR text of a certificate issued a minute before the event, the same day."""
    after: str
    """QR text of a credential issued after the event."""
    other: str
    """QR text of another organization's certificate."""


def _suspend(svc: UseCases, clock: Clock, keys: Keys, client: FlaskClient) -> str:
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="责令整改")
    clock.advance(minutes=1)
    return _signed_directly(svc, ORG_CODE, _active_kid(svc, ORG_CODE), clock, 901)


def _cancel(svc: UseCases, clock: Clock, keys: Keys, client: FlaskClient) -> str:
    svc.registry.change_status(OPERATOR, ORG_CODE, "cancelled", since=None, note="注销备案")
    clock.advance(minutes=1)
    return _signed_directly(svc, ORG_CODE, _active_kid(svc, ORG_CODE), clock, 902)


def _rescope(svc: UseCases, clock: Clock, keys: Keys, client: FlaskClient) -> str:
    svc.registry.set_scope(OPERATOR, ORG_CODE, [registry.ScopeItem("6-18-02-04", (5, 4, 3))], effective=None)
    clock.advance(minutes=1)
    return _signed_directly(svc, ORG_CODE, _active_kid(svc, ORG_CODE), clock, 903)


def _rotate(svc: UseCases, clock: Clock, keys: Keys, client: FlaskClient) -> str:
    old = _active_kid(svc, ORG_CODE)
    svc.registry.rotate_key(OPERATOR, ORG_CODE)
    clock.advance(minutes=1)
    return _signed_directly(svc, ORG_CODE, old, clock, 904)


def _compromise(svc: UseCases, clock: Clock, keys: Keys, client: FlaskClient) -> str:
    """Reported at 09:40 as compromised since 09:37; the service issued at 09:38 meanwhile."""
    kid = _active_kid(svc, ORG_CODE)
    compromised_at = clock.now
    clock.advance(minutes=1)
    issued_meanwhile = _issue(client, keys.issuer, 77)["qr_text"]
    clock.advance(minutes=2)
    svc.registry.compromise_key(OPERATOR, ORG_CODE, kid, compromised_at=compromised_at)
    return str(issued_meanwhile)


EVENTS: dict[str, tuple[Callable[[UseCases, Clock, Keys, FlaskClient], str], str, str]] = {
    # event: (what happens at 09:37 and what comes after it, failed check, reason)
    "suspended": (_suspend, "registration", "organization_suspended"),
    "cancelled": (_cancel, "registration", "organization_cancelled"),
    "re-scoped": (_rescope, "scope", "out_of_scope"),
    "key retired": (_rotate, "key_status", "key_retired"),
    "key compromised": (_compromise, "key_status", "key_compromised"),
}
HEADLINES = {
    "organization_suspended": "证书无效：发证时机构已被暂停评价",
    "organization_cancelled": "证书无效：发证时机构已被撤销备案",
    "out_of_scope": "证书无效：发证机构无权评价该职业（工种）等级",
    "key_retired": "证书无效：签名密钥在发证时已停用",
    "key_compromised": "证书无效：发证机构的签名密钥已注销",
    "not_registered": "证书无效：发证机构在发证日期未获备案",
}


@pytest.fixture(params=list(EVENTS))
def event(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _timeline(event: str, svc: UseCases, clock: Clock, keys: Keys, client: FlaskClient) -> Timeline:
    clock.now = f.china("2026-11-29 09:36")
    before = _issue(client, keys.issuer, 1)["qr_text"]
    other = _issue(client, keys.other_issuer, 2)["qr_text"]
    clock.now = f.china("2026-11-29 09:37")
    act, _, _ = EVENTS[event]
    after = act(svc, clock, keys, client)
    clock.advance(minutes=5)
    return Timeline(before, after, other)


# --- the four readings of one verdict ------------------------------------------------------------


def _offline(client: FlaskClient, tmp_path: Path, clock: Clock, qr: str) -> tuple[int, dict[str, Any]]:
    """``issuer verify`` with the bundle the service serves now."""
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(client.get("/api/v1/trust-bundle").get_json()), encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", qr, "--trust", str(bundle), "--at", clock.now.isoformat(), "--json"])
    return result.exit_code, json.loads(result.stdout)


def _api(client: FlaskClient, qr: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"qr_text": qr})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _page(client: FlaskClient, qr: str) -> str:
    response = client.get("/V/" + qr.split("/V/")[1])
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _assert_valid(client: FlaskClient, tmp_path: Path, clock: Clock, qr: str) -> None:
    code, verdict = _offline(client, tmp_path, clock, qr)
    assert (code, verdict["status"]) == (0, "valid"), verdict
    assert _api(client, qr)["status"] == "valid"
    assert "<h1>证书有效</h1>" in _page(client, qr)


def _assert_not_valid(
    client: FlaskClient, tmp_path: Path, clock: Clock, qr: str, check: str, reason: str, headline: str
) -> None:
    code, verdict = _offline(client, tmp_path, clock, qr)
    assert (code, verdict["status"], verdict["failed_check"], verdict["reason"]) == (1, "not_valid", check, reason)
    answer = _api(client, qr)
    assert (answer["status"], answer["failed_check"], answer["reason"]) == ("not_valid", check, reason)
    assert answer["explanation"]["headline_zh"] == headline
    page = _page(client, qr)
    assert f"<h1>{headline}</h1>" in page and "可能被篡改或伪造" not in page


def test_before_an_event_valid_after_it_not_valid_with_the_reason_and_others_untouched(
    event: str, app: Any, client: FlaskClient, svc: UseCases, clock: Clock, keys: Keys, tmp_path: Path
) -> None:
    timeline = _timeline(event, svc, clock, keys, client)
    _, check, reason = EVENTS[event]
    _assert_valid(client, tmp_path, clock, timeline.before)
    _assert_valid(client, tmp_path, clock, timeline.other)
    _assert_not_valid(client, tmp_path, clock, timeline.after, check, reason, HEADLINES[reason])


def test_a_registration_that_ended_leaves_its_certificates_valid_and_refuses_later_ones(
    app: Any, client: FlaskClient, svc: UseCases, clock: Clock, keys: Keys, tmp_path: Path
) -> None:
    clock.now = f.china("2026-11-29 23:50")
    from tests.conftest import register

    register(svc, EXPIRING, "山东某某技工学校", until=date(2026, 11, 29))
    key = svc.api_keys.create(OPERATOR, role="org_issuer", name="山东", organization=EXPIRING).secret
    clock.now = f.china("2026-11-29 23:59")
    last_minute = _issue(client, key, 3)["qr_text"]
    other = _issue(client, keys.other_issuer, 4)["qr_text"]
    clock.now = f.china("2026-11-30 00:00:01")
    refused = client.post("/api/v1/certificates", json=f.issue_body(5), headers=auth(key))
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_registered"
    after = _signed_directly(svc, EXPIRING, _active_kid(svc, EXPIRING), clock, 905)
    clock.now = f.china("2026-12-01 10:00")
    assert EXPIRING in svc.publishing.refresh()  # the schedule: a day on, the authority signs its list
    _assert_valid(client, tmp_path, clock, last_minute)
    _assert_valid(client, tmp_path, clock, other)
    _assert_not_valid(
        client, tmp_path, clock, after, "certificate_chain", "certificate_not_valid_then", HEADLINES["not_registered"]
    )
    status_list = client.get(f"/api/v1/status-lists/{EXPIRING}").get_json()
    assert status_list["organization"] == EXPIRING and status_list["issued_at"].startswith("2026-12-01")


def test_the_development_clock_can_be_set_by_the_authority(tmp_path: Path, database_url: str, keys_dir: Path) -> None:
    from issuer.app import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keys_dir),
            "KEY_PASSPHRASE": "test-passphrase",
            "BATCH_DIR": str(tmp_path / "batches"),
            "CLOCK": "2026-12-01T09:36:00+08:00",
        }
    )
    try:
        svc: UseCases = app.extensions["issuer.use_cases"]
        assert abs((svc.ctx.clock() - f.china("2026-12-01 09:36")).total_seconds()) < 5
        admin = svc.api_keys.create(OPERATOR, role="authority_admin", name="开发").secret
        client = app.test_client()
        moved = client.put("/api/v1/dev/clock", json={"now": "2026-12-01T09:38:00+08:00"}, headers=auth(admin))
        assert moved.status_code == 200 and moved.get_json()["now"].startswith("2026-12-01T01:38")
        assert abs((svc.ctx.clock() - f.china("2026-12-01 09:38")).total_seconds()) < 5
    finally:
        app.extensions["issuer.use_cases"].close()


def test_a_settable_clock_is_refused_outside_development() -> None:
    from issuer import config

    settings = {**config.DEFAULTS, "ENV": "production", "CLOCK": "2026-12-01"}
    settings.update(KEY_PASSPHRASE="p" * 20, SECRET_KEY="s" * 20, DATA_KEY="A" * 43 + "=")
    with pytest.raises(config.ConfigError):
        config.check(settings)
