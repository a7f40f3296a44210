"""Specification of certificate numbers (人社鉴发〔2019〕2号) and the older numbers a
verifier meets.

A current number: kind(1) authority(4) province(2) site(6) year(2) level(1) serial(6).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core.catalogue import Catalogue, Province, default_catalogue
from issuer.core.errors import NumberError
from issuer.core.numbering import CertificateNumber, OrganizationCode, explain_number
from issuer.core.typed import normalize_code

VALID = "Y000123000001263000001"
"""Y · 0001 · 23 (黑龙江) · 000001 · 26 · 3 · 000001"""
ORG = "Y000123000001"
PROVINCES = sorted(default_catalogue().provinces)


def with_char(text: str, position: int, char: str) -> str:
    """``text`` with the character at 1-based ``position`` replaced."""
    return text[: position - 1] + char + text[position:]


def with_part(text: str, position: int, part: str) -> str:
    return text[: position - 1] + part + text[position - 1 + len(part) :]


def parse_error(text: str) -> NumberError:
    with pytest.raises(NumberError) as info:
        CertificateNumber.parse(text)
    return info.value


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


class TestParsingAValidNumber:
    def test_splits_the_number_into_its_seven_parts(self) -> None:
        number = CertificateNumber.parse(VALID)
        assert number.org == OrganizationCode("Y", "0001", "23", "000001")
        assert (number.year, number.level, number.serial) == (26, 3, 1)

    def test_full_year_is_in_the_two_thousands(self) -> None:
        assert CertificateNumber.parse(VALID).full_year == 2026

    def test_formats_back_to_the_same_text(self) -> None:
        assert str(CertificateNumber.parse(VALID)) == VALID

    def test_accepts_a_social_training_organization(self) -> None:
        assert CertificateNumber.parse("S" + VALID[1:]).org.kind == "S"

    def test_accepts_authority_code_0000_for_organizations_registered_with_a_province(
        self,
    ) -> None:
        number = CertificateNumber.parse(with_part(VALID, 2, "0000"))
        assert number.org.describe()["registered_first_with"] == "province"

    def test_an_authority_code_other_than_0000_means_registered_with_the_ministry(self) -> None:
        assert CertificateNumber.parse(VALID).org.describe()["registered_first_with"] == "ministry"

    def test_accepts_serial_999999(self) -> None:
        assert CertificateNumber.parse(with_part(VALID, 17, "999999")).serial == 999_999

    def test_accepts_year_19_the_first_year_of_the_rule(self) -> None:
        assert CertificateNumber.parse(with_part(VALID, 14, "19")).full_year == 2019

    def test_accepts_year_99(self) -> None:
        assert CertificateNumber.parse(with_part(VALID, 14, "99")).full_year == 2099

    @pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
    def test_accepts_every_level_code(self, level: int) -> None:
        assert CertificateNumber.parse(with_char(VALID, 16, str(level))).level == level

    def test_accepts_xinjiang_production_and_construction_corps_66_as_configured(self) -> None:
        assert CertificateNumber.parse(with_part(VALID, 6, "66")).org.province == "66"


class TestNormalizationOfTypedNumbers:
    def test_full_width_digits_and_letters(self) -> None:
        assert str(CertificateNumber.parse(full_width(VALID))) == VALID

    def test_lower_case_kind_letter(self) -> None:
        assert str(CertificateNumber.parse(VALID.lower())) == VALID

    def test_surrounding_ascii_spaces(self) -> None:
        assert str(CertificateNumber.parse(f"  {VALID} \n")) == VALID

    def test_surrounding_ideographic_spaces(self) -> None:
        assert str(CertificateNumber.parse(f"\u3000{VALID}\u3000")) == VALID

    def test_an_inner_space_is_rejected_at_its_position(self) -> None:
        error = parse_error(VALID[:13] + " " + VALID[13:])
        assert error.position == 14


class TestEveryPositionIsCheckedAndNamed:
    """Each error names the 1-based position and what was expected, in both languages."""

    @pytest.mark.parametrize(
        ("position", "bad", "expected_en", "expected_zh"),
        [
            (1, "X", "Y (employer) or S (social organization)", "Y（用人单位）或S（社会培训评价组织）"),
            (2, "A", "a digit (organization code)", "数字（机构代码）"),
            (3, "A", "a digit (organization code)", "数字（机构代码）"),
            (4, "A", "a digit (organization code)", "数字（机构代码）"),
            (5, "A", "a digit (organization code)", "数字（机构代码）"),
            (6, "A", "a digit (province code)", "数字（省份代码）"),
            (7, "A", "a digit (province code)", "数字（省份代码）"),
            (8, "A", "a digit (site sequence code)", "数字（站点序列码）"),
            (9, "A", "a digit (site sequence code)", "数字（站点序列码）"),
            (10, "A", "a digit (site sequence code)", "数字（站点序列码）"),
            (11, "A", "a digit (site sequence code)", "数字（站点序列码）"),
            (12, "A", "a digit (site sequence code)", "数字（站点序列码）"),
            (13, "A", "a digit (site sequence code)", "数字（站点序列码）"),
            (14, "A", "a digit (year)", "数字（年份）"),
            (15, "A", "a digit (year)", "数字（年份）"),
            (16, "A", "a digit (level code 1-5)", "数字（等级代码1至5）"),
            (17, "A", "a digit (serial)", "数字（流水号）"),
            (18, "A", "a digit (serial)", "数字（流水号）"),
            (19, "A", "a digit (serial)", "数字（流水号）"),
            (20, "A", "a digit (serial)", "数字（流水号）"),
            (21, "A", "a digit (serial)", "数字（流水号）"),
            (22, "A", "a digit (serial)", "数字（流水号）"),
        ],
    )
    def test_a_wrong_character_is_reported_with_its_position_and_expectation(
        self, position: int, bad: str, expected_en: str, expected_zh: str
    ) -> None:
        error = parse_error(with_char(VALID, position, bad))
        assert error.position == position
        assert error.errors == {"position": position}
        assert error.code == "invalid_number"
        assert f"position {position}: expected {expected_en}" in error.message
        assert f"第{position}位：应为{expected_zh}" in error.message_zh
        assert bad in error.message and bad in error.message_zh

    def test_the_first_wrong_position_is_reported(self) -> None:
        assert parse_error(with_char(with_char(VALID, 20, "A"), 9, "B")).position == 9

    @pytest.mark.parametrize("look_alike", ["②", "²", "₂", "٢", "𝟐", "Ⅱ"])
    def test_digit_look_alikes_are_rejected_not_guessed(self, look_alike: str) -> None:
        error = parse_error(with_char(VALID, 18, look_alike))
        assert error.position == 18
        assert "digit or letter" in error.message
        assert "数字或字母" in error.message_zh

    @pytest.mark.parametrize("look_alike", ["ſ", "Ｓ\u0301", "Ｙ\u200b"])
    def test_letter_look_alikes_for_the_kind_are_rejected(self, look_alike: str) -> None:
        with pytest.raises(NumberError):
            CertificateNumber.parse(look_alike + VALID[1:])

    def test_an_s_with_a_combining_mark_is_rejected_at_position_2(self) -> None:
        assert parse_error("S\u0301" + VALID[1:]).position == 2

    @pytest.mark.parametrize("province", ["00", "10", "20", "24", "67", "71", "81", "99"])
    def test_a_province_not_in_gb_t_2260_is_rejected_at_position_6(self, province: str) -> None:
        error = parse_error(with_part(VALID, 6, province))
        assert error.position == 6
        assert "GB/T 2260 province code" in error.message
        assert "GB/T 2260 省份代码" in error.message_zh

    def test_the_province_must_be_in_the_given_catalogue(self) -> None:
        beijing_only = Catalogue({"11": Province("11", "北京市")}, {})
        assert CertificateNumber.parse(with_part(VALID, 6, "11"), beijing_only).org.province == "11"
        with pytest.raises(NumberError) as info:
            CertificateNumber.parse(VALID, beijing_only)
        assert info.value.position == 6

    @pytest.mark.parametrize("year", ["00", "17", "18"])
    def test_a_year_before_2019_is_rejected_at_position_14(self, year: str) -> None:
        error = parse_error(with_part(VALID, 14, year))
        assert error.position == 14
        assert "a year from 2019 on" in error.message
        assert "2019年及以后的年份" in error.message_zh

    @pytest.mark.parametrize("level", ["0", "6", "7", "9"])
    def test_a_level_code_outside_1_to_5_is_rejected_at_position_16(self, level: str) -> None:
        error = parse_error(with_char(VALID, 16, level))
        assert error.position == 16
        assert "a level code from 1 to 5" in error.message
        assert "1至5的等级代码" in error.message_zh

    def test_serial_000000_is_rejected_at_position_17(self) -> None:
        error = parse_error(with_part(VALID, 17, "000000"))
        assert error.position == 17
        assert "000001 to 999999" in error.message
        assert "000001至999999" in error.message_zh


class TestLength:
    @pytest.mark.parametrize("text", [VALID[:-1], VALID + "1", ORG, ""])
    def test_a_number_that_is_not_22_characters_long_is_rejected_with_its_length(self, text: str) -> None:
        error = parse_error(text)
        assert error.position is None
        assert f"22 characters, got {len(text)}" in error.message
        assert f"证书编号应为22位，实为{len(text)}位" in error.message_zh


class TestOrganizationCode:
    def test_parses_the_first_13_characters(self) -> None:
        assert OrganizationCode.parse(ORG) == OrganizationCode("Y", "0001", "23", "000001")

    def test_formats_back_to_the_same_text(self) -> None:
        assert str(OrganizationCode.parse(ORG)) == ORG

    def test_normalizes_typed_input(self) -> None:
        assert str(OrganizationCode.parse(f"\u3000{full_width(ORG.lower())} ")) == ORG

    def test_rejects_a_full_certificate_number(self) -> None:
        with pytest.raises(NumberError) as info:
            OrganizationCode.parse(VALID)
        assert "13 characters, got 22" in info.value.message
        assert "机构代码应为13位，实为22位" in info.value.message_zh

    def test_rejects_an_unknown_province_at_position_6(self) -> None:
        with pytest.raises(NumberError) as info:
            OrganizationCode.parse(with_part(ORG, 6, "99"))
        assert info.value.position == 6

    def test_describes_kind_and_province_in_chinese_and_english(self) -> None:
        described = OrganizationCode.parse(ORG).describe()
        assert described["org_kind_zh"] == "用人单位"
        assert described["org_kind_en"] == "employer"
        assert described["province_name"] == "黑龙江省"
        assert described["site_code"] == "000001"

    @pytest.mark.parametrize(
        ("fields", "position"),
        [
            (("X", "0001", "23", "000001"), 1),
            (("Y", "001", "23", "000001"), 2),
            (("Y", "00A1", "23", "000001"), 4),
            (("Y", "0001", "2", "000001"), 6),
            (("Y", "0001", "23", "00000１"), 13),
            (("Y", "0001", "23", "0000001"), 8),
        ],
    )
    def test_building_one_from_malformed_parts_is_rejected_with_a_position(
        self, fields: tuple[str, str, str, str], position: int
    ) -> None:
        with pytest.raises(NumberError) as info:
            OrganizationCode(*fields)
        assert info.value.position == position


class TestBuildingANumberFromParts:
    ORG_CODE = OrganizationCode("Y", "0001", "23", "000001")

    def test_pads_year_and_serial_with_zeros(self) -> None:
        number = CertificateNumber(OrganizationCode("S", "0000", "62", "000123"), 19, 5, 42)
        assert str(number) == "S000062000123195000042"

    @pytest.mark.parametrize(
        ("year", "level", "serial", "position"),
        [
            (18, 3, 1, 14),
            (100, 3, 1, 14),
            (26, 0, 1, 16),
            (26, 6, 1, 16),
            (26, True, 1, 16),
            (26, 3.0, 1, 16),
            (26, 3, 0, 17),
            (26, 3, 1_000_000, 17),
            (26, 3, True, 17),
        ],
    )
    def test_an_invalid_part_is_rejected_with_its_position(
        self, year: int, level: int, serial: int, position: int
    ) -> None:
        with pytest.raises(NumberError) as info:
            CertificateNumber(self.ORG_CODE, year, level, serial)
        assert info.value.position == position

    def test_the_organization_must_be_an_organization_code(self) -> None:
        with pytest.raises(TypeError):
            CertificateNumber(ORG, 26, 3, 1)  # type: ignore[arg-type]


class TestDescribe:
    def test_describes_a_current_number(self) -> None:
        described = CertificateNumber.parse(VALID).describe()
        assert described["kind"] == "skill-level-2019"
        assert described["legacy"] is False
        assert described["number"] == VALID
        assert described["org_code"] == ORG
        assert described["province_name"] == "黑龙江省"
        assert described["year"] == 2026
        assert described["level"] == 3
        assert described["level_label_zh"] == "三级/高级工"
        assert described["level_label_en"] == "Level 3 / Senior Worker"
        assert described["serial"] == 1


class TestExplainNumber:
    QUALIFICATION = "1811022012300007"
    """18 · 11 · 02 · 2 (地方鉴定站) · 012 · 3 · 00007"""
    SHANGHAI = "1234567890123"

    def test_a_current_number_is_parsed_strictly(self) -> None:
        assert explain_number(VALID) == CertificateNumber.parse(VALID).describe()
        with pytest.raises(NumberError) as info:
            explain_number(with_char(VALID, 16, "6"))
        assert info.value.position == 16

    def test_a_16_digit_qualification_certificate_is_explained_as_legacy(self) -> None:
        explained = explain_number(self.QUALIFICATION)
        assert explained["kind"] == "qualification-16"
        assert explained["legacy"] is True
        assert explained["year"] == 2018
        assert (explained["region_code"], explained["city_code"]) == ("11", "02")
        assert explained["institution_type_zh"] == "地方鉴定站"
        assert explained["institution_serial"] == "012"
        assert explained["level"] == 3
        assert explained["level_label_zh"] == "三级/高级工"
        assert explained["serial"] == 7

    def test_a_qualification_certificate_from_the_nineties_is_dated_19xx(self) -> None:
        assert explain_number("99" + self.QUALIFICATION[2:])["year"] == 1999

    def test_a_16_digit_number_with_institution_type_above_4_is_rejected_at_position_7(
        self,
    ) -> None:
        with pytest.raises(NumberError) as info:
            explain_number(with_char(self.QUALIFICATION, 7, "5"))
        assert info.value.position == 7

    def test_a_16_digit_number_with_level_0_is_rejected_at_position_11(self) -> None:
        with pytest.raises(NumberError) as info:
            explain_number(with_char(self.QUALIFICATION, 11, "0"))
        assert info.value.position == 11

    def test_a_13_digit_shanghai_number_is_explained_with_its_padded_lookup_form(self) -> None:
        explained = explain_number(self.SHANGHAI)
        assert explained["kind"] == "shanghai-13"
        assert explained["legacy"] is True
        assert explained["national_lookup_number"] == "000" + self.SHANGHAI

    def test_a_shanghai_number_padded_for_the_national_lookup_is_recognised(self) -> None:
        # As a 16-digit number it would have institution type 4 and level 8: not valid.
        explained = explain_number("000" + self.SHANGHAI)
        assert explained["kind"] == "shanghai-13"
        assert explained["number"] == self.SHANGHAI

    def test_legacy_numbers_are_normalized_like_current_ones(self) -> None:
        assert explain_number(f"\u3000{full_width(self.SHANGHAI)} ")["number"] == self.SHANGHAI

    def test_a_special_grade_technician_number_is_recognised_without_detail(self) -> None:
        explained = explain_number("TJ" + "0" * 19 + "1")
        assert explained["kind"] == "special-grade"
        assert explained["legacy"] is False

    def test_a_letter_that_upper_cases_to_two_letters_does_not_make_up_the_length(self) -> None:
        # "ß".upper() is "SS": 21 typed characters must not become a 22-character number.
        with pytest.raises(NumberError):
            explain_number("ß" + "0" * 20)

    @pytest.mark.parametrize("text", ["", "12345", "123456789012", "12345678901234", "12345678901234567"])
    def test_other_lengths_are_not_certificate_numbers(self, text: str) -> None:
        with pytest.raises(NumberError) as info:
            explain_number(text)
        assert f"got {len(text)}" in info.value.message
        assert f"实为{len(text)}位" in info.value.message_zh

    def test_a_16_character_number_with_a_letter_is_not_a_legacy_number(self) -> None:
        with pytest.raises(NumberError):
            explain_number("A" + self.QUALIFICATION[1:])


# --- properties -------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def digit_string(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=length, max_size=length)


parts = st.fixed_dictionaries(
    {
        "kind": st.sampled_from("YS"),
        "authority": digit_string(4),
        "province": st.sampled_from(PROVINCES),
        "site": digit_string(6),
        "year": st.integers(19, 99),
        "level": st.integers(1, 5),
        "serial": st.integers(1, 999_999),
    }
)


def formatted(p: dict[str, object]) -> str:
    return f"{p['kind']}{p['authority']}{p['province']}{p['site']}{p['year']:02d}{p['level']}{p['serial']:06d}"


class TestProperties:
    @given(parts)
    def test_formatted_valid_parts_parse_back_to_the_same_parts(self, p: dict[str, object]) -> None:
        number = CertificateNumber.parse(formatted(p))
        assert (number.org.kind, number.org.authority, number.org.province, number.org.site) == (
            p["kind"],
            p["authority"],
            p["province"],
            p["site"],
        )
        assert (number.year, number.level, number.serial) == (p["year"], p["level"], p["serial"])

    @given(parts)
    def test_parse_of_str_is_the_identity(self, p: dict[str, object]) -> None:
        org = OrganizationCode(p["kind"], p["authority"], p["province"], p["site"])  # type: ignore[arg-type]
        number = CertificateNumber(org, p["year"], p["level"], p["serial"])  # type: ignore[arg-type]
        assert CertificateNumber.parse(str(number)) == number
        assert len(str(number)) == 22

    @given(parts, st.booleans(), st.booleans(), st.sampled_from(["", " ", "\u3000", "\t"]))
    def test_typed_variants_parse_to_the_same_number(
        self, p: dict[str, object], wide: bool, lower: bool, pad: str
    ) -> None:
        text = formatted(p)
        typed = full_width(text) if wide else text
        typed = typed.lower() if lower else typed
        assert str(CertificateNumber.parse(pad + typed + pad)) == text

    @given(
        parts,
        st.integers(2, 22),
        st.characters().filter(lambda c: not c.isspace() and not ("0" <= normalize_code(c) <= "9")),
    )
    def test_a_non_digit_in_a_digit_position_is_reported_at_that_position(
        self, p: dict[str, object], position: int, char: str
    ) -> None:
        error = parse_error(with_char(formatted(p), position, char))
        assert error.position == position
        assert f"position {position}:" in error.message
        assert f"第{position}位" in error.message_zh

    @given(st.lists(parts, min_size=2, max_size=6))
    def test_numbers_sort_in_the_order_of_their_text(self, many: list[dict[str, object]]) -> None:
        numbers = [CertificateNumber.parse(formatted(p)) for p in many]
        assert [str(n) for n in sorted(numbers)] == sorted(str(n) for n in numbers)


near_number_text = st.text(alphabet="YSys0123456789０１２３Ｙｙ②²٣ſß -\u3000\u00a0\t", min_size=0, max_size=26)


class TestRobustnessAgainstArbitraryText:
    @settings(max_examples=300)
    @given(st.one_of(st.text(), near_number_text))
    def test_parse_either_succeeds_or_raises_number_error(self, text: str) -> None:
        try:
            number = CertificateNumber.parse(text)
        except NumberError:
            return
        assert str(number) == normalize_code(text)

    @settings(max_examples=300)
    @given(st.one_of(st.text(), near_number_text))
    def test_explain_either_succeeds_or_raises_number_error(self, text: str) -> None:
        try:
            explained = explain_number(text)
        except NumberError:
            return
        assert explained["number"] in normalize_code(text)

    @given(st.one_of(st.text(), near_number_text))
    def test_organization_code_parse_either_succeeds_or_raises_number_error(self, text: str) -> None:
        try:
            org = OrganizationCode.parse(text)
        except NumberError:
            return
        assert str(org) == normalize_code(text)

    @given(parts, st.integers(1, 22), st.characters())
    def test_any_one_character_change_parses_or_raises_number_error(
        self, p: dict[str, object], position: int, char: str
    ) -> None:
        text = with_char(formatted(p), position, char)
        try:
            number = CertificateNumber.parse(text)
        except NumberError:
            return
        assert str(number) == normalize_code(text)
