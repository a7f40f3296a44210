"""A verdict in words: the result, in Chinese and English, and what it means, the
certificate's details and every check (``issuer verify``'s output for one certificate)."""

from __future__ import annotations

from typing import Any

import click

from issuer.cli.output import EXIT_NOT_VALID, EXIT_UNKNOWN, EXIT_VALID

VERDICT_WORDS = {
    "valid": ("有效", "VALID"),
    "not_valid": ("无效", "NOT VALID"),
    "revoked": ("已撤销", "REVOKED"),
    "unknown": ("无法判断", "CANNOT TELL"),
    "unreadable": ("无法读取", "UNREADABLE"),
}
VERDICT_EXIT = {"valid": EXIT_VALID, "revoked": EXIT_NOT_VALID, "not_valid": EXIT_NOT_VALID, "unknown": EXIT_UNKNOWN}
UNPINNED_NOTE = "注意：根证书取自信任包本身，未经 --root 固定 / note: root taken from the bundle (pin it with --root)"
MARKS = {"passed": "✓", "failed": "✗", "unknown": "?", "not_run": "·"}


REFRESH_HINT = (
    "如信任包较旧，可用 issuer trust pull 更新后再验证 / if the bundle is old, update it with issuer trust pull"
)


SUITE_WORDS = {"ed25519": "Ed25519", "sm2-sm3": "SM2/SM3（国密）"}
"""The signature suite checked (``Verdict.suite``), as a person reads it."""


def print_verdict(verdict: Any, trust: Any, pinned: bool) -> None:
    from issuer.core.clock import CST
    from issuer.core.display import date_zh, level_zh
    from issuer.core.explain import explain
    from issuer.core.identity import default_document_types

    zh, en = VERDICT_WORDS[verdict.status.value]
    click.echo(f"结果 / Result: {zh} {en}")
    plain = explain(verdict)
    click.echo(f"  {plain.headline_zh} / {plain.headline_en}")
    click.echo(f"  {plain.detail_zh} / {plain.detail_en}")
    click.echo(f"  {plain.advice_zh} / {plain.advice_en}")
    if verdict.reason in ("unknown_key", "status_unknown", "status_list_unusable", "organization_unreadable"):
        click.echo(f"  {REFRESH_HINT}")
    cred = verdict.credential
    if cred is not None:
        occupation = trust.occupation_name(cred.occupation) or ""
        rows: list[tuple[str, str]] = [
            ("证书编号", str(cred.number)),
            ("姓名", cred.holder_name),
            ("证件类型", default_document_types().name_zh(cred.document_type)),
            ("职业", f"{occupation}（{cred.occupation}）"),
            ("工种/职业方向", cred.work_type or "--"),
            ("等级", level_zh(cred.level)),
            ("发证日期", date_zh(cred.issue_date)),
        ]
        if cred.issued_at is not None:
            rows.append(("发证时间", f"{cred.issued_at.astimezone(CST):%Y-%m-%d %H:%M:%S}（北京时间）"))
        if verdict.assessment_method is not None:
            _, method_zh, method_en = verdict.assessment_method
            rows.append(("评价方式", f"{method_zh}（{method_en}）"))
        if verdict.signer is not None:
            org = verdict.signer.organization
            rows.append(("发证机构", f"{org.name}（{org.code}）"))
        if verdict.suite is not None:
            rows.append(("签名算法", SUITE_WORDS.get(verdict.suite, verdict.suite)))
        for label, value in rows:
            click.echo(f"  {label}: {value}")
    click.echo("检查 / Checks:")
    for check in verdict.checks:
        line = f"  {MARKS[check.outcome.value]} {check.name}"
        if check.detail:
            line += f": {check.detail_zh} / {check.detail}"
        click.echo(line)
    if not pinned:
        click.echo(UNPINNED_NOTE)
