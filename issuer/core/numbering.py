"""Certificate numbers under 人社鉴发〔2019〕2号, and the older numbers a verifier meets.

A current number has 22 characters and no check digit::

    Y 0001 23 000001 26 3 000001
    │ │    │  │      │  │ └ 17–22 serial 000001–999999 (organization)
    │ │    │  │      │  └ 16 level code 1–5 (organization)
    │ │    │  │      └ 14–15 year of issue, two digits (organization)
    │ │    │  └ 8–13 site sequence code (authority)
    │ │    └ 6–7 province, GB/T 2260 prefix (authority)
    │ └ 2–5 organization code, 0000 when registered with a province first (authority)
    └ 1 Y 用人单位 / S 社会培训评价组织 (authority)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from .catalogue import LEVELS, Catalogue, default_catalogue, level
from .errors import NumberError
from .typed import normalize_code

NUMBER_LENGTH = 22
ORG_CODE_LENGTH = 13
MAX_SERIAL = 999_999
FIRST_YEAR = 2019
"""The numbering rule dates from 2019; a two-digit year below 19 cannot occur."""

ORG_KINDS = {"Y": ("用人单位", "employer"), "S": ("社会培训评价组织", "social training and evaluation organization")}


def _fail(position: int, expected_en: str, expected_zh: str, got: str) -> NumberError:
    return NumberError(
        f"position {position}: expected {expected_en}, got {got!r}",
        f"第{position}位：应为{expected_zh}，实为“{got}”",
        position=position,
    )


def _digits(text: str, start: int, length: int, what_en: str, what_zh: str) -> str:
    """``start`` is the 1-based position of the first character."""
    return _digit_part(text[start - 1 : start - 1 + length], start, what_en, what_zh)


def _digit_part(part: str, start: int, what_en: str, what_zh: str) -> str:
    if part.isascii() and part.isdigit():
        return part
    for i, ch in enumerate(part):
        if not ("0" <= ch <= "9"):
            raise _fail(start + i, f"a digit ({what_en})", f"数字（{what_zh}）", ch)
    return part


_KIND_EN = "Y (employer) or S (social organization)"
_KIND_ZH = "Y（用人单位）或S（社会培训评价组织）"
_ORG_PARTS = (
    ("authority", 2, 4, "organization code", "机构代码"),
    ("province", 6, 2, "province code", "省份代码"),
    ("site", 8, 6, "site sequence code", "站点序列码"),
)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_charset(text: str) -> None:
    if text.isascii() and text.isalnum():
        return
    for i, ch in enumerate(text, start=1):
        if not (ch.isascii() and ch.isalnum()):
            raise _fail(i, "a digit or letter", "数字或字母", ch)


@dataclass(frozen=True, order=True)
class OrganizationCode:
    """The first 13 characters of a number: one organization (or one of its sites)."""

    kind: str
    authority: str
    province: str
    site: str

    def __post_init__(self) -> None:
        # Shape only; whether the province is known depends on the catalogue (see parse).
        if self.kind not in ORG_KINDS:
            raise _fail(1, _KIND_EN, _KIND_ZH, str(self.kind))
        for name, start, length, what_en, what_zh in _ORG_PARTS:
            part = getattr(self, name)
            if not isinstance(part, str) or len(part) != length:
                expected_en, expected_zh = f"{length} digits ({what_en})", f"{length}位数字（{what_zh}）"
                raise _fail(start, expected_en, expected_zh, str(part))
            _digit_part(part, start, what_en, what_zh)

    def __str__(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        """Written once: numbers of one organization share its code (see ``_organization``)."""
        return f"{self.kind}{self.authority}{self.province}{self.site}"

    @classmethod
    def parse(cls, text: str, catalogue: Catalogue | None = None) -> OrganizationCode:
        value = normalize_code(text)
        _check_charset(value)
        if len(value) != ORG_CODE_LENGTH:
            raise NumberError(
                f"an organization code has 13 characters, got {len(value)}",
                f"机构代码应为13位，实为{len(value)}位",
            )
        return cls._from_prefix(value, catalogue or default_catalogue())

    @classmethod
    def _from_prefix(cls, value: str, catalogue: Catalogue) -> OrganizationCode:
        if value[0] not in ORG_KINDS:
            raise _fail(1, _KIND_EN, _KIND_ZH, value[0])
        authority = _digits(value, 2, 4, "organization code", "机构代码")
        province = _digits(value, 6, 2, "province code", "省份代码")
        if province not in catalogue.provinces:
            raise _fail(6, "a GB/T 2260 province code", "GB/T 2260 省份代码", province)
        site = _digits(value, 8, 6, "site sequence code", "站点序列码")
        return cls(value[0], authority, province, site)

    def describe(self, catalogue: Catalogue | None = None) -> dict[str, Any]:
        cat = catalogue or default_catalogue()
        kind_zh, kind_en = ORG_KINDS[self.kind]
        return {
            "org_code": str(self),
            "org_kind": self.kind,
            "org_kind_zh": kind_zh,
            "org_kind_en": kind_en,
            "authority_code": self.authority,
            "registered_first_with": "province" if self.authority == "0000" else "ministry",
            "province": self.province,
            "province_name": cat.province(self.province).name,
            "site_code": self.site,
        }


@dataclass(frozen=True, order=True)
class CertificateNumber:
    org: OrganizationCode
    year: int
    """Two-digit year of issue (Asia/Shanghai)."""
    level: int
    serial: int

    def __post_init__(self) -> None:
        if not isinstance(self.org, OrganizationCode):
            raise TypeError(f"org must be an OrganizationCode, got {self.org!r}")
        if not (_is_int(self.year) and FIRST_YEAR % 100 <= self.year <= 99):
            got = f"{self.year:02d}" if _is_int(self.year) else repr(self.year)
            raise _fail(14, f"a year from {FIRST_YEAR} on", f"{FIRST_YEAR}年及以后的年份", got)
        if not (_is_int(self.level) and self.level in LEVELS):
            raise _fail(16, "a level code from 1 to 5", "1至5的等级代码", repr(self.level))
        if not (_is_int(self.serial) and 1 <= self.serial <= MAX_SERIAL):
            got = f"{self.serial:06d}" if _is_int(self.serial) else repr(self.serial)
            raise _fail(17, "a serial from 000001 to 999999", "000001至999999的流水号", got)

    def __str__(self) -> str:
        return f"{self.org}{self.year:02d}{self.level}{self.serial:06d}"

    @property
    def full_year(self) -> int:
        return 2000 + self.year

    @classmethod
    def parse(cls, text: str, catalogue: Catalogue | None = None) -> CertificateNumber:
        """Parse a 22-character number. Raises ``NumberError`` naming the position."""
        value = normalize_code(text)
        _check_charset(value)
        if len(value) != NUMBER_LENGTH:
            raise NumberError(
                f"a certificate number has 22 characters, got {len(value)}",
                f"证书编号应为22位，实为{len(value)}位",
            )
        return cls._from_letters_and_digits(value, catalogue)

    @classmethod
    def _from_letters_and_digits(cls, value: str, catalogue: Catalogue | None = None) -> CertificateNumber:
        """``parse`` of 22 ASCII letters and digits, already normalized."""
        prefix = value[:ORG_CODE_LENGTH]
        org = _organization(prefix) if catalogue is None else OrganizationCode._from_prefix(prefix, catalogue)
        year = _digits(value, 14, 2, "year", "年份")
        lvl = _digits(value, 16, 1, "level code 1-5", "等级代码1至5")
        if lvl not in "12345":
            raise _fail(16, "a level code from 1 to 5", "1至5的等级代码", lvl)
        serial = _digits(value, 17, 6, "serial", "流水号")
        return cls(org, int(year), int(lvl), int(serial))

    @classmethod
    def _from_digits(cls, kind: str, digits: int) -> CertificateNumber:
        """``_from_letters_and_digits`` of ``kind`` and the 21 digits of ``digits`` (below
        10**21), read by arithmetic: a packed number (claim -2) is an integer already."""
        text = f"{digits:021d}"
        org = _organization(kind + text[:12])
        year, rest = divmod(digits % 10**9, 10**7)
        lvl, serial = divmod(rest, 10**6)
        if not 1 <= lvl <= 5:
            raise _fail(16, "a level code from 1 to 5", "1至5的等级代码", str(lvl))
        return cls(org, year, lvl, serial)

    def describe(self, catalogue: Catalogue | None = None) -> dict[str, Any]:
        lv = level(self.level)
        return {
            "kind": "skill-level-2019",
            "kind_zh": "职业技能等级证书（22位统一编码）",
            "legacy": False,
            "number": str(self),
            **self.org.describe(catalogue),
            "year": self.full_year,
            "level": self.level,
            "level_label_zh": lv.label_zh,
            "level_label_en": lv.label_en,
            "serial": self.serial,
        }


@lru_cache(maxsize=4096)
def _organization(prefix: str) -> OrganizationCode:
    """The organization code of a number under the default catalogue: an issuer or a
    verifier meets the same few organizations again and again."""
    return OrganizationCode._from_prefix(prefix, default_catalogue())


_LEGACY_INSTITUTIONS = {
    "0": ("指导中心", "guidance centre"),
    "1": ("国家鉴定所", "national assessment institute"),
    "2": ("地方鉴定站", "local assessment station"),
    "3": ("行业特有工种鉴定站", "industry-specific assessment station"),
    "4": ("企业内鉴定", "in-company assessment"),
}


def _explain_qualification_16(value: str) -> dict[str, Any]:
    inst = value[6]
    if inst not in _LEGACY_INSTITUTIONS:
        raise _fail(7, "an institution type 0-4", "0至4的机构类型", inst)
    lvl = value[10]
    if lvl not in "12345":
        raise _fail(11, "a level code from 1 to 5", "1至5的等级代码", lvl)
    yy = int(value[0:2])
    return {
        "kind": "qualification-16",
        "kind_zh": "职业资格证书（2020年前，16位）",
        "legacy": True,
        "number": value,
        "year": 2000 + yy if yy < 50 else 1900 + yy,
        "region_code": value[2:4],
        "city_code": value[4:6],
        "institution_type": inst,
        "institution_type_zh": _LEGACY_INSTITUTIONS[inst][0],
        "institution_type_en": _LEGACY_INSTITUTIONS[inst][1],
        "institution_serial": value[7:10],
        "level": int(lvl),
        "level_label_zh": level(int(lvl)).label_zh,
        "serial": int(value[11:16]),
        "note_zh": "地区码为原劳动部门编码，非GB/T 2260；此类证书继续有效",
        "maybe_padded_shanghai": value.startswith("000"),
    }


def _explain_shanghai_13(value: str) -> dict[str, Any]:
    return {
        "kind": "shanghai-13",
        "kind_zh": "上海市证书（13位）",
        "legacy": True,
        "number": value,
        "national_lookup_number": "000" + value,
        "note_zh": "全国联网查询时在前面补“000”",
    }


_SPECIAL_GRADE = re.compile(r"^[A-Z]{2}\d{20}$")


def explain_number(text: str, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """Explain any certificate number a verifier may meet. Current 22-character numbers
    are parsed strictly; 16-digit 职业资格证书 and 13-digit Shanghai numbers are explained
    and flagged ``legacy``. Raises ``NumberError`` for anything else."""
    value = normalize_code(text)
    _check_charset(value)
    if len(value) == NUMBER_LENGTH and _SPECIAL_GRADE.match(value):
        return {
            "kind": "special-grade",
            "kind_zh": "特级技师证书（格式未确认）",
            "legacy": False,
            "number": value,
            "note_zh": "两位字母加20位数字；各段宽度尚未确认，不作逐段解释",
        }
    if len(value) == NUMBER_LENGTH:
        return CertificateNumber.parse(value, catalogue).describe(catalogue)
    if value.isdigit() and len(value) == 16:
        try:
            return _explain_qualification_16(value)
        except NumberError:
            # The national lookup pads 13-digit Shanghai numbers with "000" in front.
            if value.startswith("000"):
                return _explain_shanghai_13(value[3:])
            raise
    if value.isdigit() and len(value) == 13:
        return _explain_shanghai_13(value)
    raise NumberError(
        f"not a certificate number: expected 22 characters (or a legacy 16- or 13-digit number), got {len(value)}",
        f"不是证书编号：应为22位（或旧版16位、13位数字），实为{len(value)}位",
    )
