"""Batch issuance, first step: read an exam session's roster (CSV or XLSX, Chinese or
English headers) and validate every row with the checks issuance runs, issuing nothing.

``read_roster`` streams ``RosterRow``s (spreadsheet row number and the text of every cell);
``validate_roster`` turns each into an ``IssueRequest``, runs ``issuing.prepare``, the
organization's registration and scope rule and the printability check, plus the roster's
own checks (the same person twice, a person who already holds the certificate, a photo
missing from the ZIP), and returns a ``RosterReport`` of every problem of every row and
the prepared requests of the valid rows for the issuing step.
"""

from __future__ import annotations

import codecs
import csv
import io
import pickle
import re
import tempfile
import unicodedata
import weakref
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import IO, Any

from issuer.core import credential, identity, policy
from issuer.core.assessment import Component, assess, require_pass
from issuer.core.catalogue import EDITION_2022, LEVELS, Occupation, parse_level
from issuer.core.clock import china_date
from issuer.core.errors import Forbidden, InvalidInput, IssuerError
from issuer.core.identity import DocumentType, default_document_types
from issuer.core.policy import IssueTime
from issuer.core.trust import OrganizationEntry, ScopeEntry
from issuer.core.typed import fold_full_width
from issuer.service import issuing, lifecycle
from issuer.service.context import Context
from issuer.service.issuing import IssueRequest, Issuing, Prepared
from issuer.service.principal import Principal, Role, require_role
from issuer.service.publishing import trust_entry

MAX_ROWS = 50_000
"""Rows a roster may have (the header not counted)."""
CHUNK_ROWS = 200
PREPARE_THREADS = 2
"""Rows checked together: one database query per chunk for holders of the certificate."""
_SPACES = " \t\r\n\u3000\u00a0"
_EXCEL_DIGITS = 15
"""Excel keeps 15 significant digits of a number: an 18-digit ID number typed into a
number cell has lost its last digits (110105194912310021 → 110105194912310000)."""


class RosterError(InvalidInput):
    """A roster that cannot be read at all: encoding, format, header row."""


# --- columns ------------------------------------------------------------------------------


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
    Column("work_type", "工种/职业方向", "work type", ("工种", "职业方向")),
    Column("level", "等级", "level", ("技能等级", "职业技能等级")),
    Column("theory", "理论知识成绩", "theory score", ("理论知识考试成绩", "理论成绩")),
    Column("practical", "技能操作成绩", "practical score", ("技能操作考核成绩", "实操成绩", "技能成绩")),
    Column("review", "综合评审成绩", "review score", ("综合评审",)),
    Column("photo", "照片", "photo", ("照片文件名", "照片文件")),
)
BY_KEY: Mapping[str, Column] = {c.key: c for c in COLUMNS}
REQUIRED = ("name", "document_type", "document_number", "level", "theory", "practical")
OCCUPATION_KEYS = ("occupation_code", "occupation_name")
IGNORED_HEADERS = ("序号", "备注")
"""Columns people commonly add that carry nothing to issue."""
_ORDER = {c.key: i for i, c in enumerate(COLUMNS)}
_COMPONENT_KEYS = {Component.THEORY: "theory", Component.PRACTICAL: "practical", Component.REVIEW: "review"}


def _header_key(text: str) -> str:
    """Fold full-width forms (NFKC: headers are labels, not data), case, spaces, ``_``, ``-``."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text).casefold())


_ALIASES: Mapping[str, str] = {_header_key(name): c.key for c in COLUMNS for name in (c.zh, c.key, c.en, *c.aliases)}
_IGNORED = frozenset(_header_key(h) for h in IGNORED_HEADERS)


# --- what is read -------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterProblem:
    row: int
    column: str | None
    """The column's Chinese header (``证件号码``); ``None`` for a problem of the whole row."""
    field: str | None
    value: str
    """The cell as read; ID numbers masked (``1101**********002X``)."""
    code: str
    message: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
        }


@dataclass(frozen=True)
class RosterRow:
    row: int
    """1-based spreadsheet row (the header is row 1)."""
    cells: Mapping[str, str]
    """The text of each cell by column key; numbers from XLSX as text (``85``, ``85.5``)."""
    problems: tuple[RosterProblem, ...] = ()
    """Cells that could not be read as text, e.g. an ID number Excel stored as a number."""

    def text(self, key: str) -> str:
        return self.cells.get(key, "").strip(_SPACES)


def _masked(key: str | None, text: str) -> str:
    if key == "document_number" and text:
        return identity.mask(identity.normalize_document_number(text))
    return text


def _problem(row: int, key: str | None, text: str, code: str, message: str, message_zh: str) -> RosterProblem:
    column = BY_KEY[key].zh if key else None
    return RosterProblem(row, column, key, _masked(key, text), code, message, message_zh)


# --- reading ------------------------------------------------------------------------------


def read_roster(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Iterator[RosterRow]:
    """The roster's rows, streamed, empty rows skipped. The first non-empty row is the
    header, read at once: ``RosterError`` for a file that cannot be read or a header that
    is wrong is raised here, not at the first row."""
    records = _xlsx_records(data) if _is_xlsx(data, filename) else _csv_records(data)
    try:
        keys = _header(records)
    except BaseException:
        records.close()
        raise
    return _rows(records, keys, max_rows)


def _is_xlsx(data: bytes, filename: str) -> bool:
    name = filename.lower()
    if data.startswith(b"PK\x03\x04"):
        return True
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise RosterError(
            "roster_format",
            "old .xls or encrypted workbooks cannot be read: save the roster as .xlsx (no password) or CSV",
            "无法读取.xls或加密的工作簿：请另存为.xlsx（不设密码）或CSV文件",
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise _unreadable("the file is not an .xlsx workbook", "文件不是.xlsx工作簿")
    return False


def _unreadable(message: str, message_zh: str) -> RosterError:
    return RosterError("roster_unreadable", f"the roster cannot be read: {message}", f"无法读取花名册：{message_zh}")


def decode_csv(data: bytes) -> str:
    """BOM → UTF-8 (or UTF-16, Excel's "Unicode text"); else strict UTF-8; else GB18030
    (a superset of GBK, what Excel on Chinese Windows writes)."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
    except UnicodeDecodeError:
        raise _encoding_error() from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _encoding_error() from None


def _encoding_error() -> RosterError:
    return RosterError(
        "roster_encoding",
        "the CSV file is neither UTF-8 nor GBK/GB18030",
        "CSV文件的编码既不是UTF-8也不是GBK/GB18030",
    )


def _csv_records(data: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Records, not lines: a cell with a line break is one spreadsheet row.
        yield from enumerate(reader, start=1)
    except csv.Error as e:
        raise _unreadable(
            f"CSV error after row {reader.line_num}: {e}", f"第{reader.line_num}行后CSV格式错误"
        ) from None


def _xlsx_records(data: bytes) -> Generator[tuple[int, Sequence[object]], None, None]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
        raise _unreadable("not a valid .xlsx workbook", "不是有效的.xlsx工作簿") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # do not trust the stored dimension: it may cut rows off
        try:
            # Missing rows are filled in, so the index is the spreadsheet row number.
            yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        except (KeyError, ValueError, TypeError) as e:
            raise _unreadable(f"malformed worksheet ({e})", "工作表内容损坏") from None
    finally:
        book.close()


def _blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip(_SPACES)) for v in values)


def _header(records: Iterator[tuple[int, Sequence[object]]]) -> list[str | None]:
    for _, values in records:
        if not _blank(values):
            return parse_header([_header_text(v) for v in values])
    raise RosterError("roster_empty", "the roster is empty: no header row", "花名册为空：没有表头行")


def _rows(
    records: Generator[tuple[int, Sequence[object]], None, None], keys: Sequence[str | None], max_rows: int
) -> Iterator[RosterRow]:
    count = 0
    try:
        for index, values in records:
            if _blank(values) or (count == 0 and _is_second_header(keys, values)):
                continue  # an empty row, or an English header line below the Chinese one
            row = _row(index, keys, values)
            if not row.problems and not any(row.text(k) for k in row.cells):
                continue  # only a 序号 or a note
            count += 1
            if count > max_rows:
                raise RosterError(
                    "roster_too_large",
                    f"a roster is limited to {max_rows} rows: split it",
                    f"花名册最多{max_rows}行，请拆分后上传",
                )
            yield row
    finally:
        records.close()  # the workbook, when the caller stops early


def _header_text(value: object) -> str:
    return "" if value is None else str(value)


def parse_header(headers: Sequence[str]) -> list[str | None]:
    """The column key of each position (``None``: ignored). Raises ``RosterError`` for an
    unknown, repeated or missing column."""
    keys: list[str | None] = []
    unknown, repeated = [], []
    for text in headers:
        norm = _header_key(text)
        key = _ALIASES.get(norm)
        if norm and norm not in _IGNORED and key is None:
            unknown.append(text.strip(_SPACES))
        if key is not None and key in keys:
            repeated.append(BY_KEY[key].label)
        keys.append(key)
    if unknown:
        raise _column_error("roster_unknown_column", "unknown column", "无法识别的列", unknown, expected=True)
    if repeated:
        raise _column_error("roster_duplicate_column", "column given twice", "重复的列", repeated)
    missing = [BY_KEY[k].label for k in REQUIRED if k not in keys]
    if not any(k in keys for k in OCCUPATION_KEYS):
        missing.append("职业编码或职业名称 (occupation_code or occupation_name)")
    if missing:
        raise _column_error("roster_missing_column", "missing column", "缺少列", missing)
    return keys


def _column_error(code: str, what: str, what_zh: str, names: list[str], *, expected: bool = False) -> RosterError:
    hint_en = hint_zh = ""
    if expected:
        known = ", ".join(c.label for c in COLUMNS)
        hint_en, hint_zh = f"; the columns are {known}", f"；可用的列为{known}"
    return RosterError(
        code,
        f"{what}: {', '.join(names)}{hint_en}",
        f"{what_zh}：{'、'.join(names)}{hint_zh}",
        errors={"columns": names},
    )


def _is_second_header(keys: Sequence[str | None], values: Sequence[object]) -> bool:
    pairs = [(k, v) for k, v in zip(keys, values, strict=False) if v is not None and str(v).strip(_SPACES)]
    return bool(pairs) and all(k is not None and _ALIASES.get(_header_key(str(v))) == k for k, v in pairs)


def _row(index: int, keys: Sequence[str | None], values: Sequence[object]) -> RosterRow:
    cells: dict[str, str] = {}
    problems = []
    for key, value in zip(keys, values, strict=False):
        if key is None:
            continue
        text, problem = _cell_text(index, key, value)
        cells[key] = text
        if problem is not None:
            problems.append(problem)
    return RosterRow(index, cells, tuple(problems))


def _cell_text(row: int, key: str, value: object) -> tuple[str, RosterProblem | None]:
    if value is None:
        return "", None
    if isinstance(value, bool):
        return str(value).upper(), None
    if isinstance(value, int | float):
        text = _number_text(value)
        if key == "document_number" and _lost_digits(value, text):
            return text, _id_as_number(row, text)
        return text, None
    if isinstance(value, datetime | date | time):
        return value.isoformat(), None
    text = str(value)
    if key == "document_number":
        text = _unwrap_excel_text(text)
        if re.fullmatch(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+", text.strip(_SPACES)):
            return text, _id_as_number(row, text)
    return text, None


def _number_text(value: int | float) -> str:
    """``85.0`` → ``85``, ``85.5`` → ``85.5`` (the shortest text that reads back as the value)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _lost_digits(value: int | float, text: str) -> bool:
    return (isinstance(value, float) and not value.is_integer()) or len(text.lstrip("-")) > _EXCEL_DIGITS


def _unwrap_excel_text(text: str) -> str:
    """What people put in a CSV to keep Excel from turning a number into a float:
    ``'110105…`` or ``="110105…"``."""
    stripped = text.strip(_SPACES)
    wrapped = re.fullmatch(r'="(.*)"', stripped)
    if wrapped:
        return wrapped.group(1)
    return stripped[1:] if stripped.startswith("'") else text


def _id_as_number(row: int, text: str) -> RosterProblem:
    return _problem(
        row,
        "document_number",
        text,
        "id_stored_as_number",
        "the document number was stored as a number and has lost digits: format the 证件号码 column as text "
        "and enter the numbers again",
        "证件号码被存为数字，末几位已丢失：证件号码列请设置为文本格式，并重新填写号码",
    )


# --- photos -------------------------------------------------------------------------------


class PhotoArchive(Mapping[str, bytes]):
    """The photos ZIP uploaded beside a roster, read member by member (never all at once),
    by file name without folders. Names that Windows stored in GBK are decoded."""

    def __init__(self, data: bytes | IO[bytes]) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, ValueError):
            raise RosterError(
                "photos_unreadable", "the photos file is not a ZIP archive", "照片压缩包不是有效的ZIP文件"
            ) from None
        self._members = {_base_name(_zip_name(i)): i for i in infos if _is_photo_member(i)}

    def __getitem__(self, name: str) -> bytes:
        info = self._members[name]
        try:
            with self._zip.open(info) as member:
                # One byte more than a photo may have: enough for the size check to refuse it.
                return member.read(issuing.MAX_PHOTO_BYTES + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, zlib.error):
            return b""  # encrypted or damaged: the photo check reports it as not an image

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _is_photo_member(info: zipfile.ZipInfo) -> bool:
    name = _zip_name(info)
    return not info.is_dir() and not name.startswith("__MACOSX/") and not _base_name(name).startswith(".")


def _base_name(name: str) -> str:
    return re.split(r"[/\\]", name)[-1]


def _photo_key(name: str) -> str:
    return unicodedata.normalize("NFC", _base_name(name.strip(_SPACES))).casefold()


class _PhotoIndex:
    """Finds a photo by the name in the roster: folders, case and Unicode form aside, and
    without its extension when that is unambiguous."""

    def __init__(self, photos: Mapping[str, bytes] | None) -> None:
        self.photos = photos
        self.names: dict[str, str] = {}
        stems: dict[str, list[str]] = {}
        for name in photos or {}:
            key = _photo_key(name)
            self.names.setdefault(key, name)
            stems.setdefault(key.rsplit(".", 1)[0], []).append(name)
        self.stems = {stem: names[0] for stem, names in stems.items() if len(names) == 1}

    def member(self, name: str) -> str | None:
        """The archive's name for the photo the roster names."""
        if self.photos is None:
            return None
        key = _photo_key(name)
        return self.names.get(key) or self.stems.get(key)


# --- validating ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidRow:
    row: int
    request: IssueRequest
    """Without the photo: a roster's photos are read again from the archive when issued."""
    prepared: Prepared
    """``issuing.prepare``'s result (with the scrypt commitment), for the issuing step."""
    photo_name: str | None = None
    """The name in the roster."""
    photo_member: str | None = None
    """The photo's name in the photos archive."""


class ValidRows:
    """The valid rows of a roster, in order, kept in a temporary file rather than in
    memory: a roster of tens of thousands of rows is validated whole before any is issued."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the report
        self._count = 0
        weakref.finalize(self, self._file.close)

    def append(self, row: ValidRow) -> None:
        self._file.seek(0, io.SEEK_END)
        pickle.dump(row, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ValidRow]:
        self._file.seek(0)
        for _ in range(self._count):
            yield pickle.load(self._file)


@dataclass
class RosterReport:
    rows: int = 0
    problems: list[RosterProblem] = field(default_factory=list)
    valid: ValidRows = field(default_factory=ValidRows)
    issue_date: date | None = None

    @property
    def valid_rows(self) -> int:
        return len(self.valid)

    @property
    def invalid_rows(self) -> int:
        return self.rows - self.valid_rows

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The report as the API returns it (counts and problems; no personal data)."""
        return {
            "rows": self.rows,
            "valid_rows": self.valid_rows,
            "invalid_rows": self.invalid_rows,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass
class _Context:
    svc: Context
    principal: Principal
    now: datetime
    """When the roster is checked (to the second): its certificates are issued now."""
    organization_id: int
    entry: OrganizationEntry
    imprint: issuing.Imprint
    photos: _PhotoIndex
    seen: dict[str, int] = field(default_factory=dict)
    """``_Row.holder`` → the first row with it (hashes, not numbers, kept for the whole roster)."""

    @property
    def today(self) -> date:
        return china_date(self.now)


@dataclass
class _Row:
    """One row being checked: its problems so far and what its cells parsed to."""

    source: RosterRow
    problems: list[RosterProblem]
    doc: tuple[DocumentType, str] | None = None
    occupation: Occupation | None = None
    level: int | None = None
    scores: dict[str, Decimal] | None = None
    photo: bytes | None = None
    photo_member: str | None = None
    holder: str | None = None
    """The qualification (``issuing.qualification``): to find who already holds it."""

    @property
    def failed(self) -> set[str | None]:
        return {p.field for p in self.problems}

    def add(self, key: str | None, code: str, message: str, message_zh: str) -> None:
        self.problems.append(_problem(self.source.row, key, self.source.text(key or ""), code, message, message_zh))

    def add_error(self, key: str | None, error: IssuerError) -> None:
        self.add(key, error.code, error.message, error.message_zh)

    def text(self, key: str) -> str:
        return self.source.text(key)

    def work_type(self) -> str | None:
        """As ``issuing.prepare`` reads it: ``--`` or blank is none."""
        text = self.text("work_type") or None
        return None if text == "--" else text


def validate_roster(
    issuer: Issuing,
    principal: Principal | None,
    rows: Iterable[RosterRow],
    *,
    photos: Mapping[str, bytes] | None = None,
) -> RosterReport:
    """Check every row as issuance would, issuing nothing; collect every problem of every
    row. Raises ``Forbidden`` when the organization cannot issue today at all."""
    ctx = _context(issuer.context, require_role(principal, Role.ORG_ISSUER), photos)
    report = RosterReport(issue_date=ctx.today)
    # scrypt releases the GIL: commitments of a chunk's rows are computed on every core.
    with ThreadPoolExecutor(max_workers=PREPARE_THREADS) as pool:
        for chunk in _chunks(rows, CHUNK_ROWS):
            checked = [_check_cells(ctx, row) for row in chunk]
            _check_holders(ctx, checked)
            prepared = pool.map(lambda row: _prepare(ctx, row) if not row.problems else None, checked)
            for row, ready in zip(checked, list(prepared), strict=True):
                _finish(ctx, report, row, ready)
    return report


def _context(svc: Context, principal: Principal, photos: Mapping[str, bytes] | None) -> _Context:
    now = lifecycle.to_second(svc.clock())
    with svc.reading() as uow:
        org = issuing.organization_of(uow, principal)
    entry = trust_entry(org)
    org_id = org.id
    imprint = issuing.Imprint.of(org)
    policy.check_registration(entry, IssueTime.at(now))
    return _Context(svc, principal, now, org_id, entry, imprint, _PhotoIndex(photos))


def _chunks(rows: Iterable[RosterRow], size: int) -> Iterator[list[RosterRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _check_cells(ctx: _Context, source: RosterRow) -> _Row:
    """Every check that needs no database and no scrypt, each on its own cells, so that a
    row reports all its problems and not only the first."""
    row = _Row(source, list(source.problems))
    _check_name(row)
    _check_document(ctx, row)
    _check_occupation(ctx, row)
    _check_level(row)
    _check_work_type(row)
    _check_scores(row)
    _check_photo(ctx, row)
    if row.occupation is not None and row.level is not None:
        _check_roster_scope(ctx, row, row.occupation, row.level)
    if row.doc is not None and row.occupation is not None and row.level is not None:
        held = {"document_type": row.doc[0].code, "occupation": row.occupation.code, "level": row.level}
        row.holder = issuing.qualification(ctx.svc, row.doc[1], {**held, "work_type": row.work_type()})
        _check_repeated(ctx, row, row.holder)
    return row


def _check_name(row: _Row) -> None:
    name = row.text("name")
    if not name:
        _missing(row, "name")
        return
    try:  # the credential's own rule: 1-64 printable characters
        credential.clean_text(name, "holder name", "持证人姓名", credential.MAX_NAME_CHARS)
    except InvalidInput as e:
        row.add_error("name", e)


def _missing(row: _Row, key: str) -> None:
    column = BY_KEY[key]
    row.add(key, "missing_value", f"{column.en} is empty", f"{column.zh}为空")


def _check_document(ctx: _Context, row: _Row) -> None:
    if "document_type" in row.failed or "document_number" in row.failed:
        return
    if not row.text("document_type"):
        _missing(row, "document_type")
        return
    try:
        doc_type = ctx.svc.document_types.get(row.text("document_type"))
    except InvalidInput as e:
        row.add_error("document_type", e)
        return
    try:
        number = identity.validate_document(doc_type, row.text("document_number"), today=ctx.today)
    except InvalidInput as e:
        row.add_error("document_number", e)
        return
    row.doc = (doc_type, number)


def _check_occupation(ctx: _Context, row: _Row) -> None:
    code = _fold_code(row.text("occupation_code"))
    name = row.text("occupation_name")
    if not code and not name:
        _missing(row, "occupation_code" if "occupation_code" in row.source.cells else "occupation_name")
        return
    key = "occupation_code" if code else "occupation_name"
    try:
        occupation = ctx.svc.catalogue.occupation(code) if code else ctx.svc.catalogue.find_occupation_by_name(name)
    except InvalidInput as e:
        row.add_error(key, e)
        return
    if code and name and name != occupation.name:
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


def _check_level(row: _Row) -> None:
    text = unicodedata.normalize("NFKC", row.text("level")).strip()  # ３, 三级／高级工
    if not text:
        _missing(row, "level")
        return
    try:
        row.level = parse_level(text).code
    except InvalidInput as e:
        row.add_error("level", e)


def _check_work_type(row: _Row) -> None:
    work_type = row.work_type()
    if work_type is None:
        return
    try:  # the credential's own rule, as for the name
        credential.clean_text(work_type, "work type", "工种/职业方向", credential.MAX_WORK_TYPE_CHARS)
    except InvalidInput as e:
        row.add_error("work_type", e)


def _check_scores(row: _Row) -> None:
    """Each score on its own (a number, 0–100, a component the level has), then the rule
    that every required component reaches 60, with one problem per failed component."""
    scores: dict[Component, Decimal] = {}
    bad = False
    for component, key in _COMPONENT_KEYS.items():
        score = _score(row, component, key)
        bad = bad or score is False
        if isinstance(score, Decimal):
            scores[component] = score
    if bad or row.level is None:
        return
    try:
        require_pass(row.level, scores)
    except InvalidInput as e:
        named = e.errors.get("failed") or e.errors.get("missing") or []
        for c in named:
            row.add_error(_COMPONENT_KEYS[Component(c)], e)
        return
    row.scores = {c.value: v for c, v in scores.items()}


def _score(row: _Row, component: Component, key: str) -> Decimal | bool | None:
    """The score, ``None`` when blank, ``False`` when it is a problem (recorded)."""
    text = fold_full_width(row.text(key))
    if not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation:
        column = BY_KEY[key]
        row.add(key, "invalid_score", f"{column.en} is not a number", f"{column.zh}不是数字")
        return False
    if row.level is not None:
        try:
            assess(row.level, {component: score})  # the score alone: range, component of the level
        except InvalidInput as e:
            row.add_error(key, e)
            return False
    return score


def _check_photo(ctx: _Context, row: _Row) -> None:
    name = row.text("photo")
    if not name:
        return
    member = ctx.photos.member(name)
    if member is not None and ctx.photos.photos is not None:
        row.photo, row.photo_member = ctx.photos.photos[member], member
    elif ctx.photos.photos is None:
        row.add(
            "photo",
            "photo_missing",
            f"photo {name} is named but no photos ZIP was uploaded",
            f"填写了照片“{name}”，但未上传照片压缩包",
        )
    else:
        row.add("photo", "photo_missing", f"photo {name} is not in the photos ZIP", f"照片压缩包中没有“{name}”")


def _check_roster_scope(ctx: _Context, row: _Row, occupation: Occupation, level: int) -> None:
    try:
        issuing.check_may_issue(ctx.entry, occupation.code, level, row.work_type(), IssueTime.at(ctx.now))
    except Forbidden as e:
        row.add_error(_scope_column(ctx, row, occupation), e)


def _scope_column(ctx: _Context, row: _Row, occupation: Occupation) -> str:
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


def _check_repeated(ctx: _Context, row: _Row, holder: str) -> None:
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


def _check_holders(ctx: _Context, rows: list[_Row]) -> None:
    """A person who already holds this occupation × 工种 × level from this organization (not
    revoked): one query per chunk."""
    wanted = {r.holder for r in rows if r.holder is not None}
    if not wanted:
        return
    with ctx.svc.reading() as uow:
        held = uow.certificates.held(ctx.organization_id, wanted)
    for r in rows:
        number = held.get(r.holder) if r.holder is not None else None
        if number is not None:
            error = issuing.already_certified(number)
            r.add("document_number", error.code, error.message, error.message_zh)


def _finish(ctx: _Context, report: RosterReport, row: _Row, ready: tuple[IssueRequest, Prepared] | None) -> None:
    report.rows += 1
    if ready is not None:
        valid = _check_printable(ctx, row, *ready)
        if valid is not None:
            report.valid.append(valid)
    report.problems.extend(sorted(row.problems, key=lambda p: _ORDER.get(p.field or "", len(_ORDER))))


def _prepare(ctx: _Context, row: _Row) -> tuple[IssueRequest, Prepared] | None:
    """``issuing.prepare`` on a row whose cells passed (it computes the scrypt commitment,
    once); thread-safe: it records problems on its own row only."""
    assert row.doc is not None and row.occupation is not None and row.level is not None
    request = IssueRequest(
        holder_name=row.text("name"),
        document_type=row.doc[0].code,
        document_number=row.doc[1],
        occupation=row.occupation.code,
        level=row.level,
        scores=dict(row.scores or {}),
        work_type=row.text("work_type") or None,
        photo=row.photo,
    )
    try:
        return request, issuing.prepare(ctx.svc, request, ctx.now)
    except IssuerError as e:
        _row_error(row, e)
        return None


def _check_printable(ctx: _Context, row: _Row, request: IssueRequest, prepared: Prepared) -> ValidRow | None:
    try:
        issuing.check_printable(ctx.svc, ctx.imprint, prepared, request.photo)
    except IssuerError as e:
        _row_error(row, e)
        return None
    return ValidRow(row.source.row, replace(request, photo=None), prepared, row.text("photo") or None, row.photo_member)


def _row_error(row: _Row, error: IssuerError) -> None:
    if error.kind != "invalid_input":
        raise error  # the deployment's fault (a layout, a font), not the row's
    row.add_error(_error_column(row, error), error)


_CODE_COLUMNS = {
    "unknown_document_type": "document_type",
    "level_not_in_standard": "level",
    "level_not_in_work_type": "level",
    "unknown_work_type": "work_type",
    "invalid_photo": "photo",
    "invalid_image": "photo",
    "invalid_holder_name": "name",
    "invalid_work_type": "work_type",
}
_RENDER_FIELDS = {
    # The renderer names a field by its key or by its English name (``FIELD_NAMES``).
    "holder name": "name",
    "holder_name": "name",
    "document type": "document_type",
    "document_type_name": "document_type",
    "document number": "document_number",
    "document_number": "document_number",
    "occupation": "occupation",
    "occupation_name": "occupation",
    "work type": "work_type",
    "work_type": "work_type",
    "skill level": "level",
    "level_label": "level",
    "photo": "photo",
}


def _error_column(row: _Row, error: IssuerError) -> str | None:
    """The column an error from ``prepare`` or the printability check is about."""
    key = _CODE_COLUMNS.get(error.code) or _RENDER_FIELDS.get(
        str(error.errors.get("field") or error.errors.get("image") or "")
    )
    if error.code in ("unknown_occupation", "invalid_occupation_code", "licensed_occupation") or key == "occupation":
        return "occupation_code" if row.text("occupation_code") else "occupation_name"
    if key is None and error.code.startswith(("invalid_id", "invalid_document", "missing_document")):
        return "document_number"
    return key


# --- the template -------------------------------------------------------------------------

_TEMPLATE_EXAMPLE = {
    "name": "张三丰",
    "document_type": "居民身份证",
    "document_number": "11010519491231002X",
    "occupation_code": "6-31-01-03",
    "occupation_name": "电工",
    "work_type": "--",
    "level": "三级/高级工",
    "theory": 85,
    "practical": 78.5,
    "review": None,
    "photo": "11010519491231002X.jpg",
}
_TEMPLATE_NOTES = {
    "name": ("与证件一致", "as on the identity document"),
    "document_type": ("居民身份证、护照等", "居民身份证, 护照, …"),
    "document_number": ("本列为文本格式，请勿改为数字", "this column is text: do not turn it into numbers"),
    "occupation_code": ("2022年版职业分类大典编码，如6-31-01-03；可只填职业名称", "2022 classification code"),
    "occupation_name": ("可只填职业编码；两者都填时须一致", "may be left out when the code is given"),
    "work_type": ("无工种/职业方向时填--或留空", "-- or blank when none"),
    "level": ("3、三级、高级工或三级/高级工", "3, 三级, 高级工 or 三级/高级工"),
    "theory": ("百分制，60分及格", "out of 100, 60 to pass"),
    "practical": ("百分制，60分及格", "out of 100, 60 to pass"),
    "review": ("仅二级/技师、一级/高级技师填写", "levels 2 and 1 only"),
    "photo": ("照片压缩包中的文件名", "file name in the photos ZIP"),
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
        col = get_column_letter(_ORDER[key] + 1)
        rule.add(f"{col}3:{col}10000")
        sheet.add_data_validation(rule)


def _template_notes(book: Any) -> None:
    notes = book.create_sheet("填写说明")
    notes.append(["列", "column", "必填", "说明", "notes"])
    for column in COLUMNS:
        zh, en = _TEMPLATE_NOTES[column.key]
        required = "是" if column.key in REQUIRED else ("二选一" if column.key in OCCUPATION_KEYS else "否")
        notes.append([column.zh, column.key, required, zh, en])
    notes.append([])
    notes.append(["第2行为英文表头，可保留或删除；第3行为示例，请删除后填写。"])
    notes.append(["Row 2 is an English header line (keep or delete it); row 3 is an example: delete it."])
    for letter, width in zip("ABCDE", (16, 18, 8, 48, 40), strict=True):
        notes.column_dimensions[letter].width = width
