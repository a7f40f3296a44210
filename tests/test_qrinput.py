"""What ``issuer verify`` reads (``issuer.qrinput``): labels, file kinds told by content,
folders, PDF pages, and every failure an ``Unreadable``, never an exception."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from issuer.qrinput import MAX_PDF_PAGES, QrText, Unreadable, is_single, read_inputs
from tests.qrfiles import encrypted_pdf, images_pdf, png_header, qr_image, qr_png, raw_pdf


def _read(*args: str, stdin: str = "") -> list[QrText | Unreadable]:
    return list(read_inputs(args, io.StringIO(stdin)))


def _codes(items: list[QrText | Unreadable]) -> list[str]:
    return [item.code if isinstance(item, Unreadable) else "text" for item in items]


def test_texts_and_paths_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    items = _read("HTTPS://CERT.EXAMPLE.CN/V/ABC", "https://x.cn/v/abc.png", "GEZDGNBV", "nosuch.PDF", "scans/cert")
    assert items[:3] == [
        QrText("arg:1", "HTTPS://CERT.EXAMPLE.CN/V/ABC"),
        QrText("arg:2", "https://x.cn/v/abc.png"),
        QrText("arg:3", "GEZDGNBV"),
    ]
    assert [(i.label, _codes([i])[0]) for i in items[3:]] == [
        ("nosuch.PDF", "no_such_file"),
        ("scans/cert", "no_such_file"),
    ]


def test_a_long_text_is_not_mistaken_for_a_file_name() -> None:
    text = "A" * 400  # longer than a file name may be: stat() fails with ENAMETOOLONG
    assert _read(text) == [QrText("arg:1", text)]


def test_standard_input_gives_one_text_per_non_blank_line() -> None:
    assert _read("-", stdin="ONE\n\n  TWO  \n") == [QrText("stdin:1", "ONE"), QrText("stdin:3", "TWO")]
    assert _codes(_read("-", stdin="\n \n")) == ["no_text"]


def test_files_are_told_by_content_not_by_name(tmp_path: Path) -> None:
    png_named_jpg = tmp_path / "photo.jpg"
    qr_image("HELLO").save(png_named_jpg, "PNG")
    pdf_named_dat = tmp_path / "scan.dat"
    images_pdf(pdf_named_dat, [qr_image("WORLD")])
    text_named_png = tmp_path / "code.png"
    text_named_png.write_text("HTTPS://CERT.EXAMPLE.CN/V/ABC")
    items = _read(str(png_named_jpg), str(pdf_named_dat), str(text_named_png))
    assert items[:2] == [QrText(str(png_named_jpg), "HELLO"), QrText(f"{pdf_named_dat}#page=1", "WORLD")]
    assert _codes(items[2:]) == ["not_image_or_pdf"]


def test_several_codes_in_an_image_are_labelled_in_reading_order(tmp_path: Path) -> None:
    left, right = qr_image("LEFT"), qr_image("RIGHT")
    sheet = Image.new("L", (left.width + right.width + 40, left.height), "white")
    sheet.paste(left, (0, 0))
    sheet.paste(right, (left.width + 40, 0))
    path = tmp_path / "sheet.webp"
    sheet.save(path, lossless=True)
    assert _read(str(path)) == [QrText(f"{path}#code=1", "LEFT"), QrText(f"{path}#code=2", "RIGHT")]


def test_a_transparent_background_reads_as_white(tmp_path: Path) -> None:
    code = qr_image("CLEAR")
    rgba = Image.new("RGBA", code.size, (0, 0, 0, 0))
    rgba.putalpha(code.point(lambda v: 255 - v))  # dark modules opaque black, the rest transparent
    path = tmp_path / "clear.png"
    rgba.save(path)
    assert _read(str(path)) == [QrText(str(path), "CLEAR")]


def test_pdf_pages_are_labelled_and_pages_without_a_code_are_passed_over(tmp_path: Path) -> None:
    blank = Image.new("L", (300, 300), "white")
    two = Image.new("L", (700, 300), "white")
    two.paste(qr_image("A", scale=3), (0, 0))
    two.paste(qr_image("B", scale=3), (350, 0))
    path = images_pdf(tmp_path / "cert.pdf", [blank, qr_image("FIRST"), blank, two])
    assert _read(str(path)) == [
        QrText(f"{path}#page=2", "FIRST"),
        QrText(f"{path}#page=4&code=1", "A"),
        QrText(f"{path}#page=4&code=2", "B"),
    ]


def test_a_pdf_without_any_code_is_one_unreadable(tmp_path: Path) -> None:
    path = images_pdf(tmp_path / "blank.pdf", [Image.new("L", (600, 840), "white")] * 2)
    assert _read(str(path)) == [Unreadable(str(path), "no_qr_code", "no QR code found", "未找到二维码")]


def test_only_the_first_pages_of_a_long_pdf_are_read(tmp_path: Path) -> None:
    small = Image.new("L", (20, 20), "white")
    path = images_pdf(tmp_path / "long.pdf", [small] * (MAX_PDF_PAGES + 2))
    items = _read(str(path))
    assert _codes(items) == ["no_qr_code", "too_many_pages"]
    assert items[1].label == f"{path}#page={MAX_PDF_PAGES + 1}-{MAX_PDF_PAGES + 2}"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.pdf", b"", "empty_file"),
        ("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4, "damaged_pdf"),
        (
            "no-pages.pdf",
            raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
            "damaged_pdf",
        ),
        ("locked.pdf", encrypted_pdf(), "encrypted_pdf"),
        ("bomb.png", png_header(30_000, 30_000), "image_too_large"),
        ("big.png", png_header(10_000, 10_000), "image_too_large"),  # over the limit, under twice it
        ("cut.gif", b"GIF89a\x10\x00\x10\x00", "damaged_image"),
    ],
)
def test_damaged_and_oversized_files_are_unreadable(tmp_path: Path, name: str, data: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert _codes(_read(str(path))) == [code]


def test_a_folder_lists_its_files_by_name_skipping_hidden_ones_and_subfolders(tmp_path: Path) -> None:
    qr_png(tmp_path / "b.png", "BEE")
    qr_png(tmp_path / ".hidden.png", "HIDDEN")
    (tmp_path / "a.txt").write_text("notes")
    (tmp_path / "sub").mkdir()
    qr_png(tmp_path / "sub" / "c.png", "DEEP")
    assert [(i.label, _codes([i])[0]) for i in _read(str(tmp_path))] == [
        (str(tmp_path / "a.txt"), "not_image_or_pdf"),
        (str(tmp_path / "b.png"), "text"),
    ]
    assert _codes(_read(str(tmp_path / "sub" / "c.png"), str(tmp_path / "sub" / "none"))) == ["text", "no_such_file"]


def test_an_empty_folder_is_reported(tmp_path: Path) -> None:
    assert _read(str(tmp_path)) == [
        Unreadable(str(tmp_path), "empty_folder", "no files in the folder", "文件夹中没有文件")
    ]


def test_labels_stay_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "two\nlines.txt").write_text("x")
    (tmp_path / "latin1-\udce9.txt").write_text("x")  # the byte 0xE9: not UTF-8
    labels = [i.label for i in _read(str(tmp_path))]
    assert all(label.encode("utf-8") for label in labels)  # no lone surrogates left
    assert sorted(Path(label).name for label in labels) == ["latin1-\\udce9.txt", "two\\nlines.txt"]


def test_one_file_or_text_is_single_a_folder_or_stdin_is_not(tmp_path: Path) -> None:
    assert is_single(["HTTPS://X/V/Y"]) and is_single([str(tmp_path / "a.pdf")])
    assert not is_single([str(tmp_path)]) and not is_single(["-"]) and not is_single(["A", "B"])
