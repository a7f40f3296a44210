"""Specification of how typed input is normalized before it is parsed."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from issuer.core.typed import fold_full_width, normalize_code, upper_ascii

ASCII_ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase


def full_width(text: str) -> str:
    """The full-width form (U+FF01–FF5E) of printable ASCII text."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


class TestFoldFullWidth:
    def test_full_width_digits_become_ascii_digits(self) -> None:
        assert fold_full_width("０１２３４５６７８９") == "0123456789"

    def test_full_width_upper_case_letters_become_ascii(self) -> None:
        assert fold_full_width("ＡＢＹＳＺ") == "ABYSZ"

    def test_full_width_lower_case_letters_become_ascii_lower_case(self) -> None:
        assert fold_full_width("ａｙｘｚ") == "ayxz"

    def test_full_width_punctuation_is_left_alone(self) -> None:
        assert fold_full_width("－（）／") == "－（）／"

    def test_digit_look_alikes_are_not_turned_into_digits(self) -> None:
        # NFKC would give "2", "2", "1", "3": these must stay so that parsers reject them.
        for look_alike in ("②", "²", "₁", "٣", "𝟏", "Ⅲ"):
            assert fold_full_width(look_alike) == look_alike

    @given(st.text(alphabet=ASCII_ALNUM))
    def test_any_ascii_alphanumeric_text_is_recovered_from_its_full_width_form(self, text: str) -> None:
        assert fold_full_width(full_width(text)) == text

    @given(st.text())
    def test_never_changes_the_length(self, text: str) -> None:
        assert len(fold_full_width(text)) == len(text)


class TestUpperAscii:
    def test_upper_cases_ascii_letters(self) -> None:
        assert upper_ascii("y000x") == "Y000X"

    def test_leaves_non_ascii_letters_alone(self) -> None:
        # str.upper() would give "S", "SS" and "I": look-alikes must not become ASCII.
        assert upper_ascii("ſßı") == "ſßı"

    @given(st.text())
    def test_never_changes_the_length(self, text: str) -> None:
        assert len(upper_ascii(text)) == len(text)

    @given(st.text() | st.text(alphabet=string.printable))
    def test_changes_a_to_z_and_nothing_else(self, text: str) -> None:
        upper = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
        assert upper_ascii(text) == text.translate(upper)


class TestNormalizeCode:
    def test_strips_surrounding_ascii_spaces_tabs_and_newlines(self) -> None:
        assert normalize_code(" \t Y0001\r\n") == "Y0001"

    def test_strips_surrounding_ideographic_space(self) -> None:
        assert normalize_code("\u3000Y0001\u3000") == "Y0001"

    def test_strips_surrounding_no_break_space(self) -> None:
        assert normalize_code("\u00a0Y0001\u00a0") == "Y0001"

    def test_keeps_inner_spaces_for_the_parser_to_reject(self) -> None:
        assert normalize_code("Y00 01") == "Y00 01"
        assert normalize_code("Y00\u300001") == "Y00\u300001"

    def test_folds_full_width_and_upper_cases(self) -> None:
        assert normalize_code("ｙ０００１") == "Y0001"

    def test_does_not_turn_long_s_into_s(self) -> None:
        assert normalize_code("ſ0001") == "ſ0001"

    @given(st.text())
    def test_is_idempotent(self, text: str) -> None:
        once = normalize_code(text)
        assert normalize_code(once) == once

    @given(st.text())
    def test_never_lengthens_the_text(self, text: str) -> None:
        assert len(normalize_code(text)) <= len(text)

    @given(st.text(alphabet=ASCII_ALNUM, min_size=1), st.sampled_from([" ", "\u3000", "\t"]))
    def test_full_width_lower_case_padded_input_equals_the_plain_upper_case_code(self, text: str, space: str) -> None:
        assert normalize_code(space + full_width(text.lower()) + space) == text.upper()
