"""Specification of the assessment rule (认定): the methods (考试考核, 工作业绩评审, 过程考核,
竞赛选拔) as configuration, the components of each per level, the pass mark, the window
within which components passed at different sittings combine, and the competition rules."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuer.core import credential
from issuer.core.assessment import (
    DEFAULT_CODE,
    Methods,
    Outcome,
    Passed,
    Placing,
    Result,
    add_months,
    assess,
    default_methods,
    grant,
    judge,
    require_pass,
    required_components,
)
from issuer.core.errors import AssessmentError, CatalogueError

THEORY, PRACTICAL, REVIEW = "theory", "practical", "review"
METHODS = default_methods()
EXAM = METHODS.get("exam")
PERFORMANCE = METHODS.get("performance_review")
PROCESS = METHODS.get("process_assessment")
COMPETITION = METHODS.get("competition")
ISSUED = date(2026, 11, 29)


def refused(code: str, call: object, *args: object, **kwargs: object) -> AssessmentError:
    with pytest.raises(AssessmentError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code, info.value.to_dict()
    return info.value


class TestConfiguration:
    def test_four_methods_with_their_published_codes(self) -> None:
        assert [(m.key, m.code, m.name_zh) for m in METHODS] == [
            ("exam", 1, "考试考核"),
            ("performance_review", 2, "工作业绩评审"),
            ("process_assessment", 3, "过程考核"),
            ("competition", 4, "竞赛选拔"),
        ]

    def test_the_default_is_the_method_a_credential_leaves_unsaid(self) -> None:
        assert METHODS.default is EXAM and EXAM.code == DEFAULT_CODE == credential.DEFAULT_METHOD

    def test_every_method_and_tier_says_whether_it_is_policy_or_assumption(self) -> None:
        text = resources.files("issuer.core").joinpath("data", "assessment-methods.json").read_text("utf-8")
        doc = json.loads(text)
        assert "assumption" in doc["combine_basis"] and doc["combine_within_months"] == 24
        for method in doc["methods"]:
            assert method["basis"] in ("policy", "assumption") and method["source"]
            for tier in method.get("tiers", ()):
                assert tier["basis"] and tier["source"]

    @pytest.mark.parametrize("name", ["competition", "4", "竞赛选拔", " competition "])
    def test_a_method_is_found_by_key_code_or_chinese_name(self, name: str) -> None:
        assert METHODS.get(name) is COMPETITION

    @pytest.mark.parametrize("name", [None, "", "  "])
    def test_no_method_is_the_default(self, name: str | None) -> None:
        assert METHODS.get(name) is EXAM

    def test_an_unknown_method_is_refused_naming_the_known_ones(self) -> None:
        error = refused("unknown_method", METHODS.get, "口试")
        assert "口试" in error.message_zh and "竞赛选拔" in error.message_zh and "competition" in error.message
        assert error.errors == {"field": "method"}

    def test_configuration_that_could_not_be_published_is_refused(self) -> None:
        two_defaults = {
            "methods": [
                {"key": "a", "code": 1, "name_zh": "甲", "name_en": "a", "components": []},
            ]
        }
        with pytest.raises(ValueError):
            Methods.from_json(json.dumps(two_defaults))
        component = {"key": "x", "name_zh": "甲", "name_en": "x", "levels": [5]}
        same_code = {
            "methods": [
                {"key": "a", "code": 1, "name_zh": "甲", "name_en": "a", "components": [component]},
                {"key": "b", "code": 1, "name_zh": "乙", "name_en": "b", "components": [component]},
            ]
        }
        with pytest.raises(ValueError):
            Methods.from_json(json.dumps(same_code))
        too_big = {"methods": [{"key": "a", "code": 24, "name_zh": "甲", "name_en": "a", "components": [component]}]}
        with pytest.raises(ValueError):
            Methods.from_json(json.dumps(too_big))


class TestRequiredComponents:
    @pytest.mark.parametrize("level", [5, 4, 3])
    def test_levels_5_to_3_need_theory_and_practical(self, level: int) -> None:
        assert required_components(level) == (THEORY, PRACTICAL)

    @pytest.mark.parametrize("level", [2, 1])
    def test_levels_2_and_1_also_need_a_comprehensive_review(self, level: int) -> None:
        assert required_components(level) == (THEORY, PRACTICAL, REVIEW)

    @pytest.mark.parametrize(
        ("method", "low", "high"),
        [
            ("performance_review", ("performance",), ("performance", "review")),
            ("process_assessment", ("process",), ("process", "review")),
            ("competition", ("competition",), ("competition",)),
        ],
    )
    def test_each_method_has_its_own_components(self, method: str, low: tuple[str], high: tuple[str]) -> None:
        assert required_components(4, method=METHODS.get(method)) == low
        assert required_components(1, method=METHODS.get(method)) == high

    @pytest.mark.parametrize("level", [0, 6, -1, True])
    def test_an_unknown_level_is_rejected(self, level: int) -> None:
        with pytest.raises(CatalogueError):
            required_components(level)

    def test_components_have_chinese_names(self) -> None:
        assert [c.name_zh for c in EXAM.components] == ["理论知识考试", "技能操作考核", "综合评审"]


class TestPassing:
    def test_passes_when_every_required_component_reaches_60(self) -> None:
        assert assess(3, {THEORY: 60, PRACTICAL: 60}) == Outcome(True, (), ())

    def test_passes_with_full_marks_at_level_1(self) -> None:
        assert assess(1, {THEORY: 100, PRACTICAL: 100, REVIEW: 100}).passed

    def test_59_5_does_not_round_up_to_a_pass(self) -> None:
        outcome = assess(3, {THEORY: 59.5, PRACTICAL: 90})
        assert not outcome.passed
        assert outcome.failed == (THEORY,)

    @pytest.mark.parametrize("method", ["exam", "performance_review", "process_assessment"])
    def test_59_99_fails_and_60_passes_in_every_scored_method(self, method: str) -> None:
        m = METHODS.get(method)
        first = m.required(3)[0].key
        other = {c.key: 90 for c in m.required(3)[1:]}
        assert assess(3, {first: Decimal("59.99"), **other}, method=m).failed == (first,)
        assert assess(3, {first: 60, **other}, method=m).passed

    @pytest.mark.parametrize("sixty", [60, 60.0, Decimal("60"), Decimal("60.00")])
    def test_60_in_any_numeric_type_passes(self, sixty: int | float | Decimal) -> None:
        assert assess(5, {THEORY: sixty, PRACTICAL: sixty}).passed

    def test_zero_is_a_valid_failing_score(self) -> None:
        assert assess(5, {THEORY: 0, PRACTICAL: 0}).failed == (THEORY, PRACTICAL)

    def test_a_failed_review_fails_level_2(self) -> None:
        outcome = assess(2, {THEORY: 90, PRACTICAL: 90, REVIEW: 59})
        assert not outcome.passed
        assert outcome.failed == (REVIEW,)

    def test_a_result_with_its_date_counts_as_its_score(self) -> None:
        assert assess(3, {THEORY: Result(60, date(2026, 1, 1)), PRACTICAL: Result(Decimal("59.99"))}).failed == (
            PRACTICAL,
        )

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
        assert assess(3, {THEORY: 70, PRACTICAL: None}).missing == (PRACTICAL,)

    def test_a_date_without_a_score_counts_as_missing(self) -> None:
        assert assess(3, {THEORY: 70, PRACTICAL: Result(None, date(2026, 1, 1))}).missing == (PRACTICAL,)

    def test_missing_and_failed_are_reported_together(self) -> None:
        outcome = assess(2, {THEORY: 30, PRACTICAL: 90})
        assert (outcome.failed, outcome.missing) == ((THEORY,), (REVIEW,))


class TestInvalidScores:
    @pytest.mark.parametrize(
        "score",
        [-1, -0.01, 100.01, 101, Decimal("100.5"), 1e9],
    )
    def test_a_score_outside_0_to_100_is_rejected(self, score: int | float | Decimal) -> None:
        error = refused("invalid_score", assess, 3, {THEORY: score, PRACTICAL: 70})
        assert "between 0 and 100" in error.message
        assert "理论知识考试成绩应在0至100之间" in error.message_zh

    @pytest.mark.parametrize(
        "score",
        [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")],
    )
    def test_a_score_that_is_not_finite_is_rejected(self, score: float | Decimal) -> None:
        refused("invalid_score", assess, 3, {THEORY: 70, PRACTICAL: score})

    @pytest.mark.parametrize(
        "score", [99.001, Decimal("80.001"), Decimal("59.995"), 89.99999999, 90.00000000000001, Decimal("1E-3")]
    )
    def test_a_score_with_more_than_two_decimals_is_refused_not_rounded(self, score: float | Decimal) -> None:
        error = refused("invalid_score", assess, 3, {THEORY: score, PRACTICAL: 70})
        assert "more than two decimals" in error.message
        assert "最多保留两位小数" in error.message_zh

    @pytest.mark.parametrize("score", [89.99, 60.07, Decimal("80.10"), Decimal("80.100"), 59.5])
    def test_the_binary_float_of_a_two_decimal_score_is_that_score(self, score: float | Decimal) -> None:
        assert assess(3, {THEORY: score, PRACTICAL: 70}).passed == (score >= 60)

    @pytest.mark.parametrize("score", [True, False, "80", b"80", [80], object()])
    def test_a_score_that_is_not_a_number_is_rejected(self, score: object) -> None:
        error = refused("invalid_score", assess, 3, {THEORY: score, PRACTICAL: 70})
        assert "must be a number" in error.message


class TestComponents:
    @pytest.mark.parametrize("level", [5, 4, 3])
    def test_a_review_score_for_levels_5_to_3_is_rejected(self, level: int) -> None:
        error = refused("unexpected_component", assess, level, {THEORY: 70, PRACTICAL: 70, REVIEW: 70})
        assert "综合评审" in error.message_zh

    def test_a_component_of_another_method_is_rejected(self) -> None:
        error = refused("unknown_component", assess, 3, {"performance": 80, PRACTICAL: 70})
        assert error.errors["component"] == "performance" and "考试考核" in error.message_zh
        refused("unknown_component", assess, 3, {THEORY: 80}, method=PERFORMANCE)

    @pytest.mark.parametrize("key", ["oral", "THEORY", 1, None])
    def test_an_unknown_component_is_rejected(self, key: object) -> None:
        refused("unknown_component", assess, 3, {key: 70, PRACTICAL: 70})


class TestRequirePass:
    def test_returns_quietly_when_the_candidate_passed(self) -> None:
        assert require_pass(2, {THEORY: 60, PRACTICAL: 75, REVIEW: 88}) is None

    def test_missing_results_are_reported_before_failures(self) -> None:
        error = refused("missing_component", require_pass, 1, {THEORY: 10})
        assert error.errors == {"missing": ["practical", "review"]}
        assert "技能操作考核、综合评审" in error.message_zh

    def test_failed_components_are_listed(self) -> None:
        error = refused("assessment_failed", require_pass, 3, {THEORY: 59.5, PRACTICAL: 40})
        assert error.errors == {"failed": ["theory", "practical"]}
        assert "理论知识考试、技能操作考核" in error.message_zh and "60" in error.message_zh


class TestSittings:
    """Components passed at different sittings combine when the latest was passed at most
    24 calendar months after the earliest; none may be passed after the issue date."""

    def test_dates_left_out_are_the_issue_date(self) -> None:
        found = judge(3, {THEORY: 80, PRACTICAL: 70}, issued_on=ISSUED)
        assert found.results == (
            Passed(THEORY, ISSUED, Decimal("80.00")),
            Passed(PRACTICAL, ISSUED, Decimal("70.00")),
        )
        assert found.method is EXAM and found.level == 3

    def test_a_retaken_component_combines_with_one_passed_24_months_before(self) -> None:
        found = judge(
            3, {THEORY: Result(80, date(2024, 11, 29)), PRACTICAL: Result(70, date(2026, 11, 29))}, issued_on=ISSUED
        )
        assert [r.passed_on for r in found.results] == [date(2024, 11, 29), date(2026, 11, 29)]

    def test_one_day_more_is_too_far_apart(self) -> None:
        error = refused(
            "results_too_far_apart",
            judge,
            3,
            {THEORY: Result(80, date(2024, 11, 28)), PRACTICAL: 70},
            issued_on=ISSUED,
        )
        assert error.errors == {"component": THEORY, "part": "date", "components": [THEORY, PRACTICAL]}
        assert "理论知识考试（2024-11-28通过）与技能操作考核（2026-11-29通过）相隔超过2年" in error.message_zh
        assert "more than 2 years apart" in error.message

    def test_the_window_is_between_components_whatever_their_order(self) -> None:
        judge(
            2,
            {THEORY: 80, PRACTICAL: Result(70, date(2025, 1, 1)), REVIEW: Result(90, date(2026, 6, 1))},
            issued_on=ISSUED,
        )
        refused(
            "results_too_far_apart",
            judge,
            2,
            {THEORY: Result(80, date(2026, 11, 1)), PRACTICAL: Result(70, date(2024, 10, 31)), REVIEW: 90},
            issued_on=ISSUED,
        )

    def test_29_february_plus_24_months_is_28_february(self) -> None:
        assert add_months(date(2024, 2, 29), 24) == date(2026, 2, 28)
        assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
        assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)
        early = {THEORY: Result(80, date(2024, 2, 29))}
        judge(3, {**early, PRACTICAL: Result(70, date(2026, 2, 28))}, issued_on=date(2026, 3, 1))
        refused(
            "results_too_far_apart",
            judge,
            3,
            {**early, PRACTICAL: Result(70, date(2026, 3, 1))},
            issued_on=date(2026, 3, 1),
        )

    def test_a_component_cannot_be_passed_after_the_issue_date(self) -> None:
        error = refused(
            "result_after_issue_date",
            judge,
            3,
            {THEORY: 80, PRACTICAL: Result(70, date(2026, 11, 30))},
            issued_on=ISSUED,
        )
        assert error.errors == {"component": PRACTICAL, "part": "date"}
        assert "技能操作考核的通过日期2026-11-30晚于发证日期2026-11-29" in error.message_zh

    def test_a_failed_score_is_refused_before_its_date_is_judged(self) -> None:
        refused("assessment_failed", judge, 3, {THEORY: Result(59, date(2020, 1, 1)), PRACTICAL: 70}, issued_on=ISSUED)

    def test_the_window_is_configuration(self) -> None:
        text = resources.files("issuer.core").joinpath("data", "assessment-methods.json").read_text("utf-8")
        doc = json.loads(text)
        doc["combine_within_months"] = 12
        strict = Methods.from_json(json.dumps(doc)).default
        results = {THEORY: Result(80, date(2025, 11, 28)), PRACTICAL: 70}
        refused("results_too_far_apart", judge, 3, results, issued_on=ISSUED, method=strict)
        judge(3, results, issued_on=ISSUED)
        assert strict.window_zh == "1年"


class TestOtherMethods:
    def test_a_performance_review_passes_at_60(self) -> None:
        found = judge(4, {"performance": 60}, issued_on=ISSUED, method=PERFORMANCE)
        assert found.results == (Passed("performance", ISSUED, Decimal("60.00")),)
        error = refused(
            "assessment_failed", judge, 4, {"performance": Decimal("59.99")}, issued_on=ISSUED, method=PERFORMANCE
        )
        assert "工作业绩评审" in error.message_zh

    def test_a_process_assessment_at_level_2_needs_the_review_too(self) -> None:
        refused("missing_component", judge, 2, {"process": 80}, issued_on=ISSUED, method=PROCESS)
        assert judge(2, {"process": 80, REVIEW: 75}, issued_on=ISSUED, method=PROCESS).score(REVIEW) == Decimal(75)

    def test_a_competition_result_is_not_part_of_a_scored_method(self) -> None:
        refused(
            "unexpected_component",
            judge,
            3,
            {THEORY: 80, PRACTICAL: 80},
            issued_on=ISSUED,
            placing=Placing("provincial_1", 1),
        )


class TestCompetition:
    """竞赛选拔: a tier's rule grants one level for a rank (first five of a national class I
    competition: 技师, or 高级技师 for one who holds 技师)."""

    @pytest.mark.parametrize(
        ("tier", "rank", "held", "level"),
        [
            ("national_1", 1, None, 2),
            ("national_1", 5, 3, 2),
            ("national_1", 5, 2, 1),
            ("provincial_1", 10, None, 2),
            ("provincial_1", 3, 2, 1),
            ("provincial_2", 6, None, 3),
            ("provincial_2", 6, 4, 3),
            ("provincial_2", 1, 3, 2),
        ],
    )
    def test_the_tier_rule_grants_the_level(self, tier: str, rank: int, held: int | None, level: int) -> None:
        assert grant(COMPETITION, Placing(tier, rank, held)) == level
        found = judge(level, {}, issued_on=ISSUED, method=COMPETITION, placing=Placing(tier, rank, held))
        assert found.results == (Passed("competition", ISSUED, None, Placing(tier, rank, held)),)
        assert found.placing == Placing(tier, rank, held)

    @pytest.mark.parametrize(("tier", "rank"), [("national_1", 6), ("provincial_1", 11), ("provincial_2", 7)])
    def test_one_place_below_the_last_promoted_earns_nothing(self, tier: str, rank: int) -> None:
        error = refused("competition_not_placed", grant, COMPETITION, Placing(tier, rank))
        assert f"第{rank}名不符合晋升条件（前{rank - 1}名可晋升）" in error.message_zh

    def test_one_who_holds_the_highest_level_the_rule_grants_is_not_promoted(self) -> None:
        error = refused("competition_no_promotion", grant, COMPETITION, Placing("provincial_1", 1, 1))
        assert "已持有一级/高级技师" in error.message_zh
        refused("competition_no_promotion", grant, COMPETITION, Placing("provincial_2", 1, 2))

    def test_the_certificate_is_for_exactly_the_level_granted(self) -> None:
        error = refused(
            "competition_level_mismatch",
            judge,
            3,
            {},
            issued_on=ISSUED,
            method=COMPETITION,
            placing=Placing("national_1", 2),
        )
        assert error.errors == {"field": "level", "level": 2}
        assert "国家级一类竞赛第2名可晋升二级/技师，不是三级/高级工" in error.message_zh

    def test_the_result_is_required_and_dated_like_any_component(self) -> None:
        refused("missing_component", judge, 2, {}, issued_on=ISSUED, method=COMPETITION)
        late = Placing("national_1", 1, None, date(2026, 11, 30))
        refused("result_after_issue_date", judge, 2, {}, issued_on=ISSUED, method=COMPETITION, placing=late)
        dated = Placing("national_1", 1, None, date(2026, 10, 1))
        assert judge(2, {}, issued_on=ISSUED, method=COMPETITION, placing=dated).results[0].passed_on == date(
            2026, 10, 1
        )

    @pytest.mark.parametrize(
        ("placing", "code"),
        [
            (Placing("world", 1), "unknown_competition_tier"),
            (Placing("national_1", 0), "invalid_rank"),
            (Placing("national_1", True), "invalid_rank"),
            (Placing("national_1", 1, 6), "invalid_held_level"),
        ],
    )
    def test_a_result_that_is_not_one_is_refused(self, placing: Placing, code: str) -> None:
        refused(code, grant, COMPETITION, placing)

    def test_scores_are_not_part_of_a_competition(self) -> None:
        refused("unknown_component", judge, 2, {THEORY: 90}, issued_on=ISSUED, method=COMPETITION)

    def test_the_stored_form_reads_back(self) -> None:
        found = judge(2, {}, issued_on=ISSUED, method=COMPETITION, placing=Placing("national_1", 4, 3))
        stored = [r.to_json() for r in found.results]
        assert stored == [
            {
                "component": "competition",
                "score": None,
                "passed_on": "2026-11-29",
                "tier": "national_1",
                "rank": 4,
                "held_level": 3,
            }
        ]
        assert [Passed.from_json(r) for r in stored] == [
            Passed("competition", ISSUED, None, Placing("national_1", 4, 3))
        ]
        exam = judge(3, {THEORY: 82, PRACTICAL: Decimal("75.5")}, issued_on=ISSUED)
        assert [Passed.from_json(r.to_json()) for r in exam.results] == list(exam.results)
        assert exam.results[1].to_json()["score"] == "75.50"
