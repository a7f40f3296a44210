"""The authority's organization forms, read into what the registry takes: the registration,
the scope as rows picked from the catalogue (an occupation found by code or name, its levels
as boxes, its 工种 as boxes where the catalogue lists them, typed where it lists none), and
the appearance's images (a file chosen now, one chosen for the preview and carried in the
page, one removed, or the one stored).

A scope form is one form with several buttons: 查找 (find occupations; also what Enter does,
being the first button), 添加 (add a row for the occupation chosen among the matches),
删除 (drop a row) and the one that saves. Only that one changes anything; the others show the
form again as it was sent, so that it works without JavaScript."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from issuer.core.catalogue import LEVELS, Catalogue, Occupation
from issuer.core.errors import IssuerError
from issuer.core.numbering import ORG_KINDS
from issuer.render import Assets
from issuer.service.appearance import IMAGES, MAX_ASSET_BYTES
from issuer.service.registry import Registration, ScopeItem
from issuer.store.records import OrganizationRecord

MATCHES = 20
"""Occupations a search shows at most (the catalogue has 1,634)."""
MAX_ROWS = 200
REGISTRATION_FIELDS = ("kind", "authority_code", "province", "site_code", "name", "registered_from", "registered_until")
_SEPARATORS = re.compile(r"[、,，;；\s]+")
Words = Callable[[str, str], str]
"""``_words(zh, en)`` of the console: the text in the reader's language."""


@dataclass(frozen=True)
class ScopeRow:
    occupation: str
    levels: tuple[int, ...] = ()
    work_types: tuple[str, ...] = ()
    """Ticked among those the catalogue lists for the occupation."""
    typed_work_types: str = ""
    """Typed, for an occupation whose 工种 the catalogue does not list."""

    def item(self) -> ScopeItem:
        typed = tuple(w for w in _SEPARATORS.split(self.typed_work_types) if w)
        return ScopeItem(self.occupation, self.levels, (*self.work_types, *typed))


@dataclass
class ScopeForm:
    rows: list[ScopeRow]
    query: str = ""
    matches: list[Occupation] = field(default_factory=list)
    saving: bool = False
    """The button that saves was pressed (not 查找, 添加 or 删除)."""
    problem: str | None = None
    """About the rows as a whole: none added, or 添加 with no occupation chosen."""


def scope_form(catalogue: Catalogue, form: MultiDict[str, str], words: Words) -> ScopeForm:
    """The rows as sent, changed as the button pressed asks, and the occupations the search box finds."""
    rows = _rows(form)
    action = form.get("action", "")
    removed = form.get("remove", "")
    if removed.isdigit() and int(removed) < len(rows):
        del rows[int(removed)]
        action = "remove"
    query = form.get("q", "").strip()[:40]
    result = ScopeForm(rows, query, catalogue.search(query, limit=MATCHES), saving=action == "save")
    if action == "add":
        chosen = catalogue.occupations.get(form.get("add", ""))
        if chosen is None or chosen.code in catalogue.licensed:
            result.problem = words("请先查找职业，并在结果中选择一个", "find an occupation, then choose one of them")
        elif len(rows) < MAX_ROWS:
            rows.append(ScopeRow(chosen.code))
    return result


def _rows(form: MultiDict[str, str]) -> list[ScopeRow]:
    rows = []
    for index in list(dict.fromkeys(i for i in form.getlist("row") if i.isdigit()))[:MAX_ROWS]:
        levels = {int(v) for v in form.getlist(f"level-{index}") if v.isdigit() and int(v) in LEVELS}
        rows.append(
            ScopeRow(
                occupation=form.get(f"occupation-{index}", "").strip()[:16],
                levels=tuple(sorted(levels, reverse=True)),
                work_types=tuple(dict.fromkeys(w.strip()[:64] for w in form.getlist(f"work_type-{index}") if w)),
                typed_work_types=form.get(f"typed-{index}", "").strip()[:500],
            )
        )
    return rows


def rows_in_force(catalogue: Catalogue, org: OrganizationRecord) -> list[ScopeRow]:
    """The organization's scope entries in force, as rows of the editor."""
    rows = []
    for entry in sorted((s for s in org.scope if s.valid_until is None), key=lambda s: (s.occupation, s.work_types)):
        occupation = catalogue.occupations.get(entry.occupation)
        listed = {w.name for w in occupation.work_types} if occupation is not None else set()
        rows.append(
            ScopeRow(
                entry.occupation,
                tuple(sorted(entry.levels, reverse=True)),
                tuple(w for w in entry.work_types if w in listed),
                "、".join(w for w in entry.work_types if w not in listed),
            )
        )
    return rows


def row_views(
    catalogue: Catalogue, rows: Sequence[ScopeRow], problems: Mapping[int, str], words: Words
) -> list[dict[str, Any]]:
    """What the template shows of each row: the occupation, a box per level of its national
    standard, a box per 工种 the catalogue lists (with its levels when they are fewer) or a
    box to type them, and the row's problem."""
    views = []
    for index, row in enumerate(rows):
        occupation = catalogue.occupations.get(row.occupation)
        standard = occupation.levels if occupation is not None else frozenset(LEVELS)
        listed = occupation.work_types if occupation is not None else ()
        views.append(
            {
                "index": index,
                "code": row.occupation,
                "name": occupation.name if occupation is not None else "",
                "levels": [(lv, level_words(lv, words), lv in row.levels) for lv in LEVELS if lv in standard],
                "work_types": [
                    (w.name, _range_words(w.levels, standard, words), w.name in row.work_types) for w in listed
                ],
                "typed": row.typed_work_types,
                "problem": problems.get(index),
            }
        )
    return views


def level_words(code: int, words: Words) -> str:
    lv = LEVELS[code]
    return words(lv.label_zh, lv.label_en)


def _range_words(levels: frozenset[int], standard: frozenset[int], words: Words) -> str:
    """``（五级至三级）`` when a 工种 has fewer levels than its occupation, else nothing."""
    if not levels or levels >= standard:
        return ""
    low, high = LEVELS[max(levels)], LEVELS[min(levels)]
    return words(f"（{low.grade_zh}至{high.grade_zh}）", f" (levels {low.code} to {high.code})")


def occupation_json(occupation: Occupation) -> dict[str, Any]:
    return {
        "code": occupation.code,
        "name": occupation.name,
        "levels": sorted(occupation.levels, reverse=True),
        "work_types": [{"name": w.name, "levels": sorted(w.levels, reverse=True)} for w in occupation.work_types],
    }


# --- the registration ---------------------------------------------------------------------------


def registration(
    fields: Mapping[str, str], items: Sequence[ScopeItem], catalogue: Catalogue, words: Words
) -> tuple[Registration | None, dict[str, str]]:
    """The registration, or the problems of fields that are missing or not even well-formed
    (the registry judges the rest: the code, the name, the period, the scope)."""
    problems: dict[str, str] = {}
    required = words("必填", "required")
    if fields["kind"] not in ORG_KINDS:
        problems["kind"] = words("请选择机构类型", "choose the kind")
    for key, length in (("authority_code", 4), ("site_code", 6)):
        if not re.fullmatch(rf"[0-9]{{{length}}}", fields[key]):
            problems[key] = words(f"应为{length}位数字", f"{length} digits") if fields[key] else required
    if fields["province"] not in catalogue.provinces:
        problems["province"] = words("请选择省份", "choose the province")
    if not fields["name"]:
        problems["name"] = required
    days = {}
    for key in ("registered_from", "registered_until"):
        try:
            days[key] = date.fromisoformat(fields[key]) if fields[key] else None
        except ValueError:
            problems[key] = words("请填写日期，如2026-01-01", "a date such as 2026-01-01")
    if "registered_from" not in problems and days["registered_from"] is None:
        problems["registered_from"] = required
    if problems:
        return None, problems
    start = days["registered_from"]
    assert start is not None
    return (
        Registration(
            kind=fields["kind"],
            authority_code=fields["authority_code"],
            province=fields["province"],
            site_code=fields["site_code"],
            name=fields["name"],
            scope=tuple(items),
            registered_from=start,
            registered_until=days.get("registered_until"),
        ),
        {},
    )


_CODE_PARTS = ((8, "site_code"), (6, "province"), (2, "authority_code"), (1, "kind"))
"""The first position of each part of the 13-character code, last part first."""
_REGISTRATION_FIELD = {
    "invalid_name": "name",
    "invalid_period": "registered_until",
    "registration_outside_root": "registered_from",
    "organization_exists": "code",
    "unknown_province": "province",
}


def registration_field(error: IssuerError) -> str | None:
    """The field of the registration form ``error`` is about (``code`` for the code as a
    whole), or None for the scope or the request as a whole."""
    position = error.errors.get("position")
    if error.code == "invalid_number" and isinstance(position, int):
        return next((name for first, name in _CODE_PARTS if position >= first), None)
    return _REGISTRATION_FIELD.get(error.code)


# --- the appearance's images ------------------------------------------------------------------


def chosen_images(
    form: MultiDict[str, str], files: MultiDict[str, FileStorage], stored: Assets
) -> tuple[Assets, dict[str, str]]:
    """The images chosen: per image, a file sent now, else none when 删除 is ticked, else the
    one chosen for a preview (carried in the page as base64, since a browser does not keep a
    chosen file), else the one stored. Also the base64 of those chosen but not stored, for
    the page to carry."""
    chosen: dict[str, bytes | None] = {}
    carried: dict[str, str] = {}
    for what in IMAGES:
        upload = files.get(what)
        kept = _base64(form.get(f"kept_{what}", ""))
        if upload is not None and upload.filename:
            chosen[what] = upload.read()
            carried[what] = base64.b64encode(chosen[what] or b"").decode()
        elif form.get(f"remove_{what}"):
            chosen[what] = None
        elif kept is not None:
            chosen[what] = kept
            carried[what] = form.get(f"kept_{what}", "")
        else:
            chosen[what] = getattr(stored, what)
    return Assets(**chosen), {k: v for k, v in carried.items() if v}


def _base64(text: str) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text[: 4 * (MAX_ASSET_BYTES // 3 + 2)], validate=True)
    except (binascii.Error, ValueError):
        return None
