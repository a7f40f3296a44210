"""Specification of the assessment rule (认定): theory and practical exams for every
level, plus a comprehensive review for levels 2 and 1; each component must reach 60."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuer.core.assessment import (
    Component,
    Outcome,
    assess,
    require_pass,
    required_components,
)
from issuer.core.errors import AssessmentError, CatalogueError

THEORY, PRACTICAL, REVIEW = Component.THEORY, Component.PRACTICAL, Component.REVIEW


class TestRequiredComponents:
    @pytest.mark.parametrize("level", [5, 4, 3])
    def test_levels_5_to_3_need_theory_and_practical(self, level: int) -> None:
        assert required_components(level) == (THEORY, PRACTICAL)

    @pytest.mark.parametrize("level", [2, 1])
    def test_levels_2_and_1_also_need_a_comprehensive_review(self, level: int) -> None:
        assert required_components(level) == (THEORY, PRACTICAL, REVIEW)

    @pytest.mark.parametrize("level", [0, 6, -1, True])
    def test_an_unknown_level_is_rejected(self, level: int) -> None:
        with pytest.raises(CatalogueError):
            required_components(level)

    def test_components_have_chinese_names(self) -> None:
        assert [c.name_zh for c in Component] == ["理论知识考试", "技能操作考核", "综合评审"]


class TestPassing:
    def test_passes_when_every_required_component_reaches_60(self) -> None:
        assert assess(3, {THEORY: 60, PRACTICAL: 60}) == Outcome(True, (), ())

    def test_passes_with_full_marks_at_level_1(self) -> None:
        assert assess(1, {THEORY: 100, PRACTICAL: 100, REVIEW: 100}).passed

    def test_59_5_does_not_round_up_to_a_pass(self) -> None:
        outcome = assess(3, {THEORY: 59.5, PRACTICAL: 90})
        assert not outcome.passed
        assert outcome.failed == (THEORY,)

    def test_a_fraction_below_60_fails(self) -> None:
        assert assess(4, {THEORY: 80, PRACTICAL: Decimal("59.99")}).failed == (PRACTICAL,)

    @pytest.mark.parametrize("sixty", [60, 60.0, Decimal("60"), Decimal("60.00")])
    def test_60_in_any_numeric_type_passes(self, sixty: int | float | Decimal) -> None:
        assert assess(5, {THEORY: sixty, PRACTICAL: sixty}).passed

    def test_zero_is_a_valid_failing_score(self) -> None:
        assert assess(5, {THEORY: 0, PRACTICAL: 0}).failed == (THEORY, PRACTICAL)

    def test_a_failed_review_fails_level_2(self) -> None:
        outcome = assess(2, {THEORY: 90, PRACTICAL: 90, REVIEW: 59})
        assert not outcome.passed
        assert outcome.failed == (REVIEW,)

    @given(
        st.integers(1, 5),
        st.lists(
            st.one_of(
                st.integers(0, 100),
                st.integers(0, 10_000).map(lambda n: n / 100),
                st.decimals(0, 100, places=2),
            ),
            min_size=3,
            max_size=3,
        ),
    )
    def test_passes_exactly_when_every_required_score_is_at_least_60(
        self, level: int, scores: list[int | float | Decimal]
    ) -> None:
        required = required_components(level)
        outcome = assess(level, dict(zip(required, scores, strict=False)))
        assert outcome.passed == all(s >= 60 for s in scores[: len(required)])
        assert outcome.failed == tuple(c for c, s in zip(required, scores, strict=False) if s < 60)


class TestMissingResults:
    def test_a_missing_review_at_level_2_is_reported(self) -> None:
        outcome = assess(2, {THEORY: 90, PRACTICAL: 90})
        assert not outcome.passed
        assert outcome.missing == (REVIEW,)

    def test_no_results_at_all_are_all_missing(self) -> None:
        assert assess(1, {}).missing == (THEORY, PRACTICAL, REVIEW)

    def test_a_none_score_counts_as_missing(self) -> None:
        assert assess(3, {THEORY: 70, PRACTICAL: None}).missing == (PRACTICAL,)  # type: ignore[dict-item]

    def test_missing_and_failed_are_reported_together(self) -> None:
        outcome = assess(2, {THEORY: 30, PRACTICAL: 90})
        assert (outcome.failed, outcome.missing) == ((THEORY,), (REVIEW,))


class TestInvalidScores:
    @pytest.mark.parametrize(
        "score",
        [-1, -0.01, 100.01, 101, Decimal("100.5"), 1e9],
    )
    def test_a_score_outside_0_to_100_is_rejected(self, score: int | float | Decimal) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(3, {THEORY: score, PRACTICAL: 70})
        assert info.value.code == "invalid_score"
        assert "between 0 and 100" in info.value.message
        assert "理论知识考试成绩应在0至100之间" in info.value.message_zh

    @pytest.mark.parametrize(
        "score",
        [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")],
    )
    def test_a_score_that_is_not_finite_is_rejected(self, score: float | Decimal) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(3, {THEORY: 70, PRACTICAL: score})
        assert info.value.code == "invalid_score"

    @pytest.mark.parametrize(
        "score", [99.001, Decimal("80.001"), Decimal("59.995"), 89.99999999, 90.00000000000001, Decimal("1E-3")]
    )
    def test_a_score_with_more_than_two_decimals_is_refused_not_rounded(self, score: float | Decimal) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(3, {THEORY: score, PRACTICAL: 70})
        assert info.value.code == "invalid_score"
        assert "more than two decimals" in info.value.message
        assert "最多保留两位小数" in info.value.message_zh

    @pytest.mark.parametrize("score", [89.99, 60.07, Decimal("80.10"), Decimal("80.100"), 59.5])
    def test_the_binary_float_of_a_two_decimal_score_is_that_score(self, score: float | Decimal) -> None:
        assert assess(3, {THEORY: score, PRACTICAL: 70}).passed == (score >= 60)

    @pytest.mark.parametrize("score", [True, False, "80", b"80", [80], object()])
    def test_a_score_that_is_not_a_number_is_rejected(self, score: object) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(3, {THEORY: score, PRACTICAL: 70})  # type: ignore[dict-item]
        assert info.value.code == "invalid_score"
        assert "must be a number" in info.value.message


class TestComponents:
    @pytest.mark.parametrize("level", [5, 4, 3])
    def test_a_review_score_for_levels_5_to_3_is_rejected(self, level: int) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(level, {THEORY: 70, PRACTICAL: 70, REVIEW: 70})
        assert info.value.code == "unexpected_component"
        assert "综合评审" in info.value.message_zh

    def test_components_may_be_given_by_their_values(self) -> None:
        assert assess(2, {"theory": 60, "practical": 60, "review": 60}).passed  # type: ignore[dict-item]

    def test_a_review_given_by_value_for_level_3_is_rejected(self) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(3, {"theory": 70, "practical": 70, "review": 70})  # type: ignore[dict-item]
        assert info.value.code == "unexpected_component"

    @pytest.mark.parametrize("key", ["oral", "THEORY", 1, None])
    def test_an_unknown_component_is_rejected(self, key: object) -> None:
        with pytest.raises(AssessmentError) as info:
            assess(3, {key: 70, PRACTICAL: 70})  # type: ignore[dict-item]
        assert info.value.code == "unknown_component"


class TestRequirePass:
    def test_returns_quietly_when_the_candidate_passed(self) -> None:
        assert require_pass(2, {THEORY: 60, PRACTICAL: 75, REVIEW: 88}) is None

    def test_missing_results_are_reported_before_failures(self) -> None:
        with pytest.raises(AssessmentError) as info:
            require_pass(1, {THEORY: 10})
        assert info.value.code == "missing_component"
        assert info.value.errors == {"missing": ["practical", "review"]}
        assert "技能操作考核、综合评审" in info.value.message_zh

    def test_failed_components_are_listed(self) -> None:
        with pytest.raises(AssessmentError) as info:
            require_pass(3, {THEORY: 59.5, PRACTICAL: 40})
        assert info.value.code == "assessment_failed"
        assert info.value.errors == {"failed": ["theory", "practical"]}
        assert "理论知识考试、技能操作考核" in info.value.message_zh
