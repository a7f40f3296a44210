"""The QR text: an upper-case URL in the QR alphanumeric mode that fits version 10-11."""

from __future__ import annotations

import io

import pytest
import segno
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from issuer.core import qrtext
from issuer.core.errors import CredentialFormatError, InvalidInput
from tests import factories as f

ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


@given(st.binary(max_size=400))
def test_any_message_round_trips(message: bytes) -> None:
    if message:
        assert qrtext.decode(qrtext.encode(message, f.HOST)) == message


def test_the_text_is_an_upper_case_url_entirely_in_alphanumeric_mode() -> None:
    text = f.world().qr()
    assert text.startswith(f"HTTPS://{f.HOST.upper()}/V/")
    assert set(text) <= ALPHANUMERIC
    assert segno.make(text, error="m", boost_error=False).mode == "alphanumeric"


def test_a_typical_credential_fits_qr_version_11_at_level_m() -> None:
    text = f.world().qr()
    assert len(f.HOST) == 20
    qr = segno.make(text, error="m", boost_error=False)
    assert qr.version <= 11, (qr.version, len(text))


def test_a_long_name_and_work_type_still_fit_a_scannable_code() -> None:
    cred = f.credential(name="阿卜杜热合曼·买买提艾力·阿不都热西提江", work_type="焊接设备操作工" * 2)
    qr = segno.make(f.world().qr(cred), error="m", boost_error=False)
    assert qr.version <= 15


def test_a_decoder_reads_the_text_back_from_a_rendered_code() -> None:
    text = f.world().qr()
    buffer = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(buffer, kind="png", scale=4, border=4)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(buffer.getvalue())), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in found] == [text]


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t.lower(),
        lambda t: f"  {t}\n",
        lambda t: t.replace("HTTPS://", "http://"),
        lambda t: t.split("/V/")[1],
        lambda t: t.replace(f.HOST.upper(), "OTHER.EXAMPLE:8443"),
    ],
)
def test_decoding_accepts_case_whitespace_scheme_host_and_bare_payload(variant) -> None:  # type: ignore[no-untyped-def]
    text = f.world().qr()
    assert qrtext.decode(variant(text)) == qrtext.decode(text)


@pytest.mark.parametrize("bad", ["", "HTTPS://X/V/", "HTTPS://X/V/ABC1", "HTTPS://X/V/A", "hello world", "A" * 5000])
def test_decoding_rejects_what_is_not_a_payload(bad: str) -> None:
    with pytest.raises(CredentialFormatError):
        qrtext.decode(bad)


@pytest.mark.parametrize("host", ["cert.hrss.gov.cn", "127.0.0.1:5000", "localhost"])
def test_hosts_are_upper_cased(host: str) -> None:
    assert qrtext.check_host(host) == host.upper()


@pytest.mark.parametrize("host", ["", "a_b.cn", "证书.cn", "a..b", "-a.cn", "host/path"])
def test_hosts_outside_the_alphanumeric_set_are_refused(host: str) -> None:
    with pytest.raises(InvalidInput):
        qrtext.check_host(host)


def test_a_payload_with_non_zero_padding_bits_is_refused() -> None:
    text = f.world().qr()
    last = text[-1]
    # 171 bytes leave 2 unused bits in the last character; setting one changes the text,
    # not the bytes, so it must be refused to keep one text per credential.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    sibling = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(CredentialFormatError):
        qrtext.decode(text[:-1] + sibling)


def test_only_ascii_letters_are_upper_cased() -> None:
    with pytest.raises(CredentialFormatError):
        qrtext.decode(f.world().qr().replace("S", "ſ"))


@given(st.binary(min_size=1, max_size=400))
def test_base32_decoding_agrees_with_the_standard_library(message: bytes) -> None:
    import base64

    text = base64.b32encode(message).decode().rstrip("=")
    assert qrtext.b32decode(text) == message
