"""Assessment methods, occupation editions, licensing occupations and the photo over HTTP:
what ``POST /api/v1/certificates`` answers (the certificate with its method and results, or
422 with the code in Chinese and English), and what the credential carries."""

from __future__ import annotations

import base64
import io
from typing import Any

import cbor2
import pytest
from flask.testing import FlaskClient
from PIL import Image

from issuer.core import cose, qrtext
from issuer.core.credential import K_METHOD, K_VERSION, decode_payload
from tests.conftest import ELECTRICIAN, Keys, auth
from tests.factories import issue_body

TODAY = "2026-11-29"
"""The China date of the test clock."""


def issue(client: FlaskClient, keys: Keys, person: int = 1, **changes: Any) -> Any:
    return client.post("/api/v1/certificates", json=issue_body(person, **changes), headers=auth(keys.issuer))


def refused(client: FlaskClient, keys: Keys, code: str, **changes: Any) -> dict[str, Any]:
    response = issue(client, keys, **changes)
    body: dict[str, Any] = response.get_json()
    assert (response.status_code, body["code"]) == (422, code), body
    return body


def claims(body: dict[str, Any]) -> dict[int, Any]:
    """The credential's claims as signed (and as a valid credential)."""
    payload = cose.parse(qrtext.decode(body["qr_text"])).payload
    decode_payload(payload)
    decoded: dict[int, Any] = cbor2.loads(payload)
    return decoded


# --- methods -------------------------------------------------------------------------------


def test_an_exam_certificate_keeps_each_component_s_date_and_stays_a_version_2_credential(
    client: FlaskClient, keys: Keys
) -> None:
    response = issue(client, keys, scores={"theory": 82, "practical": 75}, passed_on={"theory": "2026-05-20"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["method"] == {"key": "exam", "code": 1, "name": "考试考核", "name_en": "examination"}
    assert [(r["component"], r["name"], r["passed_on"]) for r in body["results"]] == [
        ("theory", "理论知识考试", "2026-05-20"),
        ("practical", "技能操作考核", TODAY),
    ]
    found = claims(body)
    assert found[K_VERSION] == 2 and K_METHOD not in found


def test_a_competition_winner_is_issued_the_level_the_tier_grants_and_the_credential_says_so(
    client: FlaskClient, keys: Keys
) -> None:
    response = issue(
        client,
        keys,
        level=2,
        method="competition",
        scores={},
        competition={"tier": "provincial_1", "rank": 10},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["method"]["name"] == "竞赛选拔"
    [result] = body["results"]
    assert (result["tier_name"], result["rank"], result["held_level"]) == ("省级一类竞赛", 10, None)
    found = claims(body)
    assert (found[K_VERSION], found[K_METHOD]) == (3, 4)
    page = client.get("/" + body["qr_text"].split("/", 3)[3])
    assert page.status_code == 200 and "竞赛选拔" in page.get_data(as_text=True)


def test_a_performance_review_is_judged_by_its_own_component(client: FlaskClient, keys: Keys) -> None:
    response = issue(client, keys, method="performance_review", scores={"performance": 60})
    assert response.status_code == 201, response.get_json()
    assert claims(response.get_json())[K_METHOD] == 2
    body = refused(client, keys, "unknown_component", method="performance_review", scores={"theory": 80})
    assert body["message_zh"] == "工作业绩评审没有“理论知识考试”：其考核科目为工作业绩评审、综合评审"
    assert body["message"].startswith("work performance review has no theory exam: its components are")


@pytest.mark.parametrize(
    ("changes", "code", "zh", "en"),
    [
        (
            {"level": 3, "method": "competition", "scores": {}, "competition": {"tier": "provincial_1", "rank": 3}},
            "competition_level_mismatch",
            "省级一类竞赛第3名可晋升二级/技师，不是三级/高级工",
            "rank 3 in a provincial class I competition promotes to",
        ),
        (
            {"level": 3, "method": "competition", "scores": {}, "competition": {"tier": "provincial_2", "rank": 7}},
            "competition_not_placed",
            "省级二类竞赛第7名不符合晋升条件（前6名可晋升）",
            "rank 7 in a provincial class II competition earns no promotion (the first 6 do)",
        ),
        (
            {"scores": {"theory": 80, "practical": 75}, "passed_on": {"theory": "2024-05-20", "practical": TODAY}},
            "results_too_far_apart",
            "理论知识考试（2024-05-20通过）与技能操作考核（2026-11-29通过）相隔超过2年",
            "more than 2 years apart",
        ),
        (
            {"scores": {"theory": 80, "practical": 75}, "passed_on": {"practical": "2026-12-01"}},
            "result_after_issue_date",
            "技能操作考核的通过日期2026-12-01晚于发证日期2026-11-29",
            "after the issue date 2026-11-29",
        ),
        (
            {"scores": {"theory": 80, "practical": 59.99}},
            "assessment_failed",
            "以下科目未达到60分：技能操作考核",
            "below 60 in: practical",
        ),
    ],
    ids=["level-not-earned", "not-placed", "sittings-too-far-apart", "passed-after-issue", "failed"],
)
def test_the_method_s_rule_refuses_with_both_languages(
    client: FlaskClient, keys: Keys, changes: dict[str, Any], code: str, zh: str, en: str
) -> None:
    body = refused(client, keys, code, **changes)
    assert zh in body["message_zh"] and en in body["message"]


def test_a_retaken_component_within_24_months_combines(client: FlaskClient, keys: Keys) -> None:
    response = issue(client, keys, passed_on={"theory": "2024-11-29", "practical": TODAY})
    assert response.status_code == 201, response.get_json()


def test_an_unknown_method_is_a_schema_error_in_both_languages(client: FlaskClient, keys: Keys) -> None:
    body = refused(client, keys, "invalid_input", method="interview")
    [message] = body["errors"]["json"]["method"]
    assert message["message_zh"] and message["message"]


# --- occupations ---------------------------------------------------------------------------


def test_a_2015_code_is_translated_and_a_licensing_occupation_refused_naming_the_2022_code(
    client: FlaskClient, keys: Keys
) -> None:
    body = refused(client, keys, "licensed_occupation", occupation="4-07-05-04", edition=2015)
    assert "消防设施操作员（4-07-05-03）属准入类职业资格" in body["message_zh"]
    assert "本系统不能颁发" in body["message_zh"] and "skill level certificates only" in body["message"]


def test_a_2015_code_renamed_in_2022_is_issued_under_its_2022_name_or_refused_by_scope(
    client: FlaskClient, keys: Keys
) -> None:
    response = issue(client, keys, occupation="4-10-01-03", edition=2015)
    body = response.get_json()  # translated (保育员 is 2022's 保育师), then judged by the scope
    assert (response.status_code, body["code"]) == (403, "out_of_scope") and "4-10-01-03" in body["message_zh"]


def test_a_2015_code_not_in_the_table_is_refused_asking_for_the_2022_code(client: FlaskClient, keys: Keys) -> None:
    body = refused(client, keys, "unmapped_occupation", occupation=ELECTRICIAN, edition=2015)
    assert "请填写2022年版职业编码" in body["message_zh"] and "state its 2022 code" in body["message"]


def test_an_edition_other_than_2015_or_2022_is_a_schema_error(client: FlaskClient, keys: Keys) -> None:
    body = refused(client, keys, "invalid_input", edition=2019)
    assert "edition" in body["errors"]["json"]


# --- photo ---------------------------------------------------------------------------------


def _image(size: tuple[int, int], kind: str = "JPEG") -> str:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, kind)
    return base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize(
    ("photo", "code", "zh", "en"),
    [
        (None, "photo_required", "缺少持证人照片：证书版式有25×35毫米的照片位置", "a photo of the holder is required"),
        (
            _image((200, 280)),
            "photo_too_small",
            "照片分辨率不足：至少需要295×413像素",
            "at least 295×413 pixels are needed",
        ),
        (_image((600, 450)), "photo_not_portrait", "照片应为竖版（高度大于宽度）", "must be portrait"),
        (_image((300, 420), "GIF"), "invalid_photo", "照片应为JPEG或PNG格式，实为GIF", "got GIF"),
        (base64.b64encode(b"not an image").decode(), "invalid_photo", "照片无法读取", "cannot be read"),
    ],
    ids=["none", "too-small", "landscape", "gif", "garbage"],
)
def test_the_photo_is_required_and_checked_for_printing(
    client: FlaskClient, keys: Keys, photo: str | None, code: str, zh: str, en: str
) -> None:
    body = refused(client, keys, code, photo=photo)
    assert zh in body["message_zh"] and en in body["message"]


def test_a_portrait_png_large_enough_for_300_dpi_is_accepted(client: FlaskClient, keys: Keys) -> None:
    response = issue(client, keys, photo=_image((295, 413), "PNG"))
    assert response.status_code == 201, response.get_json()
