"""Layouts are data: the loader refuses a file that leaves out or reorders a required
field, places a box off the page or too low for its text, or has keys it does not know."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from issuer.render import REQUIRED, LayoutError, load_layout
from issuer.render.layout import layouts_dir

from .helpers import LAYOUTS, layout_variant


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_shipped_layout_lists_the_required_fields_in_order(name: str) -> None:
    layout = load_layout(name)
    keys = [f.key for f in layout.fields]
    assert [k for k in keys if k in REQUIRED] == list(REQUIRED)
    photo = layout.field("photo")
    assert photo is not None and photo.box[2:] == (25, 35)  # 1 inch (一寸)


def test_loading_is_cached_per_file_until_it_changes(tmp_path: Path) -> None:
    assert load_layout("portrait") is load_layout("portrait")
    assert load_layout(layouts_dir() / "portrait.toml") is load_layout("portrait")
    path = layout_variant(tmp_path, "portrait", "box = [25, 186, 58, 58]", "box = [25, 186, 58, 58]")
    first = load_layout(path)
    assert load_layout(path) is first and (25, 186, 58, 58) in [f.box for f in first.fields]
    changed = layout_variant(tmp_path, "portrait", "box = [25, 186, 58, 58]", "box = [26, 186, 58, 58]")
    later = path.stat().st_mtime_ns + 1_000_000
    os.utime(changed, ns=(later, later))
    assert changed == path
    assert (26, 186, 58, 58) in [f.box for f in load_layout(path).fields]


@pytest.mark.parametrize("name", ["../portrait", "Portrait", "", "a/b", "nosuch"])
def test_a_layout_name_is_a_plain_shipped_name(name: str) -> None:
    with pytest.raises(LayoutError):
        load_layout(name)


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ('key = "issue_date"', 'key = "print_serial_2"', "unknown field"),
        ('key = "number"', 'key = "print_serial"', "a required field missing"),
        ("box = [25, 186, 58, 58]", "box = [180, 186, 58, 58]", "box off the page"),
        ("box = [66, 124, 80, 11]", "box = [66, 124, 80, 3]", "box too low for its smallest text"),
        ("english = false", 'english = false\ncolour = "red"', "unknown key"),
        ("size = [210, 297]", 'size = "A4"', "size not in millimetres"),
        ("[labels]", '[labels]\nfont = "fangsong"', "unknown font role"),
    ],
)
def test_a_broken_layout_is_refused_when_read(tmp_path: Path, old: str, new: str, why: str) -> None:
    with pytest.raises(LayoutError) as caught:
        load_layout(layout_variant(tmp_path, "portrait", old, new))
    assert caught.value.code == "invalid_layout" and caught.value.kind == "render_config", why


def test_fields_out_of_order_are_refused(tmp_path: Path) -> None:
    text = (layouts_dir() / "portrait.toml").read_text(encoding="utf-8")
    a = text.index('[[field]]\nkey = "document_type_name"')
    b = text.index('[[field]]\nkey = "document_number"')
    c = text.index('[[field]]\nkey = "occupation_name"')
    swapped = text[:a] + text[b:c] + text[a:b] + text[c:]
    path = tmp_path / "swapped.toml"
    path.write_text(swapped, encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        load_layout(path)
    assert "order" in caught.value.message
