"""The PDF file (``pdf.py``): one page of the layout's size that PDFium opens, titled with
the certificate's number, nothing in it that depends on the clock, and a cross-reference
stream that points at every object."""

from __future__ import annotations

import io
import re
import zlib

import pypdfium2
import pytest

from issuer.render import Renderer, load_layout, pdf
from issuer.render.pdf import PdfWriteError

from .helpers import LAYOUTS, photo, typical


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_pdf_is_one_page_of_the_layouts_size_titled_with_the_number(renderer: Renderer, name: str) -> None:
    view = typical(english=name == "landscape", photo=photo())
    data = renderer.encode(view, "pdf", layout=name)
    document = pypdfium2.PdfDocument(data)
    layout = load_layout(name)
    assert len(document) == 1
    assert document[0].get_size() == pytest.approx((layout.width * 72 / 25.4, layout.height * 72 / 25.4), abs=1e-3)
    assert document.get_metadata_dict()["Title"] == f"职业技能等级证书 {view.number}"
    assert data.startswith(b"%PDF-1.5\n") and data.endswith(b"%%EOF\n")
    assert b"CreationDate" not in data and b"ModDate" not in data and b"(D:" not in data and b"/ID" not in data


def test_the_cross_reference_stream_points_at_every_object(renderer: Renderer) -> None:
    data = renderer.encode(typical(photo=photo()), "pdf")
    start = int(re.findall(rb"startxref\n(\d+)\n%%EOF\n$", data)[0])
    head = re.compile(rb"(\d+) 0 obj\n<<(.*?)>>stream\n", re.S).match(data, start)
    assert head is not None
    entries = head[2]
    assert b"/Type/XRef" in entries and b"/W[1 4 0]" in entries
    size, length = (int(re.search(rb"/%s (\d+)" % key, entries)[1]) for key in (b"Size", b"Length"))  # type: ignore[index]
    rows = zlib.decompress(data[head.end() : head.end() + length])
    assert len(rows) == 5 * size and rows[0] == 0
    for number in range(1, size):
        kind, offset = rows[5 * number], int.from_bytes(rows[5 * number + 1 : 5 * number + 5], "big")
        assert kind == 1 and data[offset:].startswith(b"%d 0 obj\n" % number), number
    assert int(head[1]) == size - 1  # the cross-reference stream is the last object


def test_an_object_reserved_and_never_written_is_refused() -> None:
    writer = pdf.Writer()
    writer.reserve()
    root = writer.add(b"<</Type/Catalog>>")
    with pytest.raises(PdfWriteError):
        writer.finish(root, root)


def test_a_streamed_file_refuses_an_object_written_twice_or_reserved_and_never_written() -> None:
    writer = pdf.StreamWriter(io.BytesIO())
    reserved = writer.reserve()
    root = writer.add(b"<</Type/Catalog>>")
    with pytest.raises(PdfWriteError):
        writer.put(root, b"<<>>")
    with pytest.raises(PdfWriteError):
        writer.finish(root, root)
    writer.put(reserved, b"<<>>")
    writer.finish(root, root)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (2.0, "2"), (-2.5, "-2.5"), (0.24, "0.24"), (1 / 3, "0.333"), (841.88976, "841.89"), (-0.0001, "0")],
)
def test_numbers_are_written_short_to_a_thousandth(value: float, text: str) -> None:
    assert pdf.num(value) == text


def test_text_strings_are_utf16_with_a_byte_order_mark() -> None:
    assert pdf.text_string("证 A") == b"<FEFF8BC100200041>"
