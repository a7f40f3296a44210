"""Fitting: text that does not fit its box shrinks (to the layout's minimum), then wraps,
and is refused only when it still does not fit; whatever is drawn stays inside its box."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import ImageChops

from issuer.core.catalogue import default_catalogue
from issuer.render import Page, Renderer, TextDoesNotFit, load_layout
from issuer.render.fit import NO_LINE_END, NO_LINE_START, _Measure, fit, tokens, wrap
from issuer.render.fonts import FontSet
from issuer.render.layout import Style
from issuer.render.samples import LONG_NAME, LONG_ORGANIZATION, LONG_WORK_TYPE

from .helpers import LAYOUTS, inside, typical

TEXT_KEYS = (
    "title",
    "body_text",
    "holder_name",
    "document_type_name",
    "document_number",
    "occupation_name",
    "work_type",
    "level_label",
    "number",
    "organization_name",
    "issue_date",
    "certificate_lookup",
    "organization_lookup",
)


def test_the_long_values_are_the_longest_realistic_ones() -> None:
    longest = max(len(o.name) for o in default_catalogue().occupations.values())
    assert len(LONG_NAME) == 20 and LONG_NAME.count("·") == 2
    assert len(LONG_WORK_TYPE) == 20 and len(LONG_ORGANIZATION) == 40 and longest == 19


@pytest.mark.parametrize("name", [*LAYOUTS, "portrait-long", "landscape-long"])
def test_every_text_is_drawn_inside_its_box_at_or_above_its_minimum_size(pages: dict[str, Page], name: str) -> None:
    page = pages[name]
    layout = page.layout
    for p in page.placements:
        field = layout.field(p.key)
        assert field is not None
        if p.ink is not None:
            assert inside(p.ink, p.box_px), (p.key, p.ink, p.box_px)
        if p.label_ink is not None and p.label_box_px is not None:
            assert inside(p.label_ink, p.label_box_px), (p.key, "label")
        if p.key in TEXT_KEYS:
            assert p.size is not None and field.style.min_size <= p.size <= field.style.size, p.key
            assert 1 <= len(p.lines) <= field.style.max_lines, p.key
            assert "".join(p.lines).replace(" ", "") == (p.text or "").replace(" ", ""), p.key


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_long_values_are_printed_whole(pages: dict[str, Page], name: str) -> None:
    page = pages[f"{name}-long"]
    assert page.placement("holder_name").text == LONG_NAME
    assert page.placement("work_type").text == LONG_WORK_TYPE
    assert page.placement("organization_name").text == LONG_ORGANIZATION
    assert len(page.placement("occupation_name").text or "") == 19


@pytest.mark.parametrize("key", ["holder_name", "work_type", "organization_name", "occupation_name"])
def test_the_pixels_a_long_value_changes_lie_inside_its_box(renderer: Renderer, key: str) -> None:
    """Measured on the image: render with a short and a long value, the difference is
    inside the value's box."""
    long_values = {
        "holder_name": LONG_NAME,
        "work_type": LONG_WORK_TYPE,
        "organization_name": LONG_ORGANIZATION,
        "occupation_name": "地球物理地球化学与遥感勘查工程技术人员",
    }
    base = typical()
    for name in LAYOUTS:
        view = typical(english=name == "landscape")
        changed = replace(view, **{key: long_values[key]})
        if key == "organization_name":  # keep the body text (it names the organization) as it was
            changed = replace(changed, body_text=view.body_text)
        a = renderer.page(view, layout=name, dpi=150)
        b = renderer.page(changed, layout=name, dpi=150)
        diff = ImageChops.difference(a.image, b.image).getbbox()
        assert diff is not None
        assert inside(diff, b.placement(key).box_px), (name, key, diff, b.placement(key).box_px)
    assert base.holder_name == "张三丰"


def test_a_value_slightly_too_long_shrinks_on_one_line_before_it_wraps(renderer: Renderer) -> None:
    page = renderer.page(replace(typical(), occupation_name="一" * 28), dpi=150)
    occupation = page.placement("occupation_name")
    assert len(occupation.lines) == 1 and occupation.size is not None and 9 <= occupation.size < 12


def test_a_value_too_long_for_one_line_at_the_minimum_wraps_at_the_largest_size_that_fits(renderer: Renderer) -> None:
    page = renderer.page(replace(typical(), occupation_name="一" * 40), dpi=150)
    occupation = page.placement("occupation_name")
    assert len(occupation.lines) == 2 and occupation.size is not None
    assert abs(len(occupation.lines[0]) - len(occupation.lines[1])) <= 1  # balanced, no orphan


def test_a_paragraph_wraps_before_it_shrinks(pages: dict[str, Page]) -> None:
    body = pages["portrait"].placement("body_text")
    assert body.size == 12 and len(body.lines) == 2


def test_text_that_cannot_fit_is_refused_with_a_message_in_both_languages(renderer: Renderer) -> None:
    view = replace(typical(), organization_name="某" * 120)
    with pytest.raises(TextDoesNotFit) as caught:
        renderer.page(view, dpi=150)
    assert caught.value.code == "text_does_not_fit" and caught.value.kind == "invalid_input"
    assert "organization" in caught.value.message and "发证机构" in caught.value.message_zh
    with pytest.raises(TextDoesNotFit):
        renderer.check(view)


# Line breaking -------------------------------------------------------------------------


def _measure(size_px: float = 40) -> _Measure:
    return _Measure(FontSet.system().face("serif").measure(size_px), 0.0)


def test_tokens_keep_the_name_separator_and_punctuation_with_the_character_before() -> None:
    assert tokens("阿卜杜·买买提") == ["阿", "卜", "杜·", "买", "买", "提"]
    assert tokens("（工种）相应。") == ["（工", "种）", "相", "应。"]
    assert tokens("编号Y0001 23") == ["编", "号", "Y0001", " ", "23"]


@pytest.mark.parametrize("width_chars", [3.5, 5.5, 7.5, 9.5, 13.5])
def test_no_line_starts_with_closing_punctuation_or_ends_with_an_opening_one(width_chars: float) -> None:
    measure = _measure()
    text = "本证书由（某某公司）颁发，表明持证人·通过认定。具备该职业（工种）相应水平。"
    lines = wrap(text, measure, width_chars * 40)
    assert "".join(lines) == text
    for line in lines:
        assert line[0] not in NO_LINE_START and line[-1] not in NO_LINE_END, lines


def test_a_name_breaks_after_its_separator_when_it_can() -> None:
    measure = _measure()
    lines = wrap(LONG_NAME, measure, 14 * 40)
    assert lines == ["阿卜杜热合曼·买买提艾力·", "阿不都热依木江"]


def test_ascii_runs_break_only_at_spaces_unless_longer_than_a_line() -> None:
    measure = _measure(20)
    width = measure("Level 3 / Senior") + 5
    assert wrap("Level 3 / Senior Worker", measure, width) == ["Level 3 / Senior", "Worker"]
    lines = wrap("证书编号Y000123000001263000001", measure, measure("证书编号Y0001") + 5)
    assert lines[0] == "证书编号"  # the number moves to the next line rather than break after Y0001 ...
    assert "".join(lines[1:]) == "Y000123000001263000001"  # ... and splits only because no line holds it
    pieces = wrap("Y000123000001263000001", measure, 100)
    assert "".join(pieces) == "Y000123000001263000001" and all(measure(p) <= 100 for p in pieces)


def test_fit_reports_its_size_and_lines_and_stays_in_the_box() -> None:
    face = FontSet.system().face("serif")
    style = Style(size=12, min_size=9, max_lines=2)
    box = (100.0, 200.0, 1000.0, 140.0)
    fitted = fit(LONG_ORGANIZATION, style, face, box, 300, "organization_name")
    assert "".join(fitted.lines) == LONG_ORGANIZATION and len(fitted.lines) == 2
    font = fitted.font
    for run in fitted.runs:
        left, top, right, bottom = font.getbbox(run.text, anchor="ls")
        assert inside(
            (int(run.x + left), int(run.y + top), int(run.x + right), int(run.y + bottom)), (100, 200, 1000, 140)
        )


def test_layout_minimum_sizes_leave_room_for_the_lines_they_allow() -> None:
    for name in LAYOUTS:
        layout = load_layout(name)
        for field in layout.fields:
            if field.key not in ("photo", "qr"):
                assert field.box[3] >= field.style.line_mm(field.style.min_size) - 1e-6, (name, field.key)
