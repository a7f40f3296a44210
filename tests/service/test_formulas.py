"""Formula injection: a name, 工种, occupation name or photo name that a spreadsheet would
run (``=``, ``+``, ``-``, ``@``, tab or CR first) is refused where it comes in — a roster
row, naming its column, and a single issuance — and every text cell of ``result.xlsx`` is
written as a string, so that even a value stored before the rule is never a formula."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import update

from issuer.core.errors import FormulaLikeText
from issuer.service import roster
from issuer.service.jobs import InProcessQueue
from issuer.service.roster import read_roster, validate_roster
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import PHOTO, issued_rows, resident_id, to_csv, upload
from tests.builders import issue_request as request
from tests.conftest import ELECTRICIAN, Keys, issuer_principal
from tests.factories import photo


def _row(name: str, i: int, *, work_type: str = "", occupation: tuple[str, str] = (ELECTRICIAN, ""), **kw: str) -> list:
    code, occupation_name = occupation
    row = [name, "居民身份证", resident_id(i), code, occupation_name, work_type, "3", kw.get("theory", "80"), "75", ""]
    row.append(kw.get("photo", PHOTO))
    return row


HEADER = (
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业名称",
    "工种/职业方向",
    "等级",
    "理论知识成绩",
    "技能操作成绩",
    "综合评审成绩",
    "照片",
)


def test_a_roster_row_beginning_like_a_formula_is_refused_naming_its_column(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    rows = [
        _row("=1+2", 1),
        _row("+8613800000000", 2),
        _row("-张三", 3),
        _row("@SUM(A1)", 4),
        _row('\t=HYPERLINK("http://example.com")', 5),
        _row("张三", 6, work_type="=1+1"),
        _row("李四", 7, occupation=("", "=电工")),
        _row("王五", 8, photo="=cmd.jpg"),
        _row("赵六", 9, work_type="--"),
        _row("钱七", 10, theory="-5"),
    ]
    data = to_csv(rows, header=HEADER)
    report = validate_roster(svc.issuing, issuer_principal(svc), read_roster(data, "名单.csv"), photos={PHOTO: photo()})
    found = {(p.row, p.column, p.code) for p in report.problems}
    assert found == {
        (2, "姓名", "formula_like_value"),
        (3, "姓名", "formula_like_value"),
        (4, "姓名", "formula_like_value"),
        (5, "姓名", "formula_like_value"),
        (6, "姓名", "formula_like_value"),
        (7, "工种/职业方向", "formula_like_value"),
        (8, "职业名称", "formula_like_value"),
        (9, "照片", "formula_like_value"),
        (11, "理论知识成绩", "invalid_score"),  # a number column: a negative score is out of range
    }
    [problem] = [p for p in report.problems if p.row == 7]
    assert problem.message_zh == (
        "第7行“工种/职业方向”：工种/职业方向不能以=、+、-、@、制表符或回车开头（电子表格会将其当作公式执行）"
    )
    assert problem.message.startswith("row 7, 工种/职业方向 (work type): work type must not begin with =, +, -, @")
    assert [v.row for v in report.valid] == [10]  # 工种 -- is none, not a formula


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"holder_name": "=1+2"}, "holder_name"),
        ({"holder_name": "\t张三"}, "holder_name"),
        ({"holder_name": "\r张三"}, "holder_name"),
        ({"work_type": "@维修电工"}, "work_type"),
        ({"work_type": "-维修电工"}, "work_type"),
    ],
)
def test_a_single_issuance_refuses_a_formula_like_name_or_work_type(
    app: Flask, keys: Keys, svc: UseCases, overrides: dict[str, str], field: str
) -> None:
    with pytest.raises(FormulaLikeText) as refused:
        svc.issuing.issue(issuer_principal(svc), request(**overrides))
    assert refused.value.code == "formula_like_value" and refused.value.errors == {"field": field}


def test_a_work_type_of_two_dashes_means_none(app: Flask, keys: Keys, svc: UseCases) -> None:
    record, _ = svc.issuing.issue(issuer_principal(svc), request(work_type="--"))
    assert record.work_type is None


HYPERLINK = '=HYPERLINK("http://example.com","点此")'


def _cells(xlsx: bytes) -> list[tuple[object, str]]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return [(c.value, c.data_type) for sheet in book.worksheets for row in sheet.iter_rows() for c in row]


def _formulas_in(xlsx: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return sum(z.read(n).count(b"<f>") + z.read(n).count(b"<f ") for n in z.namelist() if "worksheets/" in n)


def test_the_check_sees_a_formula_where_openpyxl_would_write_one() -> None:
    book = openpyxl.Workbook(write_only=True)
    book.create_sheet("x").append(["=1+2"])
    out = io.BytesIO()
    book.save(out)
    assert _cells(out.getvalue()) == [("=1+2", "f")] and _formulas_in(out.getvalue()) == 1


def test_result_xlsx_writes_every_text_cell_as_a_string(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [_row("张三", 1, work_type="维修电工"), _row("=1+2", 2)]
    sent = upload(to_csv(rows, header=HEADER), valid_rows_only=True, formats=("pdf",))
    submitted, _ = svc.batches.submit(issuer_principal(svc), sent)
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.join()
    [(_, number)] = issued_rows(svc, submitted.id)
    with svc.database.sessions.begin() as session:  # as a certificate stored before the rule may hold it
        session.execute(
            update(m.Certificate)
            .where(m.Certificate.number == number)
            .values(holder_name=HYPERLINK, work_type="@SUM(A1)")
        )
    out = io.BytesIO()
    svc.drawing.write_result(submitted.id, out)
    cells = [(v, t) for v, t in _cells(out.getvalue()) if v is not None]
    assert (HYPERLINK, "s") in cells and ("@SUM(A1)", "s") in cells
    assert {t for _, t in cells} == {"s", "n"} and _formulas_in(out.getvalue()) == 0
    assert {v for v, t in cells if t == "n"} == {2, 3}  # the roster's row numbers


def test_the_roster_template_holds_no_formula() -> None:
    cells = _cells(roster.roster_template_xlsx())
    assert cells and all(t != "f" for _, t in cells)
