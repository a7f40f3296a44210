"""Assessment (认定): the methods organizations assess by (评价方式), the components of
each, and the rule by which a candidate passes. The methods are configuration
(``data/assessment-methods.json``, read by ``default_methods``), each item marked as policy
or assumption there; the rule itself is here:

- a score component (理论知识考试, 技能操作考核, 综合评审, 工作业绩评审, 过程考核) is scored
  out of ``max_score`` (100) with at most two decimals and passes at ``pass_mark`` (60):
  59.99 fails, 60 passes;
- every component the method has at the level must be present and pass (综合评审 only at
  levels 2 and 1);
- components may be passed at different sittings (a failed one retaken alone): each has the
  China date it was passed (by default the issue date), none after the issue date, and they
  combine only when the latest was passed at most ``combine_within_months`` (24) calendar
  months after the earliest;
- a competition result (竞赛选拔) is a tier, a rank and the level the candidate already holds;
  the tier's rule grants one level, and the certificate must be for exactly that level.

Every refusal is an ``AssessmentError`` with a machine-readable code, Chinese and English
messages, and in ``errors`` the component it is about."""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from .catalogue import level as _level
from .errors import AssessmentError

PASS_MARK = 60
MAX_SCORE = 100
SCORE_STEP = Decimal("0.01")
"""Scores have at most two decimals (they are stored and printed so): more is refused, not
rounded. A binary float is read by its shortest decimal text (``repr``): 89.99 from a
spreadsheet's number cell is 89.99; 89.99999999 left by a formula is refused."""
DEFAULT_CODE = 1
"""The code of the default method (考试考核): a credential omits the method claim for it
(``credential.DEFAULT_METHOD``, docs/FORMAT.md §3)."""
MAX_CODE = 23
"""Codes are one-byte CBOR integers in a credential."""
SCORE, PLACING = "score", "placing"
"""Kinds of component: a score out of 100, or a competition result (tier and rank)."""

Score = int | float | Decimal


@dataclass(frozen=True)
class ComponentSpec:
    key: str
    name_zh: str
    name_en: str
    levels: frozenset[int]
    kind: str = SCORE


@dataclass(frozen=True)
class Award:
    """One rule of a competition tier: a rank up to ``up_to_rank`` is promoted to ``level``,
    or to ``if_held`` when the candidate already holds ``level``."""

    up_to_rank: int
    level: int
    if_held: int | None = None

    def grants(self, held: int | None) -> int | None:
        """The level granted to a candidate holding ``held`` (None: no level), or None when
        the rule promotes them no further."""
        if held is None or held > self.level:
            return self.level
        if held == self.level and self.if_held is not None:
            return self.if_held
        return None


@dataclass(frozen=True)
class Tier:
    key: str
    name_zh: str
    name_en: str
    awards: tuple[Award, ...]

    def award(self, rank: int) -> Award | None:
        return next((a for a in self.awards if rank <= a.up_to_rank), None)


@dataclass(frozen=True)
class Method:
    key: str
    code: int
    name_zh: str
    name_en: str
    components: tuple[ComponentSpec, ...]
    pass_mark: Decimal = Decimal(PASS_MARK)
    max_score: Decimal = Decimal(MAX_SCORE)
    combine_within_months: int = 24
    tiers: tuple[Tier, ...] = ()

    def required(self, level: int) -> tuple[ComponentSpec, ...]:
        """The components the method has at ``level``, in their configured order. Raises
        ``CatalogueError`` for a level that is not 1–5."""
        _level(level)
        return tuple(c for c in self.components if level in c.levels)

    def component(self, key: object) -> ComponentSpec:
        found = next((c for c in self.components if c.key == key), None)
        if found is None:
            named = next((c for m in default_methods() for c in m.components if c.key == key), None)
            raise AssessmentError(
                "unknown_component",
                f"{self.name_en} has no {named.name_en if named else repr(key)}: "
                f"its components are {', '.join(f'{c.name_en} ({c.key})' for c in self.components)}",
                f"{self.name_zh}没有“{named.name_zh if named else key}”：其考核科目为"
                + "、".join(c.name_zh for c in self.components),
                errors={"component": str(key), "method": self.key},
            )
        return found

    def tier(self, key: str) -> Tier:
        found = next((t for t in self.tiers if t.key == key), None)
        if found is None:
            names = "、".join(f"{t.key}（{t.name_zh}）" for t in self.tiers)
            raise AssessmentError(
                "unknown_competition_tier",
                f"unknown competition tier {key!r}: expected {', '.join(t.key for t in self.tiers)}",
                f"无法识别的竞赛类别“{key}”：应为{names}",
                errors={"component": "competition", "tier": key},
            )
        return found

    @property
    def window_zh(self) -> str:
        months = self.combine_within_months
        return f"{months // 12}年" if months % 12 == 0 else f"{months}个月"

    @property
    def window_en(self) -> str:
        months = self.combine_within_months
        return f"{months // 12} years" if months % 12 == 0 else f"{months} months"


class Methods:
    """The configured methods, by key and by code; exactly one is the default (code 1)."""

    def __init__(self, methods: Iterable[Method]) -> None:
        self._by_key: dict[str, Method] = {}
        self._by_code: dict[int, Method] = {}
        for m in methods:
            if m.key in self._by_key or m.code in self._by_code or not 1 <= m.code <= MAX_CODE:
                raise ValueError(f"assessment method {m.key} ({m.code}): duplicate key or code, or code not 1-23")
            if not m.components or (any(c.kind == PLACING for c in m.components) != bool(m.tiers)):
                raise ValueError(f"assessment method {m.key}: no components, or tiers without a placing")
            self._by_key[m.key] = m
            self._by_code[m.code] = m
        if DEFAULT_CODE not in self._by_code:
            raise ValueError("no default assessment method (code 1)")

    def __iter__(self) -> Iterator[Method]:
        return iter(self._by_key.values())

    @property
    def default(self) -> Method:
        return self._by_code[DEFAULT_CODE]

    def get(self, key: str | None) -> Method:
        """The method named ``key`` (its key, its code as text, or its Chinese name); the
        default for None or an empty text. Raises ``AssessmentError`` (``unknown_method``)."""
        if key is None or (isinstance(key, str) and not key.strip()):
            return self.default
        text = str(key).strip()
        for m in self._by_key.values():
            if text in (m.key, str(m.code), m.name_zh):
                return m
        names = "、".join(f"{m.key}（{m.name_zh}）" for m in self._by_key.values())
        raise AssessmentError(
            "unknown_method",
            f"unknown assessment method {text!r}: expected {', '.join(self._by_key)}",
            f"无法识别的评价方式“{text}”：应为{names}",
            errors={"field": "method"},
        )

    def by_code(self, code: int) -> Method | None:
        return self._by_code.get(code)

    @classmethod
    def from_json(cls, text: str) -> Methods:
        doc = json.loads(text)
        pass_mark = Decimal(str(doc.get("pass_mark", PASS_MARK)))
        max_score = Decimal(str(doc.get("max_score", MAX_SCORE)))
        window = int(doc.get("combine_within_months", 24))
        return cls(_method(m, pass_mark, max_score, window) for m in doc["methods"])


def _levels(values: Iterable[int]) -> frozenset[int]:
    return frozenset(_level(v).code for v in values)


def _method(m: Mapping[str, Any], pass_mark: Decimal, max_score: Decimal, window: int) -> Method:
    components = tuple(
        ComponentSpec(c["key"], c["name_zh"], c["name_en"], _levels(c["levels"]), c.get("kind", SCORE))
        for c in m["components"]
    )
    tiers = tuple(
        Tier(
            t["key"],
            t["name_zh"],
            t["name_en"],
            tuple(Award(int(a["up_to_rank"]), _level(a["level"]).code, a.get("if_held")) for a in t["awards"]),
        )
        for t in m.get("tiers", ())
    )
    return Method(
        key=m["key"],
        code=int(m["code"]),
        name_zh=m["name_zh"],
        name_en=m["name_en"],
        components=components,
        pass_mark=Decimal(str(m.get("pass_mark", pass_mark))),
        max_score=Decimal(str(m.get("max_score", max_score))),
        combine_within_months=int(m.get("combine_within_months", window)),
        tiers=tiers,
    )


@cache
def default_methods() -> Methods:
    """The shipped methods (``data/assessment-methods.json``)."""
    text = resources.files("issuer.core").joinpath("data", "assessment-methods.json").read_text("utf-8")
    return Methods.from_json(text)


def method_name(code: int) -> tuple[str, str]:
    """The Chinese and English names of the method with ``code`` (a credential's claim -12),
    as the shipped configuration names it; a code it does not know is named by its number."""
    found = default_methods().by_code(code)
    return (found.name_zh, found.name_en) if found else (f"评价方式{code}", f"assessment method {code}")


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """A score component's result as given: its score and the China date it was passed
    (None: the issue date)."""

    score: Score | None
    passed_on: date | None = None


@dataclass(frozen=True)
class Placing:
    """A competition result (竞赛选拔): the tier (``Tier.key``), the rank (1 = first), the
    level the candidate already held (None: none), and the date of the result."""

    tier: str
    rank: int
    held_level: int | None = None
    passed_on: date | None = None


@dataclass(frozen=True)
class Outcome:
    passed: bool
    failed: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Passed:
    """One component as judged: its score (or competition result) and the date it was passed."""

    component: str
    passed_on: date
    score: Decimal | None = None
    placing: Placing | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "component": self.component,
            "score": str(self.score) if self.score is not None else None,
            "passed_on": self.passed_on.isoformat(),
        }
        if self.placing is not None:
            out.update(tier=self.placing.tier, rank=self.placing.rank, held_level=self.placing.held_level)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Passed:
        placing = None
        if data.get("tier") is not None:
            placing = Placing(data["tier"], int(data["rank"]), data.get("held_level"))
        score = data.get("score")
        return cls(
            data["component"],
            date.fromisoformat(data["passed_on"]),
            Decimal(score) if score is not None else None,
            placing,
        )


@dataclass(frozen=True)
class Assessment:
    """A candidate's passed assessment: the method, the level and every required component."""

    method: Method
    level: int
    results: tuple[Passed, ...]

    def score(self, component: str) -> Decimal | None:
        return next((r.score for r in self.results if r.component == component), None)

    @property
    def placing(self) -> Placing | None:
        return next((r.placing for r in self.results if r.placing is not None), None)


def _score_value(component: ComponentSpec, method: Method, score: object) -> Decimal:
    where = {"component": component.key}
    if isinstance(score, bool) or not isinstance(score, int | float | Decimal):
        raise AssessmentError(
            "invalid_score",
            f"{component.key} score must be a number, got {score!r}",
            f"{component.name_zh}成绩应为数字，实为{score!r}",
            errors=where,
        )
    value = Decimal(str(score))
    # Also Decimal("NaN"), which would raise InvalidOperation when compared below.
    if not value.is_finite():
        raise AssessmentError(
            "invalid_score", f"{component.key} score is not finite", f"{component.name_zh}成绩无效", errors=where
        )
    top = method.max_score
    if not 0 <= value <= top:
        raise AssessmentError(
            "invalid_score",
            f"{component.key} score must be between 0 and {top}, got {score}",
            f"{component.name_zh}成绩应在0至{top}之间，实为{score}",
            errors=where,
        )
    if value != value.quantize(SCORE_STEP):
        raise AssessmentError(
            "invalid_score",
            f"{component.key} score has more than two decimals: {score}",
            f"{component.name_zh}成绩最多保留两位小数，实为{score}",
            errors=where,
        )
    return value.quantize(SCORE_STEP)  # 82 is kept, stored and shown as 82.00


def _given(value: object) -> tuple[object, date | None]:
    """A score alone, or a ``Result`` (score and date)."""
    if isinstance(value, Result):
        return value.score, value.passed_on
    return value, None


def _components(
    method: Method, level: int, scores: Mapping[Any, object]
) -> tuple[tuple[ComponentSpec, ...], dict[str, ComponentSpec]]:
    """The required score components, and the given ones checked to be score components of
    the method at the level (a competition result is not a score: ``Placing``)."""
    required = tuple(c for c in method.required(level) if c.kind == SCORE)
    given: dict[str, ComponentSpec] = {}
    for key in scores:
        spec = method.component(key)
        if spec not in required:
            raise AssessmentError(
                "unexpected_component",
                f"level {level} has no {spec.key} component in {method.name_en}",
                f"{_level(level).label_zh}的{method.name_zh}没有{spec.name_zh}",
                errors={"component": spec.key},
            )
        given[spec.key] = spec
    return required, given


def assess(level: int, scores: Mapping[Any, object], *, method: Method | None = None) -> Outcome:
    """Judge the scores of ``method``'s score components (the default method's when None) for
    ``level``; a value may be a score or a ``Result``. Raises ``AssessmentError`` for a score
    that is not a number in 0–100 with at most two decimals, or a component that the
    method does not have at the level."""
    method = method or default_methods().default
    required, given = _components(method, level, scores)
    checked: dict[str, Decimal] = {}
    for key, value in scores.items():
        score, _ = _given(value)
        if score is not None:
            spec = given[method.component(key).key]
            checked[spec.key] = _score_value(spec, method, score)
    missing = tuple(c.key for c in required if c.key not in checked)
    failed = tuple(c.key for c in required if c.key in checked and checked[c.key] < method.pass_mark)
    return Outcome(not missing and not failed, failed, missing)


def required_components(level: int, *, method: Method | None = None) -> tuple[str, ...]:
    """The keys of the components ``method`` (default: 考试考核) has at ``level``."""
    return tuple(c.key for c in (method or default_methods().default).required(level))


def require_pass(level: int, scores: Mapping[Any, object], *, method: Method | None = None) -> None:
    """Raise ``AssessmentError`` unless every required component was given and passed:
    ``missing_component`` first, then ``assessment_failed``."""
    method = method or default_methods().default
    outcome = assess(level, scores, method=method)
    names = {c.key: c for c in method.components}
    if outcome.missing:
        raise AssessmentError(
            "missing_component",
            "missing results: " + ", ".join(outcome.missing),
            "缺少成绩：" + "、".join(names[c].name_zh for c in outcome.missing),
            errors={"missing": list(outcome.missing)},
        )
    if outcome.failed:
        mark = f"{method.pass_mark:f}"
        raise AssessmentError(
            "assessment_failed",
            f"below {mark} in: " + ", ".join(outcome.failed),
            f"以下科目未达到{mark}分：" + "、".join(names[c].name_zh for c in outcome.failed),
            errors={"failed": list(outcome.failed)},
        )


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later; the month's last day when it has no
    such day (29 February + 24 months = 28 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def check_dates(method: Method, dates: Mapping[str, date], issued_on: date) -> None:
    """Raise ``AssessmentError`` when a component was passed after the issue date
    (``result_after_issue_date``), or components passed at different sittings lie more than
    the method's window apart (``results_too_far_apart``: the latest later than the earliest
    plus ``combine_within_months``)."""
    names = {c.key: c for c in method.components}
    for key, day in dates.items():
        if day > issued_on:
            spec = names[key]
            raise AssessmentError(
                "result_after_issue_date",
                f"the {spec.name_en} was passed on {day}, after the issue date {issued_on}",
                f"{spec.name_zh}的通过日期{day}晚于发证日期{issued_on}",
                errors={"component": key, "part": "date"},
            )
    if len(dates) < 2:
        return
    first = min(dates, key=lambda k: (dates[k], k))
    last = max(dates, key=lambda k: (dates[k], k))
    if dates[last] > add_months(dates[first], method.combine_within_months):
        a, b = names[first], names[last]
        raise AssessmentError(
            "results_too_far_apart",
            f"the {a.name_en} (passed {dates[first]}) and the {b.name_en} (passed {dates[last]}) are more than "
            f"{method.window_en} apart: components passed at different sittings combine within {method.window_en}",
            f"{a.name_zh}（{dates[first]}通过）与{b.name_zh}（{dates[last]}通过）相隔超过{method.window_zh}："
            f"分次通过的科目须在{method.window_zh}内",
            errors={"component": first, "part": "date", "components": [first, last]},
        )


def grant(method: Method, placing: Placing) -> int:
    """The level a competition result earns under ``method``'s tier rules. Raises
    ``AssessmentError``: an unknown tier, a rank that is not a whole number from 1, a held
    level that is not 1–5, a rank that earns nothing, or a held level the rule promotes no
    further."""
    tier = method.tier(placing.tier)
    where = {"component": "competition"}
    if isinstance(placing.rank, bool) or not isinstance(placing.rank, int) or placing.rank < 1:
        raise AssessmentError(
            "invalid_rank",
            f"the rank must be a whole number from 1, got {placing.rank!r}",
            f"名次应为从1开始的整数，实为{placing.rank!r}",
            errors=where,
        )
    held = placing.held_level
    if held is not None and (isinstance(held, bool) or not isinstance(held, int) or not 1 <= held <= 5):
        raise AssessmentError(
            "invalid_held_level",
            f"the level already held must be 1 to 5 or none, got {held!r}",
            f"已持有的等级应为1至5或不填，实为{held!r}",
            errors=where,
        )
    award = tier.award(placing.rank)
    if award is None:
        best = max(a.up_to_rank for a in tier.awards)
        raise AssessmentError(
            "competition_not_placed",
            f"rank {placing.rank} in a {tier.name_en} earns no promotion (the first {best} do)",
            f"{tier.name_zh}第{placing.rank}名不符合晋升条件（前{best}名可晋升）",
            errors=where,
        )
    granted = award.grants(held)
    if granted is None:
        assert held is not None
        top = _level(award.if_held or award.level)
        raise AssessmentError(
            "competition_no_promotion",
            f"rank {placing.rank} in a {tier.name_en} promotes to at most {top.label_en}; "
            f"the candidate already holds {_level(held).label_en}",
            f"{tier.name_zh}第{placing.rank}名最高可晋升{top.label_zh}，该考生已持有{_level(held).label_zh}",
            errors=where,
        )
    return granted


def judge(
    level: int,
    scores: Mapping[Any, object],
    *,
    issued_on: date,
    method: Method | None = None,
    placing: Placing | None = None,
) -> Assessment:
    """The whole rule: the components of ``method`` (default 考试考核) at ``level`` given and
    passed, their dates on or before ``issued_on`` (the China date of issue, which a date
    left out defaults to) and within the method's window of each other; a competition
    result that earns exactly ``level``. Raises ``AssessmentError``."""
    method = method or default_methods().default
    placings = [c for c in method.required(level) if c.kind == PLACING]
    if placing is not None and not placings:
        raise AssessmentError(
            "unexpected_component",
            f"{method.name_en} has no competition result",
            f"{method.name_zh}没有竞赛成绩",
            errors={"component": "competition"},
        )
    require_pass(level, scores, method=method)
    dates: dict[str, date] = {}
    results: list[Passed] = []
    for key, value in scores.items():
        score, passed_on = _given(value)
        spec = method.component(key)
        dates[spec.key] = passed_on or issued_on
        results.append(Passed(spec.key, dates[spec.key], _score_value(spec, method, score)))
    if placings:
        if placing is None:
            spec = placings[0]
            raise AssessmentError(
                "missing_component",
                f"missing results: {spec.key}",
                f"缺少成绩：{spec.name_zh}",
                errors={"missing": [spec.key]},
            )
        granted = grant(method, placing)
        if granted != level:
            tier = method.tier(placing.tier)
            raise AssessmentError(
                "competition_level_mismatch",
                f"rank {placing.rank} in a {tier.name_en} promotes to {_level(granted).label_en}, "
                f"not {_level(level).label_en}",
                f"{tier.name_zh}第{placing.rank}名可晋升{_level(granted).label_zh}，不是{_level(level).label_zh}",
                errors={"field": "level", "level": granted},
            )
        dates[placings[0].key] = placing.passed_on or issued_on
        results.append(Passed(placings[0].key, dates[placings[0].key], None, placing))
    check_dates(method, dates, issued_on)
    order = [c.key for c in method.components]
    return Assessment(method, level, tuple(sorted(results, key=lambda r: order.index(r.component))))
