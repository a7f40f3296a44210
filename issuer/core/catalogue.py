"""Reference data: provinces (GB/T 2260 prefixes), the five levels, and the 2022
occupational classification with the levels and work types known per occupation.

Data files ship in ``issuer/core/data`` (see ``ATTRIBUTION.md`` there). Levels per
occupation are configuration: the shipped table is incomplete, so an occupation absent
from it admits all five levels unless a ``Catalogue`` is built with other rules (an
operator's table of the same form: ``Catalogue.with_occupation_levels``).

A code means something only with its edition: 2015's 4-07-05-04 (消防设施操作员) is 2022's
安全防范系统安装维护员. Codes of the 2015 edition are translated to 2022 codes by the table
``occupation-editions.csv`` (``Catalogue.current``), which lists only the changes that
could be established; a 2015 code it does not list is refused, never guessed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources

from .errors import CatalogueError, ReferenceDataError
from .typed import fold_full_width

EDITION_2022 = 2022
EDITION_2015 = 2015
EDITIONS = (EDITION_2015, EDITION_2022)
"""The editions of the 职业分类大典 a request may state its occupation code in."""


@dataclass(frozen=True)
class Province:
    code: str
    name: str


@dataclass(frozen=True)
class Level:
    code: int
    grade_zh: str
    title_zh: str
    title_en: str

    @property
    def label_zh(self) -> str:
        """As printed on a certificate, e.g. ``三级/高级工``."""
        return f"{self.grade_zh}/{self.title_zh}"

    @property
    def label_en(self) -> str:
        return f"Level {self.code} / {self.title_en}"


LEVELS: Mapping[int, Level] = {
    5: Level(5, "五级", "初级工", "Junior Worker"),
    4: Level(4, "四级", "中级工", "Intermediate Worker"),
    3: Level(3, "三级", "高级工", "Senior Worker"),
    2: Level(2, "二级", "技师", "Technician"),
    1: Level(1, "一级", "高级技师", "Senior Technician"),
}

ALL_LEVELS = frozenset(LEVELS)


def level(code: int) -> Level:
    # ``True`` and ``3.0`` hash like 1 and 3; only a real int is a level code.
    found = LEVELS.get(code) if isinstance(code, int) and not isinstance(code, bool) else None
    if found is None:
        raise CatalogueError(
            "unknown_level",
            f"level must be 1 to 5, got {code!r}",
            f"等级应为1至5，实为{code!r}",
        )
    return found


def parse_level(text: str | int) -> Level:
    """Accept ``3``, ``三级``, ``高级工`` or ``三级/高级工``."""
    if isinstance(text, int):
        return level(text)
    if not isinstance(text, str):
        raise CatalogueError("unknown_level", f"unknown level {text!r}", f"无法识别的等级“{text!r}”")
    value = text.strip()
    for lv in LEVELS.values():
        if value in (str(lv.code), lv.grade_zh, lv.title_zh, lv.label_zh):
            return lv
    raise CatalogueError(
        "unknown_level",
        f"unknown level {value!r}: expected 1-5, 五级…一级 or 初级工…高级技师",
        f"无法识别的等级“{value}”：应为1至5、五级至一级或初级工至高级技师",
    )


# [0-9], not \d: other scripts' digits (``٣``) would otherwise be packed as digits.
_OCCUPATION_CODE = re.compile(r"([1-8])-([0-9]{2})-([0-9]{2})-([0-9]{2})")


def pack_occupation_code(code: str) -> int:
    """``6-31-01-03`` → ``6310103``: the compact form carried in a credential."""
    if not isinstance(code, str):
        raise _not_an_occupation_code(code)
    return _packed_occupation_code(code)


@lru_cache(maxsize=4096)
def _packed_occupation_code(code: str) -> int:
    """Per code once: an issuer signs the same few occupations again and again."""
    m = _OCCUPATION_CODE.fullmatch(code)
    if not m:
        raise _not_an_occupation_code(code)
    return int("".join(m.groups()))


def _not_an_occupation_code(code: object) -> CatalogueError:
    return CatalogueError(
        "invalid_occupation_code",
        f"occupation code {code!r} is not of the form 6-31-01-03",
        f"职业编码“{code}”格式应为 6-31-01-03",
    )


def unpack_occupation_code(value: int) -> str:
    if not isinstance(value, int) or not 1000000 <= value <= 8999999:
        raise CatalogueError(
            "invalid_occupation_code",
            f"packed occupation code {value!r} is out of range",
            f"压缩职业编码{value!r}超出范围",
        )
    s = str(value)
    return f"{s[0]}-{s[1:3]}-{s[3:5]}-{s[5:7]}"


@dataclass(frozen=True)
class WorkType:
    name: str
    levels: frozenset[int]


@dataclass(frozen=True)
class Occupation:
    code: str
    name: str
    marks: str = ""
    edition: int = EDITION_2022
    levels: frozenset[int] = ALL_LEVELS
    work_types: tuple[WorkType, ...] = ()
    levels_confirmed: bool = False

    def work_type(self, name: str) -> WorkType | None:
        return next((w for w in self.work_types if w.name == name), None)

    @property
    def untyped_levels(self) -> frozenset[int]:
        """Levels that no 工种 covers (e.g. 家政服务员 二级 "不分工种"): assessed without one."""
        if not self.work_types:
            return frozenset()
        return self.levels - frozenset().union(*(w.levels for w in self.work_types))


@dataclass(frozen=True)
class EditionChange:
    """What became of an occupation of an older edition in the 2022 edition (one row of
    ``occupation-editions.csv``): ``moved`` (a new code), ``renamed`` (a new name), ``merged``
    (into an occupation of its own with others), ``split`` (into several: one row each)."""

    edition: int
    code: str
    name: str
    code_2022: str
    name_2022: str
    change: str


@dataclass(frozen=True)
class Catalogue:
    provinces: Mapping[str, Province]
    occupations: Mapping[str, Occupation]
    edition: int = EDITION_2022
    extra: Mapping[str, str] = field(default_factory=dict)
    licensed: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Licensing (准入类) occupations this system must not issue: code → why (zh, en)."""
    changes: Mapping[tuple[int, str], tuple[EditionChange, ...]] = field(default_factory=dict)
    """(edition, code of that edition) → what became of it in 2022 (one entry, or several
    when it was split)."""

    def current(self, code: str, edition: int | None = None) -> Occupation:
        """The 2022 occupation that ``code`` of ``edition`` (None: 2022) stands for. A 2015
        code is translated by the table of established changes; one the table does not list,
        or one that was split (which 2022 occupation is meant cannot be told), is refused
        naming the 2022 codes where they are known. Raises ``CatalogueError``."""
        if edition is None or edition == self.edition:
            return self.occupation(code)
        if isinstance(edition, bool) or edition not in EDITIONS:
            raise CatalogueError(
                "unknown_edition",
                f"the classification edition must be {' or '.join(map(str, EDITIONS))}, got {edition!r}",
                f"职业分类大典版本应为{'或'.join(map(str, EDITIONS))}年版，实为{edition!r}",
                errors={"field": "edition"},
            )
        found = self.changes.get((edition, code), ())
        if not found:
            raise CatalogueError(
                "unmapped_occupation",
                f"occupation {code!r} of the {edition} classification is not in this service's table of codes "
                f"changed since then; state its {self.edition} code (edition {self.edition})",
                f"{edition}年版职业编码“{code}”不在本系统可对应的编码变更表中，请填写{self.edition}年版职业编码",
                errors={"field": "occupation", "edition": edition},
            )
        if len(found) > 1:
            named = "、".join(f"{c.name_2022}（{c.code_2022}）" for c in found)
            raise CatalogueError(
                "ambiguous_occupation",
                f"{found[0].name} ({code}, {edition}) was split in the {self.edition} classification into "
                + ", ".join(f"{c.code_2022} {c.name_2022}" for c in found)
                + f"; state the one meant (edition {self.edition})",
                f"{edition}年版的{found[0].name}（{code}）在{self.edition}年版中分为{named}，请填写其中之一",
                errors={"field": "occupation", "codes": [c.code_2022 for c in found]},
            )
        return self.occupation(found[0].code_2022)

    def province(self, code: str) -> Province:
        try:
            return self.provinces[code]
        except KeyError:
            raise CatalogueError(
                "unknown_province",
                f"unknown province code {code!r} (GB/T 2260)",
                f"未知的省份代码“{code}”（GB/T 2260）",
            ) from None

    def occupation(self, code: str) -> Occupation:
        try:
            return self.occupations[code]
        except KeyError:
            raise CatalogueError(
                "unknown_occupation",
                f"occupation {code!r} is not in the {self.edition} classification",
                f"职业编码“{code}”不在{self.edition}年版职业分类大典中",
            ) from None

    def issuable(self, code: str) -> Occupation:
        """The occupation, if a skill level certificate may be issued for it here; a
        licensing (准入类) qualification is refused with the reason."""
        occupation = self.occupation(code)
        if code in self.licensed:
            zh, en = self.licensed[code]
            raise CatalogueError(
                "licensed_occupation",
                f"{occupation.name} ({code}) is {en}; this system issues skill level certificates only",
                f"{occupation.name}（{code}）{zh}，不属于职业技能等级认定，本系统不能颁发",
            )
        return occupation

    def find_occupation_by_name(self, name: str, edition: int | None = None) -> Occupation:
        """The 2022 occupation of that name in ``edition`` (None: 2022); an older edition's
        name is found in the table of changes."""
        if edition is not None and edition != self.edition:
            for (ed, code), rows in self.changes.items():
                if ed == edition and rows[0].name == name.strip():
                    return self.current(code, edition)
            self.current("", edition)  # an unknown edition is refused as such
            raise CatalogueError(
                "unmapped_occupation",
                f"no occupation named {name!r} in this service's table of {edition} codes changed since then; "
                f"state its {self.edition} code or name",
                f"本系统的{edition}年版编码变更表中没有名为“{name}”的职业，请填写{self.edition}年版的职业编码或名称",
                errors={"field": "occupation", "edition": edition},
            )
        for occ in self.occupations.values():
            if occ.name == name.strip():
                return occ
        raise CatalogueError(
            "unknown_occupation",
            f"no occupation named {name!r} in the {self.edition} classification",
            f"{self.edition}年版职业分类大典中没有名为“{name}”的职业",
        )

    def search(self, text: str, *, limit: int = 20, issuable_only: bool = True) -> list[Occupation]:
        """At most ``limit`` occupations whose code begins with ``text`` (``6-18``, ``61802``,
        full-width digits too) or whose name contains it: the exact code or name first, then
        names that begin with it, then codes that do, then names that contain it, each in code
        order. ``issuable_only`` leaves out licensing (准入类) occupations, which no scope may
        name. Returns no occupation for blank ``text``."""
        wanted = fold_full_width(text.strip(" \t\r\n\u3000\u00a0")).replace("－", "-")
        if not wanted or limit < 1:
            return []
        digits = wanted.replace("-", "")
        by_code = digits.isascii() and digits.isdigit()

        def rank(occ: Occupation) -> int | None:
            if by_code and occ.code.replace("-", "").startswith(digits):
                return 0 if occ.code == wanted or occ.code.replace("-", "") == digits else 2
            if wanted in occ.name:
                return 0 if occ.name == wanted else 1 if occ.name.startswith(wanted) else 3
            return None

        found = []
        for occ in self.occupations.values():
            if issuable_only and occ.code in self.licensed:
                continue
            place = rank(occ)
            if place is not None:
                found.append((place, occ.code, occ))
        return [occ for _, _, occ in sorted(found, key=lambda f: f[:2])[:limit]]

    def with_occupation_levels(self, text: str) -> Catalogue:
        """A copy in which the occupations that a levels table (``LEVELS_COLUMNS``, an
        operator's file) configures have its levels and work types instead of these.
        Raises ``ReferenceDataError`` naming the line at fault."""
        occupations = {**self.occupations, **read_occupation_levels(text, self.occupations)}
        return replace(self, occupations=occupations)

    def with_levels(self, code: str, levels: Iterable[int]) -> Catalogue:
        """A copy in which ``code`` admits exactly ``levels`` (authority configuration)."""
        occ = self.occupation(code)
        chosen = frozenset(level(lv).code for lv in levels)
        occupations = dict(self.occupations)
        occupations[code] = Occupation(occ.code, occ.name, occ.marks, occ.edition, chosen, occ.work_types, True)
        return replace(self, occupations=occupations)


LEVELS_COLUMNS = ("code", "name", "levels", "work_types", "evidence", "source_url")
"""The columns of a table of levels per occupation (``data/occupation-levels.csv``); an
operator's file (``ISSUER_OCCUPATION_LEVELS_FILE``) needs ``code`` and ``levels`` only."""

_WORK_TYPE = re.compile(r"^([^()/]+?)(?:\(([0-9])-([0-9])\))?$")
_LOWER_BOUND = ("secondary", "observed")
"""Evidence that shows levels one source gave, not the national standard's: the occupation
may have more, so it admits all five."""


def read_occupation_levels(text: str, occupations: Mapping[str, Occupation]) -> dict[str, Occupation]:
    """The occupations of ``occupations`` that the rows of a levels table configure, each
    with the row's levels and work types (工种, each with its level range, e.g.
    ``电焊工(5-1);气焊工(5-3)``; a part with a ``/`` is a note such as ``二级/技师不分工种``).
    A row's levels are the rule unless its ``evidence`` begins with ``secondary`` or
    ``observed`` (what one source showed: then all five levels are admitted). Raises
    ``ReferenceDataError`` naming the line at fault: an unknown column or occupation, a name
    that is not the occupation's, a level outside 1-5, a work type's range outside the
    row's levels, a code given twice."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not header:
        raise ReferenceDataError(f"no header line (columns: {', '.join(LEVELS_COLUMNS)})", 1)
    for name in header:
        if name not in LEVELS_COLUMNS:
            raise ReferenceDataError(f"unknown column {name!r} (columns: {', '.join(LEVELS_COLUMNS)})", 1)
    for name in ("code", "levels"):
        if name not in header:
            raise ReferenceDataError(f"no {name!r} column", 1)
    if len(set(header)) != len(header):
        raise ReferenceDataError("a column is repeated", 1)
    found: dict[str, Occupation] = {}
    lines: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise ReferenceDataError(f"{len(cells)} cells for {len(header)} columns", line)
        row = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
        code = row["code"]
        base = occupations.get(code)
        if base is None:
            raise ReferenceDataError(f"occupation {code!r} is not in the classification", line)
        if code in lines:
            raise ReferenceDataError(f"occupation {code} is already configured on line {lines[code]}", line)
        if row.get("name") and row["name"] != base.name:
            raise ReferenceDataError(f"occupation {code} is {base.name}, not {row['name']}", line)
        levels = _row_levels(row["levels"], line)
        enforced = not row.get("evidence", "").startswith(_LOWER_BOUND)
        admitted = levels if enforced else ALL_LEVELS
        work_types = _row_work_types(row.get("work_types", ""), levels, admitted, line)
        found[code] = Occupation(base.code, base.name, base.marks, base.edition, admitted, work_types, enforced)
        lines[code] = line
    return found


def _row_levels(text: str, line: int) -> frozenset[int]:
    parts = text.replace(",", " ").split()
    if not parts:
        raise ReferenceDataError("levels is empty (e.g. 5 4 3)", line)
    if any(p not in ("1", "2", "3", "4", "5") for p in parts) or len(set(parts)) != len(parts):
        raise ReferenceDataError(f"levels {text!r}: each level once, 1 to 5 (e.g. 5 4 3)", line)
    return frozenset(int(p) for p in parts)


def _row_work_types(text: str, levels: frozenset[int], admitted: frozenset[int], line: int) -> tuple[WorkType, ...]:
    """Work types without a range admit what the occupation admits."""
    found: list[WorkType] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        if "/" in part:
            continue  # a note such as "二级/技师不分工种", not a work type
        m = _WORK_TYPE.match(part)
        if not m:
            raise ReferenceDataError(f"work type {part!r}: a name, or a name and its levels (e.g. 电焊工(5-1))", line)
        name, lo, hi = m.groups()
        if any(w.name == name for w in found):
            raise ReferenceDataError(f"work type {name} is repeated", line)
        chosen = admitted
        if lo and hi:
            a, b = sorted((int(lo), int(hi)))
            chosen = frozenset(range(a, b + 1))
            if not chosen <= levels:
                raise ReferenceDataError(
                    f"work type {part}: levels outside the occupation's ({_text_levels(levels)})", line
                )
        found.append(WorkType(name, chosen))
    return tuple(found)


def _text_levels(levels: Iterable[int]) -> str:
    """``5 4 3``: levels as the tables write them."""
    return " ".join(str(lv) for lv in sorted(levels, reverse=True))


def _read_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_data_text(name).splitlines()))


def _data_text(name: str) -> str:
    return resources.files("issuer.core").joinpath("data", name).read_text(encoding="utf-8")


def _load_occupations() -> dict[str, Occupation]:
    occupations: dict[str, Occupation] = {}
    for row in _read_csv("occupations-2022.csv"):
        occupations.setdefault(row["code"], Occupation(row["code"], row["name"], row["mark"]))
    occupations.update(read_occupation_levels(_data_text("occupation-levels.csv"), occupations))
    return occupations


@cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue. Occupations whose levels are only observed (a lower bound)
    admit all five levels, because the standard may have more."""
    provinces = {r["code"]: Province(r["code"], r["name"]) for r in _read_csv("provinces.csv")}
    licensed = {r["code"]: (r["note_zh"], r["note_en"]) for r in _read_csv("licensed-occupations.csv")}
    changes: dict[tuple[int, str], tuple[EditionChange, ...]] = {}
    for r in _read_csv("occupation-editions.csv"):
        change = EditionChange(int(r["edition"]), r["code"], r["name"], r["code_2022"], r["name_2022"], r["change"])
        changes[(change.edition, change.code)] = (*changes.get((change.edition, change.code), ()), change)
    return Catalogue(provinces, _load_occupations(), licensed=licensed, changes=changes)
