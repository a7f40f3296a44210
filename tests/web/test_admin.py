"""The authority administrator's console pages: API keys (created and shown once, listed,
revoked after a confirmation) and console accounts (created, disabled after a
confirmation, enabled, given a new password), each effective at once."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer.service.wiring import UseCases
from tests.builders import issue_request
from tests.conftest import ORG_CODE, OTHER_CODE, Clock, Keys, auth, issuer_principal
from tests.factories import id_number
from tests.web.test_console import PASSWORD, account, html, post_form, sign_in


@pytest.fixture()
def admin(app: Flask, keys: Keys, svc: UseCases, client: FlaskClient) -> FlaskClient:
    account(svc, "admin1", role="authority_admin")
    assert sign_in(client, "admin1").status_code == 302
    return client


def test_a_new_api_key_is_shown_once_works_at_once_and_is_revoked_after_confirming(
    app: Flask, admin: FlaskClient
) -> None:
    form = {"role": "org_issuer", "name": "考务系统", "organization": ORG_CODE}
    created = post_form(admin, "/console/api-keys", "/console/api-keys", form)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-key-secret">([^<]+)<', html(created))
    assert secret is not None and "只显示这一次" in html(created)
    api = app.test_client()
    assert api.get("/api/v1/certificates", headers=auth(secret.group(1))).status_code == 200
    listing = html(admin.get("/console/api-keys"))
    key_id = secret.group(1).split("_")[1]
    assert "考务系统" in listing and key_id in listing and secret.group(1) not in listing
    path = f"/console/api-keys/{key_id}/revoke"
    asked = post_form(admin, "/console/api-keys", path, {})
    assert 'id="confirm-button"' in html(asked) and "考务系统" in html(asked)
    assert api.get("/api/v1/certificates", headers=auth(secret.group(1))).status_code == 200, "not yet revoked"
    done = post_form(admin, "/console/api-keys", path, {"confirm": "1"})
    assert done.status_code == 302 and f"密钥{key_id}已吊销" in html(admin.get(done.location))
    assert api.get("/api/v1/certificates", headers=auth(secret.group(1))).status_code == 401


def test_a_key_of_the_wrong_shape_is_a_problem_on_the_page(admin: FlaskClient) -> None:
    refused = post_form(admin, "/console/api-keys", "/console/api-keys", {"role": "org_issuer", "name": "无机构"})
    assert refused.status_code == 422 and "发证人员密钥必须指定机构" in html(refused)
    assert 'id="new-key-secret"' not in html(refused)


def test_an_administrator_creates_disables_enables_and_resets_an_account(
    app: Flask, admin: FlaskClient, svc: UseCases
) -> None:
    form = {
        "username": "wang",
        "display_name": "王发证",
        "role": "org_issuer",
        "organization": ORG_CODE,
        "password": PASSWORD,
    }
    assert post_form(admin, "/console/accounts", "/console/accounts", form).status_code == 302
    row = re.search(r'<tr id="account-wang">(.*?)</tr>', html(admin.get("/console/accounts")), re.S)
    assert row is not None and "王发证" in row.group(1) and "正常" in row.group(1)
    person = app.test_client()
    assert sign_in(person, "wang").status_code == 302
    asked = post_form(admin, "/console/accounts", "/console/accounts/wang/disable", {})
    assert 'id="confirm-button"' in html(asked) and "立即退出" in html(asked)
    assert person.get("/console/certificates").status_code == 200, "not yet disabled"
    post_form(admin, "/console/accounts", "/console/accounts/wang/disable", {"confirm": "1"})
    assert person.get("/console/certificates").status_code == 302  # signed out
    assert sign_in(app.test_client(), "wang").status_code == 401
    post_form(admin, "/console/accounts", "/console/accounts/wang/enable", {})
    assert sign_in(app.test_client(), "wang").status_code == 302
    post_form(admin, "/console/accounts", "/console/accounts/wang/reset", {"password": "another-password-9"})
    assert sign_in(app.test_client(), "wang").status_code == 401
    assert sign_in(app.test_client(), "wang", "another-password-9").status_code == 302


def test_an_issuer_cannot_open_the_administrators_pages(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    account(svc, "issuer1")
    sign_in(client, "issuer1")
    for path in ("/console/api-keys", "/console/accounts"):
        assert client.get(path).status_code == 403, path


def test_statistics_per_month_organization_occupation_and_level(
    admin: FlaskClient, svc: UseCases, clock: Clock
) -> None:
    svc.issuing.issue(issuer_principal(svc), issue_request())
    second = svc.issuing.issue(issuer_principal(svc), issue_request(document_number=id_number(4), level=4))[0]
    svc.revoking.revoke(issuer_principal(svc), second.number, reason="data_error")
    clock.advance(days=5)  # into December
    svc.issuing.issue(issuer_principal(svc, OTHER_CODE), issue_request())
    sign_in(admin, "admin1")  # the session of five days ago has ended
    page = html(admin.get("/console/statistics"))
    chart = page[page.index('id="per-month"') : page.index('id="per-organization"')]
    assert re.findall(r'<span class="bar-label">([0-9-]+)</span><progress class="bar" max="2" value="(\d)"', chart) == [
        ("2026-11", "2"),
        ("2026-12", "1"),
    ]
    assert "（已撤销1）" in chart
    organizations = page[page.index('id="per-organization"') : page.index('id="per-occupation"')]
    assert f"（{ORG_CODE}）</td><td>2</td><td>1</td>" in organizations
    assert f"（{OTHER_CODE}）</td><td>1</td><td>0</td>" in organizations
    occupations = page[page.index('id="per-occupation"') :]
    assert "<td>电工（6-31-01-03）</td><td>三级/高级工</td><td>2</td><td>0</td>" in occupations
    assert "<td>电工（6-31-01-03）</td><td>四级/中级工</td><td>1</td><td>1</td>" in occupations
    assert "11010519491231002X" not in page and "张三丰" not in page  # counts only


def test_the_audit_trail_page_shows_the_events_and_that_the_chain_holds(
    admin: FlaskClient, svc: UseCases
) -> None:
    account(svc, "zhao")
    page = html(admin.get("/console/audit"))
    assert 'id="audit-intact"' in page
    assert re.search(r"<td><code>account.create</code></td><td>zhao</td>", page)
