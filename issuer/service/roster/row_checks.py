"""The checks of one row, each on its own cells, so that a row reports all its problems and
not only the first: name, document, occupation (and its edition), level, work type, the
assessment (method, scores and their dates, a competition result), photo, the
organization's scope, the same person twice in the roster."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property

from issuer.core import credential
from issuer.core.assessment import (
    PLACING,
    SCORE_STEP,
    Method,
    Placing,
    Result,
    assess,
    judge,
)
from issuer.core.catalogue import EDITION_2022, LEVELS, Occupation, parse_level
from issuer.core.clock import china_date
from issuer.core.errors import DocumentNumberInText, Forbidden, FormulaLikeText, InvalidInput, IssuerError
from issuer.core.formulas import refuse_formula
from issuer.core.identity import DocumentType
from issuer.core.policy import IssueTime
from issuer.core.redaction import refuse_document_number
from issuer.core.trust import OrganizationEntry, ScopeEntry
from issuer.core.typed import fold_full_width
from issuer.service import issuing
from issuer.service.context import Context as Ports
from issuer.service.pictures import check_photo
from issuer.service.principal import Principal
from issuer.service.roster.columns import BY_KEY
from issuer.service.roster.photos import PhotoIndex
from issuer.service.roster.reading import RosterRow
from issuer.service.roster.report import RosterProblem, cell_problem

SCORE_COLUMNS = ("theory", "practical", "review", "performance", "process")
"""The score components with a column of their own (``columns.COLUMNS``); each has a date
column ``<key>_date``."""
COMPETITION_COLUMNS = ("competition_tier", "competition_rank", "held_level", "competition_date")


@dataclass
class Context:
    ports: Ports
    principal: Principal
    now: datetime
    """When the roster is checked (to the second): its certificates are issued now."""
    organization_id: int
    entry: OrganizationEntry
    imprint: issuing.Imprint
    photos: PhotoIndex
    seen: dict[str, int] = field(default_factory=dict)
    """``Row.holder`` → the first row with it (hashes, not numbers, kept for the whole roster)."""

    @property
    def today(self) -> date:
        return china_date(self.now)

    @cached_property
    def photo_box(self) -> tuple[float, float] | None:
        """The size in mm of the photo the organization's layout prints (None: none)."""
        from issuer.render import load_layout

        return load_layout(self.imprint.layout).photo_box


@dataclass
class Row:
    """One row being checked: its problems so far and what its cells parsed to."""

    source: RosterRow
    problems: list[RosterProblem]
    doc: tuple[DocumentType, str] | None = None
    occupation: Occupation | None = None
    level: int | None = None
    method: Method | None = None
    scores: dict[str, Decimal] | None = None
    passed_on: dict[str, date] = field(default_factory=dict)
    placing: Placing | None = None
    photo: bytes | None = None
    photo_member: str | None = None
    holder: str | None = None
    """The qualification (``issuing.qualification``): to find who already holds it."""

    @property
    def failed(self) -> set[str | None]:
        return {p.field for p in self.problems}

    def add(self, key: str | None, code: str, message: str, message_zh: str, *, continues: bool = False) -> None:
        """A problem of the cell ``key`` (the row when None), its messages located
        (``report.cell_problem``)."""
        text = self.source.text(key or "")
        self.problems.append(cell_problem(self.source.row, key, text, code, message, message_zh, continues=continues))

    def add_error(self, key: str | None, error: IssuerError) -> None:
        self.add(key, error.code, error.message, error.message_zh)

    def add_at(self, key: str, code: str, message: str, message_zh: str) -> None:
        """A problem whose Chinese message continues the cell's name:
        ``第2行“理论知识成绩”不是数字：abc``."""
        self.add(key, code, message, message_zh, continues=True)

    def text(self, key: str) -> str:
        return self.source.text(key)

    def work_type(self) -> str | None:
        """As ``issuing.prepare`` reads it: ``--`` or blank is none."""
        text = self.text("work_type") or None
        return None if text == "--" else text


def check_cells(ctx: Context, source: RosterRow) -> Row:
    """Every check that needs no database and no scrypt, each on its own cells, so that a
    row reports all its problems and not only the first."""
    row = Row(source, list(source.problems))
    _check_free_text(row)
    _check_name(row)
    _check_document(ctx, row)
    _check_occupation(ctx, row)
    _check_level(row)
    _check_work_type(row)
    _check_assessment(ctx, row)
    _check_photo(ctx, row)
    if row.occupation is not None and row.level is not None:
        _check_roster_scope(ctx, row, row.occupation, row.level)
    if row.doc is not None and row.occupation is not None and row.level is not None:
        held = {"document_type": row.doc[0].code, "occupation": row.occupation.code, "level": row.level}
        row.holder = issuing.qualification(
            ctx.ports.cipher.lookup_hash(row.doc[1]), {**held, "work_type": row.work_type()}
        )
        _check_repeated(ctx, row, row.holder)
    return row


FREE_TEXT = ("name", "occupation_name", "work_type", "photo")
"""The columns of text no other rule shapes. The others are codes, numbers and dates, which
their own rules refuse when they begin with anything but a letter or digit; scores and
levels are read as numbers, so a negative score is out of range, not a formula."""


PRINTED_TEXT = ("name", "work_type")
"""The free text printed on the certificate and signed into its QR code."""


def _check_free_text(row: Row) -> None:
    for key in FREE_TEXT:
        if key == "work_type" and row.work_type() is None:
            continue  # -- (none)
        column = BY_KEY[key]
        try:
            refuse_formula(row.text(key), key, column.en, column.zh)
            if key in PRINTED_TEXT:
                refuse_document_number(row.text(key), key, column.en, column.zh)
        except (FormulaLikeText, DocumentNumberInText) as e:
            row.add_error(key, e)


def _check_name(row: Row) -> None:
    name = row.text("name")
    if "name" in row.failed:
        return
    if not name:
        _missing(row, "name")
        return
    try:  # the credential's own rule: 1-64 printable characters
        credential.clean_text(name, "holder name", "持证人姓名", credential.MAX_NAME_CHARS)
    except InvalidInput as e:
        row.add_error("name", e)


def _missing(row: Row, key: str) -> None:
    row.add_at(key, "missing_value", "empty, a value is required", "为空，必须填写")


def _check_document(ctx: Context, row: Row) -> None:
    if "document_type" in row.failed or "document_number" in row.failed:
        return
    if not row.text("document_type"):
        _missing(row, "document_type")
        return
    try:
        doc_type = ctx.ports.document_types.get(row.text("document_type"))
    except InvalidInput as e:
        row.add_error("document_type", e)
        return
    try:
        number = ctx.ports.document_types.check(
            doc_type, row.text("document_number"), on=ctx.today, min_age=ctx.ports.min_holder_age
        )
    except InvalidInput as e:
        row.add_error("document_type" if e.code == "wrong_document_type" else "document_number", e)
        return
    row.doc = (doc_type, number)


def _edition(row: Row) -> int | None:
    """The 职业分类大典 edition the row's occupation is given in (blank: 2022); a problem
    recorded when it is not a year."""
    text = fold_full_width(row.text("edition")).removesuffix("年版").removesuffix("版").strip()
    if not text:
        return None
    if not text.isdigit():
        shown = row.text("edition")
        row.add_at("edition", "unknown_edition", f"must be 2015 or 2022, got {shown}", f"应为2015或2022，实为{shown}")
        raise ValueError(text)
    return int(text)


def _check_occupation(ctx: Context, row: Row) -> None:
    code = _fold_code(row.text("occupation_code"))
    name = "" if "occupation_name" in row.failed else row.text("occupation_name")
    if not code and "occupation_name" in row.failed:
        return
    if not code and not name:
        _missing(row, "occupation_code" if "occupation_code" in row.source.cells else "occupation_name")
        return
    key = "occupation_code" if code else "occupation_name"
    catalogue = ctx.ports.catalogue
    try:
        edition = _edition(row)
    except ValueError:
        return
    try:
        found = catalogue.current(code, edition) if code else catalogue.find_occupation_by_name(name, edition)
        occupation = catalogue.issuable(found.code)
    except InvalidInput as e:
        row.add_error("edition" if e.code == "unknown_edition" else key, e)
        return
    names = {occupation.name} | {c.name for c in catalogue.changes.get((edition or EDITION_2022, code), ())}
    if code and name and name not in names:
        row.add(
            "occupation_name",
            "occupation_name_mismatch",
            f"occupation {occupation.code} is {occupation.name}, not {name}",
            f"职业编码{occupation.code}对应的职业为“{occupation.name}”，不是“{name}”",
        )
    row.occupation = occupation


_DASHES = str.maketrans("－‐‑–—", "-----")


def _fold_code(text: str) -> str:
    return fold_full_width(text).translate(_DASHES).replace(" ", "")


def _check_level(row: Row) -> None:
    text = unicodedata.normalize("NFKC", row.text("level")).strip()  # ３, 三级／高级工
    if not text:
        _missing(row, "level")
        return
    try:
        row.level = parse_level(text).code
    except InvalidInput as e:
        row.add_error("level", e)


def _check_work_type(row: Row) -> None:
    work_type = row.work_type()
    if work_type is None or "work_type" in row.failed:
        return
    try:  # the credential's own rule, as for the name
        credential.clean_text(work_type, "work type", "工种/职业方向", credential.MAX_WORK_TYPE_CHARS)
    except InvalidInput as e:
        row.add_error("work_type", e)


def _check_assessment(ctx: Context, row: Row) -> None:
    """The method, then each score and date on its own (a number, 0–100, a component the
    method has at the level; a date), then the method's rule (``assessment.judge``): every
    required component passed, one problem per failed or missing component, dates within
    the window of each other, a competition result that earns the level."""
    try:
        method = ctx.ports.methods.get(row.text("method") or None)
    except InvalidInput as e:
        row.add_error("method", e)
        return
    row.method = method
    results: dict[str, Result] = {}
    readable: dict[str, Decimal] = {}
    bad: set[str] = set()
    for key in SCORE_COLUMNS:
        score, day = _score(row, method, key), _date(row, f"{key}_date")
        if isinstance(score, Decimal):
            readable[key] = score
        if score is False or day is False:
            bad.add(key)
        elif isinstance(score, Decimal) or isinstance(day, date):
            results[key] = Result(score if isinstance(score, Decimal) else None, day or None)
    placing = _placing(row, method)
    if placing is False or row.level is None:
        return
    if bad:
        _check_other_scores(row, method, row.level, readable, bad)
        return
    row.placing = placing or None
    try:
        judge(row.level, results, issued_on=ctx.today, method=method, placing=row.placing)
    except InvalidInput as e:
        for column in _assessment_columns(method, e):
            _add_assessment_problem(row, method, column, e)
        return
    row.scores = {k: r.score for k, r in results.items() if r.score is not None}
    row.passed_on = {k: r.passed_on for k, r in results.items() if r.passed_on is not None}


def _check_other_scores(row: Row, method: Method, level: int, readable: dict[str, Decimal], bad: set[str]) -> None:
    """With some score or date cells unreadable (``bad``, recorded), the readable scores are
    still held to the method: the components missing or failed, each beside its cell."""
    outcome = assess(level, readable, method=method)
    for key in outcome.missing:
        if key in SCORE_COLUMNS and key not in bad:  # a bad score cell is recorded already
            _add_assessment_problem(row, method, key, InvalidInput("missing_component", "", ""))
    for key in outcome.failed:
        if key in SCORE_COLUMNS:
            _add_assessment_problem(row, method, key, InvalidInput("assessment_failed", "", ""))


def _add_assessment_problem(row: Row, method: Method, key: str | None, e: InvalidInput) -> None:
    """A problem of the method's rule, named by its cell: one failed or missing per score."""
    if key is None:
        row.add_error(key, e)
    elif e.code == "missing_component" and key in SCORE_COLUMNS:
        row.add_at(key, e.code, "empty, the level requires this score", "为空，该等级必须有此成绩")
    elif e.code == "assessment_failed":
        shown, mark = row.text(key), f"{method.pass_mark:f}"
        row.add_at(key, e.code, f"below {mark}: {shown}", f"未达到{mark}分：{shown}")
    else:
        row.add_at(key, e.code, e.message, e.message_zh)


_COMPETITION_COLUMN = {
    "competition_no_promotion": "held_level",
    "invalid_held_level": "held_level",
    "competition_not_placed": "competition_rank",
    "invalid_rank": "competition_rank",
}
"""The cell a competition result's problem is about, by its code (otherwise the date's when
the date is at fault, else the tier's)."""


def _assessment_columns(method: Method, error: InvalidInput) -> list[str | None]:
    """The columns an error of the assessment rule is about: each failed or missing
    component's score (the competition's tier and rank), a date's column, or the level."""
    if error.errors.get("field") == "level":
        return ["level"]
    named = error.errors.get("failed") or error.errors.get("missing") or [error.errors.get("component")]
    columns: list[str | None] = []
    for key in named:
        if key == "competition":
            dated = "competition_date" if error.errors.get("part") == "date" else "competition_tier"
            columns.append(_COMPETITION_COLUMN.get(error.code, dated))
        elif key in SCORE_COLUMNS:
            columns.append(f"{key}_date" if error.errors.get("part") == "date" else key)
        else:
            columns.append(None)
    return columns


def _score(row: Row, method: Method, key: str) -> Decimal | bool | None:
    """The score, ``None`` when blank, ``False`` when it is a problem (recorded). Its own
    rules (a number, 0–100, two decimals) are checked here, whatever the level, so their
    messages name the cell; ``assess`` then says whether the method has the component at
    the level."""
    shown = row.text(key)
    text = fold_full_width(shown)
    if not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite():
        row.add_at(key, "invalid_score", f"not a number: {shown}", f"不是数字：{shown}")
        return False
    if not 0 <= score <= method.max_score:
        row.add_at(
            key,
            "invalid_score",
            f"must be between 0 and {method.max_score}, got {shown}",
            f"应在0至{method.max_score}之间，实为{shown}",
        )
        return False
    if score != score.quantize(SCORE_STEP):
        row.add_at(key, "invalid_score", f"more than two decimals: {shown}", f"最多保留两位小数，实为{shown}")
        return False
    if row.level is not None:
        try:  # the component's place in the method at the level
            assess(row.level, {key: score}, method=method)
        except InvalidInput as e:
            row.add_at(key, e.code, e.message, e.message_zh)
            return False
    return score


_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?(?:T00:00:00)?")


def _date(row: Row, key: str) -> date | bool | None:
    """A date cell: ``2026-05-20`` (a spreadsheet's date cell reads so), ``2026/5/20``,
    ``2026.5.20`` or ``2026年5月20日``; ``None`` when blank, ``False`` when it is a problem."""
    text = fold_full_width(row.text(key)).strip()
    if not text:
        return None
    found = _DATE.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        return date(*(int(g) for g in found.groups()))
    except ValueError:
        shown = row.text(key)
        row.add_at(key, "invalid_date", f"not a date such as 2026-05-20: {shown}", f"不是日期（如2026-05-20）：{shown}")
        return False


def _placing(row: Row, method: Method) -> Placing | bool | None:
    """The competition result of the row's cells; ``None`` when blank, ``False`` when a cell
    is a problem (recorded)."""
    if not any(row.text(k) for k in COMPETITION_COLUMNS):
        return None
    if not any(c.kind == PLACING for c in method.components):
        row.add_at(
            "competition_tier",
            "unexpected_component",
            f"{method.name_en} has no competition result: leave the competition columns blank",
            f"{method.name_zh}没有竞赛成绩，竞赛相关列应留空",
        )
        return False
    tier_text = row.text("competition_tier")
    tier = next((t.key for t in method.tiers if tier_text in (t.key, t.name_zh)), tier_text)
    rank_text = fold_full_width(row.text("competition_rank")).removeprefix("第").removesuffix("名")
    held_text = unicodedata.normalize("NFKC", row.text("held_level")).strip()
    day = _date(row, "competition_date")
    ok = day is not False
    if not rank_text.isdigit():
        shown = row.text("competition_rank")
        row.add_at("competition_rank", "invalid_rank", f"not a whole number from 1: {shown}", f"应为整数名次：{shown}")
        ok = False
    held = None
    if held_text:
        try:
            held = parse_level(held_text).code
        except InvalidInput as e:
            row.add_at("held_level", e.code, e.message, e.message_zh)
            ok = False
    if not ok:
        return False
    return Placing(tier, int(rank_text), held, day if isinstance(day, date) else None)


def _check_photo(ctx: Context, row: Row) -> None:
    """The named photo in the ZIP — or, the 照片 cell left blank, the one named after the
    document number (``11010519491231002X.jpg``, as offices name them) —, then the layout's
    rule (``pictures.check_photo``): one is required when the layout has a photo box, large
    enough for it and portrait."""
    name = row.text("photo")
    if "photo" in row.failed:
        return
    if not name and row.doc is not None and ctx.photos.member(row.doc[1]) is not None:
        name = row.doc[1]
    if not name:
        try:
            check_photo(None, ctx.photo_box, max_bytes=issuing.MAX_PHOTO_BYTES, max_pixels=issuing.MAX_PHOTO_PIXELS)
        except InvalidInput as e:
            row.add_error("photo", e)
        return
    member = ctx.photos.member(name)
    if member is not None and ctx.photos.photos is not None:
        row.photo, row.photo_member = ctx.photos.photos[member], member
        try:
            check_photo(
                row.photo, ctx.photo_box, max_bytes=issuing.MAX_PHOTO_BYTES, max_pixels=issuing.MAX_PHOTO_PIXELS
            )
        except InvalidInput as e:
            row.add_error("photo", e)
    elif ctx.photos.photos is None:
        row.add(
            "photo",
            "photo_missing",
            f"photo {name} is named but no photos ZIP was uploaded",
            f"填写了照片“{name}”，但未上传照片压缩包",
        )
    else:
        row.add("photo", "photo_missing", f"photo {name} is not in the photos ZIP", f"照片压缩包中没有“{name}”")


def _check_roster_scope(ctx: Context, row: Row, occupation: Occupation, level: int) -> None:
    try:
        issuing.check_may_issue(ctx.entry, occupation.code, level, row.work_type(), IssueTime.at(ctx.now))
    except Forbidden as e:
        row.add_error(_scope_column(ctx, row, occupation), e)


def _scope_column(ctx: Context, row: Row, occupation: Occupation) -> str:
    """Which cell puts the row out of scope: the occupation (not in today's scope at any
    level or work type), else the level (another level would do), else the work type."""
    code, now = occupation.code, ctx.now
    if not any(
        s.covers(code, EDITION_2022, lv, wt) and s.in_force_at(now)
        for s in ctx.entry.scope
        for lv in s.levels
        for wt in _some(s)
    ):
        return "occupation_code" if row.text("occupation_code") else "occupation_name"
    if any(ctx.entry.in_scope_at(code, EDITION_2022, lv, row.work_type(), now) for lv in LEVELS):
        return "level"
    return "work_type"


def _some(entry: ScopeEntry) -> tuple[str | None, ...]:
    """A work type the scope entry admits (any, when it names none)."""
    return entry.work_types[:1] or (None,)


def _check_repeated(ctx: Context, row: Row, holder: str) -> None:
    """The same person (document type and normalized number) for the same occupation, 工种
    and level earlier in the roster."""
    first = ctx.seen.setdefault(holder, row.source.row)
    if first != row.source.row:
        row.add(
            "document_number",
            "duplicate_in_roster",
            f"the same person is on row {first} for the same occupation, work type and level",
            f"与第{first}行为同一人、同一职业（工种）和等级，重复",
        )
