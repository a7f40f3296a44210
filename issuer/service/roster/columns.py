"""The roster's columns: their keys, Chinese and English headers and the other headers
people give them, and how a header is folded before it is looked up."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

SPACES = " \t\r\n\u3000\u00a0"
"""What is stripped around a cell's text."""


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.key})"


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "name", ("持证人姓名",)),
    Column("document_type", "证件类型", "document type"),
    Column("document_number", "证件号码", "document number", ("身份证号码", "身份证号", "证件号")),
    Column("occupation_code", "职业编码", "occupation code", ("职业代码",)),
    Column("occupation_name", "职业名称", "occupation name", ("职业",)),
    Column("edition", "职业分类大典版本", "classification edition", ("大典版本", "职业编码版本")),
    Column("work_type", "工种/职业方向", "work type", ("工种", "职业方向", "工种（职业方向）", "职业方向（工种）")),
    Column("level", "等级", "level", ("技能等级", "职业技能等级")),
    Column("method", "评价方式", "assessment method", ("认定方式",)),
    Column("theory", "理论知识成绩", "theory score", ("理论知识考试成绩", "理论成绩")),
    Column("theory_date", "理论知识考试日期", "theory exam date", ("理论考试日期", "理论成绩日期")),
    Column("practical", "技能操作成绩", "practical score", ("技能操作考核成绩", "实操成绩", "技能成绩")),
    Column("practical_date", "技能操作考核日期", "practical exam date", ("技能考核日期", "实操日期")),
    Column("review", "综合评审成绩", "review score", ("综合评审",)),
    Column("review_date", "综合评审日期", "review date"),
    Column("performance", "工作业绩评审成绩", "performance review score", ("业绩评审成绩", "工作业绩评审")),
    Column("performance_date", "工作业绩评审日期", "performance review date", ("业绩评审日期",)),
    Column("process", "过程考核成绩", "process assessment score", ("过程考核",)),
    Column("process_date", "过程考核日期", "process assessment date"),
    Column("competition_tier", "竞赛类别", "competition tier", ("竞赛级别",)),
    Column("competition_rank", "竞赛名次", "competition rank", ("名次",)),
    Column("held_level", "原有等级", "level held", ("已持有等级", "原等级")),
    Column("competition_date", "竞赛日期", "competition date", ("获奖日期",)),
    Column("photo", "照片", "photo", ("照片文件名", "照片文件")),
)
BY_KEY: Mapping[str, Column] = {c.key: c for c in COLUMNS}
REQUIRED = ("name", "document_type", "document_number", "level", "theory", "practical")
OCCUPATION_KEYS = ("occupation_code", "occupation_name")
IGNORED_HEADERS = ("序号", "备注", "编号")
"""Columns people commonly add that carry nothing to issue."""
ORDER = {c.key: i for i, c in enumerate(COLUMNS)}


_UNIT = re.compile(r"\((?:分|分数|百分制|满分100分?|score|points?)\)$")
"""A unit after a header, as offices write it: ``理论知识成绩（分）``, ``技能操作成绩(分数)``."""


def header_key(text: str) -> str:
    """Fold full-width forms (NFKC: headers are labels, not data: ``（`` is ``(``), case,
    spaces (``姓 名``), ``_`` and ``-``, then drop a trailing unit in parentheses."""
    folded = re.sub(r"[\s_\-\u3000]+", "", unicodedata.normalize("NFKC", text).casefold())
    return _UNIT.sub("", folded)


ALIASES: Mapping[str, str] = {header_key(name): c.key for c in COLUMNS for name in (c.zh, c.key, c.en, *c.aliases)}
IGNORED = frozenset(header_key(h) for h in IGNORED_HEADERS)


def accepted_headers(column: Column) -> tuple[str, ...]:
    """What the template's instructions list for a column besides its Chinese header."""
    return (column.en, column.key, *column.aliases)


HEADER_RULES: tuple[tuple[str, str], ...] = (
    (
        "表头不区分全角半角和大小写，忽略空格（如“姓 名”），可在末尾注明单位（如“理论知识成绩（分）”“（分数）”）。",
        "Headers ignore full-width forms, case and spaces, and may end with a unit: 理论知识成绩（分）, （分数）.",
    ),
    (
        "表头上方可有标题行；成绩可为两行表头：合并单元格“成绩”下分“理论”“技能”“综合评审”。",
        "A title may stand above the header; scores may have a two-row header: 成绩 merged over 理论, 技能, 综合评审.",
    ),
    (
        "读取名为“花名册”的工作表，没有时读取第一个未隐藏的工作表；序号、备注列忽略，其他无法识别的列报错。",
        "The sheet named 花名册 is read, else the first visible sheet; 序号 and 备注 are ignored, other unknown "
        "columns are refused.",
    ),
)
"""How headers are read, for the template's instructions and the README."""
