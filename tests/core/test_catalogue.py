"""Specification of the reference data: provinces, the five levels, the 2022 occupational
classification, and the levels and work types known per occupation."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuer.core.catalogue import (
    ALL_LEVELS,
    LEVELS,
    default_catalogue,
    level,
    pack_occupation_code,
    parse_level,
    unpack_occupation_code,
)
from issuer.core.errors import CatalogueError, ReferenceDataError

CATALOGUE = default_catalogue()
ELECTRICIAN = "6-31-01-03"
HOUSEKEEPING = "4-10-01-06"  # 家政服务员: standard, levels 5-2


def level_rows() -> list[dict[str, str]]:
    text = resources.files("issuer.core").joinpath("data", "occupation-levels.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


class TestProvinces:
    def test_31_provinces_and_the_xinjiang_corps_are_loaded(self) -> None:
        assert len(CATALOGUE.provinces) == 32
        assert "66" in CATALOGUE.provinces

    @pytest.mark.parametrize(
        ("code", "name"), [("11", "北京市"), ("23", "黑龙江省"), ("62", "甘肃省"), ("66", "新疆生产建设兵团")]
    )
    def test_a_province_is_found_by_its_gb_t_2260_prefix(self, code: str, name: str) -> None:
        assert CATALOGUE.province(code).name == name

    @pytest.mark.parametrize("code", ["71", "81", "82", "00", "1", "110000"])
    def test_codes_outside_the_list_are_unknown(self, code: str) -> None:
        with pytest.raises(CatalogueError) as info:
            CATALOGUE.province(code)
        assert info.value.code == "unknown_province"


class TestOccupations:
    def test_1632_distinct_occupations_are_loaded(self) -> None:
        assert len(CATALOGUE.occupations) == 1632

    def test_rows_repeated_in_the_source_are_read_once(self) -> None:
        assert CATALOGUE.occupation("4-12-04-02").name == "修鞋工"
        assert CATALOGUE.occupation("6-20-05-03").name == "压缩机装配调试工"

    @pytest.mark.parametrize(
        ("code", "name"),
        [(ELECTRICIAN, "电工"), ("6-18-02-04", "焊工"), ("4-04-05-05", "人工智能训练师"), ("4-10-01-03", "保育师")],
    )
    def test_an_occupation_is_found_by_its_2022_code(self, code: str, name: str) -> None:
        occupation = CATALOGUE.occupation(code)
        assert occupation.name == name
        assert occupation.edition == 2022

    def test_a_code_that_moved_between_editions_is_read_as_the_2022_edition(self) -> None:
        # 消防设施操作员 was 4-07-05-04 in 2015; in 2022 that code is another occupation.
        assert CATALOGUE.occupation("4-07-05-03").name == "消防设施操作员"
        assert CATALOGUE.occupation("4-07-05-04").name == "安全防范系统安装维护员"

    def test_marks_are_kept(self) -> None:
        assert CATALOGUE.occupation("4-04-05-05").marks == "S"
        assert CATALOGUE.occupation(ELECTRICIAN).marks == ""

    def test_an_occupation_is_found_by_its_name(self) -> None:
        assert CATALOGUE.find_occupation_by_name(" 电工 ").code == ELECTRICIAN

    def test_an_unknown_name_is_rejected(self) -> None:
        with pytest.raises(CatalogueError) as info:
            CATALOGUE.find_occupation_by_name("保育员")  # renamed 保育师 in 2022
        assert info.value.code == "unknown_occupation"

    @pytest.mark.parametrize("code", ["4-07-05-99", "9-99-99-99", "6310103", ""])
    def test_an_unknown_code_is_rejected(self, code: str) -> None:
        with pytest.raises(CatalogueError) as info:
            CATALOGUE.occupation(code)
        assert info.value.code == "unknown_occupation"
        assert "2022" in info.value.message_zh


class TestPackedOccupationCodes:
    def test_packs_the_digits_into_one_integer(self) -> None:
        assert pack_occupation_code(ELECTRICIAN) == 6310103

    def test_unpacks_back_to_the_dashed_form(self) -> None:
        assert unpack_occupation_code(6310103) == ELECTRICIAN

    def test_every_catalogue_code_round_trips(self) -> None:
        for code in CATALOGUE.occupations:
            assert unpack_occupation_code(pack_occupation_code(code)) == code

    def test_distinct_catalogue_codes_pack_to_distinct_integers(self) -> None:
        packed = {pack_occupation_code(code) for code in CATALOGUE.occupations}
        assert len(packed) == len(CATALOGUE.occupations)

    @given(
        st.integers(1, 8),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
    )
    def test_any_well_formed_code_round_trips(self, a: int, b: int, c: int, d: int) -> None:
        code = f"{a}-{b:02d}-{c:02d}-{d:02d}"
        assert unpack_occupation_code(pack_occupation_code(code)) == code

    @pytest.mark.parametrize(
        "code",
        [
            "6-31-1-03",
            "63101-03",
            "0-31-01-03",
            "9-31-01-03",
            "6-31-01-03\n",
            " 6-31-01-03",
            "6-31-01-0٣",
            "6－31－01－03",
            "",
            None,
            6310103,
        ],
    )
    def test_a_malformed_code_is_rejected(self, code: object) -> None:
        with pytest.raises(CatalogueError) as info:
            pack_occupation_code(code)  # type: ignore[arg-type]
        assert info.value.code == "invalid_occupation_code"

    @pytest.mark.parametrize("value", [0, 999_999, 9_000_000, 63_101_030, -6310103, "6310103", 6310103.0])
    def test_an_out_of_range_packed_code_is_rejected(self, value: object) -> None:
        with pytest.raises(CatalogueError) as info:
            unpack_occupation_code(value)  # type: ignore[arg-type]
        assert info.value.code == "invalid_occupation_code"


class TestLevels:
    def test_there_are_five_levels(self) -> None:
        assert sorted(LEVELS) == [1, 2, 3, 4, 5]
        assert frozenset(range(1, 6)) == ALL_LEVELS

    @pytest.mark.parametrize(
        ("code", "label"),
        [(5, "五级/初级工"), (4, "四级/中级工"), (3, "三级/高级工"), (2, "二级/技师"), (1, "一级/高级技师")],
    )
    def test_levels_are_labelled_as_printed_on_a_certificate(self, code: int, label: str) -> None:
        assert level(code).label_zh == label

    def test_english_label(self) -> None:
        assert level(3).label_en == "Level 3 / Senior Worker"

    @pytest.mark.parametrize("code", [0, 6, -3, True, 3.0, "3", None])
    def test_anything_but_an_int_from_1_to_5_is_not_a_level(self, code: object) -> None:
        with pytest.raises(CatalogueError) as info:
            level(code)  # type: ignore[arg-type]
        assert info.value.code == "unknown_level"


class TestParseLevel:
    @pytest.mark.parametrize("text", [3, "3", "三级", "高级工", "三级/高级工", " 三级/高级工 "])
    def test_accepts_the_code_grade_title_or_label(self, text: str | int) -> None:
        assert parse_level(text) == level(3)

    @pytest.mark.parametrize("code", [1, 2, 3, 4, 5])
    def test_every_form_of_every_level_is_accepted(self, code: int) -> None:
        lv = level(code)
        forms = [code, str(code), lv.grade_zh, lv.title_zh, lv.label_zh]
        assert {parse_level(f) for f in forms} == {lv}

    @pytest.mark.parametrize(
        "text",
        ["0", "6", "三", "五级/高级工", "高级", "Level 3", "", "３", 0, 6, True, None, 3.0],
    )
    def test_rejects_anything_else(self, text: object) -> None:
        with pytest.raises(CatalogueError) as info:
            parse_level(text)  # type: ignore[arg-type]
        assert info.value.code == "unknown_level"


class TestLevelsPerOccupation:
    def test_an_occupation_with_a_national_standard_admits_only_its_levels(self) -> None:
        housekeeping = CATALOGUE.occupation(HOUSEKEEPING)
        assert housekeeping.name == "家政服务员"
        assert housekeeping.levels == frozenset({5, 4, 3, 2})
        assert housekeeping.levels_confirmed

    def test_an_older_standard_also_restricts_levels(self) -> None:
        assert CATALOGUE.occupation("4-14-02-02").levels == frozenset({3, 2, 1})

    def test_work_types_parse_with_their_level_ranges(self) -> None:
        housekeeping = CATALOGUE.occupation(HOUSEKEEPING)
        assert [w.name for w in housekeeping.work_types] == ["家务服务员", "母婴护理员", "家庭照护员"]
        assert housekeeping.work_type("家务服务员").levels == frozenset({5, 4, 3})  # type: ignore[union-attr]

    def test_a_note_in_the_work_type_column_is_not_a_work_type(self) -> None:
        assert CATALOGUE.occupation(HOUSEKEEPING).work_type("二级/技师不分工种") is None

    def test_welder_work_types_each_have_their_own_range(self) -> None:
        welder = CATALOGUE.occupation("6-18-02-04")
        ranges = {w.name: w.levels for w in welder.work_types}
        assert ranges == {
            "电焊工": frozenset({1, 2, 3, 4, 5}),
            "气焊工": frozenset({3, 4, 5}),
            "钎焊工": frozenset({2, 3, 4, 5}),
            "焊接设备操作工": frozenset({1, 2, 3, 4, 5}),
        }

    def test_a_work_type_without_a_range_admits_the_occupations_levels(self) -> None:
        trainer = CATALOGUE.occupation("4-04-05-05")
        assert trainer.work_type("数据标注员").levels == trainer.levels  # type: ignore[union-attr]

    def test_an_unknown_work_type_is_none(self) -> None:
        assert CATALOGUE.occupation(HOUSEKEEPING).work_type("育婴员") is None

    def test_levels_only_observed_are_a_lower_bound_and_admit_all_five(self) -> None:
        nursery = CATALOGUE.occupation("4-10-01-03")  # observed 5 4 3
        assert nursery.levels == ALL_LEVELS
        assert not nursery.levels_confirmed

    def test_an_occupation_absent_from_the_levels_table_admits_all_five(self) -> None:
        shoemaker = CATALOGUE.occupation("4-12-04-02")
        assert shoemaker.levels == ALL_LEVELS
        assert not shoemaker.levels_confirmed
        assert shoemaker.work_types == ()

    def test_only_rows_backed_by_a_national_standard_restrict_levels(self) -> None:
        for row in level_rows():
            occupation = CATALOGUE.occupation(row["code"])
            assert occupation.name == row["name"]
            listed = frozenset(int(x) for x in row["levels"].split())
            if row["evidence"].startswith("standard"):
                assert (occupation.levels, occupation.levels_confirmed) == (listed, True), row
            else:
                assert (occupation.levels, occupation.levels_confirmed) == (ALL_LEVELS, False), row


class TestWithLevels:
    def test_returns_a_catalogue_in_which_the_occupation_admits_exactly_the_given_levels(
        self,
    ) -> None:
        configured = CATALOGUE.with_levels(ELECTRICIAN, [5, 4, 3])
        assert configured.occupation(ELECTRICIAN).levels == frozenset({5, 4, 3})
        assert configured.occupation(ELECTRICIAN).levels_confirmed

    def test_leaves_the_original_catalogue_unchanged(self) -> None:
        CATALOGUE.with_levels(ELECTRICIAN, [3])
        assert CATALOGUE.occupation(ELECTRICIAN).levels == ALL_LEVELS
        assert default_catalogue().occupation(ELECTRICIAN).levels == ALL_LEVELS

    def test_keeps_every_other_occupation_and_the_provinces(self) -> None:
        configured = CATALOGUE.with_levels(ELECTRICIAN, [3])
        assert configured is not CATALOGUE
        assert configured.provinces == CATALOGUE.provinces
        assert {c: o for c, o in configured.occupations.items() if c != ELECTRICIAN} == {
            c: o for c, o in CATALOGUE.occupations.items() if c != ELECTRICIAN
        }

    def test_keeps_the_occupations_name_and_work_types(self) -> None:
        configured = CATALOGUE.with_levels(HOUSEKEEPING, [5, 4])
        occupation = configured.occupation(HOUSEKEEPING)
        assert occupation.name == "家政服务员"
        assert occupation.work_types == CATALOGUE.occupation(HOUSEKEEPING).work_types

    def test_rejects_an_unknown_occupation(self) -> None:
        with pytest.raises(CatalogueError):
            CATALOGUE.with_levels("9-99-99-99", [3])

    def test_rejects_an_invalid_level(self) -> None:
        with pytest.raises(CatalogueError):
            CATALOGUE.with_levels(ELECTRICIAN, [3, 6])


WELDER = "6-18-02-04"


def levels_error(text: str) -> ReferenceDataError:
    with pytest.raises(ReferenceDataError) as info:
        CATALOGUE.with_occupation_levels(text)
    return info.value


class TestOperatorLevels:
    """An operator's table of levels per occupation (the packaged table's form)."""

    def test_a_row_replaces_the_occupations_levels_and_work_types(self) -> None:
        configured = CATALOGUE.with_occupation_levels(f"code,levels,work_types\n{WELDER},5 4 3,电焊工(5-4);气焊工\n")
        welder = configured.occupation(WELDER)
        assert (welder.levels, welder.levels_confirmed) == (frozenset({5, 4, 3}), True)
        assert {w.name: w.levels for w in welder.work_types} == {"电焊工": {5, 4}, "气焊工": {5, 4, 3}}
        assert configured.occupation(HOUSEKEEPING) == CATALOGUE.occupation(HOUSEKEEPING)
        assert CATALOGUE.occupation(WELDER).levels == ALL_LEVELS  # the packaged catalogue is unchanged

    def test_an_occupation_absent_from_the_packaged_table_can_be_given_levels(self) -> None:
        configured = CATALOGUE.with_occupation_levels("code,name,levels\n4-12-04-02,,4 3\n")
        assert configured.occupation("4-12-04-02").levels == frozenset({4, 3})

    def test_evidence_of_a_lower_bound_admits_all_five_levels_as_in_the_packaged_table(self) -> None:
        text = f"code,levels,evidence\n{ELECTRICIAN},5 4,observed(lower bound)\n"
        electrician = CATALOGUE.with_occupation_levels(text).occupation(ELECTRICIAN)
        assert (electrician.levels, electrician.levels_confirmed) == (ALL_LEVELS, False)

    def test_a_copy_of_the_packaged_table_changes_nothing(self) -> None:
        text = resources.files("issuer.core").joinpath("data", "occupation-levels.csv").read_text("utf-8")
        assert CATALOGUE.with_occupation_levels(text).occupations == CATALOGUE.occupations

    def test_the_edition_table_and_the_licensing_occupations_still_apply(self) -> None:
        configured = CATALOGUE.with_occupation_levels(f"code,levels\n{WELDER},5 4 3\n")
        assert configured.current("4-07-05-04", 2015).code == "4-07-05-03"
        assert (configured.licensed, configured.changes) == (CATALOGUE.licensed, CATALOGUE.changes)

    def test_blank_lines_and_a_header_alone_are_no_rows(self) -> None:
        assert CATALOGUE.with_occupation_levels("code,levels\n\n").occupations == CATALOGUE.occupations

    @pytest.mark.parametrize(
        ("text", "line", "problem"),
        [
            ("", 1, "no header line"),
            ("code,level\n", 1, "unknown column 'level'"),
            ("code,name\n", 1, "no 'levels' column"),
            ("code,levels,levels\n", 1, "a column is repeated"),
            ("code,levels\n6-31-01-03,5 4\n9-99-99-99,3\n", 3, "'9-99-99-99' is not in the classification"),
            ("code,name,levels\n6-31-01-03,焊工,3\n", 2, "6-31-01-03 is 电工, not 焊工"),
            ("code,levels\n6-31-01-03,\n", 2, "levels is empty"),
            ("code,levels\n6-31-01-03,6 5\n", 2, "levels '6 5': each level once, 1 to 5"),
            ("code,levels\n6-31-01-03,3 3\n", 2, "each level once"),
            ("code,levels\n6-31-01-03,5\n\n6-31-01-03,4\n", 4, "already configured on line 2"),
            (
                "code,levels,work_types\n6-18-02-04,5 4 3,电焊工(5-1)\n",
                2,
                "电焊工(5-1): levels outside the occupation's (5 4 3)",
            ),
            ("code,levels,work_types\n6-18-02-04,5 4,电焊工(5-x)\n", 2, "a name, or a name and its levels"),
            ("code,levels,work_types\n6-18-02-04,5 4,电焊工;电焊工\n", 2, "work type 电焊工 is repeated"),
            ("code,levels\n6-31-01-03,5,4\n", 2, "3 cells for 2 columns"),
            ("levels,code\n5 4\n", 2, "occupation '' is not in the classification"),
        ],
    )
    def test_a_bad_table_is_refused_naming_its_line_and_the_problem(self, text: str, line: int, problem: str) -> None:
        error = levels_error(text)
        assert error.line == line and problem in error.problem, error


class TestSearch:
    def test_a_code_or_its_beginning_with_or_without_dashes_and_full_width(self) -> None:
        assert [o.code for o in CATALOGUE.search("6-31-01-03")] == [ELECTRICIAN]
        assert [o.code for o in CATALOGUE.search("６３１０１０３")] == [ELECTRICIAN]
        assert {o.code for o in CATALOGUE.search("6-18-02", limit=50)} >= {"6-18-02-04"}
        assert all(o.code.startswith("6-18-02") for o in CATALOGUE.search("61802", limit=50))

    def test_part_of_a_name_the_whole_name_first(self) -> None:
        found = CATALOGUE.search("电工", limit=50)
        assert found[0].code == ELECTRICIAN and all("电工" in o.name for o in found)

    def test_licensing_occupations_are_left_out_unless_asked_for(self) -> None:
        assert CATALOGUE.search("4-07-05-03") == []
        assert [o.name for o in CATALOGUE.search("4-07-05-03", issuable_only=False)] == ["消防设施操作员"]

    @pytest.mark.parametrize("text", ["", "   ", "　", "没有这样的职业"])
    def test_blank_or_unknown_finds_nothing(self, text: str) -> None:
        assert CATALOGUE.search(text) == []

    def test_at_most_the_limit(self) -> None:
        assert len(CATALOGUE.search("工", limit=7)) == 7
