"""The authority administrator's console pages: organizations (registered through a form,
their scope edited as rows picked from the occupation catalogue, their certificates'
appearance chosen after a sample), API keys (created and shown once, listed, revoked after a
confirmation) and console accounts (created, disabled after a confirmation, enabled, given a
new password), each effective at once."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from issuer.core.clock import CST
from issuer.render.samples import placeholder_seal
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.builders import issue_request
from tests.conftest import ORG_CODE, OTHER_CODE, WELDER, Clock, Keys, auth, issuer_principal
from tests.factories import id_number
from tests.web.test_console import PASSWORD, SAME_SITE, account, csrf_of, html, post_form, sign_in


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


def test_the_audit_trail_page_shows_the_events_and_that_the_chain_holds(admin: FlaskClient, svc: UseCases) -> None:
    account(svc, "zhao")
    page = html(admin.get("/console/audit"))
    assert 'id="audit-intact"' in page
    assert re.search(r"<td><code>account.create</code></td><td>zhao</td>", page)


# --- organizations ------------------------------------------------------------------------------

NEW = "/console/organizations/new"
SAVE = {"action": "save"}
NEW_CODE = "S000044000003"
HOUSEKEEPING = "4-10-01-06"  # 家政服务员: 工种 of levels 5-3, and 二级 without one
REGISTRATION = {
    "kind": "S",
    "authority_code": "0000",
    "province": "44",
    "site_code": "000003",
    "name": "广州某某职业培训学校",
    "registered_from": "2026-11-01",
    "registered_until": "2029-12-31",
}


def row(index: int, occupation: str, levels: tuple[int, ...] = (), work_types: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row of the scope editor as the browser sends it."""
    return {
        "row": index,
        f"occupation-{index}": occupation,
        f"level-{index}": [str(lv) for lv in levels],
        f"work_type-{index}": list(work_types),
    }


def rows(*each: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {"row": []}
    for r in each:
        merged = {**r, **merged, "row": [*merged["row"], r["row"]]}
    return merged


def in_force(svc: UseCases, code: str) -> list[tuple[str, tuple[int, ...], tuple[str, ...]]]:
    org = svc.registry.read(OPERATOR, code)
    return sorted((s.occupation, s.levels, s.work_types) for s in org.scope if s.valid_until is None)


def test_an_administrator_registers_an_organization_through_the_form(admin: FlaskClient, svc: UseCases) -> None:
    page = html(admin.get(NEW))
    assert 'value="2026-11-29"' in page, "registered from today (China) unless changed"
    found = html(post_form(admin, NEW, NEW, {**REGISTRATION, "q": "焊", "action": "find"}))
    assert re.search(r'<option value="6-18-02-04"( selected)?>焊工（6-18-02-04）</option>', found)
    assert 'value="广州某某职业培训学校"' in found, "what was typed is kept"
    added = html(post_form(admin, NEW, NEW, {**REGISTRATION, "add": WELDER, "action": "add"}))
    assert 'name="occupation-0" value="6-18-02-04"' in added
    assert 'name="level-0" value="1">一级/高级技师' in added, "the levels of its standard, as boxes"
    assert 'value="气焊工">气焊工（五级至三级）' in added, "its 工种 from the catalogue, with their levels"
    assert 'name="typed-0"' not in added, "no 工种 typed where the catalogue lists them"
    form = {**REGISTRATION, **rows(row(0, WELDER, (5, 4), ("电焊工",)), row(1, HOUSEKEEPING, (4, 2), ("母婴护理员",)))}
    done = post_form(admin, NEW, NEW, {**form, "action": "save"})
    assert done.status_code == 302 and done.location == f"/console/organizations/{NEW_CODE}"
    shown = html(admin.get(done.location))
    assert f"已备案：广州某某职业培训学校（{NEW_CODE}）" in shown and 'id="org-status">正常' in shown
    assert "社会培训评价组织" in shown and "电焊工" in shown
    assert in_force(svc, NEW_CODE) == [
        (HOUSEKEEPING, (2,), ()),  # 二级 不分工种: an entry of its own
        (HOUSEKEEPING, (4,), ("母婴护理员",)),
        (WELDER, (5, 4), ("电焊工",)),
    ]
    assert svc.registry.read(OPERATOR, NEW_CODE).active_key is not None, "its signing key is certified"


def test_bad_registration_input_is_422_with_each_problem_beside_its_field_and_stores_nothing(
    admin: FlaskClient, svc: UseCases
) -> None:
    before = [o.code for o in svc.registry.list(OPERATOR)]
    bad = {**REGISTRATION, "kind": "", "authority_code": "12a", "site_code": "", "name": "", "registered_from": "x"}
    form = {**bad, **rows(row(0, WELDER), row(1, "4-14-02-02", (5, 3)))}  # no level; 健康管理师 has no 五级
    refused = post_form(admin, NEW, NEW, {**form, "action": "save"})
    assert refused.status_code == 422
    page = html(refused)
    problems = dict(re.findall(r'id="error-([a-z_0-9-]+)">([^<]+)<', page))
    assert set(problems) == {"kind", "authority_code", "site_code", "name", "registered_from", "row-0", "row-1"}
    assert problems["authority_code"] == "应为4位数字" and problems["site_code"] == "必填"
    assert problems["row-0"] == "备案范围每项至少包含一个等级"
    assert problems["row-1"] == "健康管理师的国家职业技能标准中没有五级/初级工"
    assert 'value="12a"' in page, "what was typed is kept"
    empty = post_form(admin, NEW, NEW, {**REGISTRATION, "action": "save"})
    assert empty.status_code == 422 and 'id="error-scope"' in html(empty)
    one_row = rows(row(0, WELDER, (5,)))
    backwards = post_form(admin, NEW, NEW, {**REGISTRATION, **one_row, "registered_until": "2026-01-01"} | SAVE)
    assert backwards.status_code == 422 and "备案有效期结束早于开始" in html(backwards)
    taken = {"kind": "Y", "authority_code": ORG_CODE[1:5], "province": ORG_CODE[5:7], "site_code": ORG_CODE[7:]}
    again = post_form(admin, NEW, NEW, {**REGISTRATION, **one_row, **taken, **SAVE})
    assert again.status_code == 422 and f'id="error-code">机构{ORG_CODE}已备案' in html(again)
    assert [o.code for o in svc.registry.list(OPERATOR)] == before


def test_the_scope_editor_saves_the_levels_and_work_types_chosen(admin: FlaskClient, svc: UseCases) -> None:
    url = f"/console/organizations/{ORG_CODE}/scope"
    before = in_force(svc, ORG_CODE)
    page = html(admin.get(url))
    welder = page[page.index('name="occupation-0" value="6-18-02-04"') : page.index('id="remove-row-0"')]
    assert re.findall(r'name="level-0" value="(\d)" checked', welder) == ["5", "4", "3"]
    assert re.findall(r'name="work_type-0" value="([^"]+)" checked', welder) == ["电焊工", "气焊工"]
    assert 'name="work_type-0" value="钎焊工">' in welder, "the catalogue's other 工种, not ticked"
    assert 'name="typed-1"' in page and 'name="typed-0"' not in page, "电工: no 工种 listed, so they are typed"
    form = rows(row(0, WELDER, (4, 3), ("钎焊工",)), row(1, "6-31-01-03", (5, 4, 3)))
    dropped = html(post_form(admin, url, url, {**form, "remove": "1"}))
    assert 'name="occupation-0" value="6-18-02-04"' in dropped and "6-31-01-03" not in dropped.split("scope-rows")[1]
    assert in_force(svc, ORG_CODE) == before, "nothing saved yet"
    refused = post_form(admin, url, url, {**form, "effective": "tomorrow", "action": "save"})
    assert refused.status_code == 422 and 'id="error-effective">生效时间无法识别' in html(refused)
    saved = post_form(admin, url, url, {**form, "typed-1": "维修电工、 安装电工", "action": "save"})
    assert saved.status_code == 302 and "已保存" in html(admin.get(saved.location))
    assert in_force(svc, ORG_CODE) == [
        ("6-18-02-04", (4, 3), ("钎焊工",)),
        ("6-31-01-03", (5, 4, 3), ("维修电工", "安装电工")),
    ]
    wrong = post_form(admin, url, url, {**rows(row(0, WELDER, (2,), ("气焊工",))), "action": "save"})
    assert wrong.status_code == 422 and "气焊工没有二级/技师" in html(wrong)
    assert in_force(svc, ORG_CODE)[0] == ("6-18-02-04", (4, 3), ("钎焊工",))


def test_the_occupation_search_answers_a_few_matches_as_json(admin: FlaskClient) -> None:
    welder = admin.get("/console/occupations?q=焊").get_json()
    assert welder["query"] == "焊" and not welder["more"]
    found = {o["code"]: o for o in welder["occupations"]}
    assert found[WELDER]["name"] == "焊工"
    assert {"name": "气焊工", "levels": [5, 4, 3]} in found[WELDER]["work_types"]
    by_code = admin.get("/console/occupations?q=6-31-01-03").get_json()["occupations"]
    assert [o["code"] for o in by_code] == ["6-31-01-03"] and by_code[0]["levels"] == [5, 4, 3, 2, 1]
    many = admin.get("/console/occupations?q=工").get_json()
    assert len(many["occupations"]) == 20 and many["more"]
    licensed = admin.get("/console/occupations?q=4-07-05-03").get_json()
    assert licensed["occupations"] == [], "消防设施操作员 is a licensing qualification: no scope may name it"
    assert admin.get("/console/occupations?q=").get_json()["occupations"] == []


def _preview(admin: FlaskClient, url: str, **files: Any) -> Image.Image:
    sent = {what: (io.BytesIO(data), f"{what}.png") for what, data in files.items()}
    response = post_form(admin, url, url, {"layout": "portrait", "action": "preview", **sent})
    assert response.status_code == 200, html(response)
    found = re.search(r'id="appearance-preview-image" src="data:image/png;base64,([^"]+)"', html(response))
    assert found, "no preview image"
    image = Image.open(io.BytesIO(base64.b64decode(found.group(1))))
    assert image.format == "PNG"
    image.load()
    return image


def test_a_seal_is_previewed_on_a_sample_certificate_then_saved(admin: FlaskClient, svc: UseCases) -> None:
    url = f"/console/organizations/{ORG_CODE}/appearance"
    plain = _preview(admin, url)
    seal = placeholder_seal("广州某某职业培训学校")
    sealed = _preview(admin, url, seal=seal)
    assert sealed.size == plain.size and sealed.width > 1000
    assert ImageChops.difference(plain.convert("RGB"), sealed.convert("RGB")).getbbox() is not None
    assert not svc.registry.read(OPERATOR, ORG_CODE).has_seal, "a preview stores nothing"
    page = html(
        post_form(admin, url, url, {"layout": "landscape", "action": "preview", "seal": (io.BytesIO(seal), "s.png")})
    )
    kept = re.search(r'name="kept_seal" value="([^"]+)"', page)
    assert kept and base64.b64decode(kept.group(1)) == seal, "the seal chosen is carried for saving"
    saved = post_form(admin, url, url, {"layout": "landscape", "kept_seal": kept.group(1), "action": "save"})
    assert saved.status_code == 302 and "证书外观已保存" in html(admin.get(saved.location))
    org = svc.registry.read(OPERATOR, ORG_CODE)
    assert org.layout == "landscape" and org.has_seal and not org.has_logo
    assert svc.registry.appearance(OPERATOR, ORG_CODE).seal == seal
    post_form(admin, url, url, {"layout": "landscape", "remove_seal": "1", "action": "save"})
    assert not svc.registry.read(OPERATOR, ORG_CODE).has_seal


def post_multipart(client: FlaskClient, source: str, path: str, data: dict[str, Any]) -> Any:
    """``post_form`` with files, encoded in memory: the test client would spool a body over
    500 KB to a file it never closes."""
    boundary, body = encode_multipart({"csrf": csrf_of(html(client.get(source))), **data})
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=SAME_SITE)


def test_images_that_cannot_be_used_are_problems_beside_their_fields_never_a_500(
    admin: FlaskClient, svc: UseCases
) -> None:
    url = f"/console/organizations/{ORG_CODE}/appearance"
    gif = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(gif, "GIF")
    huge = io.BytesIO()
    Image.effect_noise((1200, 1200), 80).convert("RGB").save(huge, "PNG")  # noise: over 1 MB
    big = huge.getvalue() * 2  # over 2 MB (its tail ignored by decoders, but the size counts)

    def sent() -> dict[str, Any]:
        return {
            "layout": "portrait",
            "seal": FileStorage(io.BytesIO(gif.getvalue()), "seal.gif"),
            "logo": FileStorage(io.BytesIO(b"not an image"), "logo.png"),
            "background": FileStorage(io.BytesIO(big), "background.png"),
            "action": "save",
        }

    refused = post_multipart(admin, url, url, sent())
    assert refused.status_code == 422
    problems = dict(re.findall(r'id="error-([a-z_]+)">([^<]+)<', html(refused)))
    assert problems["seal"] == "印章应为JPEG或PNG格式，实为GIF"
    assert problems["logo"] == "标志无法读取：不是JPEG或PNG图片，或文件已损坏"
    assert problems["background"].startswith("背景图文件过大") and "最大2048KB" in problems["background"]
    assert "kept_" not in html(refused), "an image refused is not carried"
    english = post_multipart(admin, url + "?lang=en", url, sent())
    assert "the seal must be a JPEG or PNG, got GIF" in html(english)
    unknown = post_form(admin, url, url, {"layout": "../portrait", "action": "preview"})
    assert unknown.status_code == 422 and 'id="error-layout"' in html(unknown)
    org = svc.registry.read(OPERATOR, ORG_CODE)
    assert (org.layout, org.has_seal, org.has_logo, org.has_background) == ("portrait", False, False, False)


def test_an_issuer_cannot_open_the_organization_pages(keys: Keys, svc: UseCases, client: FlaskClient) -> None:
    account(svc, "issuer1")
    sign_in(client, "issuer1")
    token = csrf_of(html(client.get("/console/password")))
    for path in (
        "/console/organizations",
        NEW,
        f"/console/organizations/{ORG_CODE}",
        f"/console/organizations/{ORG_CODE}/scope",
        f"/console/organizations/{ORG_CODE}/appearance",
        "/console/occupations?q=焊",
    ):
        assert client.get(path).status_code == 403, path
    for path in (NEW, f"/console/organizations/{ORG_CODE}/scope", f"/console/organizations/{ORG_CODE}/appearance"):
        sent = {"csrf": token, "action": "save", **REGISTRATION, **rows(row(0, WELDER, (5,)))}
        assert client.post(path, data=sent, headers=SAME_SITE).status_code == 403, path
    assert sorted(o.code for o in svc.registry.list(OPERATOR)) == sorted([ORG_CODE, OTHER_CODE])


def test_the_administrators_forms_need_this_sessions_token(admin: FlaskClient, svc: UseCases) -> None:
    form = {**REGISTRATION, **rows(row(0, WELDER, (5,))), "action": "save"}
    assert admin.post(NEW, data=form, headers=SAME_SITE).status_code == 403
    assert admin.post(NEW, data={**form, "csrf": "令牌" * 20}, headers=SAME_SITE).status_code == 403
    assert not svc.registry.exists(NEW_CODE)
    assert post_form(admin, NEW, NEW, form).status_code == 302


def test_an_administrator_rotates_a_key_and_revokes_one_as_compromised_after_confirming(
    admin: FlaskClient, svc: UseCases, clock: Clock
) -> None:
    page = f"/console/organizations/{ORG_CODE}"
    [first] = svc.registry.read(OPERATOR, ORG_CODE).keys
    asked = post_form(admin, page, f"{page}/keys", {"action": "rotate"})
    assert asked.status_code == 200 and 'id="confirm-button"' in html(asked)
    assert len(svc.registry.read(OPERATOR, ORG_CODE).keys) == 1, "nothing changes before the confirmation"
    done = post_form(admin, page, f"{page}/keys", {"action": "rotate", "confirm": "1"})
    assert done.status_code == 302
    keys = {k.kid: k.status for k in svc.registry.read(OPERATOR, ORG_CODE).keys}
    assert keys[first.kid] == "retired" and list(keys.values()).count("active") == 1
    shown = html(admin.get(page))
    assert f'id="key-{first.kid}"' in shown and "已停用" in shown
    clock.advance(seconds=60)
    form = {"action": "compromise", "kid": first.kid, "since": "2026-11-29 10:00"}
    asked = post_form(admin, page, f"{page}/keys", form)
    assert first.kid in html(asked) and "2026年11月29日 10:00" in html(asked)
    post_form(admin, page, f"{page}/keys", {**form, "confirm": "1"})
    revoked = next(k for k in svc.registry.read(OPERATOR, ORG_CODE).keys if k.kid == first.kid)
    assert revoked.status == "compromised" and revoked.compromised_at is not None
    assert revoked.compromised_at.astimezone(CST).strftime("%Y-%m-%d %H:%M") == "2026-11-29 10:00"
    again = post_form(admin, page, f"{page}/keys", {**form, "confirm": "1"})
    assert again.status_code == 302
    assert "已注销" in html(admin.get(page))


def test_a_future_compromise_time_is_refused_and_changes_nothing(admin: FlaskClient, svc: UseCases) -> None:
    page = f"/console/organizations/{ORG_CODE}"
    [key] = svc.registry.read(OPERATOR, ORG_CODE).keys
    form = {"action": "compromise", "kid": key.kid, "since": "2030-01-01 00:00", "confirm": "1"}
    response = post_form(admin, page, f"{page}/keys", form)
    assert response.status_code == 302
    assert "泄露时间不能晚于当前时间" in html(admin.get(page))
    assert svc.registry.read(OPERATOR, ORG_CODE).keys[0].status == "active"
