"""What a certificate shows (人社鉴发〔2021〕1号): every required field, in the required
order and wording, with the values formatted as the ministry prescribes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from issuer.render import REQUIRED, TITLE, LayoutError, Page, Renderer, RenderError, layout_names, load_layout
from issuer.render.layout import layouts_dir

from .helpers import LAYOUTS, typical

LABELS = {
    "holder_name": "姓名",
    "document_type_name": "证件类型",
    "document_number": "证件号码",
    "occupation_name": "职业名称",
    "work_type": "工种/职业方向",
    "level_label": "职业技能等级",
    "number": "证书编号",
    "organization_name": "发证机构",
    "issue_date": "发证日期",
    "certificate_lookup": "证书信息查询网址",
    "organization_lookup": "机构信息查询网址",
}
VALUES = {
    "title": "职业技能等级证书",
    "holder_name": "张三丰",
    "document_type_name": "居民身份证",
    "document_number": "11010519491231002X",  # in full: the printed certificate goes to its holder
    "occupation_name": "电工",
    "work_type": "维修电工",
    "level_label": "三级/高级工",
    "number": "Y000123000001263000001",
    "organization_name": "黑龙江某某电力股份有限公司",
    "issue_date": "2026年11月29日",
    "certificate_lookup": "证书信息查询网址：http://jndj.osta.org.cn",
    "organization_lookup": "机构信息查询网址：http://pjjg.osta.org.cn",
}


def test_the_shipped_layouts_are_a4_portrait_and_a4_landscape() -> None:
    assert {"portrait", "landscape"} <= set(layout_names())
    portrait, landscape = load_layout("portrait"), load_layout("landscape")
    assert (portrait.width, portrait.height, portrait.english) == (210, 297, False)
    assert (landscape.width, landscape.height, landscape.english) == (297, 210, True)


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_required_field_is_drawn_in_order_with_the_prescribed_wording(pages: dict[str, Page], name: str) -> None:
    page = pages[name]
    drawn = [p.key for p in page.placements]
    assert [k for k in drawn if k in REQUIRED] == list(REQUIRED)
    by_key = {p.key: p for p in page.placements}
    for key, label in LABELS.items():
        assert by_key[key].label == label, key
        if key not in ("certificate_lookup", "organization_lookup"):
            assert by_key[key].label_ink is not None, f"label of {key} not drawn"
    assert by_key["title"].text == TITLE == "职业技能等级证书"
    assert "".join(by_key["title"].lines) == TITLE
    for key, value in VALUES.items():
        text = by_key[key].text
        assert text is not None and by_key[key].ink is not None, key
        expected = value
        if name == "landscape" and key.endswith("lookup"):
            expected = value.replace("网址：", f"网址（{by_key[key].label_en}）：")
        assert text == expected, key
    assert by_key["body_text"].text is not None and "黑龙江某某电力股份有限公司" in by_key["body_text"].text
    assert by_key["photo"].ink is not None and by_key["qr"].ink is not None


def test_the_bilingual_layout_adds_english_labels_and_values(pages: dict[str, Page]) -> None:
    by_key = {p.key: p for p in pages["landscape"].placements}
    assert by_key["title"].text_en == "Vocational Skill Level Certificate"
    assert by_key["level_label"].text_en == "Level 3 / Senior Worker"
    assert by_key["issue_date"].text_en == "29 November 2026"
    assert by_key["document_type_name"].text_en == "Resident Identity Card"
    assert by_key["body_text"].text_en and by_key["body_text"].text_en.startswith("This is to certify")
    assert by_key["holder_name"].label_en == "Name" and by_key["number"].label_en == "Certificate No."
    assert {p.text_en for p in pages["portrait"].placements} == {None}


@pytest.mark.parametrize("work_type", [None, "", "  "])
def test_no_work_type_prints_two_dashes_never_blank(renderer: Renderer, work_type: str | None) -> None:
    view = replace(typical(work_type=None), work_type=work_type)
    page = renderer.page(view, dpi=150)
    assert page.placement("work_type").text == "--"
    assert page.placement("work_type").ink is not None


def test_optional_lookup_site_and_print_serial_appear_only_when_given(renderer: Renderer) -> None:
    plain = renderer.page(typical(), dpi=150)
    assert {"provincial_lookup", "print_serial"}.isdisjoint(p.key for p in plain.placements)
    view = replace(typical(), provincial_lookup="http://hrss.example.gov.cn", print_serial="A0012345")
    for name in LAYOUTS:
        page = renderer.page(view, layout=name, dpi=150)
        serial, lookup = page.placement("print_serial"), page.placement("provincial_lookup")
        assert serial.text is not None and serial.text.startswith("印制流水码") and serial.text.endswith("A0012345")
        assert lookup.text is not None and lookup.text.endswith("：http://hrss.example.gov.cn")


def test_the_title_is_always_the_prescribed_one(renderer: Renderer) -> None:
    with pytest.raises(RenderError) as caught:
        renderer.page(replace(typical(), title="技能证书"), dpi=150)
    assert caught.value.code == "invalid_title"


def test_an_optional_field_the_layout_has_no_place_for_is_refused(renderer: Renderer, tmp_path: Path) -> None:
    text = (layouts_dir() / "portrait.toml").read_text(encoding="utf-8")
    path = tmp_path / "no-serial.toml"
    path.write_text(text[: text.index('[[field]]\nkey = "print_serial"')], encoding="utf-8")
    renderer.page(typical(), layout=load_layout(path), dpi=150)
    with pytest.raises(LayoutError):
        renderer.page(replace(typical(), print_serial="A0012345"), layout=load_layout(path), dpi=150)


@pytest.mark.parametrize("key", ["holder_name", "document_number", "body_text", "number"])
def test_an_empty_required_value_is_refused(renderer: Renderer, key: str) -> None:
    view = replace(typical(), **{key: " "})
    with pytest.raises(RenderError) as caught:
        renderer.check(view)
    assert caught.value.code == "missing_field"


def test_before_signing_the_view_can_be_checked_without_a_qr_text_but_not_drawn(renderer: Renderer) -> None:
    unsigned = replace(typical(), qr_text="")
    renderer.check(unsigned)
    with pytest.raises(RenderError) as caught:
        renderer.page(unsigned, dpi=150)
    assert caught.value.code == "missing_field"


def test_checking_remembers_no_holder_name_or_document_number() -> None:
    """Fits of values that repeat are remembered; a person's name and ID number are not."""
    renderer = Renderer()
    view = replace(typical(), holder_name="欧阳娜娜", document_number="11010519491231002X")
    renderer.check(view, layout="portrait")
    remembered = repr(renderer._fits)
    assert view.occupation_name in remembered
    assert "欧阳娜娜" not in remembered and "11010519491231002X" not in remembered
