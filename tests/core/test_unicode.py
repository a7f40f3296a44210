"""Text claims follow Unicode 14.0.0, from a published table, whatever the Python."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core import qrtext, unicode
from issuer.core.errors import CredentialFormatError, InvalidInput
from tests import factories as f


@pytest.mark.skipif(unicodedata.unidata_version != unicode.UNICODE_VERSION, reason="needs UCD 14.0.0 to compare")
def test_the_published_table_is_category_c_of_unicode_14() -> None:
    for cp in range(0x110000):
        assert unicode.is_category_c(chr(cp)) == unicodedata.category(chr(cp)).startswith("C"), hex(cp)


def test_a_character_assigned_after_unicode_14_is_refused() -> None:
    assert unicode.is_category_c("\U00031350")  # CJK Extension H, assigned in Unicode 15.0
    assert not unicode.is_category_c("\U00030000")  # CJK Extension G, Unicode 13.0
    with pytest.raises(InvalidInput):
        f.credential(name="张\U00031350")
    assert f.credential(name="张\U00030000").holder_name == "张\U00030000"


def test_white_space_is_the_unicode_property_not_pythons_isspace() -> None:
    assert len(unicode.WHITE_SPACE) == 25
    assert unicode.strip("\u3000\u00a0张三丰\u2029 ") == "张三丰"
    assert unicode.strip("\x1c张三丰") == "\x1c张三丰"  # str.strip would remove U+001C
    text = f.world().qr()
    assert qrtext.decode("\u3000" + text + "\r\n") == qrtext.decode(text)
    with pytest.raises(CredentialFormatError):
        qrtext.decode("\x1c" + text)


def test_inner_white_space_is_the_property_too() -> None:
    payload = f.world().qr().split("/V/")[1]
    assert qrtext.decode(f"HTTPS://HO\x1cST/V/{payload}") == qrtext.decode(payload)  # the host is not checked
    with pytest.raises(CredentialFormatError):
        qrtext.decode(f"HTTPS://HO\u3000ST/V/{payload}")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20) | st.text(st.characters(exclude_categories=()), max_size=20))
def test_a_text_holds_category_c_when_one_of_its_characters_is(text: str) -> None:
    assert unicode.holds_category_c(text) == any(unicode.is_category_c(c) for c in text)


@pytest.mark.parametrize(
    "value",
    ["a\x00", "\udc80", "\ud800x", {"k": ["ok", {"deep": "\udfff"}]}, {"\x00": 1}, ["x"] * 3 + ["\x00"]],
)
def test_nul_and_lone_surrogates_are_unstorable_at_any_depth_keys_too(value: object) -> None:
    assert unicode.has_unstorable_text(value)


@pytest.mark.parametrize("value", ["张三", "𠀀", "\ufffd", {"k": [1, 2.5, None, True]}, [], "\x01"])
def test_other_text_is_storable(value: object) -> None:
    assert not unicode.has_unstorable_text(value)


def test_a_deep_value_is_checked_without_recursion() -> None:
    deep: object = "\x00"
    for _ in range(100_000):
        deep = [deep]
    assert unicode.has_unstorable_text(deep)
