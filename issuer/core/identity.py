"""Identity documents: the configured types and the rules their numbers follow, the age of
the holder, masking for display, and the salted memory-hard commitment that a credential
carries instead of any digit of the number.

A type names one of these rules (``DocumentType.rule``), or a regular expression
(``pattern``), or neither (any number):

- ``gb11643`` (GB 11643-1999): 17 digits and a check character (ISO 7064 MOD 11-2), an
  address code (characters 1–6), a real birth date (7–14) not after the day of the check
  and not before 1900, a sequence code (15–17). Without ``address_codes`` the first two
  digits must be a province's (``data/provinces.csv``): the 居民身份证, whose 15-digit
  first-generation numbers are refused with their 18-digit conversion. With them the
  number must begin with one of them: the 港澳台居民居住证 (810000 Hong Kong, 820000 Macao,
  830000 Taiwan).
- ``foreign_permanent_id``: the 外国人永久居留身份证 in its two shapes. The card issued since
  1 December 2023: 18 characters, ``9``, the province where it was applied for (2 digits),
  a nationality code (3 digits), the birth date (8), a sequence code (3) and the GB 11643
  check character. Earlier cards: 15 characters, 3 letters (the nationality) and 12 digits,
  whose inner structure public sources do not agree on, so only that shape is checked.

``DocumentTypes.check`` also names the right type when a number is shaped as another
type's (a 居住证 number given as a 居民身份证), and refuses a holder younger than the
configured age on the issue date.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import IdentityError, ReferenceDataError
from .typed import fold_full_width, upper_ascii

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

GB11643 = "gb11643"
FOREIGN_PERMANENT_ID = "foreign_permanent_id"
RULES = (GB11643, FOREIGN_PERMANENT_ID)
MAX_TYPE_CODE = 23
"""A credential carries the type's code as a uint of one CBOR byte (docs/FORMAT.md §3)."""

# [0-9], not \d: other scripts' digits (``٣``) are decimal digits to \d and int().
_EIGHTEEN = re.compile(r"[0-9]{17}[0-9X]")
_FIRST_GENERATION = re.compile(r"[0-9]{15}")
_BEFORE_2023 = re.compile(r"[A-Z]{3}[0-9]{12}")


@dataclass(frozen=True)
class DocumentType:
    code: int
    key: str
    name_zh: str
    name_en: str
    rule: str | None = None
    pattern: str | None = None
    address_codes: tuple[str, ...] = ()
    """For the ``gb11643`` rule: the address codes a number may begin with; none: any whose
    first two digits are a province's."""


RESIDENT_ID = DocumentType(1, "resident_id", "居民身份证", "Resident Identity Card", GB11643)
"""The 居民身份证 as the packaged types define it (``parse_resident_id``'s messages)."""


@cache
def _provinces() -> frozenset[str]:
    from .catalogue import default_catalogue

    return frozenset(default_catalogue().provinces)


class DocumentTypes:
    """The configured set of document types, looked up by code, key or Chinese name."""

    def __init__(self, types: Iterable[DocumentType]) -> None:
        self._by_code: dict[int, DocumentType] = {}
        for t in types:
            if t.code in self._by_code or not 0 < t.code <= MAX_TYPE_CODE:
                raise ReferenceDataError(f"document type code {t.code} is repeated or not 1-{MAX_TYPE_CODE}")
            self._by_code[t.code] = t

    def __iter__(self) -> Iterator[DocumentType]:
        return iter(self._by_code.values())

    @classmethod
    def from_json(cls, text: str) -> DocumentTypes:
        """Types from ``{"types": [{"code", "key", "name_zh", "name_en", "rule"?, "pattern"?,
        "address_codes"?}, …]}`` (``data/document-types.json``). Raises
        ``ReferenceDataError`` naming the line at fault."""
        return cls(_combine({}, _read_types(text)).values())

    @classmethod
    def from_file(cls, path: str | Path) -> DocumentTypes:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def overridden_by(self, text: str) -> DocumentTypes:
        """These types with an operator's file (the same JSON) applied: an entry with the
        code of one of these replaces it, keeping its key (a credential carries the code, so
        a code never comes to mean another type); an entry with a new code adds a type.
        Raises ``ReferenceDataError`` naming the line at fault."""
        return DocumentTypes(_combine(self._by_code, _read_types(text)).values())

    def name_zh(self, code: int) -> str:
        """The Chinese name of a document type code; the code itself when it is not one of
        the configured types (a credential from a deployment with more types)."""
        found = self._by_code.get(code)
        return found.name_zh if found else str(code)

    def name_en(self, code: int) -> str:
        """The English name of a document type code (``name_zh``'s rule for an unknown one)."""
        found = self._by_code.get(code)
        return found.name_en if found else str(code)

    def get(self, ref: int | str) -> DocumentType:
        if isinstance(ref, int) and ref in self._by_code:
            return self._by_code[ref]
        if isinstance(ref, str):
            key = ref.strip()
            for t in self._by_code.values():
                if key in (t.key, t.name_zh, str(t.code)):
                    return t
        raise IdentityError(
            "unknown_document_type",
            f"unknown document type {ref!r}",
            f"未知的证件类型“{ref}”",
        )

    def check(self, doc_type: DocumentType, text: str, *, on: date, min_age: int = 0) -> str:
        """The normalized number, if it is valid for ``doc_type`` on the issue date ``on``
        and its holder is at least ``min_age`` then (when the number carries a birth date).
        A number that fails but is shaped as another configured type's is refused as
        ``wrong_document_type``, naming that type. Raises ``IdentityError``."""
        try:
            number = validate_document(doc_type, text, today=on)
        except IdentityError as error:
            other = self._shaped_as(doc_type, normalize_document_number(text))
            if other is None:
                raise
            raise IdentityError(
                "wrong_document_type",
                f"{error.message}; it looks like a {other.name_en} number: choose the document type {other.name_en}",
                f"{error.message_zh}；该号码像是{other.name_zh}号码，证件类型请选择“{other.name_zh}”",
                errors={"suggested_document_type": other.name_zh, "problem": error.code},
            ) from None
        require_min_age(doc_type, number, on=on, min_age=min_age)
        return number

    def _shaped_as(self, doc_type: DocumentType, number: str) -> DocumentType | None:
        if shaped_as(doc_type, number):
            return None
        return next((t for t in self if t.code != doc_type.code and shaped_as(t, number)), None)


@cache
def default_document_types() -> DocumentTypes:
    """The packaged types (``data/document-types.json``)."""
    text = resources.files("issuer.core").joinpath("data", "document-types.json").read_text("utf-8")
    return DocumentTypes.from_json(text)


def normalize_document_number(text: str) -> str:
    """Fold full-width forms, drop spaces and hyphens people type, upper-case ASCII
    letters (a lower-case ``x`` check character is common)."""
    return upper_ascii(re.sub(r"[\s\u3000-]", "", fold_full_width(text)))


@dataclass(frozen=True)
class ResidentId:
    number: str
    address_code: str
    birth_date: date
    sequence: str

    @property
    def sex(self) -> str:
        """``M`` when the sequence code is odd, ``F`` when even (GB 11643)."""
        return "M" if int(self.sequence) % 2 else "F"


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def convert_first_generation(number15: str) -> str:
    """The 18-digit form of a 15-digit first-generation 居民身份证 number: ``19`` inserted
    before the two-digit birth year (after the sixth digit) and the GB 11643 check
    character appended. Raises ``ValueError`` if ``number15`` is not 15 ASCII digits."""
    if not _FIRST_GENERATION.fullmatch(number15):
        raise ValueError("a first-generation number has 15 digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def parse_resident_id(text: str, *, today: date) -> ResidentId:
    """Validate an 18-character 居民身份证 number: shape, province, real birth date not
    after ``today``, and the GB 11643 check character. Raises ``IdentityError``."""
    return _gb11643(normalize_document_number(text), today, RESIDENT_ID)


def validate_document(doc_type: DocumentType, text: str, *, today: date) -> str:
    """Return the normalized number if it is valid for ``doc_type`` (a birth date it
    carries not after ``today``). Raises ``IdentityError``."""
    number = normalize_document_number(text)
    if not number:
        raise IdentityError("missing_document_number", "document number is empty", "证件号码为空")
    if doc_type.rule == GB11643:
        return _gb11643(number, today, doc_type).number
    if doc_type.rule == FOREIGN_PERMANENT_ID:
        return _foreign_permanent_id(number, today, doc_type)
    # re.ASCII: a configured ``\d`` must not admit other scripts' digits (e.g. ``١`` or ``𝟏``).
    if doc_type.pattern and not re.fullmatch(doc_type.pattern, number, flags=re.ASCII):
        raise IdentityError(
            "invalid_document_number",
            f"not a valid {doc_type.name_en} number",
            f"不是有效的{doc_type.name_zh}号码",
        )
    return number


def shaped_as(doc_type: DocumentType, number: str) -> bool:
    """Whether the normalized ``number`` has the shape of ``doc_type``'s numbers, its
    address or province code included (whether or not it is valid): how a number given
    under the wrong type is told. A type with a pattern and no rule is never told this way
    (a passport pattern admits almost anything)."""
    if doc_type.rule == GB11643:
        if _EIGHTEEN.fullmatch(number):
            return number[:6] in doc_type.address_codes if doc_type.address_codes else number[:2] in _provinces()
        return not doc_type.address_codes and bool(_FIRST_GENERATION.fullmatch(number)) and number[:2] in _provinces()
    if doc_type.rule == FOREIGN_PERMANENT_ID:
        if number.startswith("9"):
            return bool(_EIGHTEEN.fullmatch(number)) and number[1:3] in _provinces()
        return bool(_BEFORE_2023.fullmatch(number))
    return False


def _gb11643(number: str, today: date, doc_type: DocumentType) -> ResidentId:
    if not doc_type.address_codes and _FIRST_GENERATION.fullmatch(number):
        raise _first_generation(number, today, doc_type)
    if not _EIGHTEEN.fullmatch(number):
        raise IdentityError(
            "invalid_id_format",
            f"a {doc_type.name_en} number has 17 digits and a final digit or X",
            f"{doc_type.name_zh}号码应为17位数字加1位数字或X",
        )
    if doc_type.address_codes:
        if number[:6] not in doc_type.address_codes:
            codes_en = ", ".join(doc_type.address_codes[:-1]) + " or " if len(doc_type.address_codes) > 1 else ""
            codes_zh = "、".join(doc_type.address_codes[:-1]) + "或" if len(doc_type.address_codes) > 1 else ""
            raise IdentityError(
                "invalid_id_address",
                f"a {doc_type.name_en} number begins with {codes_en}{doc_type.address_codes[-1]}, not {number[:6]}",
                f"{doc_type.name_zh}号码应以{codes_zh}{doc_type.address_codes[-1]}开头，实为{number[:6]}",
                errors={"address_codes": list(doc_type.address_codes)},
            )
    elif number[:2] not in _provinces():
        raise IdentityError(
            "invalid_id_province",
            f"characters 1-2 of a {doc_type.name_en} number are a province code (GB/T 2260); {number[:2]} is not one",
            f"{doc_type.name_zh}号码第1、2位应为省级行政区划代码（GB/T 2260），“{number[:2]}”不是",
        )
    born = _birth_date(number, today)
    _check_check_character(number)
    return ResidentId(number, number[:6], born, number[14:17])


def _first_generation(number: str, today: date, doc_type: DocumentType) -> IdentityError:
    """A 15-digit number: refused, with the conversion rule and, when it gives a valid
    number, the converted number (to check against the card: a holder who moved may have
    been given another)."""
    candidate: str | None = convert_first_generation(number)
    try:
        _gb11643(candidate or "", today, doc_type)
    except IdentityError:
        candidate = None
    rule_en = (
        f"a 15-digit number is a first-generation {doc_type.name_en} number, no longer used: give the "
        "18-digit number (insert 19 before the two-digit birth year, after the sixth digit, then append "
        "the GB 11643 check character)"
    )
    rule_zh = (
        f"15位号码是第一代{doc_type.name_zh}号码，已停止使用：请填写18位号码（在第6位数字后插入“19”，"
        "把出生年份补全为4位，再按GB 11643计算并加上第18位校验码）"
    )
    return IdentityError(
        "invalid_id_first_generation",
        rule_en + (f"; converted: {candidate} (check it against the card)" if candidate else ""),
        rule_zh + (f"；换算结果为{candidate}（请与证件核对）" if candidate else ""),
        errors={"converted": candidate} if candidate else {},
    )


def _foreign_permanent_id(number: str, today: date, doc_type: DocumentType) -> str:
    if number.startswith("9"):  # the card issued since 2023-12-01
        if not _EIGHTEEN.fullmatch(number):
            raise IdentityError(
                "invalid_id_format",
                f"a {doc_type.name_en} number of the 2023 card has 18 characters: 9, 16 digits, then a digit or X",
                f"2023年版{doc_type.name_zh}号码应为18位：以9开头的17位数字加1位数字或X",
            )
        if number[1:3] not in _provinces():
            raise IdentityError(
                "invalid_id_province",
                f"characters 2-3 of a {doc_type.name_en} number of the 2023 card are the province where it "
                f"was applied for (GB/T 2260); {number[1:3]} is not a province code",
                f"2023年版{doc_type.name_zh}号码第2、3位为受理地省级行政区划代码（GB/T 2260），“{number[1:3]}”不是",
            )
        _birth_date(number, today)
        _check_check_character(number)
        return number
    if _BEFORE_2023.fullmatch(number):
        return number
    if re.match(r"[A-Z]{3}", number):
        raise IdentityError(
            "invalid_id_format",
            f"a {doc_type.name_en} number of the cards before 2023 has 15 characters: "
            "3 letters (the nationality) and 12 digits",
            f"2023年以前版本的{doc_type.name_zh}号码应为15位：3位拉丁字母（国籍）加12位数字",
        )
    raise IdentityError(
        "invalid_id_format",
        f"a {doc_type.name_en} number has 18 characters beginning with 9 (the 2023 card) "
        "or 15: 3 letters and 12 digits (earlier cards)",
        f"{doc_type.name_zh}号码应为以9开头的18位（2023年版）或3位拉丁字母加12位数字的15位（2023年以前的版本）",
    )


def _birth_date(number: str, today: date) -> date:
    """Characters 7-14, a real date from 1900 to ``today``."""
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentityError(
            "invalid_id_birth_date",
            f"characters 7-14 ({number[6:14]}) are not a real date",
            f"第7至14位（{number[6:14]}）不是有效的出生日期",
        ) from None
    if born > today or born.year < 1900:
        raise IdentityError(
            "invalid_id_birth_date",
            f"birth date {born.isoformat()} is in the future or before 1900",
            f"出生日期{born.isoformat()}晚于今天或早于1900年",
        )
    return born


def _check_check_character(number: str) -> None:
    """The message names no expected character: a number that fails its check almost always
    has a mistyped digit among the first 17, and changing the last one to "fix" it would
    make a well-formed number of someone else."""
    if number[17] != check_character(number[:17]):
        raise IdentityError(
            "invalid_id_checksum",
            "the number does not check out: its 18th character does not agree with the first 17 "
            "(GB 11643); compare every character with the document, as one is usually mistyped",
            "证件号码校验不通过：第18位校验码与前17位不符（GB 11643），"
            "请对照证件逐位核对（通常是某一位录入有误，勿只改最后一位）",
        )


def birth_date(doc_type: DocumentType, number: str) -> date | None:
    """The birth date a valid number of ``doc_type`` carries (characters 7–14 of a GB 11643
    number or of a 2023 外国人永久居留身份证), or ``None`` when it carries none."""
    if doc_type.rule == GB11643 or (doc_type.rule == FOREIGN_PERMANENT_ID and number.startswith("9")):
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return None


def age_on(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on``: a year more on each birthday. Someone born on
    29 February has their birthday on 28 February in common years (the month's last day,
    as the Civil Code counts a period with no corresponding day, art. 202)."""
    try:
        birthday = born.replace(year=on.year)
    except ValueError:
        birthday = date(on.year, 2, 28)
    return on.year - born.year - (on < birthday)


def require_min_age(doc_type: DocumentType, number: str, *, on: date, min_age: int) -> None:
    """Refuse (``holder_under_age``) a holder under ``min_age`` on the issue date ``on``,
    judged by the birth date ``number`` carries; a number without one is not judged.
    Turning ``min_age`` on ``on`` itself is old enough."""
    born = birth_date(doc_type, number)
    if born is None or min_age <= 0 or age_on(born, on) >= min_age:
        return
    raise IdentityError(
        "holder_under_age",
        f"the holder is under {min_age} on the issue date ({on.isoformat()})",
        f"持证人在签发日（{on.isoformat()}）未满{min_age}周岁",
        errors={"min_age": min_age, "issue_date": on.isoformat()},
    )


# Reading a types file ---------------------------------------------------------------------

_FIELDS = ("code", "key", "name_zh", "name_en", "rule", "pattern", "address_codes")
_REQUIRED = ("code", "key", "name_zh", "name_en")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_WS = re.compile(r"[ \t\n\r]*")


class _Located:
    """Where the members and elements of a JSON text (already parsed, so valid) begin, for
    messages that name a line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoder = json.JSONDecoder()

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def skip(self, i: int) -> int:
        found = _WS.match(self.text, i)
        return found.end() if found else i

    def _after(self, i: int) -> int:
        """Past the value at ``i`` and the comma after it."""
        i = self.skip(self._decoder.raw_decode(self.text, i)[1])
        return self.skip(i + 1) if self.text[i : i + 1] == "," else i

    def members(self, i: int) -> dict[str, int]:
        """Name → offset of the value, for the object at ``i``; a repeated name is refused."""
        found: dict[str, int] = {}
        i = self.skip(i + 1)
        while self.text[i : i + 1] == '"':
            name, end = self._decoder.raw_decode(self.text, i)
            if name in found:
                raise ReferenceDataError(f"{name!r} is repeated", self.line(i))
            found[name] = i = self.skip(self.skip(end) + 1)
            i = self._after(i)
        return found

    def elements(self, i: int) -> list[int]:
        """The offset of each element of the array at ``i``."""
        found: list[int] = []
        i = self.skip(i + 1)
        while self.text[i : i + 1] not in ("]", ""):
            found.append(i)
            i = self._after(i)
        return found


def _read_types(text: str) -> list[tuple[DocumentType, int]]:
    """Each type of a types file with the line its entry begins on."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReferenceDataError(f"not JSON: {e.msg} (column {e.colno})", e.lineno) from None
    where = _Located(text)
    start = where.skip(0)
    if not isinstance(data, dict):
        raise ReferenceDataError('the file holds an object: {"types": [...]}', where.line(start))
    members = where.members(start)
    for name, offset in members.items():
        if name != "types" and not name.startswith("_"):
            raise ReferenceDataError(
                f'unknown field {name!r} (the file holds "types"; notes begin with _)', where.line(offset)
            )
    if "types" not in members:
        raise ReferenceDataError('no "types" array', where.line(start))
    if not isinstance(data["types"], list):
        raise ReferenceDataError('"types" is an array of types', where.line(members["types"]))
    offsets = where.elements(members["types"])
    return [
        (_read_type(entry, where, offset), where.line(offset))
        for entry, offset in zip(data["types"], offsets, strict=True)
    ]


def _read_type(entry: Any, where: _Located, offset: int) -> DocumentType:
    line = where.line(offset)
    if not isinstance(entry, dict):
        raise ReferenceDataError("each type is an object", line)
    lines = {name: where.line(at) for name, at in where.members(offset).items()}
    for name, at in lines.items():
        if name not in _FIELDS and not name.startswith("_"):
            raise ReferenceDataError(f"unknown field {name!r} (fields: {', '.join(_FIELDS)})", at)
    for name in _REQUIRED:
        if name not in entry:
            raise ReferenceDataError(f"the type has no {name!r}", line)
    code = entry["code"]
    if isinstance(code, str) and code.isascii() and code.isdigit():
        code = int(code)
    if isinstance(code, bool) or not isinstance(code, int) or not 0 < code <= MAX_TYPE_CODE:
        raise ReferenceDataError(
            f"code {entry['code']!r}: a code is an integer from 1 to {MAX_TYPE_CODE}", lines["code"]
        )
    if not isinstance(entry["key"], str) or not _KEY.fullmatch(entry["key"]):
        raise ReferenceDataError(
            f"key {entry['key']!r}: lower-case letters, digits and _ (e.g. resident_id)", lines["key"]
        )
    for name in ("name_zh", "name_en"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise ReferenceDataError(f"{name} is a name, not {entry[name]!r}", lines[name])
    rule, pattern, codes = entry.get("rule"), entry.get("pattern"), entry.get("address_codes")
    if rule is not None and rule not in RULES:
        raise ReferenceDataError(f"rule {rule!r}: the rules are {', '.join(RULES)}", lines["rule"])
    if pattern is not None:
        if rule is not None:
            raise ReferenceDataError("a type has a rule or a pattern, not both", lines["pattern"])
        if not isinstance(pattern, str):
            raise ReferenceDataError(f"pattern {pattern!r} is not a regular expression", lines["pattern"])
        try:
            re.compile(pattern, re.ASCII)
        except re.error as e:
            raise ReferenceDataError(f"pattern {pattern!r} does not compile: {e}", lines["pattern"]) from None
    if codes is not None:
        if rule != GB11643:
            raise ReferenceDataError(f"address_codes belong to the {GB11643} rule", lines["address_codes"])
        if (
            not isinstance(codes, list)
            or not codes
            or not all(isinstance(c, str) and re.fullmatch(r"[0-9]{6}", c) for c in codes)
        ):
            raise ReferenceDataError(
                'address_codes is a list of 6-digit codes, e.g. ["810000"]', lines["address_codes"]
            )
    return DocumentType(
        code, entry["key"], entry["name_zh"].strip(), entry["name_en"].strip(), rule, pattern, tuple(codes or ())
    )


def _combine(base: dict[int, DocumentType], entries: list[tuple[DocumentType, int]]) -> dict[int, DocumentType]:
    """``base`` with ``entries`` applied (each replacing the type of its code, same key, or
    added), every code, key and Chinese name used once."""
    combined = dict(base)
    given: dict[int, int] = {}
    for t, line in entries:
        if t.code in given:
            raise ReferenceDataError(f"code {t.code} is already used on line {given[t.code]}", line)
        old = base.get(t.code)
        if old is not None and old.key != t.key:
            raise ReferenceDataError(
                f"code {t.code} is {old.key} ({old.name_zh}) in the packaged types: keep its key to change "
                "it, or give a new type a new code (credentials carry the code)",
                line,
            )
        given[t.code] = line
        combined[t.code] = t
    for name in ("key", "name_zh"):
        seen: dict[str, DocumentType] = {}
        for t in combined.values():
            value = getattr(t, name)
            if value in seen:
                raise ReferenceDataError(
                    f"{name} {value!r} is used by types {seen[value].code} and {t.code}",
                    given.get(t.code) or given.get(seen[value].code),
                )
            seen[value] = t
    return combined


def mask(number: str) -> str:
    """``11010519491231002X`` → ``1101**********002X``: show at most the first four and
    last four characters, and never more than a third of a short number (under 12
    characters); a number under 6 characters is masked entirely."""
    n = len(number)
    keep = 4 if n >= 12 else n // 6
    if keep == 0 or n <= 2 * keep:
        return "*" * n
    return number[:keep] + "*" * (n - 2 * keep) + number[-keep:]


# The commitment: scrypt(N=2048, r=8, p=1) ≈ 2 MiB and a few milliseconds per guess.
SCRYPT_N = 2048
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 8
DIGEST_BYTES = 16
COMMITMENT_BYTES = SALT_BYTES + DIGEST_BYTES


def _digest(number: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        number.encode("utf-8"),
        salt=b"issuer/id/v1" + salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=DIGEST_BYTES,
    )


def commit(number: str, *, salt: bytes | None = None) -> bytes:
    """``salt || scrypt(normalized number)`` (24 bytes). The salt is random unless given
    (tests and vectors pass one to be deterministic)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes")
    return salt + _digest(normalize_document_number(number), salt)


def matches(commitment: bytes, number: str) -> bool:
    """Whether ``number`` (as typed from the ID card) is the committed one."""
    if len(commitment) != COMMITMENT_BYTES:
        return False
    salt, digest = commitment[:SALT_BYTES], commitment[SALT_BYTES:]
    return hmac.compare_digest(_digest(normalize_document_number(number), salt), digest)
