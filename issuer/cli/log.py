"""The transparency log: ``issuer log export`` (from the service's database) and
``issuer audit`` (offline, with the core only, against a trust bundle)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from issuer.cli.admin import local
from issuer.cli.bundles import load_root, warn_about
from issuer.cli.output import EXIT_NOT_VALID, EXIT_UNKNOWN, EXIT_VALID, fail, progress, write_atomically
from issuer.cli.verdicts import UNPINNED_NOTE
from issuer.logsource import EXPORT_FORMAT
from issuer.service.log import TransparencyLog

if TYPE_CHECKING:
    from issuer.core.transparency import TreeHead


@click.group("log")
def log_group() -> None:
    """The transparency log / 透明日志."""


@log_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def log_export(path: str) -> None:
    """Write the whole log as of its latest signed tree head to PATH, from this service's
    database: JSON Lines, first {"format": "issuer-log", "version": 1, "tree_head": <signed
    head, base64>, "tree_size": n}, then {"index": i, "entry": <base64>} for i = 0 … n-1.
    Anyone can check it with the trust bundle: the leaf hashes rebuild the head's root."""
    _, use = local()
    head = use.log.latest_head()
    if head is None:
        fail("log_empty: 日志为空 / the log is empty")
    write_atomically(Path(path), _log_lines(use.log, head))
    click.echo(
        f"wrote {head.tree_size} log entries to {path} (root {head.root_hash.hex()}) / 已导出{head.tree_size}条日志"
    )


def _log_lines(log: TransparencyLog, head: TreeHead) -> Iterator[bytes]:
    """The lines of ``log export``: the signed head, then every entry it covers, in order."""
    from base64 import b64encode

    from issuer.service.log import MAX_ENTRIES_PER_PAGE

    first = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "tree_head": b64encode(head.signed).decode(),
        "tree_size": head.tree_size,
    }
    yield json.dumps(first).encode() + b"\n"
    for start in range(0, head.tree_size, MAX_ENTRIES_PER_PAGE):
        end = min(start + MAX_ENTRIES_PER_PAGE, head.tree_size)
        page = log.entries(start, end)
        if [index for index, _ in page] != list(range(start, end)):
            fail(f"log_incomplete: 日志条目{start}至{end - 1}不完整 / log entries {start} to {end - 1} are missing")
        for index, data in page:
            yield json.dumps({"index": index, "entry": b64encode(data).decode()}).encode() + b"\n"


# --- the auditor (offline, with the core only) ------------------------------------------------


@click.command("audit")
@click.argument("bundle", type=click.Path(dir_okay=False), required=False)
@click.option("--log", "log_where", help="The service's address (https://…) or a `log export` file.")
@click.option(
    "--instance",
    is_flag=True,
    help="Audit this service's own database instead: the log, every certificate row against its signed "
    "credential and status list, the audit trail against its checkpoints in the log.",
)
@click.option("--since", "since_path", type=click.Path(dir_okay=False), help="A tree head seen before (JSON file).")
@click.option("--save-head", type=click.Path(dir_okay=False), help="After a clean audit, save the audited tree head.")
@click.option("--root", "root_path", type=click.Path(dir_okay=False), help="Pin this root certificate (PEM or DER).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes that verify the certificates (one per core audits fastest).",
)
def audit_command(
    bundle: str | None,
    log_where: str | None,
    instance: bool,
    since_path: str | None,
    save_head: str | None,
    root_path: str | None,
    as_json: bool,
    workers: int,
) -> None:
    """Audit the transparency log against the trust BUNDLE, offline but for reading the log:
    the tree head is signed by the trust list's log key and the entries hash to it; the
    bundle's tree head and --since are prefixes of it (append-only); every entry's signature
    and, for certificates, the verifier's rules at the time they were logged (key, registration,
    scope, number); numbers unique and serials continuous per organization, year and level;
    revocations set in the status lists and the other way round; key events as in the trust list.

    With --instance (no BUNDLE, no --log), audit this service's database (DATABASE_URL) as
    well: certificate rows that disagree with what was signed, audit events broken, rewritten
    or deleted.

    Exit 0 no finding, 1 findings (each printed), 2 cannot audit (unreadable bundle or log)."""
    if instance:
        if bundle or log_where:
            fail("usage: issuer audit --instance takes no BUNDLE and no --log / --instance 不需要信任包和日志", 2)
        _audit_instance(as_json)
    if not bundle or not log_where:
        fail("usage: issuer audit BUNDLE --log <address or file>, or issuer audit --instance / 缺少参数", 2)
    from issuer.core.auditor import audit
    from issuer.core.trust import load_bundle
    from issuer.logsource import open_log

    pinned = load_root(root_path) if root_path else None
    try:
        store = load_bundle(Path(bundle).read_bytes(), pinned_root=pinned)
    except OSError as exc:
        fail(f"unreadable: cannot read trust bundle {bundle}: {exc.strerror} / 无法读取信任包", EXIT_UNKNOWN)
    source = open_log(log_where)
    seen = [_read_head(since_path)] if since_path else []
    warn_about(store)
    if store.tree_head is not None and store.tree_head_signed is not None:
        if store.tree_head.tree_size <= source.tree_size:
            seen.append(store.tree_head_signed)
        else:
            click.echo("注意：信任包的树头比日志新 / note: the bundle's tree head is newer than the log", err=True)
    with progress(source.tree_size, "审计 / auditing") as advance:
        report = audit(store, source.tree_head, source.entries, since=seen, progress=advance, workers=workers)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_audit(report, pinned is not None)
    if report.clean and save_head:
        write_atomically(Path(save_head), [json.dumps(report.tree_head.to_json(), indent=1).encode()])
    sys.exit(EXIT_VALID if report.clean else EXIT_NOT_VALID)


def _audit_instance(as_json: bool) -> None:
    from issuer.core.errors import IssuerError

    _, use = local()
    try:
        report = use.storage_audit.run()
    except IssuerError as exc:
        fail(f"{exc.code}: {exc.message_zh} / {exc.message}", EXIT_UNKNOWN)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_audit(report, pinned=True)
    sys.exit(EXIT_VALID if report.clean else EXIT_NOT_VALID)


def _read_head(path: str) -> bytes:
    """A tree head saved by ``--save-head`` or answered by ``GET /api/v1/log/tree-head``."""
    import base64
    import binascii

    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        return base64.b64decode(saved["signed"], validate=True)
    except OSError as exc:
        fail(f"unreadable: cannot read {path}: {exc.strerror} / 无法读取树头文件", EXIT_UNKNOWN)
    except (ValueError, KeyError, TypeError, binascii.Error):
        fail(f"unreadable: {path} is not a saved tree head / 不是树头文件", EXIT_UNKNOWN)


def _print_audit(report: Any, pinned: bool) -> None:
    head = report.tree_head
    click.echo(
        f"日志 / log: {head.tree_size}条 entries, root {head.root_hash.hex()}, signed {head.timestamp.isoformat()}"
    )
    click.echo(
        f"  证书 {report.issued}, 撤销 {report.revoked}, 密钥事件 {report.key_events}, 机构 {len(report.organizations)}"
        f" / certificates {report.issued}, revocations {report.revoked}, key events {report.key_events}"
    )
    for finding in report.findings:
        click.echo(f"  ✗ {finding.line}")
    verdict = (
        "无问题 / no finding"
        if report.clean
        else f"发现{len(report.findings)}个问题 / {len(report.findings)} finding(s)"
    )
    click.echo(f"结果 / Result: {verdict}")
    if not pinned:
        click.echo(UNPINNED_NOTE)
