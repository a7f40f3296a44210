"""Reading a roster: CSV (UTF-8, UTF-16 with a BOM, GBK/GB18030) or XLSX, the header row
matched to the columns, each row's cells as text (``RosterRow``)."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.parsers import expat

from defusedxml import DefusedXmlException

from issuer.core.errors import InvalidInput
from issuer.service.roster.columns import (
    ALIASES,
    BY_KEY,
    COLUMNS,
    IGNORED,
    OCCUPATION_KEYS,
    REQUIRED,
    SPACES,
    header_key,
)
from issuer.service.roster.report import RosterProblem, cell_problem

MAX_ROWS = 50_000
"""Rows a roster may have (the header not counted)."""
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
"""Bytes the parts of an XLSX roster may unpack to, all together: a 50,000-row roster is
about 30 MB of XML; a few kilobytes that unpack to gigabytes are refused before parsing."""
_BROKEN_XLSX = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    SyntaxError,  # xml.etree.ElementTree.ParseError: a part that is not well-formed XML
    KeyError,  # a part the package names is missing
    IndexError,
    AttributeError,
    ValueError,  # also defusedxml's refusal of entity declarations (billion laughs, XXE)
    TypeError,
    OSError,
    NotImplementedError,  # an unsupported compression method
)
"""What openpyxl and zipfile raise for a damaged or hostile workbook."""
_EXCEL_DIGITS = 15
"""Excel keeps 15 significant digits of a number: an 18-digit ID number typed into a
number cell has lost its last digits (110105194912310021 → 110105194912310000)."""


class RosterError(InvalidInput):
    """A roster that cannot be read at all: encoding, format, header row."""


class UnsafeXmlParsing(RuntimeError):
    """The deployment's fault, not the roster's: openpyxl would parse XLSX without
    defusedxml (``OPENPYXL_DEFUSEDXML=False``), so entity declarations would expand."""


@dataclass(frozen=True)
class RosterRow:
    row: int
    """1-based spreadsheet row, as the office sees it (title and header rows counted)."""
    cells: Mapping[str, str]
    """The text of each cell by column key; numbers from XLSX as text (``85``, ``85.5``)."""
    problems: tuple[RosterProblem, ...] = ()
    """Cells that could not be read as text, e.g. an ID number Excel stored as a number."""

    def text(self, key: str) -> str:
        return self.cells.get(key, "").strip(SPACES)


def read_roster(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Iterator[RosterRow]:
    """The roster's rows, streamed, empty rows skipped. The first non-empty row is the
    header, read at once: ``RosterError`` for a file that cannot be read or a header that
    is wrong is raised here, not at the first row."""
    records = _xlsx_records(data) if _is_xlsx(data, filename) else _csv_records(data)
    try:
        keys, ahead, _ = _header(records)
    except BaseException:
        records.close()
        raise
    return _rows(records, ahead, keys, max_rows)


def count_rows(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> int:
    """The roster's rows, cheaply, for an upload to be answered at once: ``RosterError``
    for a roster that cannot be read or has more than ``max_rows`` rows. A CSV's rows are
    counted (about 0.01 ms a row). An XLSX's worksheet is checked by expat, without building
    its cells (about 0.1 s for 10,000 rows, against a second to read them): damaged XML, a
    DTD or a character XML forbids is refused as reading would refuse it, and its
    ``<row>`` elements bound the rows (blank rows are elements too: the bound may be more
    than the rows, never less); only a bound over ``max_rows`` (or under one) is checked
    by reading every row."""
    xlsx = _is_xlsx(data, filename)
    records = _xlsx_records(data) if xlsx else _csv_records(data)
    try:
        keys, ahead, above = _header(records)
        bound = _xlsx_row_elements(data) - above if xlsx else None  # less the header's and titles' elements
        if bound is not None and 0 < bound <= max_rows:
            return bound
        return sum(1 for _ in _rows(records, ahead, keys, max_rows))
    finally:
        records.close()


_ROW_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
"""A ``<row>`` start tag, with or without a namespace prefix (``<x:row …>``). In well-formed
XML (expat says it is) ``<`` in character data is escaped, so every row element is
matched; one in a comment or a CDATA section would be counted too: a bound, never fewer."""


def _xlsx_row_elements(data: bytes) -> int:
    """The ``<row>`` elements of the worksheet ``_xlsx_records`` reads, counted as the part
    is decompressed, a block at a time, while expat checks it: ``RosterError`` when it is
    not well-formed or declares a DTD (entities are refused, as defusedxml refuses them)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        path = roster_sheet(book)._worksheet_path  # where openpyxl reads the roster's sheet
    finally:
        book.close()

    def doctype(*_: object) -> None:
        raise _unreadable("the workbook declares XML entities, which are refused", "工作簿含有XML实体声明，不予读取")

    parser = expat.ParserCreate()  # no element handler: parsed at C speed, only for its errors
    parser.StartDoctypeDeclHandler = doctype
    count, tail = 0, b""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path) as part:
            while block := part.read(1 << 20):
                parser.Parse(block, False)
                text = tail + block
                keep = max(0, len(text) - 64)  # a tag cut by the block's end is counted with the next
                count += sum(1 for m in _ROW_ELEMENT.finditer(text) if m.start() < keep)
                tail = text[keep:]
            parser.Parse(b"", True)
    except (expat.ExpatError, *_BROKEN_XLSX) as e:
        raise _broken(e, "the worksheet is damaged", "工作表内容损坏") from None
    count += len(_ROW_ELEMENT.findall(tail))
    return count


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
    return RosterError("unreadable_roster", f"the roster cannot be read: {message}", f"无法读取花名册：{message_zh}")


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
    book = _open_workbook(data)
    try:
        sheet = roster_sheet(book)
        sheet.reset_dimensions()  # do not trust the stored dimension: it may cut rows off
        try:
            # Missing rows are filled in, so the index is the spreadsheet row number.
            yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        except _BROKEN_XLSX as e:
            raise _broken(e, "the worksheet is damaged", "工作表内容损坏") from None
    finally:
        book.close()


SHEET_NAME = "花名册"
"""The template's sheet: read when a workbook has it, whatever its place."""


def roster_sheet(book: Any) -> Any:
    """The sheet a roster is on: the one named as in the template (``花名册``), else the
    first visible one (offices hide a sheet of lists or an old roster in front of it)."""
    sheets = book.worksheets
    named = [s for s in sheets if s.title.strip(SPACES) == SHEET_NAME and s.sheet_state == "visible"]
    visible = named or [s for s in sheets if s.sheet_state == "visible"]
    if not visible:
        raise _unreadable("the workbook has no visible worksheet", "工作簿中没有可见的工作表")
    return visible[0]


def _open_workbook(data: bytes) -> Any:
    """openpyxl's read-only workbook, after the checks openpyxl does not make: the parts
    unpack to at most ``MAX_XLSX_UNPACKED`` bytes, and XML is parsed by defusedxml, which
    refuses entity declarations (no billion laughs, no external entities)."""
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        raise UnsafeXmlParsing("openpyxl must parse with defusedxml (installed, OPENPYXL_DEFUSEDXML not False)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except _BROKEN_XLSX:
        raise _unreadable("not a valid .xlsx workbook", "不是有效的.xlsx工作簿") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _unreadable(
            f"the workbook unpacks to more than {MAX_XLSX_UNPACKED // 2**20} MiB",
            f"工作簿解压后超过{MAX_XLSX_UNPACKED // 2**20} MiB",
        )
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _BROKEN_XLSX as e:
        raise _broken(e, "not a valid .xlsx workbook", "不是有效的.xlsx工作簿") from None


def _broken(error: BaseException, message: str, message_zh: str) -> RosterError:
    """``unreadable_roster``, saying so when the cause (openpyxl wraps it) is defusedxml's
    refusal of an entity declaration."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return _unreadable(
                "the workbook declares XML entities, which are refused", "工作簿含有XML实体声明，不予读取"
            )
        cause = cause.__cause__ or cause.__context__
    return _unreadable(message, message_zh)


def _blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip(SPACES)) for v in values)


HEADER_SEARCH_ROWS = 5
"""Non-empty rows searched for the header: a title above it (merged across the sheet),
a line naming the organization or the session."""
HEADER_MIN_COLUMNS = 3
"""Cells of a row that must name known columns for it to be taken as the header."""
Record = tuple[int, Sequence[object]]


def _header(records: Iterator[Record]) -> tuple[list[str | None], list[Record], int]:
    """The column of each position, the records read past the header that are rows, and
    how many non-empty rows the header and the titles above it take (each is a ``<row>``).
    The header is the first of the first ``HEADER_SEARCH_ROWS`` non-empty rows naming at
    least ``HEADER_MIN_COLUMNS`` columns (rows above it are titles), else the first one
    (whose unknown or missing columns are the error); a group header (``成绩`` over
    ``理论``/``技能``/``综合评审``) takes its sub-headers from the row below."""
    seen: list[Record] = []
    for record in records:
        if _blank(record[1]):
            continue
        seen.append(record)
        if _known_columns(record[1]) >= HEADER_MIN_COLUMNS or len(seen) == HEADER_SEARCH_ROWS:
            break
    if not seen:
        raise RosterError("roster_empty", "the roster is empty: no header row", "花名册为空：没有表头行")
    at = next((i for i, (_, v) in enumerate(seen) if _known_columns(v) >= HEADER_MIN_COLUMNS), 0)
    texts = [_header_text(v) for v in seen[at][1]]
    rest, used = seen[at + 1 :], at + 1
    if _has_group(texts):
        below = rest[0] if rest else next(records, None)
        if below is not None and not _blank(below[1]):
            texts = _with_sub_headers(texts, [_header_text(v) for v in below[1]])
            rest, used = rest[1:], used + 1
    return parse_header(texts), rest, used


def _known_columns(values: Sequence[object]) -> int:
    return sum(1 for v in values if v is not None and ALIASES.get(header_key(str(v))) is not None)


def _has_group(texts: Sequence[str]) -> bool:
    return any(header_key(t) in GROUPS for t in texts)


GROUPS = frozenset(header_key(h) for h in ("成绩", "考核成绩", "考试成绩", "成绩(分)"))
"""Headers merged over sub-headers in the row below: ``成绩`` over ``理论``, ``技能``, ``综合评审``."""


def _with_sub_headers(texts: list[str], below: list[str]) -> list[str]:
    """The header of a two-row header: a group cell's sub-headers, each with the group's
    name after it (``理论`` under ``成绩`` is ``理论成绩``); a merged cell keeps its text in
    its first cell only, so a group spans the empty cells after it. Elsewhere the top row."""
    out = list(texts) + [""] * max(0, len(below) - len(texts))
    group: str | None = None
    for i, sub in enumerate(below):
        top = out[i].strip(SPACES)
        if top:
            group = top if header_key(top) in GROUPS else None
        sub = sub.strip(SPACES)
        if group is not None and sub:
            out[i] = sub if ALIASES.get(header_key(sub)) else sub + group
        elif not top and sub:
            out[i] = sub  # a column whose header is only in the second row
    return out


def _rows(
    records: Generator[Record, None, None], ahead: list[Record], keys: Sequence[str | None], max_rows: int
) -> Iterator[RosterRow]:
    count = 0
    try:
        for index, values in itertools.chain(ahead, records):
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
        norm = header_key(text)
        key = ALIASES.get(norm)
        if norm and norm not in IGNORED and key is None:
            unknown.append(text.strip(SPACES))
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
    pairs = [(k, v) for k, v in zip(keys, values, strict=False) if v is not None and str(v).strip(SPACES)]
    return bool(pairs) and all(k is not None and ALIASES.get(header_key(str(v))) == k for k, v in pairs)


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
        if re.fullmatch(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+", text.strip(SPACES)):
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
    stripped = text.strip(SPACES)
    wrapped = re.fullmatch(r'="(.*)"', stripped)
    if wrapped:
        return wrapped.group(1)
    return stripped[1:] if stripped.startswith("'") else text


def _id_as_number(row: int, text: str) -> RosterProblem:
    return cell_problem(
        row,
        "document_number",
        text,
        "id_stored_as_number",
        "the document number was stored as a number and has lost digits: format the 证件号码 column as text "
        "and enter the numbers again",
        "证件号码被存为数字，末几位已丢失：证件号码列请设置为文本格式，并重新填写号码",
    )
