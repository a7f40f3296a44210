"""Specification of identity documents: 居民身份证 numbers (GB 11643-1999), masking for
display, the salted commitment a credential carries, and configured document types."""

from __future__ import annotations

import json
import string
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core.errors import IdentityError
from issuer.core.identity import (
    COMMITMENT_BYTES,
    SALT_BYTES,
    DocumentType,
    DocumentTypes,
    check_character,
    commit,
    default_document_types,
    mask,
    matches,
    normalize_document_number,
    parse_resident_id,
    validate_document,
)

VALID = "11010519491231002X"
TODAY = date(2026, 1, 1)
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

    def test_a_wrong_check_character_is_rejected_naming_the_expected_one(self) -> None:
        error = id_error(VALID[:17] + "1")
        assert error.code == "invalid_id_checksum"
        assert "should be X, not 1" in error.message
        assert "校验码应为X，实为1" in error.message_zh

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


valid_ids = st.builds(
    resident_id,
    st.text(alphabet=string.digits, min_size=6, max_size=6),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.text(alphabet=string.digits, min_size=3, max_size=3),
)


class TestResidentIdProperties:
    @given(
        st.text(alphabet=string.digits, min_size=6, max_size=6),
        st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
        st.text(alphabet=string.digits, min_size=3, max_size=3),
    )
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
