"""``issuer number explain``: the parts of a certificate number."""

from __future__ import annotations

import json

import click


@click.group()
def number() -> None:
    """Certificate numbers / 证书编号."""


_EXPLAIN_LABELS = (
    ("kind_zh", "类型"),
    ("org_code", "机构代码"),
    ("org_kind_zh", "机构类别"),
    ("authority_code", "备案机构代码"),
    ("province_display", "省份"),
    ("site_code", "站点序列码"),
    ("year", "年份"),
    ("level_label_zh", "等级"),
    ("serial", "流水号"),
    ("institution_type_zh", "机构类型"),
    ("national_lookup_number", "全国查询编号"),
    ("note_zh", "说明"),
)


@number.command("explain")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def number_explain(text: str, as_json: bool) -> None:
    """Explain the parts of a certificate number."""
    from issuer.core.numbering import explain_number

    parts = explain_number(text)
    if as_json:
        click.echo(json.dumps(parts, ensure_ascii=False, indent=2))
        return
    click.echo(f"编号 {parts['number']}")
    shown = dict(parts)
    if "province" in parts:
        shown["province_display"] = f"{parts['province_name']}（{parts['province']}）"
    for key, label in _EXPLAIN_LABELS:
        if key in shown:
            click.echo(f"  {label}: {shown[key]}")
