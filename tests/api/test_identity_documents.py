"""Identity documents over HTTP: what ``POST /api/v1/certificates`` answers (422 with the
code, Chinese and English) and what a roster's report says (row, column, code, both
languages) for each document rule; the minimum age on the issue date; and operator files
(``ISSUER_DOCUMENT_TYPES_FILE``, ``ISSUER_OCCUPATION_LEVELS_FILE``) taking effect."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer.core.identity import check_character
from tests.builders import HEADER, PHOTO, to_csv, uploaded
from tests.conftest import ELECTRICIAN, WELDER, Keys, auth
from tests.factories import SEAMAN, issue_body

ISSUE_DAY = date(2026, 11, 29)
"""The China date of the test clock (2026-11-29 10:00 in China)."""


def gb11643(first17: str) -> str:
    return first17 + check_character(first17)


def resident(address: str = "110105", born: date = date(1990, 3, 7), sequence: str = "013") -> str:
    return gb11643(f"{address}{born:%Y%m%d}{sequence}")


def permanent(province: str = "31", nationality: str = "276", born: date = date(1985, 6, 1)) -> str:
    return gb11643(f"9{province}{nationality}{born:%Y%m%d}021")


def issue(client: FlaskClient, keys: Keys, document_type: str, number: str, **changes: Any) -> Any:
    body = issue_body(document_type=document_type, document_number=number, **changes)
    return client.post("/api/v1/certificates", json=body, headers=auth(keys.issuer))


def refusal(client: FlaskClient, keys: Keys, document_type: str, number: str, **changes: Any) -> dict[str, Any]:
    response = issue(client, keys, document_type, number, **changes)
    assert response.status_code == 422, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


# (document type, number, code, in message_zh, in message)
REFUSED = {
    "province 00": (
        "居民身份证",
        resident("000105"),
        "invalid_id_province",
        "居民身份证号码第1、2位应为省级行政区划代码（GB/T 2260），“00”不是",
        "characters 1-2 of a Resident Identity Card number are a province code (GB/T 2260); 00 is not one",
    ),
    "province 99": ("居民身份证", resident("990105"), "invalid_id_province", "“99”不是", "99 is not one"),
    "15 digits": (
        "居民身份证",
        "110105491231002",
        "invalid_id_first_generation",
        "15位号码是第一代居民身份证号码",
        "a 15-digit number is a first-generation Resident Identity Card number",
    ),
    "a residence permit's number as a resident ID": (
        "居民身份证",
        resident("810000"),
        "wrong_document_type",
        "该号码像是港澳台居民居住证号码，证件类型请选择“港澳台居民居住证”",
        "choose the document type Residence Permit for Hong Kong, Macao and Taiwan Residents",
    ),
    "a resident ID's number as a residence permit": (
        "港澳台居民居住证",
        resident("110105"),
        "wrong_document_type",
        "港澳台居民居住证号码应以810000、820000或830000开头，实为110105",
        "begins with 810000, 820000 or 830000, not 110105",
    ),
    "a 2023 permanent residence card with a wrong check character": (
        "外国人永久居留身份证",
        permanent()[:17] + ("0" if permanent()[17] != "0" else "1"),
        "invalid_id_checksum",
        "第18位校验码与前17位不符",
        "its 18th character does not agree with the first 17",
    ),
    "a permanent residence card of neither shape": (
        "外国人永久居留身份证",
        "US12345678901",
        "invalid_id_format",
        "外国人永久居留身份证号码应为以9开头的18位（2023年版）或3位拉丁字母加12位数字的15位",
        "18 characters beginning with 9 (the 2023 card) or 15: 3 letters and 12 digits",
    ),
    "16 tomorrow": (
        "居民身份证",
        resident(born=date(2010, 11, 30)),
        "holder_under_age",
        "持证人在签发日（2026-11-29）未满16周岁",
        "the holder is under 16 on the issue date (2026-11-29)",
    ),
}


@pytest.mark.parametrize(("document_type", "number", "code", "zh", "en"), REFUSED.values(), ids=REFUSED.keys())
def test_a_number_a_rule_refuses_is_a_422_with_its_code_in_both_languages(
    client: FlaskClient, keys: Keys, document_type: str, number: str, code: str, zh: str, en: str
) -> None:
    body = refusal(client, keys, document_type, number)
    assert body["code"] == code
    assert zh in body["message_zh"] and en in body["message"]


def test_a_15_digit_number_is_answered_with_its_18_digit_conversion(client: FlaskClient, keys: Keys) -> None:
    body = refusal(client, keys, "居民身份证", "110105491231002")
    assert body["errors"] == {"converted": "11010519491231002X"}
    assert "换算结果为11010519491231002X" in body["message_zh"] and "插入“19”" in body["message_zh"]
    assert "insert 19 before the two-digit birth year" in body["message"]


def test_a_number_under_the_wrong_type_names_the_right_one(client: FlaskClient, keys: Keys) -> None:
    body = refusal(client, keys, "居民身份证", permanent())
    assert body["errors"] == {"suggested_document_type": "外国人永久居留身份证", "problem": "invalid_id_province"}
    assert issue(client, keys, "外国人永久居留身份证", permanent()).status_code == 201


@pytest.mark.parametrize(
    ("document_type", "number", "code"),
    [
        ("港澳台居民居住证", resident("810000"), 4),
        ("港澳台居民居住证", resident("830000", sequence="024"), 4),
        ("外国人永久居留身份证", permanent(), 5),
        ("外国人永久居留身份证", "deu123456789012", 5),
    ],
    ids=["hong-kong", "taiwan", "permanent-2023", "permanent-earlier"],
)
def test_valid_numbers_of_each_rule_are_issued(
    client: FlaskClient, keys: Keys, document_type: str, number: str, code: int
) -> None:
    response = issue(client, keys, document_type, number)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["document_type"] == code
    assert response.get_json()["document_number"] == number.upper()


def test_a_holder_turning_16_on_the_issue_date_is_issued(client: FlaskClient, keys: Keys) -> None:
    assert issue(client, keys, "居民身份证", resident(born=date(2010, 11, 29))).status_code == 201


def test_the_age_is_judged_on_the_stated_issue_date_not_today(client: FlaskClient, keys: Keys) -> None:
    number = resident(born=date(2010, 11, 20))  # 16 on 2026-11-20
    body = refusal(client, keys, "居民身份证", number, issue_date="2026-11-19")
    assert body["code"] == "holder_under_age" and "（2026-11-19）未满16周岁" in body["message_zh"]
    assert issue(client, keys, "居民身份证", number, issue_date="2026-11-20").status_code == 201


def test_the_minimum_age_is_a_setting(app_with: Callable[..., Flask], keys: Keys) -> None:
    seventeen = resident(born=date(2009, 6, 1))
    adults = app_with(MIN_HOLDER_AGE=18).test_client()
    body = refusal(adults, keys, "居民身份证", seventeen)
    assert "未满18周岁" in body["message_zh"] and "under 18" in body["message"]
    anyone = app_with(MIN_HOLDER_AGE=0).test_client()
    assert issue(anyone, keys, "居民身份证", resident(born=date(2015, 1, 1))).status_code == 201


# --- rosters --------------------------------------------------------------------------------


def roster_problems(client: FlaskClient, keys: Keys, rows: list[list[Any]]) -> list[dict[str, Any]]:
    """The problems of a roster's dry run, once its validation has ended."""
    body = uploaded(client, keys.issuer, to_csv(rows), dry_run="true")
    problems: list[dict[str, Any]] = body["report"]["problems"]
    return problems


def roster_row(name: str, document_type: str, number: str) -> list[Any]:
    assert len(HEADER) == 10
    return [name, document_type, number, ELECTRICIAN, "--", "3", 80, 75, "", PHOTO]


def test_a_roster_names_the_row_and_column_of_each_document_problem_in_both_languages(
    client: FlaskClient, keys: Keys
) -> None:
    rows = [
        roster_row(f"学员{i}", document_type, number) for i, (document_type, number, *_) in enumerate(REFUSED.values())
    ]
    rows.append(roster_row("合格", "居民身份证", resident(born=date(2010, 11, 29))))
    problems = roster_problems(client, keys, rows)
    expected_columns = {"wrong_document_type": "证件类型"}
    assert [(p["row"], p["column"], p["code"]) for p in problems] == [
        (i + 2, expected_columns.get(code, "证件号码"), code) for i, (_, _, code, _, _) in enumerate(REFUSED.values())
    ]
    for problem, (_, _, _, zh, en) in zip(problems, REFUSED.values(), strict=True):
        assert zh in problem["message_zh"] and en in problem["message"]


def test_a_roster_masks_the_converted_number_it_offers(client: FlaskClient, keys: Keys) -> None:
    [problem] = roster_problems(client, keys, [roster_row("张三", "居民身份证", "110105491231002")])
    assert (problem["row"], problem["column"], problem["code"]) == (2, "证件号码", "invalid_id_first_generation")
    assert "11010519491231002X" not in json.dumps(problem, ensure_ascii=False)
    assert "换算结果为1101**********002X" in problem["message_zh"]


# --- operator files -------------------------------------------------------------------------


def test_a_document_type_added_by_the_operator_file_is_issued_to(
    app_with: Callable[..., Flask], client: FlaskClient, keys: Keys, tmp_path: Path
) -> None:
    path = tmp_path / "types.json"
    path.write_text(json.dumps({"types": [SEAMAN]}, ensure_ascii=False), encoding="utf-8")
    configured = app_with(DOCUMENT_TYPES_FILE=str(path)).test_client()
    response = issue(configured, keys, "海员证", "ab1234567")
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["document_type"], response.get_json()["document_type_name"]) == (7, "海员证")
    number = response.get_json()["number"]
    image = configured.get(f"/api/v1/certificates/{number}/image?format=png&dpi=150", headers=auth(keys.issuer))
    assert image.status_code == 200 and image.mimetype == "image/png"  # drawn with the type's name
    assert refusal(configured, keys, "海员证", "AB12")["code"] == "invalid_document_number"
    assert refusal(client, keys, "海员证", "AB1234568")["code"] == "unknown_document_type"  # packaged types only


def test_levels_and_work_type_caps_changed_by_the_operator_file_take_effect(
    app_with: Callable[..., Flask], client: FlaskClient, keys: Keys, tmp_path: Path
) -> None:
    path = tmp_path / "levels.csv"
    path.write_text(
        f"code,levels,work_types\n{ELECTRICIAN},5 4,\n{WELDER},5 4 3,电焊工(5-5);气焊工\n", encoding="utf-8"
    )
    configured = app_with(OCCUPATION_LEVELS_FILE=str(path)).test_client()
    body = refusal(configured, keys, "居民身份证", resident(sequence="101"), level=3)
    assert (body["code"], body["message_zh"]) == ("level_not_in_standard", "电工没有3级")
    body = refusal(
        configured, keys, "居民身份证", resident(sequence="102"), occupation=WELDER, work_type="电焊工", level=4
    )
    assert (body["code"], body["message_zh"]) == ("level_not_in_work_type", "电焊工没有4级")
    assert issue(configured, keys, "居民身份证", resident(sequence="103"), level=4).status_code == 201
    assert issue(client, keys, "居民身份证", resident(sequence="104"), level=3).status_code == 201  # packaged
