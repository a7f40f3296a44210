"""Specification of identity documents: 居民身份证 numbers (GB 11643-1999), masking for
display, the salted commitment a credential carries, and configured document types."""

from __future__ import annotations

import json
import string
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core.catalogue import default_catalogue
from issuer.core.errors import IdentityError, ReferenceDataError
from issuer.core.identity import (
    COMMITMENT_BYTES,
    SALT_BYTES,
    DocumentType,
    DocumentTypes,
    age_on,
    birth_date,
    check_character,
    commit,
    convert_first_generation,
    default_document_types,
    mask,
    matches,
    normalize_document_number,
    parse_resident_id,
    require_min_age,
    validate_document,
)

VALID = "11010519491231002X"
TODAY = date(2026, 1, 1)
PROVINCES = sorted(default_catalogue().provinces)
NOT_PROVINCES = sorted({f"{i:02d}" for i in range(100)} - set(PROVINCES))
TYPES = default_document_types()
RESIDENT_ID, RESIDENCE_PERMIT, PERMANENT_ID = (TYPES.get(k) for k in (1, 4, 5))
SALT = bytes(range(SALT_BYTES))
OTHER_SALT = bytes(range(1, SALT_BYTES + 1))


def reference_check(first17: str) -> str:
    """ISO 7064 MOD 11-2 as GB 11643 states it: (12 − S mod 11) mod 11, 10 written X."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    value = (12 - sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


def resident_id(address: str, born: date, sequence: str) -> str:
    first17 = f"{address}{born:%Y%m%d}{sequence}"
    return first17 + reference_check(first17)


def id_error(text: str, today: date = TODAY) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        parse_resident_id(text, today=today)
    return info.value


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


class TestCheckCharacter:
    def test_the_documented_example_has_check_character_x(self) -> None:
        assert check_character(VALID[:17]) == "X"

    @pytest.mark.parametrize(
        ("first17", "check"),
        [("11010519491231002", "X"), ("44052418800101001", "4"), ("00000000000000000", "1")],
    )
    def test_known_values(self, first17: str, check: str) -> None:
        assert check_character(first17) == check

    @given(st.text(alphabet=string.digits, min_size=17, max_size=17))
    def test_agrees_with_iso_7064_mod_11_2(self, first17: str) -> None:
        assert check_character(first17) == reference_check(first17)


class TestParseResidentId:
    def test_the_documented_example_passes(self) -> None:
        parsed = parse_resident_id(VALID, today=TODAY)
        assert parsed.number == VALID
        assert parsed.address_code == "110105"
        assert parsed.birth_date == date(1949, 12, 31)
        assert parsed.sequence == "002"

    def test_an_even_sequence_code_is_female(self) -> None:
        assert parse_resident_id(VALID, today=TODAY).sex == "F"

    def test_an_odd_sequence_code_is_male(self) -> None:
        number = resident_id("110105", date(1990, 3, 7), "013")
        assert parse_resident_id(number, today=TODAY).sex == "M"

    def test_a_lower_case_x_is_accepted_and_upper_cased(self) -> None:
        assert parse_resident_id(VALID.lower(), today=TODAY).number == VALID

    def test_full_width_digits_spaces_and_hyphens_are_accepted(self) -> None:
        typed = f"\u3000{full_width('110105')} 19491231-002ｘ "
        assert parse_resident_id(typed, today=TODAY).number == VALID

    def test_a_wrong_check_character_is_rejected_asking_to_check_every_digit_not_the_last(self) -> None:
        error = id_error(VALID[:17] + "1")
        assert error.code == "invalid_id_checksum"
        assert "逐位核对" in error.message_zh and "勿只改最后一位" in error.message_zh
        assert "compare every character" in error.message
        assert "X" not in error.message_zh + error.message, "the right check character is not given away"

    @pytest.mark.parametrize("text", [VALID[:17], VALID + "1", "X" + VALID[1:], "1101051949123100XX", ""])
    def test_a_number_not_shaped_as_17_digits_and_a_check_character_is_rejected(self, text: str) -> None:
        assert id_error(text).code == "invalid_id_format"

    @pytest.mark.parametrize("look_alike", ["٠", "𝟎", "０\u0301", "⓪"])
    def test_digits_of_other_scripts_are_rejected(self, look_alike: str) -> None:
        # Arabic-Indic or mathematical digits are decimal digits to Python's \d and int().
        text = VALID.replace("0", look_alike)
        assert id_error(text).code == "invalid_id_format"

    @pytest.mark.parametrize("birth", ["19490230", "19491301", "19490100", "19000229", "20250229"])
    def test_an_impossible_birth_date_is_rejected(self, birth: str) -> None:
        first17 = "110105" + birth + "002"
        error = id_error(first17 + reference_check(first17))
        assert error.code == "invalid_id_birth_date"
        assert birth in error.message and birth in error.message_zh

    def test_a_leap_day_birth_date_is_accepted(self) -> None:
        number = resident_id("110105", date(2000, 2, 29), "002")
        assert parse_resident_id(number, today=TODAY).birth_date == date(2000, 2, 29)

    def test_a_birth_date_after_today_is_rejected(self) -> None:
        number = resident_id("110105", TODAY + timedelta(days=1), "002")
        assert id_error(number, today=TODAY).code == "invalid_id_birth_date"

    def test_the_future_is_judged_by_the_today_argument(self) -> None:
        number = resident_id("110105", TODAY + timedelta(days=1), "002")
        assert parse_resident_id(number, today=TODAY + timedelta(days=1)).number == number

    def test_a_birth_date_of_today_is_accepted(self) -> None:
        number = resident_id("110105", TODAY, "002")
        assert parse_resident_id(number, today=TODAY).birth_date == TODAY

    def test_a_birth_date_before_1900_is_rejected(self) -> None:
        number = resident_id("110105", date(1899, 12, 31), "002")
        assert id_error(number).code == "invalid_id_birth_date"


addresses = st.builds(str.__add__, st.sampled_from(PROVINCES), st.text(alphabet=string.digits, min_size=4, max_size=4))
"""Address codes whose first two digits are a province's."""
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.text(alphabet=string.digits, min_size=3, max_size=3)
valid_ids = st.builds(resident_id, addresses, births, sequences)


class TestResidentIdProperties:
    @given(addresses, births, sequences)
    def test_appending_the_computed_check_character_gives_a_valid_number(
        self, address: str, born: date, sequence: str
    ) -> None:
        first17 = f"{address}{born:%Y%m%d}{sequence}"
        number = first17 + check_character(first17)
        assert parse_resident_id(number, today=TODAY).number == number

    @given(valid_ids, st.integers(0, 16), st.sampled_from(string.digits))
    def test_changing_any_one_of_the_17_digits_makes_the_number_fail(self, number: str, index: int, digit: str) -> None:
        changed = number[:index] + digit + number[index + 1 :]
        if changed != number:
            with pytest.raises(IdentityError):
                parse_resident_id(changed, today=TODAY)

    @given(valid_ids, st.sampled_from(string.digits + "X"))
    def test_changing_the_check_character_makes_the_number_fail(self, number: str, check: str) -> None:
        if check != number[-1]:
            assert id_error(number[:17] + check).code == "invalid_id_checksum"


def id_rejection(doc_type: DocumentType, text: str, today: date = TODAY) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        validate_document(doc_type, text, today=today)
    return info.value


def check_rejection(doc_type: DocumentType, text: str, on: date = TODAY, min_age: int = 0) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        TYPES.check(doc_type, text, on=on, min_age=min_age)
    return info.value


class TestProvince:
    @pytest.mark.parametrize("province", PROVINCES)
    def test_every_province_of_the_table_begins_a_valid_number(self, province: str) -> None:
        number = resident_id(f"{province}0102", date(1990, 3, 7), "013")
        assert parse_resident_id(number, today=TODAY).address_code == f"{province}0102"

    @pytest.mark.parametrize("first_two", ["00", "99", "20", "71", "81", "82", "83", "91"])
    def test_two_digits_that_are_no_province_are_refused_naming_them(self, first_two: str) -> None:
        error = id_error(resident_id(f"{first_two}0105", date(1990, 3, 7), "013"))
        assert error.code == "invalid_id_province"
        assert f"“{first_two}”不是" in error.message_zh and "省级行政区划代码" in error.message_zh
        assert f"{first_two} is not one" in error.message and "province code" in error.message

    @given(st.sampled_from(NOT_PROVINCES), st.text(alphabet=string.digits, min_size=4, max_size=4), births, sequences)
    def test_no_number_outside_the_province_table_passes(
        self, first_two: str, rest: str, born: date, sequence: str
    ) -> None:
        assert id_error(resident_id(first_two + rest, born, sequence)).code == "invalid_id_province"


fifteen_digit_ids = st.builds(
    lambda address, born, sequence: f"{address}{born:%y%m%d}{sequence}",
    addresses,
    st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequences,
)


class TestFirstGeneration:
    def test_conversion_inserts_19_before_the_birth_year_and_appends_the_check_character(self) -> None:
        assert convert_first_generation("110105491231002") == VALID

    @pytest.mark.parametrize("text", ["11010549123100", "1101054912310021", "11010549123100X", "١١٠١٠٥٤٩١٢٣١٠٠٢"])
    def test_only_15_ascii_digits_convert(self, text: str) -> None:
        with pytest.raises(ValueError):
            convert_first_generation(text)

    def test_a_15_digit_number_is_refused_with_the_rule_and_its_conversion(self) -> None:
        error = id_error("110105491231002")
        assert error.code == "invalid_id_first_generation"
        assert "第一代居民身份证" in error.message_zh and "插入“19”" in error.message_zh
        assert "GB 11643" in error.message_zh and f"换算结果为{VALID}" in error.message_zh
        assert "first-generation" in error.message and "insert 19 before the two-digit birth year" in error.message
        assert f"converted: {VALID}" in error.message
        assert error.errors == {"converted": VALID}

    def test_not_17_digits_and_a_check_character_is_no_longer_the_message(self) -> None:
        assert "17位数字" not in id_error("110105491231002").message_zh

    @pytest.mark.parametrize("text", ["000105491231002", "110105490231002"], ids=["province", "date"])
    def test_no_conversion_is_offered_when_it_would_not_be_a_valid_number(self, text: str) -> None:
        error = id_error(text)
        assert error.code == "invalid_id_first_generation"
        assert error.errors == {} and "换算结果" not in error.message_zh and "converted" not in error.message

    @given(fifteen_digit_ids)
    def test_the_conversion_of_a_valid_15_digit_number_is_a_valid_18_digit_number(self, old: str) -> None:
        converted = convert_first_generation(old)
        parsed = parse_resident_id(converted, today=TODAY)
        assert parsed.birth_date.strftime("%y%m%d") == old[6:12] and parsed.birth_date.year < 2000
        assert (parsed.address_code, parsed.sequence) == (old[:6], old[12:])
        assert id_error(old).errors == {"converted": converted}

    @given(fifteen_digit_ids)
    def test_a_15_digit_number_is_never_accepted(self, old: str) -> None:
        assert check_rejection(RESIDENT_ID, old).code == "invalid_id_first_generation"

    def test_a_residence_permit_has_no_first_generation(self) -> None:
        assert id_rejection(RESIDENCE_PERMIT, "810000491231002").code == "invalid_id_format"


def permit(region: str, born: date = date(1990, 3, 7), sequence: str = "013") -> str:
    return resident_id(region, born, sequence)


class TestResidencePermit:
    @pytest.mark.parametrize("region", ["810000", "820000", "830000"])
    def test_numbers_of_hong_kong_macao_and_taiwan_residents_pass(self, region: str) -> None:
        assert TYPES.check(RESIDENCE_PERMIT, permit(region), on=TODAY) == permit(region)

    def test_a_resident_id_number_is_not_one_and_the_message_names_the_rule(self) -> None:
        error = id_rejection(RESIDENCE_PERMIT, VALID)
        assert error.code == "invalid_id_address"
        assert error.message_zh == "港澳台居民居住证号码应以810000、820000或830000开头，实为110105"
        assert error.message.endswith("begins with 810000, 820000 or 830000, not 110105")

    def test_given_as_a_residence_permit_a_resident_id_number_points_to_the_resident_id(self) -> None:
        error = check_rejection(RESIDENCE_PERMIT, VALID)
        assert error.code == "wrong_document_type"
        assert "应以810000、820000或830000开头" in error.message_zh
        assert "该号码像是居民身份证号码，证件类型请选择“居民身份证”" in error.message_zh
        assert "choose the document type Resident Identity Card" in error.message
        assert error.errors == {"suggested_document_type": "居民身份证", "problem": "invalid_id_address"}

    @pytest.mark.parametrize("region", ["810000", "820000", "830000"])
    def test_given_as_a_resident_id_a_residence_permit_number_points_to_the_residence_permit(self, region: str) -> None:
        error = check_rejection(RESIDENT_ID, permit(region))
        assert error.code == "wrong_document_type"
        assert f"“{region[:2]}”不是" in error.message_zh
        assert "证件类型请选择“港澳台居民居住证”" in error.message_zh
        assert "choose the document type Residence Permit for Hong Kong, Macao and Taiwan Residents" in error.message

    def test_an_810001_number_is_neither(self) -> None:
        assert check_rejection(RESIDENCE_PERMIT, permit("810001")).code == "invalid_id_address"
        assert check_rejection(RESIDENT_ID, permit("810001")).code == "invalid_id_province"

    def test_its_birth_date_and_check_character_are_checked_as_gb_11643_says(self) -> None:
        assert id_rejection(RESIDENCE_PERMIT, permit("810000")[:17] + "X").code in (
            "invalid_id_checksum",
            "invalid_id_format",
        )
        bad_date = "82000019900230013"
        assert id_rejection(RESIDENCE_PERMIT, bad_date + check_character(bad_date)).code == "invalid_id_birth_date"

    @given(st.sampled_from(["810000", "820000", "830000"]), births, sequences)
    def test_every_valid_residence_permit_number_passes(self, region: str, born: date, sequence: str) -> None:
        number = permit(region, born, sequence)
        assert validate_document(RESIDENCE_PERMIT, number.lower(), today=TODAY) == number
        assert birth_date(RESIDENCE_PERMIT, number) == born


def permanent_id(
    province: str = "11", nationality: str = "840", born: date = date(1990, 3, 7), seq: str = "013"
) -> str:
    first17 = f"9{province}{nationality}{born:%Y%m%d}{seq}"
    return first17 + reference_check(first17)


class TestForeignPermanentId:
    def test_a_2023_card_number_passes_and_carries_the_birth_date(self) -> None:
        number = permanent_id()
        assert number[:6] == "911840" and number[6:14] == "19900307" and number[14:17] == "013"
        assert validate_document(PERMANENT_ID, number, today=TODAY) == number
        assert birth_date(PERMANENT_ID, number) == date(1990, 3, 7)

    def test_a_2023_card_number_has_the_gb_11643_check_character(self) -> None:
        number = permanent_id()
        wrong = number[:17] + ("0" if number[17] != "0" else "1")
        error = id_rejection(PERMANENT_ID, wrong)
        assert error.code == "invalid_id_checksum"
        assert "第18位校验码与前17位不符" in error.message_zh and "18th character" in error.message

    @pytest.mark.parametrize("province", ["00", "99", "81"])
    def test_characters_2_and_3_are_the_province_where_it_was_applied_for(self, province: str) -> None:
        error = id_rejection(PERMANENT_ID, permanent_id(province=province))
        assert error.code == "invalid_id_province"
        assert "受理地省级行政区划代码" in error.message_zh and f"“{province}”不是" in error.message_zh
        assert "province where it was applied for" in error.message

    def test_its_birth_date_must_be_real_and_not_in_the_future(self) -> None:
        bad = "91184019900230013"
        assert id_rejection(PERMANENT_ID, bad + reference_check(bad)).code == "invalid_id_birth_date"
        future = permanent_id(born=TODAY + timedelta(days=1))
        assert id_rejection(PERMANENT_ID, future).code == "invalid_id_birth_date"

    @pytest.mark.parametrize("text", ["91184019900307013", "9118401990030701XX", "9A1840199003070130"])
    def test_a_number_beginning_with_9_gets_the_2023_cards_message(self, text: str) -> None:
        error = id_rejection(PERMANENT_ID, text)
        assert error.code == "invalid_id_format"
        assert error.message_zh == "2023年版外国人永久居留身份证号码应为18位：以9开头的17位数字加1位数字或X"
        assert "of the 2023 card has 18 characters" in error.message

    @pytest.mark.parametrize("text", ["USA123456789012", "usa123456789012", "GBR 000000 000000"])
    def test_a_number_of_the_earlier_cards_passes_by_its_shape(self, text: str) -> None:
        number = validate_document(PERMANENT_ID, text, today=TODAY)
        assert number == normalize_document_number(text) and birth_date(PERMANENT_ID, number) is None

    @pytest.mark.parametrize("text", ["USA12345678901", "USA1234567890123", "USA12345678901X", "USAB23456789012"])
    def test_a_number_beginning_with_3_letters_gets_the_earlier_cards_message(self, text: str) -> None:
        error = id_rejection(PERMANENT_ID, text)
        assert error.code == "invalid_id_format"
        assert error.message_zh == "2023年以前版本的外国人永久居留身份证号码应为15位：3位拉丁字母（国籍）加12位数字"
        assert "of the cards before 2023 has 15 characters" in error.message

    @pytest.mark.parametrize("text", [VALID, "E12345678", "12345"])
    def test_anything_else_gets_a_message_naming_both_shapes(self, text: str) -> None:
        error = id_rejection(PERMANENT_ID, text)
        assert error.code == "invalid_id_format"
        assert "以9开头的18位（2023年版）" in error.message_zh and "3位拉丁字母加12位数字的15位" in error.message_zh
        assert "beginning with 9 (the 2023 card)" in error.message and "3 letters and 12 digits" in error.message

    def test_given_as_a_resident_id_either_shape_points_to_the_permanent_residence_card(self) -> None:
        for number in (permanent_id(), "USA123456789012"):
            error = check_rejection(RESIDENT_ID, number)
            assert error.code == "wrong_document_type"
            assert "证件类型请选择“外国人永久居留身份证”" in error.message_zh
            assert "choose the document type Foreign Permanent Resident ID Card" in error.message

    def test_given_as_a_permanent_residence_card_a_resident_id_points_to_the_resident_id(self) -> None:
        error = check_rejection(PERMANENT_ID, VALID)
        assert error.code == "wrong_document_type" and error.errors["suggested_document_type"] == "居民身份证"

    @given(
        st.sampled_from(PROVINCES),
        st.text(alphabet=string.digits, min_size=3, max_size=3),
        births,
        sequences,
    )
    def test_every_valid_2023_card_number_passes(self, province: str, nationality: str, born: date, seq: str) -> None:
        number = permanent_id(province, nationality, born, seq)
        assert validate_document(PERMANENT_ID, number, today=TODAY) == number

    @given(
        st.builds(permanent_id, st.sampled_from(PROVINCES), st.just("840"), births, sequences),
        st.integers(1, 16),
        st.sampled_from(string.digits),
    )
    def test_changing_any_one_digit_after_the_9_makes_a_2023_number_fail(
        self, number: str, index: int, digit: str
    ) -> None:
        changed = number[:index] + digit + number[index + 1 :]
        if changed != number:
            with pytest.raises(IdentityError):
                validate_document(PERMANENT_ID, changed, today=TODAY)


class TestWrongDocumentType:
    def test_a_number_of_its_own_shape_is_refused_for_what_is_wrong_with_it(self) -> None:
        assert check_rejection(RESIDENT_ID, VALID[:17] + "1").code == "invalid_id_checksum"

    def test_a_number_no_rule_recognizes_is_refused_for_its_shape(self) -> None:
        assert check_rejection(RESIDENT_ID, "E12345678").code == "invalid_id_format"

    def test_a_pattern_type_is_never_suggested(self) -> None:
        # 护照's pattern admits a resident ID number, and this one is not valid under its own type
        assert check_rejection(RESIDENT_ID, "00010519491231002X").code == "invalid_id_province"

    def test_a_number_valid_for_the_chosen_type_is_accepted_whatever_else_it_looks_like(self) -> None:
        other = DocumentType(7, "other", "其他证件", "Other", pattern="^[0-9X]{18}$")
        assert DocumentTypes([RESIDENT_ID, other]).check(other, VALID, on=TODAY) == VALID

    def test_without_the_other_type_configured_there_is_no_suggestion(self) -> None:
        only = DocumentTypes([RESIDENT_ID])
        with pytest.raises(IdentityError) as info:
            only.check(RESIDENT_ID, permit("810000"), on=TODAY)
        assert info.value.code == "invalid_id_province"


class TestAge:
    BORN = date(2010, 11, 29)

    def test_whole_years_go_up_on_the_birthday(self) -> None:
        assert age_on(self.BORN, date(2026, 11, 28)) == 15
        assert age_on(self.BORN, date(2026, 11, 29)) == 16
        assert age_on(self.BORN, self.BORN) == 0

    def test_a_29_february_birthday_falls_on_28_february_in_common_years(self) -> None:
        born = date(2008, 2, 29)
        assert age_on(born, date(2026, 2, 27)) == 17
        assert age_on(born, date(2026, 2, 28)) == 18
        assert age_on(born, date(2024, 2, 28)) == 15
        assert age_on(born, date(2024, 2, 29)) == 16

    @given(births, st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
    def test_the_age_counts_the_birthdays_passed(self, born: date, on: date) -> None:
        if on < born:
            return
        passed = sum(1 for year in range(born.year + 1, on.year + 1) if on >= _birthday(born, year))
        assert age_on(born, on) == passed

    def test_turning_16_on_the_issue_date_is_old_enough_and_the_day_before_is_not(self) -> None:
        number = resident_id("110105", self.BORN, "013")
        require_min_age(RESIDENT_ID, number, on=date(2026, 11, 29), min_age=16)
        error = check_rejection(RESIDENT_ID, number, on=date(2026, 11, 28), min_age=16)
        assert error.code == "holder_under_age"
        assert error.message_zh == "持证人在签发日（2026-11-28）未满16周岁"
        assert error.message == "the holder is under 16 on the issue date (2026-11-28)"
        assert error.errors == {"min_age": 16, "issue_date": "2026-11-28"}

    @pytest.mark.parametrize(("on", "old_enough"), [(date(2026, 2, 27), False), (date(2026, 2, 28), True)])
    def test_someone_born_on_29_february_is_judged_on_28_february_of_a_common_year(
        self, on: date, old_enough: bool
    ) -> None:
        number = resident_id("110105", date(2008, 2, 29), "013")
        if old_enough:
            assert TYPES.check(RESIDENT_ID, number, on=on, min_age=18) == number
        else:
            assert check_rejection(RESIDENT_ID, number, on=on, min_age=18).code == "holder_under_age"

    def test_the_minimum_is_the_callers(self) -> None:
        number = resident_id("110105", self.BORN, "013")
        assert TYPES.check(RESIDENT_ID, number, on=date(2026, 11, 28), min_age=15) == number
        assert TYPES.check(RESIDENT_ID, number, on=date(2026, 11, 28), min_age=0) == number

    def test_residence_permits_and_2023_permanent_residence_cards_are_judged_too(self) -> None:
        for doc_type, number in (
            (RESIDENCE_PERMIT, permit("830000", self.BORN)),
            (PERMANENT_ID, permanent_id(born=self.BORN)),
        ):
            assert check_rejection(doc_type, number, on=date(2026, 11, 28), min_age=16).code == "holder_under_age"
            assert TYPES.check(doc_type, number, on=date(2026, 11, 29), min_age=16) == number

    @pytest.mark.parametrize(("ref", "number"), [(5, "USA123456789012"), (6, "E12345678"), (3, "12345678")])
    def test_a_number_without_a_birth_date_is_not_judged(self, ref: int, number: str) -> None:
        assert birth_date(TYPES.get(ref), number) is None
        assert TYPES.check(TYPES.get(ref), number, on=TODAY, min_age=100) == number


def _birthday(born: date, year: int) -> date:
    """The reference: calendar.isleap decides whether 29 February exists that year."""
    import calendar

    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return born.replace(year=year)


class TestMask:
    def test_a_resident_id_shows_the_first_four_and_last_four_characters(self) -> None:
        assert mask(VALID) == "1101**********002X"

    def test_keeps_the_length(self) -> None:
        assert len(mask("E12345678")) == 9

    def test_a_nine_character_passport_number_shows_one_character_at_each_end(self) -> None:
        assert mask("E12345678") == "E*******8"

    @pytest.mark.parametrize("number", ["", "1", "12", "123", "1234", "12345"])
    def test_a_number_under_six_characters_is_masked_entirely(self, number: str) -> None:
        assert mask(number) == "*" * len(number)

    @given(st.text(alphabet=string.digits + "X", min_size=18, max_size=18))
    def test_never_reveals_more_than_eight_characters_of_an_18_character_number(self, number: str) -> None:
        masked = mask(number)
        assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
        assert masked[4:-4] == "*" * 10

    @given(st.text(alphabet=string.ascii_uppercase + string.digits, max_size=11))
    def test_never_reveals_more_than_a_third_of_a_short_number(self, number: str) -> None:
        masked = mask(number)
        assert len(masked) == len(number)
        revealed = sum(1 for c in masked if c != "*")
        assert revealed * 3 <= len(number)
        assert all(m in ("*", c) for m, c in zip(masked, number, strict=True))

    @given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=12, max_size=40))
    def test_never_reveals_more_than_eight_characters_of_a_long_number(self, number: str) -> None:
        masked = mask(number)
        assert len(masked) == len(number)
        assert sum(1 for c in masked if c != "*") == 8


class TestCommitment:
    def test_is_24_bytes_beginning_with_the_salt(self) -> None:
        commitment = commit(VALID, salt=SALT)
        assert len(commitment) == COMMITMENT_BYTES == 24
        assert commitment[:SALT_BYTES] == SALT

    def test_is_deterministic_for_a_given_salt(self) -> None:
        assert commit(VALID, salt=SALT) == commit(VALID, salt=SALT)

    def test_different_salts_give_different_commitments(self) -> None:
        assert commit(VALID, salt=SALT)[SALT_BYTES:] != commit(VALID, salt=OTHER_SALT)[SALT_BYTES:]

    def test_without_a_salt_each_commitment_is_fresh_and_still_matches(self) -> None:
        first, second = commit(VALID), commit(VALID)
        assert first != second
        assert matches(first, VALID) and matches(second, VALID)

    def test_does_not_contain_the_number(self) -> None:
        commitment = commit(VALID, salt=SALT)
        assert VALID[:6].encode() not in commitment and VALID[-4:].encode() not in commitment

    def test_a_salt_of_the_wrong_length_is_refused(self) -> None:
        with pytest.raises(ValueError):
            commit(VALID, salt=b"short")

    @pytest.mark.parametrize(
        "typed",
        [VALID, VALID.lower(), full_width(VALID), " 110105 19491231 002x\u3000", "110105-19491231-002X"],
    )
    def test_matches_the_same_number_however_it_is_typed(self, typed: str) -> None:
        assert matches(commit(VALID, salt=SALT), typed)

    def test_does_not_match_another_number(self) -> None:
        other = resident_id("110105", date(1949, 12, 31), "004")
        assert not matches(commit(VALID, salt=SALT), other)

    def test_does_not_match_when_the_digest_is_altered(self) -> None:
        commitment = bytearray(commit(VALID, salt=SALT))
        commitment[-1] ^= 1
        assert not matches(bytes(commitment), VALID)

    @pytest.mark.parametrize("length", [0, 8, 23, 25, 32])
    def test_a_commitment_of_the_wrong_length_matches_nothing(self, length: int) -> None:
        assert not matches(commit(VALID, salt=SALT)[:length].ljust(length, b"\0"), VALID)

    def test_numbers_that_differ_only_in_non_ascii_characters_do_not_match(self) -> None:
        # Two passport-like numbers in different scripts must not collide.
        assert not matches(commit("护照一号", salt=SALT), "护照二号")

    @settings(max_examples=15, deadline=None)
    @given(
        st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=18),
        st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=18),
    )
    def test_matches_exactly_when_the_normalized_numbers_are_equal(self, a: str, b: str) -> None:
        commitment = commit(a, salt=SALT)
        assert matches(commitment, b.lower()) == (a == b)


class TestNormalizeDocumentNumber:
    def test_removes_inner_spaces_and_hyphens(self) -> None:
        assert normalize_document_number(" 110105-1949 1231\u3000002x") == VALID

    def test_does_not_upper_case_non_ascii_letters(self) -> None:
        assert normalize_document_number("ſß") == "ſß"


class TestDocumentTypes:
    def test_the_shipped_configuration_has_six_types(self) -> None:
        types = list(default_document_types())
        assert [t.code for t in types] == [1, 2, 3, 4, 5, 6]
        assert types[0].name_zh == "居民身份证"

    @pytest.mark.parametrize("ref", [6, "6", "passport", "护照", " 护照 "])
    def test_a_type_is_found_by_code_key_or_chinese_name(self, ref: int | str) -> None:
        assert default_document_types().get(ref).key == "passport"

    @pytest.mark.parametrize("ref", [0, 7, 99, "驾驶证", "", "Passport", None, 1.0])
    def test_an_unknown_type_is_an_identity_error(self, ref: object) -> None:
        with pytest.raises(IdentityError) as info:
            default_document_types().get(ref)  # type: ignore[arg-type]
        assert info.value.code == "unknown_document_type"

    def test_resident_id_and_residence_permit_use_the_gb_11643_rule(self) -> None:
        types = default_document_types()
        assert types.get("resident_id").rule == "gb11643"
        assert types.get("residence_permit").rule == "gb11643"

    def test_types_load_from_json_with_optional_rule_and_pattern(self) -> None:
        text = json.dumps({"types": [{"code": "7", "key": "seaman", "name_zh": "海员证", "name_en": "Seaman's Book"}]})
        (seaman,) = DocumentTypes.from_json(text)
        assert seaman == DocumentType(7, "seaman", "海员证", "Seaman's Book", None, None)

    def test_types_load_from_a_file(self, tmp_path: Path) -> None:
        path = tmp_path / "types.json"
        path.write_text(
            json.dumps({"types": [{"code": 3, "key": "k", "name_zh": "证", "name_en": "Card"}]}),
            encoding="utf-8",
        )
        assert DocumentTypes.from_file(path).get(3).key == "k"

    def test_duplicate_codes_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="repeated"):
            DocumentTypes([DocumentType(1, "a", "甲", "A"), DocumentType(1, "b", "乙", "B")])

    @pytest.mark.parametrize("code", [0, 24, -1])
    def test_codes_outside_1_to_23_are_rejected(self, code: int) -> None:
        with pytest.raises(ValueError):
            DocumentTypes([DocumentType(code, "a", "甲", "A")])


class TestValidateDocument:
    TYPES = default_document_types()

    def test_a_resident_id_is_checked_under_gb_11643(self) -> None:
        assert validate_document(self.TYPES.get(1), VALID.lower(), today=TODAY) == VALID
        with pytest.raises(IdentityError) as info:
            validate_document(self.TYPES.get(1), VALID[:17] + "1", today=TODAY)
        assert info.value.code == "invalid_id_checksum"

    def test_a_passport_number_is_normalized_and_checked_against_its_pattern(self) -> None:
        assert validate_document(self.TYPES.get("passport"), " e1234567 ", today=TODAY) == "E1234567"

    def test_a_number_not_matching_the_pattern_is_rejected(self) -> None:
        with pytest.raises(IdentityError) as info:
            validate_document(self.TYPES.get("hk_macao_permit"), "X12345678", today=TODAY)
        assert info.value.code == "invalid_document_number"
        assert "港澳居民来往内地通行证" in info.value.message_zh

    def test_a_pattern_digit_does_not_admit_digits_of_other_scripts(self) -> None:
        with pytest.raises(IdentityError):
            validate_document(self.TYPES.get("taiwan_permit"), "١٢٣٤٥٦٧٨", today=TODAY)

    def test_an_empty_number_is_rejected(self) -> None:
        with pytest.raises(IdentityError) as info:
            validate_document(self.TYPES.get("passport"), " \u3000 ", today=TODAY)
        assert info.value.code == "missing_document_number"


SEAMAN = (
    '{"code": 7, "key": "seaman", "name_zh": "海员证", "name_en": "Seafarer\'s Passport", "pattern": "^[A-Z0-9]{7,9}$"}'
)


def types_file(*entries: str) -> str:
    """A types file as an operator writes it: one entry a line, from line 3."""
    return '{\n  "_note": "ours",\n  "types": [\n    ' + ",\n    ".join(entries) + "\n  ]\n}\n"


def file_error(text: str, base: DocumentTypes | None = None) -> ReferenceDataError:
    with pytest.raises(ReferenceDataError) as info:
        base.overridden_by(text) if base else DocumentTypes.from_json(text)
    return info.value


class TestShippedTypes:
    def test_the_residence_permit_numbers_begin_with_the_codes_of_hong_kong_macao_and_taiwan(self) -> None:
        assert RESIDENCE_PERMIT.address_codes == ("810000", "820000", "830000")
        assert RESIDENT_ID.address_codes == ()

    def test_the_permanent_residence_card_has_its_own_rule(self) -> None:
        assert (PERMANENT_ID.rule, PERMANENT_ID.pattern) == ("foreign_permanent_id", None)


class TestOperatorTypes:
    def test_an_operator_file_adds_a_type_and_keeps_the_shipped_ones(self) -> None:
        types = TYPES.overridden_by(types_file(SEAMAN))
        assert [t.code for t in types] == [1, 2, 3, 4, 5, 6, 7]
        assert types.get("海员证").pattern == "^[A-Z0-9]{7,9}$"
        assert types.check(types.get(7), "ab12345", on=TODAY) == "AB12345"
        assert TYPES.name_zh(7) == "7"  # the shipped set is unchanged

    def test_an_entry_with_a_shipped_code_and_key_replaces_that_type(self) -> None:
        passport = (
            '{"code": 6, "key": "passport", "name_zh": "护照", "name_en": "Passport", "pattern": "^[EG][0-9]{8}$"}'
        )
        types = TYPES.overridden_by(types_file(passport))
        assert validate_document(types.get(6), "E12345678", today=TODAY) == "E12345678"
        with pytest.raises(IdentityError):
            validate_document(types.get(6), "X1234567", today=TODAY)

    def test_a_shipped_code_is_never_given_to_another_type(self) -> None:
        error = file_error(types_file(SEAMAN, SEAMAN.replace('"code": 7', '"code": 6')), TYPES)
        assert error.line == 5
        assert "code 6 is passport (护照)" in error.problem

    def test_a_code_twice_in_the_file_names_both_lines(self) -> None:
        error = file_error(types_file(SEAMAN, SEAMAN.replace("seaman", "seaman2")))
        assert (error.line, error.problem) == (5, "code 7 is already used on line 4")

    def test_a_key_or_name_taken_by_another_type_is_refused(self) -> None:
        assert (
            "key 'passport' is used by types 6 and 7"
            in file_error(types_file(SEAMAN.replace('"seaman"', '"passport"')), TYPES).problem
        )
        assert file_error(types_file(SEAMAN.replace("海员证", "护照")), TYPES).line == 4

    @pytest.mark.parametrize(
        ("entry", "line", "problem"),
        [
            (SEAMAN.replace('"pattern"', '"patern"'), 4, "unknown field 'patern'"),
            (SEAMAN.replace('"code": 7', '"code": 24'), 4, "a code is an integer from 1 to 23"),
            (SEAMAN.replace('"code": 7', '"code": true'), 4, "a code is an integer from 1 to 23"),
            (SEAMAN.replace('"seaman"', '"Seaman"'), 4, "lower-case letters"),
            (SEAMAN.replace('"海员证"', '" "'), 4, "name_zh is a name"),
            (SEAMAN.replace('"pattern": "^[A-Z0-9]{7,9}$"', '"rule": "luhn"'), 4, "the rules are gb11643"),
            (SEAMAN.replace("]{7,9}$", "{7,9}$"), 4, "does not compile"),
            (SEAMAN.replace('"pattern"', '"rule": "gb11643", "pattern"'), 4, "a rule or a pattern, not both"),
            (SEAMAN.replace('"pattern": "^[A-Z0-9]{7,9}$"', '"address_codes": ["810000"]'), 4, "gb11643 rule"),
            (
                SEAMAN.replace('"pattern": "^[A-Z0-9]{7,9}$"', '"rule": "gb11643", "address_codes": ["81"]'),
                4,
                "6-digit",
            ),
            (SEAMAN.replace(', "name_en": "Seafarer\'s Passport"', ""), 4, "the type has no 'name_en'"),
            (SEAMAN.replace('"key": "seaman"', '"key": "seaman", "key": "sailor"'), 4, "'key' is repeated"),
            ('"seaman"', 4, "each type is an object"),
        ],
    )
    def test_a_bad_entry_is_refused_naming_its_line_and_the_problem(self, entry: str, line: int, problem: str) -> None:
        error = file_error(types_file(entry))
        assert error.line == line and problem in error.problem, error

    def test_a_problem_on_a_later_line_of_an_entry_names_that_line(self) -> None:
        entry = SEAMAN.replace(', "pattern"', ',\n     "pattern"').replace("]{7,9}$", "{7,9}$")
        assert file_error(types_file(entry)).line == 5

    @pytest.mark.parametrize(
        ("text", "line", "problem"),
        [
            ('{\n  "types": [\n    {"code": 7,}\n  ]\n}', 3, "not JSON"),
            ("[]", 1, "the file holds an object"),
            ('{\n  "kinds": []\n}', 2, "unknown field 'kinds'"),
            ('{\n  "_note": ""\n}', 1, 'no "types" array'),
            ('{\n  "types": {}\n}', 2, '"types" is an array'),
        ],
    )
    def test_a_bad_file_is_refused_naming_its_line(self, text: str, line: int, problem: str) -> None:
        error = file_error(text)
        assert error.line == line and problem in error.problem
        assert str(error).startswith(f"line {line}: ")

    def test_the_shipped_file_reads_under_the_same_rules(self) -> None:
        text = resources.files("issuer.core").joinpath("data", "document-types.json").read_text("utf-8")
        assert [t.key for t in TYPES.overridden_by(text)] == [t.key for t in TYPES]
