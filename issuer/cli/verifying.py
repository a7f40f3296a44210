"""``issuer verify``: certificates verified offline against a trust bundle, one in detail or
many a line each."""

from __future__ import annotations

import io
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from issuer.cli.bundles import load_root, warn_about
from issuer.cli.output import EXIT_NOT_VALID, EXIT_UNKNOWN, EXIT_VALID, fail
from issuer.cli.verdicts import UNPINNED_NOTE, VERDICT_EXIT, VERDICT_WORDS, print_verdict

if TYPE_CHECKING:
    from issuer.core.trust import TrustStore
    from issuer.core.verify import Verdict
    from issuer.qrinput import Input, Unreadable


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    from issuer.core.clock import parse_instant

    try:
        return parse_instant(value)
    except ValueError:
        raise click.BadParameter("use 2026-11-29 or 2026-11-29T08:00:00+08:00", param_hint="--at") from None


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--trust", "bundle", required=True, type=click.Path(dir_okay=False), help="Trust bundle (JSON).")
@click.option("--root", "root_path", type=click.Path(dir_okay=False), help="Pin this root certificate (PEM or DER).")
@click.option("--at", "at_text", help="Verify as of this date or time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line).")
def verify(inputs: tuple[str, ...], bundle: str, root_path: str | None, at_text: str | None, as_json: bool) -> None:
    """Verify certificates offline, revocation included (the bundle's status lists).

    \b
    INPUT is any of:
      a QR text (HTTPS://…/V/… or bare base32);
      an image (PNG, JPEG, WebP, BMP, GIF) or a PDF: every QR code in it, every page;
      a folder: each file directly in it, by name (hidden files skipped);
      -: one QR text per line on standard input.

    One QR text or one file holding one QR code: the verdict in detail (--json: the
    verdict object on one line). Otherwise one line per code (input, verdict, number and
    holder, the failed check) and a count per outcome; with --json, one {"input",
    "status", "verdict"|"error"} object per line and no count.

    Exit 0 all valid; 1 any not valid or revoked; else 2 any that cannot be told (no
    current status list: "status unknown since …") or read (missing or damaged file, no
    QR code), or an unusable trust bundle."""
    from issuer import qrinput
    from issuer.core.trust import load_bundle

    at = _parse_at(at_text)
    try:
        bundle_bytes = Path(bundle).read_bytes()
    except OSError as exc:
        fail(f"unreadable: cannot read trust bundle {bundle}: {exc.strerror} / 无法读取信任包", EXIT_UNKNOWN)
    pinned = load_root(root_path) if root_path else None
    trust = load_bundle(bundle_bytes, pinned_root=pinned)
    warn_about(trust)
    items = qrinput.read_inputs(inputs, _stdin())
    first = list(itertools.islice(items, 2))
    if len(first) == 1 and qrinput.is_single(inputs):
        sys.exit(_verify_one(first[0], trust, at, as_json, pinned is not None))
    sys.exit(_verify_many(itertools.chain(first, items), trust, at, as_json, pinned is not None))


def _stdin() -> TextIO:
    """Standard input, with bytes that are not UTF-8 read as U+FFFD: such a line is then a
    QR text that is not valid, not an error. A closed standard input reads as empty."""
    if sys.stdin is None:
        return io.StringIO()
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    return sys.stdin


@dataclass(frozen=True)
class _Result:
    """One line of ``issuer verify``: a verdict, or why the input could not be read."""

    label: str
    status: str
    verdict: Verdict | None = None
    error: Unreadable | None = None


def _check(item: Input, trust: TrustStore, at: datetime) -> _Result:
    from issuer import qrinput
    from issuer.core import verify as verifier

    if isinstance(item, qrinput.Unreadable):
        return _Result(item.label, "unreadable", error=item)
    verdict = verifier.verify(item.text, trust, at=at)
    return _Result(item.label, verdict.status.value, verdict=verdict)


def _verify_one(item: Input, trust: TrustStore, at: datetime, as_json: bool, pinned: bool) -> int:
    result = _check(item, trust, at)
    if result.verdict is None:
        fail(_result_line(result), EXIT_UNKNOWN)
    if as_json:
        click.echo(json.dumps(result.verdict.to_json(), ensure_ascii=False))
    else:
        print_verdict(result.verdict, trust, pinned)
    return VERDICT_EXIT[result.status]


def _verify_many(items: Iterable[Input], trust: TrustStore, at: datetime, as_json: bool, pinned: bool) -> int:
    counts = dict.fromkeys(VERDICT_WORDS, 0)
    for item in items:
        result = _check(item, trust, at)
        counts[result.status] += 1
        click.echo(_result_json(result) if as_json else _result_line(result))
    if not as_json:
        total = sum(counts.values())
        per_status = ", ".join(f"{zh} {en} {counts[status]}" for status, (zh, en) in VERDICT_WORDS.items())
        click.echo(f"合计 / Total {total}: {per_status}")
        if not pinned:
            click.echo(UNPINNED_NOTE)
    if counts["not_valid"] or counts["revoked"]:
        return EXIT_NOT_VALID
    return EXIT_UNKNOWN if counts["unknown"] or counts["unreadable"] else EXIT_VALID


def _result_line(result: _Result) -> str:
    """``label: 无效 NOT VALID · number holder · check: 中文 / English``, on one line."""
    from issuer.qrinput import printable

    zh, en = VERDICT_WORDS[result.status]
    return printable(" · ".join([f"{result.label}: {zh} {en}", *_result_details(result)]))


def _result_details(result: _Result) -> Iterator[str]:
    if result.error is not None:
        yield f"{result.error.message_zh} / {result.error.message}"
    if result.verdict is not None:
        cred = result.verdict.credential
        if cred is not None:
            yield f"{cred.number} {cred.holder_name}"
        check = result.verdict.deciding
        if check is not None:
            from issuer.core.explain import explain

            plain = explain(result.verdict)
            yield f"{plain.headline_zh} / {plain.headline_en}"
            yield f"{check.name}: {check.detail_zh} / {check.detail}"


def _result_json(result: _Result) -> str:
    out: dict[str, Any] = {"input": result.label, "status": result.status}
    if result.verdict is not None:
        out["verdict"] = result.verdict.to_json()
    elif (error := result.error) is not None:
        out["error"] = {"code": error.code, "message": error.message, "message_zh": error.message_zh}
    return json.dumps(out, ensure_ascii=False)
