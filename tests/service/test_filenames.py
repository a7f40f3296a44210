"""File names a person finds in downloads and archives: the number first, then the name."""

from __future__ import annotations

from urllib.parse import unquote

from issuer.service.filenames import batch_pdf_file, certificate_file, content_disposition


def test_the_number_comes_first_then_the_holders_name() -> None:
    assert certificate_file("y000123000001263000001", "张三丰", "png") == "Y000123000001263000001_张三丰.png"
    assert certificate_file("Y000123000001263000001", "阿依古丽·买买提", "pdf").endswith("_阿依古丽·买买提.pdf")


def test_characters_no_file_system_takes_become_underscores() -> None:
    assert certificate_file("Y1", 'a/b\\c:d*e?f"g<h>i|j\x01', "png") == "Y1_a_b_c_d_e_f_g_h_i_j_.png"
    assert certificate_file("Y1", "  ", "png") == "Y1__.png"
    assert certificate_file("Y1", "e\u0301", "png") == "Y1_\u00e9.png"  # one form of each character (NFC)


def test_the_header_carries_the_chinese_name_and_an_ascii_fallback() -> None:
    header = content_disposition("attachment", "Y1_张三丰.png", "Y1.png")
    assert header.startswith('attachment; filename="Y1.png"; ')
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == "Y1_张三丰.png"


def test_a_batch_printed_as_one_pdf_is_named_by_the_batch() -> None:
    assert batch_pdf_file("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef_证书.pdf"
