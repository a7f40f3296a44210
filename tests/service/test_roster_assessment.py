"""Rosters with the assessment method, the date each component was passed, competition
results and the occupation code's edition: each problem named by its row and column in both
languages, valid rows carrying what they say into the request."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from flask import Flask

from issuer.core.assessment import Placing
from issuer.service.roster import PhotoArchive
from issuer.service.wiring import UseCases
from tests.builders import PHOTO, resident_id, to_csv
from tests.conftest import ELECTRICIAN, Keys
from tests.factories import photo
from tests.service.test_roster import validate

HEADER = (
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业分类大典版本",
    "等级",
    "评价方式",
    "理论知识成绩",
    "理论知识考试日期",
    "技能操作成绩",
    "工作业绩评审成绩",
    "竞赛类别",
    "竞赛名次",
    "原有等级",
    "照片",
)


def row(i: int, **cells: str) -> list[str]:
    """An electrician at level 3 by exam (80, 75), each cell of ``cells`` (by header) changed."""
    values = dict.fromkeys(HEADER, "")
    values.update(
        {
            "姓名": f"学员{i}",
            "证件类型": "居民身份证",
            "证件号码": resident_id(100 + i),
            "职业编码": ELECTRICIAN,
            "等级": "3",
            "理论知识成绩": "80",
            "技能操作成绩": "75",
            "照片": PHOTO,
        }
    )
    values.update(cells)
    return [values[h] for h in HEADER]


def test_valid_rows_carry_their_method_dates_result_and_edition(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [
        row(1, 理论知识考试日期="2026年5月20日"),
        row(
            2,
            等级="二级/技师",
            评价方式="竞赛选拔",
            理论知识成绩="",
            技能操作成绩="",
            竞赛类别="省级一类竞赛",
            竞赛名次="第3名",
        ),
        row(3, 评价方式="工作业绩评审", 理论知识成绩="", 技能操作成绩="", 工作业绩评审成绩="60"),
    ]
    report = validate(svc, to_csv(rows, header=HEADER), "r.csv")
    assert report.problems == []
    first, second, third = (v.request for v in report.valid)
    assert first.passed_on == {"theory": date(2026, 5, 20)} and first.method in (None, "exam")
    assert second.method == "competition" and second.level == 2
    assert second.placing == Placing("provincial_1", 3, None, None)
    assert third.method == "performance_review" and third.scores == {"performance": 60}


@pytest.mark.parametrize(
    ("cells", "column", "code", "zh", "en"),
    [
        ({"评价方式": "面试"}, "评价方式", "unknown_method", "无法识别的评价方式“面试”", "unknown assessment method"),
        (
            {"理论知识考试日期": "2026-13-01"},
            "理论知识考试日期",
            "invalid_date",
            "第2行“理论知识考试日期”不是日期（如2026-05-20）：2026-13-01",
            "not a date such as 2026-05-20",
        ),
        (
            {"理论知识考试日期": "2024-05-20"},
            "理论知识考试日期",
            "results_too_far_apart",
            "相隔超过2年",
            "more than 2 years apart",
        ),
        (
            {
                "等级": "三级",
                "评价方式": "竞赛选拔",
                "理论知识成绩": "",
                "技能操作成绩": "",
                "竞赛类别": "省级二类竞赛",
                "竞赛名次": "7",
            },
            "竞赛名次",
            "competition_not_placed",
            "省级二类竞赛第7名不符合晋升条件（前6名可晋升）",
            "earns no promotion",
        ),
        (
            {
                "等级": "三级",
                "评价方式": "竞赛选拔",
                "理论知识成绩": "",
                "技能操作成绩": "",
                "竞赛类别": "省级一类竞赛",
                "竞赛名次": "1",
            },
            "等级",
            "competition_level_mismatch",
            "省级一类竞赛第1名可晋升二级/技师，不是三级/高级工",
            "promotes to",
        ),
        (
            {"竞赛类别": "省级一类竞赛", "竞赛名次": "1"},
            "竞赛类别",
            "unexpected_component",
            "考试考核没有竞赛成绩，竞赛相关列应留空",
            "leave the competition columns blank",
        ),
        (
            {"评价方式": "工作业绩评审", "技能操作成绩": "", "工作业绩评审成绩": "90"},
            "理论知识成绩",
            "unknown_component",
            "工作业绩评审没有“理论知识考试”",
            "work performance review has no theory exam",
        ),
        ({"职业分类大典版本": "2019"}, "职业分类大典版本", "unknown_edition", "应为2015或2022", "must be 2015 or 2022"),
        (
            {"职业分类大典版本": "2015年版"},
            "职业编码",
            "unmapped_occupation",
            "请填写2022年版职业编码",
            "state its 2022 code",
        ),
        (
            {"职业分类大典版本": "2015", "职业编码": "4-07-05-04"},
            "职业编码",
            "licensed_occupation",
            "消防设施操作员（4-07-05-03）属准入类职业资格",
            "skill level certificates only",
        ),
        ({"照片": ""}, "照片", "photo_required", "缺少持证人照片", "a photo of the holder is required"),
    ],
    ids=[
        "method",
        "date",
        "sittings",
        "not-placed",
        "level-not-earned",
        "competition-in-an-exam",
        "component-of-another-method",
        "edition",
        "unmapped-2015-code",
        "licensed",
        "photo",
    ],
)
def test_each_problem_names_its_cell_in_both_languages(
    app: Flask, keys: Keys, svc: UseCases, cells: dict[str, str], column: str, code: str, zh: str, en: str
) -> None:
    report = validate(svc, to_csv([row(1, **cells)], header=HEADER), "r.csv")
    assert [(p.row, p.column, p.code) for p in report.problems] == [(2, column, code)]
    [problem] = report.problems
    assert problem.message_zh.startswith(f"第2行“{column}”") and zh in problem.message_zh
    assert problem.message.startswith(f"row 2, {column} (") and en in problem.message


def test_a_failing_score_is_reported_beside_a_date_that_is_not_one(app: Flask, keys: Keys, svc: UseCases) -> None:
    cells = {"理论知识考试日期": "2026-13-01", "技能操作成绩": "50"}
    report = validate(svc, to_csv([row(1, **cells)], header=HEADER), "r.csv")
    assert [(p.column, p.code) for p in report.problems] == [
        ("理论知识考试日期", "invalid_date"),
        ("技能操作成绩", "assessment_failed"),
    ]


def test_a_blank_photo_cell_takes_the_photo_named_after_the_document_number(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    named, unnamed = row(1, 照片=""), row(2, 照片="")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"照片/{named[2].lower()}.JPG", photo())
    report = validate(svc, to_csv([named, unnamed], header=HEADER), "r.csv", photos=PhotoArchive(archive.getvalue()))
    assert [(p.row, p.column, p.code) for p in report.problems] == [(3, "照片", "photo_required")]
    [valid] = report.valid
    assert (valid.row, valid.photo_member) == (2, f"{named[2].lower()}.JPG")
