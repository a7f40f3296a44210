"""Rosters as offices write them: headers with full-width parentheses, units and spaces,
workbooks with a hidden first sheet, a title row, a two-row header and formatting rows."""

from __future__ import annotations

import io
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from issuer.service import roster
from issuer.service.roster import RosterError, RosterRow, read_roster
from issuer.service.roster.columns import ALIASES, header_key
from issuer.service.roster.reading import roster_sheet
from issuer.service.wiring import UseCases
from tests.builders import HEADER, PHOTO, resident_id, to_csv, to_xlsx
from tests.conftest import ELECTRICIAN, Keys
from tests.service.test_roster import validate

PERSON = ["张三丰", "居民身份证", "11010519491231002X", ELECTRICIAN, "--", "三级", "85", "78.5", "", ""]


KEYS = ["name", "document_type", "document_number", "occupation_code", "work_type", "level", "theory"]
KEYS += ["practical", "review", "photo"]


def _cells(values: list[Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in zip(KEYS, values, strict=True)}


def _texts(row: RosterRow) -> dict[str, str]:
    return {k: row.text(k) for k in KEYS}


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("工种（职业方向）", "work_type"),
        ("理论知识成绩（分）", "theory"),
        ("技能操作成绩(分)", "practical"),
        ("综合评审成绩（分数）", "review"),
        ("姓 名", "name"),
        ("姓　名", "name"),
        ("身份证号码", "document_number"),
        ("技能操作成绩 （分）", "practical"),
    ],
)
def test_headers_as_offices_write_them_map_to_their_column(header: str, key: str) -> None:
    assert ALIASES.get(header_key(header)) == key


_ALL_HEADERS = [(name, c.key) for c in roster.COLUMNS for name in (c.zh, c.en, c.key, *c.aliases)]


@given(
    st.sampled_from(_ALL_HEADERS),
    st.lists(st.sampled_from([" ", "\u3000", "\t"]), max_size=3),
    st.sampled_from(["", "（分）", "(分)", "（分数）", " (百分制)", "（满分100分）"]),
    st.booleans(),
)
def test_any_accepted_header_with_spaces_full_width_forms_and_a_unit_maps_to_its_column(
    header: tuple[str, str], spaces: list[str], unit: str, wide: bool
) -> None:
    name, key = header
    text = "".join(c + (spaces[i] if i < len(spaces) else "") for i, c in enumerate(name)) + unit
    if wide:  # as an IME types it: ASCII letters and parentheses in full width
        text = text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert ALIASES.get(header_key(text)) == key
    assert header_key(header_key(text)) == header_key(text)


def test_a_parenthesis_that_is_not_a_unit_is_kept() -> None:
    assert header_key("理论知识成绩（补考）") == "理论知识成绩(补考)"
    assert ALIASES.get(header_key("理论知识成绩（补考）")) is None


def test_a_roster_with_office_headers_reads_as_the_template() -> None:
    header = ["姓 名", "证件类型", "身份证号码", "职业编码", "工种（职业方向）", "等级"]
    header += ["理论知识成绩（分）", "技能操作成绩(分)", "综合评审成绩（分）", "照片"]
    for data, name in ((to_csv([PERSON], "gbk", header), "r.csv"), (to_xlsx([PERSON], header), "r.xlsx")):
        [row] = read_roster(data, name)
        assert _texts(row) == _cells(PERSON)


def test_an_unknown_header_is_named_in_both_languages_with_the_columns_accepted() -> None:
    with pytest.raises(RosterError) as caught:
        read_roster(to_csv([], header=[*HEADER, "籍贯（省）"]), "r.csv")
    error = caught.value
    assert error.code == "roster_unknown_column"
    assert error.message.startswith("unknown column: 籍贯（省）; the columns are")
    assert error.message_zh.startswith("无法识别的列：籍贯（省）；可用的列为")
    assert error.errors == {"columns": ["籍贯（省）"]}


def test_two_headers_for_one_column_are_refused() -> None:
    header = [*HEADER[:6], "理论知识成绩（分）", "理论成绩", *HEADER[7:]]
    with pytest.raises(RosterError) as caught:
        read_roster(to_csv([], header=header), "r.csv")
    assert caught.value.code == "roster_duplicate_column"
    assert "theory" in caught.value.message and "理论知识成绩" in caught.value.message_zh


def test_the_template_s_instructions_list_the_accepted_headers() -> None:
    book = openpyxl.load_workbook(io.BytesIO(roster.roster_template_xlsx()))
    notes = book["填写说明"]
    rows = {r[0]: r for r in notes.iter_rows(values_only=True) if r and r[0]}
    assert "工种（职业方向）" in str(rows["工种/职业方向"][5])
    assert "身份证号码" in str(rows["证件号码"][5])
    assert any("（分）" in str(r) for r in notes.iter_rows(values_only=True))


# --- workbooks -----------------------------------------------------------------------------


def _book(fill: Callable[[openpyxl.Workbook], None]) -> bytes:
    book = openpyxl.Workbook()
    fill(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: openpyxl.Workbook) -> Worksheet:
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    return sheet


def test_a_hidden_first_sheet_is_passed_over() -> None:
    def fill(book: openpyxl.Workbook) -> None:
        hidden = _sheet(book)
        hidden.title = "代码表"
        hidden.append(["证件类型", "居民身份证"])
        hidden.sheet_state = "hidden"
        sheet = book.create_sheet("Sheet2")
        sheet.append(list(HEADER))
        sheet.append(PERSON)

    data = _book(fill)
    [row] = read_roster(data, "r.xlsx")
    assert (row.row, _texts(row)) == (2, _cells(PERSON))
    assert roster.count_rows(data, "r.xlsx") == 1


def test_the_sheet_named_as_in_the_template_is_read_wherever_it_is() -> None:
    def fill(book: openpyxl.Workbook) -> None:
        _sheet(book).append(["说明：请在“花名册”工作表填写"])
        sheet = book.create_sheet("花名册")
        sheet.append(list(HEADER))
        sheet.append(PERSON)

    [row] = read_roster(_book(fill), "r.xlsx")
    assert _texts(row) == _cells(PERSON)


def test_a_workbook_with_only_hidden_sheets_is_refused() -> None:
    """openpyxl will not save one (Excel will not either, but other tools do)."""
    hidden = SimpleNamespace(title="花名册", sheet_state="hidden")
    with pytest.raises(RosterError) as caught:
        roster_sheet(SimpleNamespace(worksheets=[hidden, SimpleNamespace(title="b", sheet_state="veryHidden")]))
    assert caught.value.code == "unreadable_roster"
    assert "no visible worksheet" in caught.value.message and "没有可见的工作表" in caught.value.message_zh


def test_a_merged_title_row_above_the_header_is_skipped_and_rows_keep_their_numbers() -> None:
    def fill(book: openpyxl.Workbook) -> None:
        sheet = _sheet(book)
        sheet.append(["2026年第四季度电工职业技能等级认定人员花名册"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
        sheet.append(["评价机构：某某职业技能评价中心", None, None, None, "考评日期：2026-11-20"])
        sheet.append(list(HEADER))
        sheet.append(PERSON)

    data = _book(fill)
    [row] = read_roster(data, "r.xlsx")
    assert (row.row, _texts(row)) == (4, _cells(PERSON))
    assert roster.count_rows(data, "r.xlsx") == 1


def test_a_title_row_in_a_csv_is_skipped_too() -> None:
    data = "花名册（2026年11月）\n".encode() + to_csv([PERSON])
    [row] = read_roster(data, "r.csv")
    assert (row.row, _texts(row)) == (3, _cells(PERSON))


def test_a_header_found_nowhere_is_still_the_first_row_s_error() -> None:
    data = to_xlsx([], header=["花名册"])
    with pytest.raises(RosterError) as caught:
        read_roster(data, "r.xlsx")
    assert caught.value.code == "roster_unknown_column" and "花名册" in caught.value.message_zh


def _two_row_header(book: openpyxl.Workbook) -> None:
    """成绩 merged over 理论/技能/综合评审; the other headers merged down over both rows."""
    sheet = _sheet(book)
    sheet.append(["某某评价中心花名册"])
    sheet.merge_cells("A1:J1")
    sheet.append(
        ["姓名", "证件类型", "身份证号码", "职业编码", "工种（职业方向）", "等级", "成绩（分）", None, None, "照片"]
    )
    sheet.append([None, None, None, None, None, None, "理论", "技能", "综合评审", None])
    for column in "ABCDEFJ":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("G2:I2")
    sheet.append(PERSON)
    sheet.append(["李四", "居民身份证", "110105194912310021", ELECTRICIAN, "", "3", 90, 61, None, None])


def test_a_two_row_header_with_merged_scores_maps_each_sub_header() -> None:
    first, second = read_roster(_book(_two_row_header), "r.xlsx")
    assert (first.row, _texts(first)) == (4, _cells(PERSON))
    assert second.row == 5
    assert (second.text("theory"), second.text("practical"), second.text("review")) == ("90", "61", "")


def test_a_sub_header_the_group_does_not_explain_is_an_unknown_column() -> None:
    def fill(book: openpyxl.Workbook) -> None:
        sheet = _sheet(book)
        sheet.append([*HEADER[:6], "成绩", None, None, "照片"])
        sheet.append([None] * 6 + ["理论", "技能", "加分", None])

    with pytest.raises(RosterError) as caught:
        read_roster(_book(fill), "r.xlsx")
    assert caught.value.code == "roster_unknown_column"
    assert "加分成绩" in caught.value.message and "加分成绩" in caught.value.message_zh


def test_trailing_formatting_rows_are_not_rows() -> None:
    def fill(book: openpyxl.Workbook) -> None:
        from openpyxl.styles import Border, Side

        sheet = _sheet(book)
        sheet.append(list(HEADER))
        sheet.append(PERSON)
        thin = Side(style="thin")
        for r in range(3, 40):
            for c in range(1, len(HEADER) + 1):
                sheet.cell(row=r, column=c).border = Border(top=thin, bottom=thin)
        sheet.cell(row=5, column=2, value="   ")
        sheet.cell(row=6, column=3, value="\u3000")

    data = _book(fill)
    assert [r.row for r in read_roster(data, "r.xlsx")] == [2]
    assert roster.count_rows(data, "r.xlsx", max_rows=1) == 1


# --- messages ------------------------------------------------------------------------------


def test_score_and_empty_cell_messages_name_the_row_and_column_in_both_languages(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    rows = [
        ["张三", "居民身份证", resident_id(21), ELECTRICIAN, "", "3", "abc", "101", "", PHOTO],
        ["", "居民身份证", resident_id(22), ELECTRICIAN, "", "3", "", "80", "", PHOTO],
        ["李四", "", resident_id(23), ELECTRICIAN, "", "", "-1", "85.555", "", PHOTO],
        ["王五", "居民身份证", resident_id(24), ELECTRICIAN, "", "3", "59", "80", "", PHOTO],
    ]
    header = [*HEADER[:6], "理论知识成绩（分）", "技能操作成绩(分)", *HEADER[8:]]
    report = validate(svc, to_csv(rows, header=header), "r.csv")
    found = {(p.row, p.column, p.code): (p.message, p.message_zh) for p in report.problems}
    assert found == {
        (2, "理论知识成绩", "invalid_score"): (
            "row 2, 理论知识成绩 (theory score): not a number: abc",
            "第2行“理论知识成绩”不是数字：abc",
        ),
        (2, "技能操作成绩", "invalid_score"): (
            "row 2, 技能操作成绩 (practical score): must be between 0 and 100, got 101",
            "第2行“技能操作成绩”应在0至100之间，实为101",
        ),
        (3, "姓名", "missing_value"): ("row 3, 姓名 (name): empty, a value is required", "第3行“姓名”为空，必须填写"),
        (3, "理论知识成绩", "missing_component"): (
            "row 3, 理论知识成绩 (theory score): empty, the level requires this score",
            "第3行“理论知识成绩”为空，该等级必须有此成绩",
        ),
        (4, "证件类型", "missing_value"): (
            "row 4, 证件类型 (document type): empty, a value is required",
            "第4行“证件类型”为空，必须填写",
        ),
        (4, "等级", "missing_value"): ("row 4, 等级 (level): empty, a value is required", "第4行“等级”为空，必须填写"),
        (4, "理论知识成绩", "invalid_score"): (  # out of range whatever the level
            "row 4, 理论知识成绩 (theory score): must be between 0 and 100, got -1",
            "第4行“理论知识成绩”应在0至100之间，实为-1",
        ),
        (4, "技能操作成绩", "invalid_score"): (
            "row 4, 技能操作成绩 (practical score): more than two decimals: 85.555",
            "第4行“技能操作成绩”最多保留两位小数，实为85.555",
        ),
        (5, "理论知识成绩", "assessment_failed"): (
            "row 5, 理论知识成绩 (theory score): below 60: 59",
            "第5行“理论知识成绩”未达到60分：59",
        ),
    }


def test_a_score_the_level_does_not_have_names_its_cell(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [["张三", "居民身份证", resident_id(25), ELECTRICIAN, "", "4", "80", "80", "90", PHOTO]]
    [problem] = validate(svc, to_csv(rows), "r.csv").problems
    assert (problem.row, problem.column, problem.code) == (2, "综合评审成绩", "unexpected_component")
    assert problem.message.startswith("row 2, 综合评审成绩 (review score): ")
    assert problem.message_zh.startswith("第2行“综合评审成绩”")


def test_every_problem_s_messages_begin_with_its_row_and_column_once(app: Flask, keys: Keys, svc: UseCases) -> None:
    """Read alone (a CLI line, a cell of the result sheet) a message still says where to look,
    and says it once."""
    rows = [
        ["张三", "居民身份证", "110105199001019990", ELECTRICIAN, "", "3", "80", "75", "", PHOTO],
        ["李四", "驾驶证", resident_id(31), ELECTRICIAN, "", "3", "80", "75", "", PHOTO],
        ["王五", "居民身份证", resident_id(32), "6-99-99-99", "", "3", "80", "75", "", PHOTO],
        ["赵六", "居民身份证", resident_id(33), ELECTRICIAN, "", "3", "80", "75", "", "无此照片.jpg"],
        ["", "居民身份证", resident_id(34), ELECTRICIAN, "", "3", "59", "75", "", ""],
    ]
    report = validate(svc, to_csv(rows), "r.csv")
    assert {p.code for p in report.problems} >= {
        "invalid_id_checksum",
        "unknown_document_type",
        "unknown_occupation",
        "photo_missing",
        "missing_value",
        "assessment_failed",
        "photo_required",
    }
    for p in report.problems:
        zh, en = f"第{p.row}行“{p.column}”", f"row {p.row}, {p.column} ("
        assert p.message_zh.startswith(zh) and p.message_zh.count(f"第{p.row}行") == 1, p.message_zh
        assert p.message.startswith(en) and p.message.count(f"row {p.row}") == 1, p.message
