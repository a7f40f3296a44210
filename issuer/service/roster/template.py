"""``roster_template_xlsx``: the roster to fill in, with an example row and notes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from issuer.core.catalogue import LEVELS
from issuer.core.identity import default_document_types
from issuer.service.roster.columns import COLUMNS, HEADER_RULES, OCCUPATION_KEYS, ORDER, REQUIRED, accepted_headers

_TEMPLATE_EXAMPLE = {
    "name": "张三丰",
    "document_type": "居民身份证",
    "document_number": "11010519491231002X",
    "occupation_code": "6-31-01-03",
    "occupation_name": "电工",
    "edition": None,
    "work_type": "--",
    "level": "三级/高级工",
    "method": "考试考核",
    "theory": 85,
    "theory_date": "2026-05-20",
    "practical": 78.5,
    "practical_date": None,
    "review": None,
    "review_date": None,
    "performance": None,
    "performance_date": None,
    "process": None,
    "process_date": None,
    "competition_tier": None,
    "competition_rank": None,
    "held_level": None,
    "competition_date": None,
    "photo": "11010519491231002X.jpg",
}
_TEMPLATE_NOTES = {
    "name": ("与证件一致", "as on the identity document"),
    "document_type": ("居民身份证、护照等", "居民身份证, 护照, …"),
    "document_number": ("本列为文本格式，请勿改为数字", "this column is text: do not turn it into numbers"),
    "occupation_code": ("2022年版职业分类大典编码，如6-31-01-03；可只填职业名称", "2022 classification code"),
    "occupation_name": ("可只填职业编码；两者都填时须一致", "may be left out when the code is given"),
    "edition": ("留空为2022年版；填2015时按编码变更表换为2022年版编码", "blank: 2022; 2015 codes are translated"),
    "work_type": ("无工种/职业方向时填--或留空", "-- or blank when none"),
    "level": ("3、三级、高级工或三级/高级工", "3, 三级, 高级工 or 三级/高级工"),
    "method": (
        "考试考核（留空即是）、工作业绩评审、过程考核或竞赛选拔",
        "blank: examination; or performance_review, process_assessment, competition",
    ),
    "theory": ("考试考核：百分制，60分及格", "examination: out of 100, 60 to pass"),
    "theory_date": ("通过日期，留空为发证日期；分次通过的科目须在2年内", "date passed; blank: the issue date"),
    "practical": ("考试考核：百分制，60分及格", "examination: out of 100, 60 to pass"),
    "practical_date": ("通过日期，留空为发证日期", "date passed; blank: the issue date"),
    "review": ("仅二级/技师、一级/高级技师填写", "levels 2 and 1 only"),
    "review_date": ("通过日期，留空为发证日期", "date passed; blank: the issue date"),
    "performance": ("工作业绩评审：百分制，60分及格", "work performance review: out of 100, 60 to pass"),
    "performance_date": ("通过日期，留空为发证日期", "date passed; blank: the issue date"),
    "process": ("过程考核：百分制，60分及格", "process assessment: out of 100, 60 to pass"),
    "process_date": ("通过日期，留空为发证日期", "date passed; blank: the issue date"),
    "competition_tier": ("竞赛选拔：国家级一类竞赛、省级一类竞赛或省级二类竞赛", "competition: the tier"),
    "competition_rank": ("竞赛选拔：名次，如3", "competition: the rank, e.g. 3"),
    "held_level": ("竞赛选拔：参赛前已持有的等级，无则留空", "competition: the level held before, if any"),
    "competition_date": ("竞赛选拔：获奖日期，留空为发证日期", "competition: date of the result"),
    "photo": (
        "照片压缩包中的文件名；留空时使用以证件号码命名的照片（如11010519491231002X.jpg）；证书版式有照片位置时必须有照片",
        "file name in the photos ZIP; blank: the photo named after the document number (11010519491231002X.jpg); "
        "required when the layout prints a photo",
    ),
}


def roster_template_xlsx() -> bytes:
    """A roster to fill in: Chinese headers, an English header line below them (skipped
    when read), one example row, the ID column formatted as text, a sheet of notes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "花名册"
    for i, column in enumerate(COLUMNS, start=1):
        zh, en = _TEMPLATE_NOTES[column.key]
        head = sheet.cell(row=1, column=i, value=column.zh)
        head.font = Font(bold=True)
        head.comment = Comment(f"{zh}\n{en}", "issuer")
        sheet.cell(row=2, column=i, value=column.key).font = Font(italic=True, color="808080")
        sheet.cell(row=3, column=i, value=_TEMPLATE_EXAMPLE[column.key])
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, len(column.zh) * 3)
        if column.key == "document_number":
            sheet.column_dimensions[letter].number_format = "@"
            for r in range(3, 1003):
                sheet.cell(row=r, column=i).number_format = "@"
    _template_validations(sheet)
    sheet.freeze_panes = "A3"
    _template_notes(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _template_validations(sheet: Any) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lists = {
        "document_type": [t.name_zh for t in default_document_types()],
        "level": [lv.label_zh for lv in LEVELS.values()],
    }
    for key, values in lists.items():
        rule = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
        rule.showErrorMessage = False  # 3, 三级 and 高级工 are accepted too
        col = get_column_letter(ORDER[key] + 1)
        rule.add(f"{col}3:{col}10000")
        sheet.add_data_validation(rule)


@dataclass(frozen=True)
class GuideLine:
    """One column of the roster as the template's notes sheet and the upload page explain it."""

    header: str
    key: str
    required: str
    """是, 否 or 二选一 (one of the code and the name)."""
    note_zh: str
    note_en: str
    also: str
    """The other headers accepted for it, 、-separated."""


def column_guide() -> list[GuideLine]:
    """Every column, in the template's order, with what to write in it."""
    lines = []
    for column in COLUMNS:
        zh, en = _TEMPLATE_NOTES[column.key]
        required = "是" if column.key in REQUIRED else ("二选一" if column.key in OCCUPATION_KEYS else "否")
        lines.append(GuideLine(column.zh, column.key, required, zh, en, "、".join(accepted_headers(column))))
    return lines


def photo_rule() -> tuple[str, str]:
    """How photos are named in the ZIP, in Chinese and English."""
    return _TEMPLATE_NOTES["photo"]


def _template_notes(book: Any) -> None:
    notes = book.create_sheet("填写说明")
    notes.append(["列", "column", "必填", "说明", "notes", "也可写作 / also accepted"])
    for line in column_guide():
        notes.append([line.header, line.key, line.required, line.note_zh, line.note_en, line.also])
    notes.append([])
    notes.append(["第2行为英文表头，可保留或删除；第3行为示例，请删除后填写。"])
    notes.append(["Row 2 is an English header line (keep or delete it); row 3 is an example: delete it."])
    for zh, en in HEADER_RULES:
        notes.append([zh])
        notes.append([en])
    for letter, width in zip("ABCDEF", (16, 18, 8, 48, 40, 48), strict=True):
        notes.column_dimensions[letter].width = width
