"""The assessment rule (认定): a theory exam and a practical exam for every level, plus a
comprehensive review for levels 2 (技师) and 1 (高级技师). Each component is scored out
of 100; a candidate passes only when every required component reaches 60."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .catalogue import level as _level
from .errors import AssessmentError

PASS_MARK = 60
MAX_SCORE = 100
SCORE_STEP = Decimal("0.01")
"""Scores have at most two decimals (they are stored and printed so): more is refused, not
rounded. A binary float is read by its shortest decimal text (``repr``): 89.99 from a
spreadsheet's number cell is 89.99; 89.99999999 left by a formula is refused."""


class Component(StrEnum):
    THEORY = "theory"
    PRACTICAL = "practical"
    REVIEW = "review"

    @property
    def name_zh(self) -> str:
        return {"theory": "理论知识考试", "practical": "技能操作考核", "review": "综合评审"}[self.value]


def required_components(level: int) -> tuple[Component, ...]:
    _level(level)
    if level in (1, 2):
        return (Component.THEORY, Component.PRACTICAL, Component.REVIEW)
    return (Component.THEORY, Component.PRACTICAL)


Score = int | float | Decimal


@dataclass(frozen=True)
class Outcome:
    passed: bool
    failed: tuple[Component, ...]
    missing: tuple[Component, ...]


def _check_score(component: Component, score: object) -> Decimal:
    where = {"component": component.value}
    if isinstance(score, bool) or not isinstance(score, int | float | Decimal):
        raise AssessmentError(
            "invalid_score",
            f"{component.value} score must be a number, got {score!r}",
            f"{component.name_zh}成绩应为数字，实为{score!r}",
            errors=where,
        )
    value = Decimal(str(score))
    # Also Decimal("NaN"), which would raise InvalidOperation when compared below.
    if not value.is_finite():
        raise AssessmentError(
            "invalid_score", f"{component.value} score is not finite", f"{component.name_zh}成绩无效", errors=where
        )
    if not 0 <= value <= MAX_SCORE:
        raise AssessmentError(
            "invalid_score",
            f"{component.value} score must be between 0 and 100, got {score}",
            f"{component.name_zh}成绩应在0至100之间，实为{score}",
            errors=where,
        )
    if value != value.quantize(SCORE_STEP):
        raise AssessmentError(
            "invalid_score",
            f"{component.value} score has more than two decimals: {score}",
            f"{component.name_zh}成绩最多保留两位小数，实为{score}",
            errors=where,
        )
    return value


def _component(key: str) -> Component:
    """``Component.THEORY`` or its value ``"theory"`` (as results arrive from JSON)."""
    try:
        return Component(key)
    except ValueError:
        raise AssessmentError(
            "unknown_component",
            f"unknown assessment component {key!r}: expected theory, practical or review",
            f"无法识别的考核科目{key!r}：应为theory、practical或review",
        ) from None


def assess(level: int, scores: Mapping[Component, Score]) -> Outcome:
    """Judge scores for ``level``. Raises ``AssessmentError`` for a score that is not a
    number in 0–100 with at most two decimals or a component that the level does not have."""
    required = required_components(level)
    scores = {_component(key): score for key, score in scores.items()}
    for component in scores:
        if component not in required:
            raise AssessmentError(
                "unexpected_component",
                f"level {level} has no {component.value} component",
                f"{_level(level).label_zh}没有{component.name_zh}",
            )
    checked = {c: _check_score(c, s) for c, s in scores.items() if s is not None}
    missing = tuple(c for c in required if c not in checked)
    failed = tuple(c for c in required if c in checked and checked[c] < PASS_MARK)
    return Outcome(not missing and not failed, failed, missing)


def require_pass(level: int, scores: Mapping[Component, Score]) -> None:
    """Raise ``AssessmentError`` unless the candidate passed every required component."""
    outcome = assess(level, scores)
    if outcome.missing:
        names = "、".join(c.name_zh for c in outcome.missing)
        raise AssessmentError(
            "missing_component",
            "missing results: " + ", ".join(c.value for c in outcome.missing),
            f"缺少成绩：{names}",
            errors={"missing": [c.value for c in outcome.missing]},
        )
    if outcome.failed:
        names = "、".join(c.name_zh for c in outcome.failed)
        raise AssessmentError(
            "assessment_failed",
            "below 60 in: " + ", ".join(c.value for c in outcome.failed),
            f"以下科目未达到60分：{names}",
            errors={"failed": [c.value for c in outcome.failed]},
        )
