"""Batch issuance, first step: rosters read from CSV (UTF-8, BOM, GBK) and XLSX, and
validated row by row with issuance's own checks, issuing nothing."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import func, select

from issuer.service import roster
from issuer.service.issuing import IssueRequest
from issuer.service.roster import PhotoArchive, RosterError, RosterReport, read_roster, validate_roster
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import HEADER, PHOTO, Row, jpeg, photos_zip, resident_id, roster_rows, to_csv, to_xlsx
from tests.conftest import ELECTRICIAN, WELDER, Keys, issuer_principal


def validate(svc: UseCases, data: bytes, filename: str, **kwargs: Any) -> RosterReport:
    """Validated with the photos of built rosters (``photos_zip``) unless told otherwise."""
    kwargs.setdefault("photos", PhotoArchive(photos_zip()))
    return validate_roster(svc.issuing, issuer_principal(svc), read_roster(data, filename), **kwargs)


def problems(report: RosterReport) -> set[tuple[int, str | None, str]]:
    return {(p.row, p.column, p.code) for p in report.problems}


def _certificates(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        return int(session.scalar(select(func.count(m.Certificate.id))) or 0)


# --- reading ------------------------------------------------------------------------------


def test_an_upload_counts_a_csv_s_rows_and_bounds_an_xlsx_s_by_its_row_elements() -> None:
    rows = roster_rows(3)
    assert roster.count_rows(to_csv(rows), "名单.csv") == 3
    assert roster.count_rows(to_xlsx(rows), "名单.xlsx") == 3
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows)))
    sheet = book.active
    assert sheet is not None
    sheet.insert_rows(2)  # an English header line below the Chinese one: a row element, not a row
    sheet.cell(row=2, column=1, value="name")
    out = io.BytesIO()
    book.save(out)
    assert roster.count_rows(out.getvalue(), "名单.xlsx") == 4  # the bound: never fewer than the rows
    assert roster.count_rows(out.getvalue(), "名单.xlsx", max_rows=3) == 3  # over the limit: read, then exact
    assert len(list(read_roster(out.getvalue(), "名单.xlsx"))) == 3


@pytest.mark.parametrize("to_file", [to_csv, to_xlsx], ids=["csv", "xlsx"])
def test_a_roster_over_the_limit_is_refused_when_counted(to_file: Any) -> None:
    data = to_file(roster_rows(4))
    with pytest.raises(RosterError) as refused:
        roster.count_rows(data, "名单.xlsx" if to_file is to_xlsx else "名单.csv", max_rows=3)
    assert refused.value.code == "roster_too_large"
    assert roster.count_rows(to_file([]), "名单.xlsx" if to_file is to_xlsx else "名单.csv") == 0


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("gb18030", b""), ("utf-16", b"")],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030", "utf-16"],
)
def test_csv_encodings_read_alike(encoding: str, prefix: bytes) -> None:
    rows = [["张三丰", "居民身份证", "11010519491231002X", ELECTRICIAN, "--", "三级", "85", "78.5", "", "镕.jpg"]]
    found = list(read_roster(prefix + to_csv(rows, encoding), "名单.csv"))
    assert [(r.row, r.cells) for r in found] == [
        (
            2,
            {
                "name": "张三丰",
                "document_type": "居民身份证",
                "document_number": "11010519491231002X",
                "occupation_code": ELECTRICIAN,
                "work_type": "--",
                "level": "三级",
                "theory": "85",
                "practical": "78.5",
                "review": "",
                "photo": "镕.jpg",
            },
        )
    ]


def test_headers_tolerate_spaces_full_width_english_and_aliases_and_rows_keep_their_numbers() -> None:
    header = [" 姓 名 ", "document_type", "证件号码　", "职业名称", "工种", "Level", "理论知识成绩"]
    header += ["技能操作成绩", "序号"]
    rows = [
        ["张三丰", "1", "11010519491231002x", "电工", "", "３", "８５", "78", "1"],
        ["", "", "", "", "", "", "", "", "2"],  # only a 序号: skipped
        ["", "", "", "", "", "", "", "", ""],
        ["李四", "居民身份证", "110105194912310021", "焊工", "电焊工", "高级工", "60", "60", "3"],
    ]
    found = list(read_roster(to_csv(rows, header=header), "roster.txt"))
    assert [r.row for r in found] == [2, 5]
    assert found[0].cells["occupation_name"] == "电工" and found[1].cells["work_type"] == "电焊工"
    assert "review" not in found[0].cells and found[0].text("review") == ""


def test_a_missing_column_is_named_in_chinese_and_english() -> None:
    header = [h for h in HEADER if h != "证件号码"]
    with pytest.raises(RosterError) as caught:
        read_roster(to_csv([], header=header), "roster.csv")
    assert caught.value.code == "roster_missing_column"
    assert "证件号码" in caught.value.message_zh and "document_number" in caught.value.message


@pytest.mark.parametrize(
    ("header", "code", "named"),
    [
        ([*HEADER[:3], *HEADER[4:]], "roster_missing_column", "occupation_code or occupation_name"),
        ([*HEADER, "籍贯"], "roster_unknown_column", "籍贯"),
        ([*HEADER, "工种"], "roster_duplicate_column", "work_type"),
    ],
    ids=["no-occupation", "unknown", "repeated"],
)
def test_header_errors(header: list[str], code: str, named: str) -> None:
    for data, name in ((to_csv([], header=header), "r.csv"), (to_xlsx([], header=header), "r.xlsx")):
        with pytest.raises(RosterError) as caught:
            read_roster(data, name)
        assert caught.value.code == code and named in caught.value.message


def test_unreadable_files_are_clear_errors() -> None:
    with pytest.raises(RosterError, match="neither UTF-8") as caught:
        read_roster(b"a,b\n\x81\x20", "r.csv")
    assert caught.value.code == "roster_encoding"
    with pytest.raises(RosterError) as caught:
        read_roster(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "r.xls")
    assert caught.value.code == "roster_format"
    with pytest.raises(RosterError) as caught:
        read_roster(b"PK\x03\x04 not a zip", "r.xlsx")
    assert caught.value.code == "unreadable_roster"
    with pytest.raises(RosterError) as caught:
        read_roster(b"\n , \n", "r.csv")
    assert caught.value.code == "roster_empty"


def test_xlsx_is_parsed_only_through_defusedxml(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    from issuer.service.roster.reading import UnsafeXmlParsing

    assert openpyxl.DEFUSEDXML  # the dependency is installed and on
    list(read_roster(to_xlsx([]), "r.xlsx"))
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(UnsafeXmlParsing):
        list(read_roster(to_xlsx([]), "r.xlsx"))


def test_xlsx_numbers_become_the_text_people_typed_and_an_id_stored_as_a_number_is_an_error() -> None:
    rows: list[Row] = [
        ["张三丰", "居民身份证", float(110105194912310021), ELECTRICIAN, None, 3.0, 85.0, 77.5, None, None],
        ["李四", "台湾居民来往大陆通行证", 12345678, ELECTRICIAN, None, 3, 85, 60, None, None],
    ]
    found = list(read_roster(to_xlsx(rows), "r.xlsx"))
    assert [r.row for r in found] == [2, 3]
    first, second = found
    assert (first.cells["level"], first.cells["theory"], first.cells["practical"]) == ("3", "85", "77.5")
    assert second.cells["document_number"] == "12345678"
    assert second.problems == ()
    [problem] = first.problems
    assert (problem.row, problem.column, problem.code) == (2, "证件号码", "id_stored_as_number")
    assert "证件号码列请设置为文本格式" in problem.message_zh
    assert "110105194912310021"[:8] not in problem.value  # masked


def test_an_id_that_a_csv_export_wrote_in_scientific_notation_is_the_same_error() -> None:
    rows = [["张三丰", "居民身份证", "1.10105E+17", ELECTRICIAN, "", "3", "85", "78", "", ""]]
    [row] = read_roster(to_csv(rows, "gbk"), "r.csv")
    assert [p.code for p in row.problems] == ["id_stored_as_number"]


def test_the_template_round_trips() -> None:
    data = roster.roster_template_xlsx()
    [row] = read_roster(data, "template.xlsx")
    assert row.row == 3  # row 2 is the English header line
    assert row.cells == {
        "name": "张三丰",
        "document_type": "居民身份证",
        "document_number": "11010519491231002X",
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "edition": "",
        "work_type": "--",
        "level": "三级/高级工",
        "method": "考试考核",
        "theory": "85",
        "theory_date": "2026-05-20",
        "practical": "78.5",
        "practical_date": "",
        "review": "",
        "review_date": "",
        "performance": "",
        "performance_date": "",
        "process": "",
        "process_date": "",
        "competition_tier": "",
        "competition_rank": "",
        "held_level": "",
        "competition_date": "",
        "photo": "11010519491231002X.jpg",
    }
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    id_column = next(c.column for c in sheet[1] if c.value == "证件号码")
    assert sheet.cell(row=3, column=id_column).number_format == "@"
    assert sheet.cell(row=500, column=id_column).number_format == "@"
    assert [c.value for c in sheet[2]][:3] == ["name", "document_type", "document_number"]


# --- validating ---------------------------------------------------------------------------


def test_the_same_500_rows_in_gbk_csv_and_in_xlsx_validate_to_the_same_requests(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    rows = roster_rows(500)
    from_csv = validate(svc, to_csv(rows, "gbk"), "名单.csv")
    from_xlsx = validate(svc, to_xlsx(rows), "名单.xlsx")
    assert from_csv.problems == [] and from_xlsx.problems == []
    assert (from_csv.rows, from_csv.valid_rows, from_csv.invalid_rows) == (500, 500, 0)
    assert [(v.row, v.request) for v in from_csv.valid] == [(v.row, v.request) for v in from_xlsx.valid]
    first = next(iter(from_csv.valid))
    assert first.row == 2
    assert first.request == IssueRequest(
        holder_name="学员0",
        document_type=1,
        document_number=resident_id(0),
        occupation=ELECTRICIAN,
        level=3,
        scores={"theory": Decimal(60), "practical": Decimal(60)},
        work_type="--",
    )
    number, fields, _ = first.prepared
    assert number == resident_id(0) and fields["work_type"] is None and len(fields["document_commitment"]) == 24
    assert {v.request.level for v in from_csv.valid} == {2, 3, 4, 5}
    assert _certificates(svc) == 0  # nothing issued


def test_a_500_row_roster_with_3_bad_rows_reports_exactly_those(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = roster_rows(500)
    rows[99][2] = rows[99][2][:-1] + ("0" if rows[99][2][-1] != "0" else "1")  # bad check character
    rows[200][3] = "6-99-99-99"  # no such occupation
    rows[300] = ["王五", "居民身份证", resident_id(300), WELDER, "电焊工", "二级", 80, 80, 80, PHOTO]  # scope: 5-3
    report = validate(svc, to_xlsx(rows), "名单.xlsx")
    assert (report.rows, report.valid_rows, report.invalid_rows) == (500, 497, 3)
    assert problems(report) == {
        (101, "证件号码", "invalid_id_checksum"),
        (202, "职业编码", "unknown_occupation"),
        (302, "等级", "out_of_scope"),
    }
    assert {v.row for v in report.valid}.isdisjoint({101, 202, 302})
    bad_id = next(p for p in report.problems if p.row == 101)
    assert bad_id.value == resident_id(99)[:4] + "*" * 10 + bad_id.value[-4:]
    assert resident_id(99)[4:14] not in json.dumps(report.to_dict(), ensure_ascii=False)
    assert next(p for p in report.problems if p.row == 202).value == "6-99-99-99"


def test_every_problem_of_a_row_is_reported(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [
        ["", "身份证", "110105194912310021", "6-31-01-03", "", "六级", "50", "abc", "", PHOTO],
        ["赵六", "居民身份证", "110105194912310021", WELDER, "钎焊工", "3", "59", "58", "", PHOTO],
        ["钱七", "居民身份证", resident_id(7), ELECTRICIAN, "", "4", "101", "80", "90", PHOTO],
        ["孙九", "居民身份证", resident_id(13), "4-04-05-05", "", "3", "80", "80", "", PHOTO],
    ]
    report = validate(svc, to_csv(rows), "r.csv")
    assert report.valid_rows == 0
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (2, "姓名", "missing_value"),
        (2, "证件类型", "unknown_document_type"),
        (2, "等级", "unknown_level"),
        (2, "技能操作成绩", "invalid_score"),
        (3, "证件号码", "invalid_id_checksum"),
        (3, "工种/职业方向", "out_of_scope"),
        (3, "理论知识成绩", "assessment_failed"),
        (3, "技能操作成绩", "assessment_failed"),
        (4, "理论知识成绩", "invalid_score"),
        (4, "综合评审成绩", "unexpected_component"),
        (5, "职业编码", "out_of_scope"),
    ]
    assert all(p.message and p.message_zh for p in report.problems)


def test_level_forms_and_a_name_for_the_occupation(app: Flask, keys: Keys, svc: UseCases) -> None:
    header = ["姓名", "证件类型", "证件号码", "职业编码", "职业名称", "等级", "理论知识成绩", "技能操作成绩", "照片"]
    forms = ["3", "三级", "高级工", "三级/高级工", "３", " 三级／高级工 "]
    rows: list[Row] = [
        [f"学员{i}", "居民身份证", resident_id(i), "", "电工", form, 80, 80, PHOTO] for i, form in enumerate(forms)
    ]
    rows.append(["孙八", "居民身份证", resident_id(50), ELECTRICIAN, "焊工", "3", 80, 80, PHOTO])
    report = validate(svc, to_csv(rows, header=header), "r.csv")
    assert [v.request.level for v in report.valid] == [3] * len(forms)
    assert {v.request.occupation for v in report.valid} == {ELECTRICIAN}
    assert problems(report) == {(len(forms) + 2, "职业名称", "occupation_name_mismatch")}


def test_the_same_person_twice_in_one_roster(app: Flask, keys: Keys, svc: UseCases) -> None:
    person = resident_id(1)
    rows = [
        ["张三", "居民身份证", person, ELECTRICIAN, "", "3", 80, 80, "", PHOTO],
        ["张三", "居民身份证", person.lower(), ELECTRICIAN, "", "4", 80, 80, "", PHOTO],
        ["张三", "居民身份证", " " + person + " ", ELECTRICIAN, "", "三级", 90, 90, "", PHOTO],
    ]
    report = validate(svc, to_csv(rows), "r.csv")
    assert problems(report) == {(4, "证件号码", "duplicate_in_roster")}
    assert "第2行" in report.problems[0].message_zh
    assert [v.row for v in report.valid] == [2, 3]


def test_a_person_who_already_holds_the_certificate(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    person = resident_id(2)
    request = IssueRequest(
        "张三", "居民身份证", person, ELECTRICIAN, 3, {"theory": Decimal(80), "practical": Decimal(80)}, photo=jpeg()
    )
    body, _ = svc.issuing.issue(principal, request)
    rows = [
        ["张三", "居民身份证", person, ELECTRICIAN, "", "3", 80, 80, "", PHOTO],
        ["张三", "居民身份证", person, ELECTRICIAN, "", "4", 80, 80, "", PHOTO],
    ]
    report = validate(svc, to_csv(rows), "r.csv")
    assert problems(report) == {(2, "证件号码", "already_certified")}
    assert body.number in report.problems[0].message_zh
    svc.revoking.revoke(principal, body.number, reason="issued_in_error")
    assert validate(svc, to_csv(rows), "r.csv").ok


def test_photos_come_from_the_zip_and_a_missing_one_is_reported(app: Flask, keys: Keys, svc: UseCases) -> None:
    photo = jpeg()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("照片/张三.JPG", photo)
        z.writestr("李四.png", b"not an image")
        z.writestr("__MACOSX/照片/._张三.JPG", b"junk")
    rows = [
        ["张三", "居民身份证", resident_id(3), ELECTRICIAN, "", "3", 80, 80, "", "张三.jpg"],
        ["张三二", "居民身份证", resident_id(4), ELECTRICIAN, "", "3", 80, 80, "", "张三"],
        ["王五", "居民身份证", resident_id(5), ELECTRICIAN, "", "3", 80, 80, "", "王五.jpg"],
        ["李四", "居民身份证", resident_id(6), ELECTRICIAN, "", "3", 80, 80, "", "李四.png"],
        ["赵六", "居民身份证", resident_id(8), ELECTRICIAN, "", "3", 80, 80, "", ""],
    ]
    report = validate(svc, to_csv(rows), "r.csv", photos=PhotoArchive(archive.getvalue()))
    assert problems(report) == {
        (4, "照片", "photo_missing"),
        (5, "照片", "invalid_photo"),
        (6, "照片", "photo_required"),  # the layout prints a photo
    }
    assert [(v.row, v.photo_member) for v in report.valid] == [(2, "张三.JPG"), (3, "张三.JPG")]
    assert all(v.request.photo is None for v in report.valid), "photos are read again when issued, not kept"
    without = validate(svc, to_csv(rows[:1]), "r.csv", photos=None)
    assert problems(without) == {(2, "照片", "photo_missing")}
    assert "未上传照片压缩包" in without.problems[0].message_zh


def test_zip_names_written_in_gbk_are_decoded() -> None:
    info = zipfile.ZipInfo("照片/张三.jpg".encode("gbk").decode("cp437"))
    assert roster.photos._zip_name(info) == "照片/张三.jpg"


def test_names_the_certificate_cannot_carry_or_print_are_reported_on_their_column(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    rows = [
        ["张\U000f0001", "居民身份证", resident_id(9), ELECTRICIAN, "", "3", 80, 80, "", PHOTO],
        ["张" * 65, "居民身份证", resident_id(10), ELECTRICIAN, "", "3", 80, 80, "", PHOTO],
        ["张\U00013000", "居民身份证", resident_id(11), ELECTRICIAN, "", "3", 80, 80, "", PHOTO],
        ["张三", "居民身份证", resident_id(12), ELECTRICIAN, "维修\U00013000", "3", 80, 80, "", PHOTO],
    ]
    report = validate(svc, to_csv(rows), "r.csv")
    assert problems(report) == {
        (2, "姓名", "invalid_holder_name"),
        (3, "姓名", "invalid_holder_name"),
        (4, "姓名", "missing_glyph"),
        (5, "工种/职业方向", "missing_glyph"),
    }


def test_the_template_example_validates(app: Flask, keys: Keys, svc: UseCases) -> None:
    report = validate(svc, roster.roster_template_xlsx(), "t.xlsx", photos={"11010519491231002X.jpg": jpeg()})
    assert report.ok and [v.row for v in report.valid] == [3]
