"""Identity document numbers are masked wherever they stand in a log line; certificate
numbers, organization codes, dates, hashes and ids are left as they are."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuer.core.redaction import redact

ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /console/certificates?q=11010519491231002X HTTP/1.1",
            "GET /console/certificates?q=1101**********002X HTTP/1.1",
        ),
        ("/api/v1/certificates/11010519491231002X", "/api/v1/certificates/1101**********002X"),
        ("证件号码11010519491231002x有误", "证件号码1101**********002x有误"),
        ("q=110105+19491231+002X&page=2", "q=1101**********002X&page=2"),
        ("q=110105%2019491231%20002X", "q=1101**********002X"),
        ("110105-19491231-002X", "1101**********002X"),
        ("q=%E5%BC%A0%E4%B8%8911010519491231002X", "q=[redacted]"),
        ("１１０１０５１９４９１２３１００２Ｘ", "１１０１**********００２Ｘ"),
        ("old id 110105491231002.", "old id 1101*******1002."),
        ("永久居留 ABC123456789012", "永久居留 ABC1*******9012"),
        ("永久居留 911010519491231002", "永久居留 9110**********1002"),
        ("通行证 H12345678, M1234567890", "通行证 H*******8, M*********0"),
        ("passport E12345678 EA1234567 G12345678", "passport E*******8 E*******7 G*******8"),
        ("name=张三丰&document_number=N1234", "name=[redacted]&document_number=[redacted]"),
        ('{"holder_name=李四"}', '{"holder_name=[redacted]"}'),
    ],
)
def test_identity_document_numbers_are_masked_wherever_they_stand(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert ID not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "GET /console/certificates?q=Y000123000001263000001 HTTP/1.1",
        "/api/v1/certificates/S000044000002264000123/image?format=pdf",
        "legacy 1923010012300001 and 2301001230001",
        "organization S000011000001, Y000123000001",
        "2026-11-30T15:00:00+08:00 20261130 batch 1f0e7a9c2d3b4a5e8f6071829304a5b6",
        "sha256 0123456789012345678901234567890123456789012345678901234567890abc",
        "username=bob&roster_name=名单.csv",
        "12345678 台湾居民来往大陆通行证 (8 digits: not recognized)",
    ],
)
def test_what_is_not_an_identity_document_stays(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /console/certificates?q=%E5%BC%A0%E4%B8%89&status=live HTTP/1.1",
            "GET /console/certificates?q=[redacted]&status=live HTTP/1.1",
        ),
        ("GET /console/certificates?q=zhang+san HTTP/1.1", "GET /console/certificates?q=[redacted] HTTP/1.1"),
        ("q=张三", "q=[redacted]"),
        ("GET /console/certificates?q=&page=2 HTTP/1.1", "GET /console/certificates?q=&page=2 HTTP/1.1"),
        ("GET /console/certificates?q=263000001 HTTP/1.1", "GET /console/certificates?q=263000001 HTTP/1.1"),
        (
            "GET /console/admin/occupations?q=6-31-01-03 HTTP/1.1",
            "GET /console/admin/occupations?q=6-31-01-03 HTTP/1.1",
        ),
    ],
)
def test_a_search_for_a_name_is_withheld_and_one_for_a_number_kept(text: str, expected: str) -> None:
    """The console's search box takes a name or a number: a name searched for is a holder's
    name in the log; a number (a certificate's, a part of one, an ID number masked) helps
    whoever reads the log and names nobody."""
    assert redact(text) == expected


@given(
    kind=st.sampled_from("YS"),
    digits=st.text(alphabet="0123456789", min_size=21, max_size=21),
    before=st.sampled_from(["", " ", "/", "=", "q=", "%2F", "证书编号"]),
    after=st.sampled_from(["", " ", "/", "&", ".pdf", " HTTP/1.1", "。"]),
)
def test_no_certificate_number_is_ever_redacted(kind: str, digits: str, before: str, after: str) -> None:
    text = f"{before}{kind}{digits}{after}"
    assert redact(text) == text


@given(first17=st.text(alphabet="0123456789", min_size=17, max_size=17), last=st.sampled_from("0123456789Xx"))
def test_every_18_character_number_standing_alone_is_masked(first17: str, last: str) -> None:
    number = first17 + last
    line = f"GET /console/certificates?q={number}&page=1 HTTP/1.1"
    assert number not in redact(line)
    assert f"q={number[:4]}**********{number[-4:]}&" in redact(line)
