"""The ``issuer`` command. Errors become one line on stderr and an exit code, here only."""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import itertools
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

import click

from issuer.config import ConfigError
from issuer.core.errors import IssuerError, TrustError
from issuer.logsource import EXPORT_FORMAT

if TYPE_CHECKING:
    from issuer.core.transparency import TreeHead
    from issuer.core.trust import TrustStore
    from issuer.core.verify import Verdict
    from issuer.qrinput import Input, Unreadable

EXIT_VALID, EXIT_NOT_VALID, EXIT_UNKNOWN = 0, 1, 2


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IssuerError as exc:
            _fail(exc.line(), EXIT_UNKNOWN if isinstance(exc, TrustError) else 1)
        except ConfigError as exc:
            _fail(f"configuration: {exc} / 配置错误")


@click.group(cls=_Group)
@click.version_option(package_name="issuer")
def main() -> None:
    """职业技能等级证书签发与验证 / Issue and verify vocational skill level certificates."""


def _now() -> datetime:
    return datetime.now(UTC)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Run the service (development server). With the in-process queue, batches whose
    images were being drawn when the service stopped are picked up again."""
    from issuer.app import create_app
    from issuer.service import jobs

    app = create_app()
    svc = app.extensions["issuer.services"]
    if isinstance(svc.jobs, jobs.InProcessQueue):
        try:
            resumed = jobs.resume(svc)
        except Exception as exc:
            click.echo(f"batches not resumed: {exc}", err=True)
        else:
            if resumed:
                click.echo(f"resumed {len(resumed)} unfinished batch(es) / 继续生成{len(resumed)}个批次的证书图片")
    app.run(host=host, port=port)


@main.command()
def worker() -> None:
    """Draw batches' certificates from the Redis queue (ISSUER_QUEUE=redis, ISSUER_REDIS_URL)
    until SIGTERM or Ctrl-C; the job under way is finished first. Run one per core."""
    import logging
    import signal
    import threading

    from issuer.app import create_app
    from issuer.service.context import build_services
    from issuer.service.jobs import RedisQueue

    app = create_app()
    svc = build_services(app.config, app.instance_path, worker=True)
    if not isinstance(svc.jobs, RedisQueue):
        _fail("ISSUER_QUEUE is not redis: the service draws batches itself / 未启用Redis队列")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"worker {os.getpid()} waiting for batches / 等待批量任务", err=True)
    svc.jobs.work(stop)


# --- numbers -------------------------------------------------------------------------


@main.group()
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


# --- verification ----------------------------------------------------------------------


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return _now()
    from issuer.core.clock import parse_instant

    try:
        return parse_instant(value)
    except ValueError:
        raise click.BadParameter("use 2026-11-29 or 2026-11-29T08:00:00+08:00", param_hint="--at") from None


_VERDICT_WORDS = {
    "valid": ("有效", "VALID"),
    "not_valid": ("无效", "NOT VALID"),
    "revoked": ("已撤销", "REVOKED"),
    "unknown": ("无法判断", "CANNOT TELL"),
    "unreadable": ("无法读取", "UNREADABLE"),
}
_VERDICT_EXIT = {"valid": EXIT_VALID, "revoked": EXIT_NOT_VALID, "not_valid": EXIT_NOT_VALID, "unknown": EXIT_UNKNOWN}
_UNPINNED_NOTE = "注意：根证书取自信任包本身，未经 --root 固定 / note: root taken from the bundle (pin it with --root)"
_MARKS = {"passed": "✓", "failed": "✗", "unknown": "?", "not_run": "·"}


_REFRESH_HINT = (
    "如信任包较旧，可用 issuer trust pull 更新后再验证 / if the bundle is old, update it with issuer trust pull"
)


def _print_verdict(verdict: Any, trust: Any, pinned: bool) -> None:
    from issuer.core.clock import CST
    from issuer.core.display import date_zh, level_zh
    from issuer.core.explain import explain
    from issuer.core.identity import default_document_types

    zh, en = _VERDICT_WORDS[verdict.status.value]
    click.echo(f"结果 / Result: {zh} {en}")
    plain = explain(verdict)
    click.echo(f"  {plain.headline_zh} / {plain.headline_en}")
    click.echo(f"  {plain.detail_zh} / {plain.detail_en}")
    click.echo(f"  {plain.advice_zh} / {plain.advice_en}")
    if verdict.reason in ("unknown_key", "status_unknown", "status_list_unusable", "organization_unreadable"):
        click.echo(f"  {_REFRESH_HINT}")
    cred = verdict.credential
    if cred is not None:
        occupation = trust.occupation_name(cred.occupation) or ""
        doc_type = next((t.name_zh for t in default_document_types() if t.code == cred.document_type), "")
        rows: list[tuple[str, str]] = [
            ("证书编号", str(cred.number)),
            ("姓名", cred.holder_name),
            ("证件类型", doc_type or str(cred.document_type)),
            ("职业", f"{occupation}（{cred.occupation}）"),
            ("工种/职业方向", cred.work_type or "--"),
            ("等级", level_zh(cred.level)),
            ("发证日期", date_zh(cred.issue_date)),
        ]
        if cred.issued_at is not None:
            rows.append(("发证时间", f"{cred.issued_at.astimezone(CST):%Y-%m-%d %H:%M:%S}（北京时间）"))
        if verdict.signer is not None:
            org = verdict.signer.organization
            rows.append(("发证机构", f"{org.name}（{org.code}）"))
        for label, value in rows:
            click.echo(f"  {label}: {value}")
    click.echo("检查 / Checks:")
    for check in verdict.checks:
        line = f"  {_MARKS[check.outcome.value]} {check.name}"
        if check.detail:
            line += f": {check.detail_zh} / {check.detail}"
        click.echo(line)
    if not pinned:
        click.echo(_UNPINNED_NOTE)


@main.command()
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
        _fail(f"unreadable: cannot read trust bundle {bundle}: {exc.strerror} / 无法读取信任包", EXIT_UNKNOWN)
    pinned = _load_root(root_path) if root_path else None
    trust = load_bundle(bundle_bytes, pinned_root=pinned)
    _warn_about(trust)
    items = qrinput.read_inputs(inputs, _stdin())
    first = list(itertools.islice(items, 2))
    if len(first) == 1 and qrinput.is_single(inputs):
        sys.exit(_verify_one(first[0], trust, at, as_json, pinned is not None))
    sys.exit(_verify_many(itertools.chain(first, items), trust, at, as_json, pinned is not None))


def _warn_about(trust: TrustStore) -> None:
    """Parts of the bundle set aside: they make only their organization's verdicts unknown."""
    for problem in trust.problems:
        click.echo(f"warning: {problem.message_zh} / {problem.message}", err=True)


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
        _fail(_result_line(result), EXIT_UNKNOWN)
    if as_json:
        click.echo(json.dumps(result.verdict.to_json(), ensure_ascii=False))
    else:
        _print_verdict(result.verdict, trust, pinned)
    return _VERDICT_EXIT[result.status]


def _verify_many(items: Iterable[Input], trust: TrustStore, at: datetime, as_json: bool, pinned: bool) -> int:
    counts = dict.fromkeys(_VERDICT_WORDS, 0)
    for item in items:
        result = _check(item, trust, at)
        counts[result.status] += 1
        click.echo(_result_json(result) if as_json else _result_line(result))
    if not as_json:
        total = sum(counts.values())
        per_status = ", ".join(f"{zh} {en} {counts[status]}" for status, (zh, en) in _VERDICT_WORDS.items())
        click.echo(f"合计 / Total {total}: {per_status}")
        if not pinned:
            click.echo(_UNPINNED_NOTE)
    if counts["not_valid"] or counts["revoked"]:
        return EXIT_NOT_VALID
    return EXIT_UNKNOWN if counts["unknown"] or counts["unreadable"] else EXIT_VALID


def _result_line(result: _Result) -> str:
    """``label: 无效 NOT VALID · number holder · check: 中文 / English``, on one line."""
    from issuer.qrinput import printable

    zh, en = _VERDICT_WORDS[result.status]
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


def _load_root(path: str) -> Any:
    from cryptography import x509

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        _fail(f"unreadable: cannot read {path}: {exc.strerror} / 无法读取根证书文件", EXIT_UNKNOWN)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        _fail(f"unreadable: {path} is not a certificate / 不是证书文件", EXIT_UNKNOWN)


# --- service administration ----------------------------------------------------------------


def _app_services() -> Any:
    """The app and its services for one command; the database connections are closed when
    the command ends (an in-process caller, such as a test, may run many commands)."""
    from issuer.app import create_app

    app = create_app()
    svc = app.extensions["issuer.services"]
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(svc.db.dispose)
    return app, svc


@main.group()
def db() -> None:
    """The database / 数据库."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision (Alembic)."""
    from issuer.store import migrate

    _, svc = _app_services()
    migrate.upgrade(svc.db.url)
    click.echo(f"database at revision {migrate.current_revision(svc.db.url)}")


@main.group()
def dev() -> None:
    """Development set-up / 开发环境."""


@dev.command("init")
def dev_init() -> None:
    """Migrate the database; create a development authority, organization and API keys where missing."""
    from issuer.service import bootstrap

    app, svc = _app_services()
    done = bootstrap.init_dev(svc, app.instance_path)
    _echo_all(done or ["development set-up already present"])


def _echo_all(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@main.group()
def keys() -> None:
    """Authority keys under keys/ / 密钥管理."""


@keys.command("init-authority")
@click.option("--name", required=True, help="Authority name, e.g. 黑龙江省人力资源和社会保障厅.")
def keys_init_authority(name: str) -> None:
    """Create the authority root key and certificate."""
    from issuer.service import bootstrap

    _, svc = _app_services()
    if not bootstrap.init_authority(svc.keystore, name, now=_now()):
        _fail(f"exists: {svc.keystore.authority_key_path} / 根密钥已存在")
    click.echo(f"created {svc.keystore.authority_cert_path}")


@main.group()
def apikey() -> None:
    """API keys / API密钥."""


@apikey.command("create")
@click.option("--role", required=True, type=click.Choice(["authority_admin", "org_issuer", "auditor"]))
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option("--org", "organization", help="Organization code (org_issuer keys only).")
def apikey_create(role: str, name: str, organization: str | None) -> None:
    """Create an API key and print it once."""
    from issuer.service import apikeys
    from issuer.service.principal import OPERATOR

    _, svc = _app_services()
    new = apikeys.create(svc, OPERATOR, role=role, name=name, organization=organization)
    click.echo(new.secret)
    click.echo(f"key {new.info.id} ({role}); store it now, it is not shown again / 请立即保存，之后不再显示", err=True)


@main.group()
def account() -> None:
    """Web console accounts / 工作台账号."""


@account.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name, as shown in the console.")
@click.option("--role", required=True, type=click.Choice(["org_issuer", "authority_admin"]))
@click.option("--org", "organization", help="Organization code (org_issuer accounts only).")
@click.password_option(help="At least 10 characters (asked for when not given).")
def account_create(username: str, display_name: str, role: str, organization: str | None, password: str) -> None:
    """Create a console account for one person (its password is stored as a scrypt hash)."""
    from issuer.service import accounts
    from issuer.service.principal import OPERATOR

    _, svc = _app_services()
    created = accounts.create(
        svc,
        OPERATOR,
        username=username,
        display_name=display_name,
        role=role,
        password=password,
        organization=organization,
    )
    click.echo(f"account {created.username} ({role}) created / 账号已创建")


@apikey.command("list")
def apikey_list() -> None:
    """List API keys (never their secrets)."""
    from issuer.service import apikeys
    from issuer.service.principal import OPERATOR

    _, svc = _app_services()
    for k in apikeys.list_keys(svc, OPERATOR):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{k.id}  {k.role:<16} {k.organization or '-':<14} {state:<18} {k.name}")


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke an API key by its id."""
    from issuer.service import apikeys
    from issuer.service.principal import OPERATOR

    _, svc = _app_services()
    apikeys.revoke(svc, OPERATOR, key_id)
    click.echo(f"revoked {key_id}")


@main.group()
def trust() -> None:
    """Trust bundles / 信任包."""


@trust.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def trust_export(path: str) -> None:
    """Write the latest signed trust bundle to PATH (what GET /api/v1/trust-bundle serves)."""
    from issuer.service import registry

    _, svc = _app_services()
    sequence, bundle = registry.trust_bundle(svc)
    Path(path).write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    click.echo(f"wrote trust list {sequence} to {path}")


# --- batches (a client of a running service) -----------------------------------------------

EXIT_UNREACHABLE, EXIT_PENDING = 2, 3
"""Batch commands: 0 done, 1 refused or failed, 2 the service cannot be reached, 3 still being drawn."""
BLOCK = 1 << 20
"""Bytes read, sent or written at a time when uploading or downloading."""
_BATCHES = "/api/v1/batches"
_Command = TypeVar("_Command", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Service:
    """The running service. Every request carries the API key; every failure ends the command
    with one line: the service's refusal (exit 1) or the connection's failure (exit 2)."""

    url: str
    key: str

    def open(
        self,
        path: str,
        *,
        method: str = "GET",
        body: Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> http.client.HTTPResponse:
        request = urllib.request.Request(self.url.rstrip("/") + path, data=body, method=method, headers=headers or {})
        request.add_unredirected_header("Authorization", f"Bearer {self.key}")  # not sent on to a redirect
        with self.reaching():
            try:
                response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
                return response
            except urllib.error.HTTPError as exc:
                _fail_with_answer(exc.code, exc.read())

    def json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        with self.open(path, **kwargs) as response:
            return _json_object(response.status, self.read(response))

    def read(self, response: http.client.HTTPResponse, size: int = -1) -> bytes:
        with self.reaching():
            return response.read(size)

    @contextmanager
    def reaching(self) -> Iterator[None]:
        """A connection that fails, before or during a transfer, ends the command (exit 2)."""
        try:
            yield
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            _fail(f"unreachable: {self.url}: {reason or type(exc).__name__} / 无法连接服务", EXIT_UNREACHABLE)


def _json_object(status: int, body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        _fail(f"HTTP {status}: the answer is not a JSON object (is --url the issuer service?) / 服务返回内容无法识别")
    return answer


def _fail_with_answer(status: int, body: bytes) -> NoReturn:
    """The service's error (``code``, ``message_zh``, ``message``) as one line; a roster's
    problems are printed first, one line each."""
    answer = _json_object(status, body)
    errors = answer.get("errors")
    for problem in errors.get("problems", []) if isinstance(errors, dict) else []:
        _echo_problem(problem)
    _fail(f"{answer.get('code', f'HTTP {status}')}: {answer.get('message_zh', '')} / {answer.get('message', '')}")


def _batch_path(batch_id: str, *rest: str) -> str:
    return "/".join([_BATCHES, urllib.parse.quote(batch_id.strip(), safe=""), *rest])


def _batch_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("a batch id is required / 请提供批次编号")
    return value.strip()


def _service_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if urllib.parse.urlsplit(value).scheme not in ("http", "https"):
        raise click.BadParameter(f"{value!r} is not an http(s) URL / 应为http(s)地址")
    return value


def _service_options(command: _Command) -> _Command:
    """``--url`` and ``--key``, the same on every batch command."""
    command = click.option(
        "--key", required=True, envvar="ISSUER_API_KEY", help="An org_issuer API key (or ISSUER_API_KEY)."
    )(command)
    return click.option(
        "--url",
        default="http://127.0.0.1:5000",
        show_default=True,
        envvar="ISSUER_URL",
        callback=_service_url,
        help="The service (or ISSUER_URL).",
    )(command)


def _wait_options(command: _Command) -> _Command:
    """``--poll`` and ``--timeout``, for commands that wait for the drawing to finish."""
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        help="Give up waiting after this many seconds (exit 3). Default: wait as long as it takes.",
    )(command)
    return click.option(
        "--poll",
        type=click.FloatRange(min=0.05),
        default=2.0,
        show_default=True,
        help="Seconds between two looks at the batch's progress.",
    )(command)


@contextmanager
def _progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only its label when stderr is not a terminal); yields the
    function that advances it."""
    with click.progressbar(length=max(length, 1), label=label, file=sys.stderr) as bar:
        yield bar.update


def _multipart(fields: dict[str, str], files: dict[str, Path]) -> tuple[list[bytes | Path], str]:
    """A multipart/form-data body as its pieces: bytes, and the files to stream in between."""
    boundary = f"issuer-{uuid.uuid4().hex}"
    pieces: list[bytes | Path] = []
    for name, value in fields.items():
        pieces.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, path in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f"filename*=UTF-8''{urllib.parse.quote(path.name)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        pieces += [head.encode(), path, b"\r\n"]
    pieces.append(f"--{boundary}--\r\n".encode())
    return pieces, f"multipart/form-data; boundary={boundary}"


def _size(piece: bytes | Path) -> int:
    return piece.stat().st_size if isinstance(piece, Path) else len(piece)


def _stream(pieces: list[bytes | Path], advance: Callable[[int], None]) -> Iterator[bytes]:
    """The body, a block at a time: a file is read as it is sent, never whole."""
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
            advance(len(piece))
            continue
        with piece.open("rb") as fh:
            while block := fh.read(BLOCK):
                yield block
                advance(len(block))


def _upload(
    service: _Service, fields: dict[str, str], files: dict[str, Path], headers: dict[str, str]
) -> dict[str, Any]:
    pieces, content_type = _multipart(fields, files)
    length = sum(_size(p) for p in pieces)
    headers = {**headers, "Content-Type": content_type, "Content-Length": str(length)}
    with _progress(length, "上传 / uploading") as advance:
        body = _stream(pieces, advance)
        return service.json(_BATCHES, method="POST", body=body, headers=headers, timeout=600)


def _echo_problem(p: dict[str, Any]) -> None:
    click.echo(f"第{p['row']}行 {p.get('column') or ''} {p['value']}: {p['message_zh']} / {p['message']}")


def _echo_answer(answer: dict[str, Any]) -> None:
    report = answer["report"]
    rows, valid = report["rows"], report["valid_rows"]
    click.echo(f"共{rows}行，有效{valid}行 / rows {rows}, valid {valid}, invalid {report['invalid_rows']}")
    for problem in report["problems"]:
        _echo_problem(problem)
    issued = answer["issued"]
    if issued:
        click.echo(f"issued {len(issued)}: {issued[0]['number']} … {issued[-1]['number']} / 已发证{len(issued)}张")
    if answer.get("batch"):
        click.echo(f"批次 / batch: {answer['batch']['id']}")


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A local file that cannot be written ends the command with one line (exit 1)."""
    try:
        yield
    except OSError as exc:
        _fail(f"cannot_write: 无法写入{path} / cannot write {path}: {exc.strerror or exc}")


def _write_numbers(path: Path, issued: list[dict[str, Any]]) -> None:
    with _writing(path), path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号", "证书编号"])
        writer.writerows([r["row"], r["number"]] for r in issued)


def _status_lines(s: dict[str, Any]) -> list[str]:
    drawn, issued = s["rendered"], s["issued"]
    lines = [
        f"批次{s['id']}：{s['status_zh']} / batch {s['id']}: {s['status']}",
        f"名单{s['rows']}行，发证{issued}张，已生成{drawn}张（{round(s['progress'] * 100)}%，"
        f"{'+'.join(s['formats'])} {s['dpi']} dpi） / rows {s['rows']}, issued {issued}, drawn {drawn}",
    ]
    if s["status"] == "rendering" and not s["queued"]:
        lines.append("尚未排入队列（服务未能连接任务队列） / not queued yet: the service could not reach its job queue")
    if s["archive"]:
        archive = s["archive"]
        lines.append(f"压缩包 / archive: {archive['bytes']} bytes, sha256 {archive['sha256']}")
    if s["error"]:
        lines.append(f"错误 / error: {s['error']}")
    return lines


def _failed_line(s: dict[str, Any]) -> str:
    return f"batch_failed: 批次{s['id']}生成失败 / batch {s['id']} failed: {s['error']}"


def _wait(service: _Service, batch_id: str, poll: float, timeout: float | None) -> dict[str, Any]:
    """The batch's status once it is done; a failed batch ends the command (exit 1), and so
    does the end of ``timeout`` seconds (exit 3)."""
    status = service.json(_batch_path(batch_id))
    if status["status"] == "rendering":
        status = _follow(service, status, poll, timeout)
    if status["status"] != "done":
        _fail(_failed_line(status))
    return status


def _follow(service: _Service, status: dict[str, Any], poll: float, timeout: float | None) -> dict[str, Any]:
    deadline = None if timeout is None else time.monotonic() + timeout
    shown = 0
    with _progress(status["issued"], "生成证书 / drawing") as advance:
        while True:
            advance(status["rendered"] - shown)
            shown = status["rendered"]
            if status["status"] != "rendering":
                return status
            if deadline is not None and time.monotonic() >= deadline:
                _fail(
                    f"batch_not_ready: 等待超时，已生成{shown}/{status['issued']}张 / "
                    f"timed out: {shown} of {status['issued']} drawn",
                    EXIT_PENDING,
                )
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
            status = service.json(_batch_path(status["id"]))


def _download(service: _Service, status: dict[str, Any], target: Path) -> None:
    """The archive into ``target``: received into ``target.part`` (continuing a part left by
    an interrupted download), checked against its SHA-256, then renamed."""
    archive = status["archive"]
    part = target.with_name(f"{target.name}.part")
    with _writing(part):
        have = part.stat().st_size if part.exists() else 0
        if have > archive["bytes"]:
            part.unlink()
            have = 0
        if have < archive["bytes"]:
            _receive(service, _batch_path(status["id"], "archive"), archive, part, have)
        if _file_sha256(part) != archive["sha256"]:
            part.unlink()
            _fail(
                f"checksum_mismatch: 下载的压缩包SHA-256不一致，已删除{part.name} / "
                f"the archive's SHA-256 is not {archive['sha256']}: {part.name} deleted, run again"
            )
        os.replace(part, target)
    click.echo(f"已保存{target}（{archive['bytes']}字节，SHA-256一致） / saved {target}, SHA-256 verified")


def _receive(service: _Service, path: str, archive: dict[str, Any], part: Path, have: int) -> None:
    """Append to ``part`` from byte ``have`` (a Range request, the whole file if the service
    answers 200 instead of 206)."""
    headers = {"Range": f"bytes={have}-", "If-Range": f'"{archive["sha256"]}"'} if have else {}
    with part.open("ab") as fh, service.open(path, headers=headers) as response:  # writable before asking
        if response.status != 206:
            fh.truncate(0)
            have = 0
        elif not response.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
            _fail(f"bad_range: unexpected Content-Range {response.headers.get('Content-Range')} / 服务返回的范围有误")
        with _progress(archive["bytes"], "下载 / downloading") as advance:
            advance(have)
            while block := service.read(response, BLOCK):
                fh.write(block)
                advance(len(block))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


@main.group()
def batch() -> None:
    """Batch issuance against a running service / 批量发证.

    Exit codes: 0 done, 1 refused (roster problems, unknown batch, bad key) or failed,
    2 the service cannot be reached, 3 still being drawn (status, or --timeout ran out)."""


@batch.command("submit")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False))
@click.option("--photos", type=click.Path(exists=True, dir_okay=False), help="ZIP of the photos the roster names.")
@click.option("--dry-run", is_flag=True, help="Validate only; issue nothing.")
@click.option("--valid-rows-only", is_flag=True, help="Issue the valid rows even if others have problems.")
@click.option(
    "--formats",
    type=click.Choice(["png,pdf", "png", "pdf"]),
    help="Files in the archive. Default: the service's (png,pdf).",
)
@click.option(
    "--dpi", type=click.Choice(["150", "200", "300", "600"]), help="Image resolution. Default: the service's (300)."
)
@_service_options
@click.option("--idempotency-key", help="Send the same value again to retry safely.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write row → certificate number as CSV.")
@click.option("--wait", is_flag=True, help="Wait until the certificates are drawn.")
@click.option(
    "--archive", type=click.Path(dir_okay=False), help="Then download the archive to this file (implies --wait)."
)
@_wait_options
def batch_submit(
    roster: str,
    photos: str | None,
    dry_run: bool,
    valid_rows_only: bool,
    formats: str | None,
    dpi: str | None,
    url: str,
    key: str,
    idempotency_key: str | None,
    out: str | None,
    wait: bool,
    archive: str | None,
    poll: float,
    timeout: float | None,
) -> None:
    """Upload a roster (CSV or XLSX) and print the batch id. Exit 0 when issued (or valid in
    a dry run), 1 when the roster has problems (each printed), 2 when the service cannot be
    reached. With --wait or --archive: 1 also when the drawing failed, 3 on --timeout."""
    service = _Service(url, key)
    fields = {"dry_run": str(dry_run).lower(), "valid_rows_only": str(valid_rows_only).lower()}
    fields |= {name: value for name, value in (("formats", formats), ("dpi", dpi)) if value}
    files = {"roster": Path(roster), **({"photos": Path(photos)} if photos else {})}
    answer = _upload(service, fields, files, {"Idempotency-Key": idempotency_key} if idempotency_key else {})
    _echo_answer(answer)
    if out:
        _write_numbers(Path(out), answer["issued"])
    if dry_run:
        sys.exit(1 if answer["report"]["invalid_rows"] else 0)
    if wait or archive:
        status = _wait(service, answer["batch"]["id"], poll, timeout)
        if archive:
            _download(service, status, Path(archive))
        else:
            _echo_all(_status_lines(status))


@batch.command("resume")
def batch_resume() -> None:
    """On the service's machine: queue again the drawing of every unfinished batch (after
    Redis lost its queue, or queueing failed when the roster was issued). With the
    in-process queue, `issuer run` does this itself when it starts."""
    from issuer.service import jobs

    _, svc = _app_services()
    if isinstance(svc.jobs, jobs.InProcessQueue):
        _fail("ISSUER_QUEUE=inprocess: `issuer run` resumes unfinished batches when it starts / 服务启动时自动继续")
    resumed = jobs.resume(svc)
    click.echo(f"queued {len(resumed)} unfinished batch(es) again / 已重新排队{len(resumed)}个批次")


@batch.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True, help="Days since the batch was done.")
def batch_purge(days: int) -> None:
    """On the service's machine: remove the archives of batches done more than DAYS days ago
    (the certificates stay; each can still be downloaded). Run it from cron."""
    from datetime import timedelta

    from issuer.service import batches

    _, svc = _app_services()
    purged = batches.purge(svc, timedelta(days=days))
    click.echo(f"removed {len(purged)} archive(s) older than {days} days / 已删除{len(purged)}个过期压缩包")


@batch.command("status")
@click.argument("batch_id", callback=_batch_id)
@_service_options
def batch_status(batch_id: str, url: str, key: str) -> None:
    """Show a batch's progress (Chinese, then English). Exit 0 done, 1 failed (or unknown
    batch), 2 the service cannot be reached, 3 still being drawn."""
    status = _Service(url, key).json(_batch_path(batch_id))
    _echo_all(_status_lines(status))
    sys.exit({"done": 0, "rendering": EXIT_PENDING}.get(status["status"], 1))


@batch.command("fetch")
@click.argument("batch_id", callback=_batch_id)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Where to save the ZIP. Default: batch-<id>.zip here."
)
@_service_options
@_wait_options
def batch_fetch(batch_id: str, output: str | None, url: str, key: str, poll: float, timeout: float | None) -> None:
    """Wait until the batch is drawn, then download its ZIP (png/<number>.png,
    pdf/<number>.pdf, result.xlsx) and check its SHA-256. The download goes to FILE.part
    first; run again after an interruption to continue where it stopped. Exit 0 saved,
    1 failed (or unknown batch, or checksum mismatch), 2 the service cannot be reached,
    3 --timeout ran out."""
    service = _Service(url, key)
    status = _wait(service, batch_id, poll, timeout)
    _download(service, status, Path(output or f"batch-{status['id']}.zip"))


# --- trust pull, log export ----------------------------------------------------------------

MAX_BUNDLE = 64 << 20
"""The largest trust bundle ``trust pull`` accepts."""


def _write_atomically(path: Path, data: Iterable[bytes]) -> None:
    """``data`` into ``path``: written to a temporary file beside it, then renamed over it,
    so that a reader sees the old file or the new one, never half of one."""
    import tempfile

    with _writing(path):
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                for block in data:
                    fh.write(block)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@trust.command("pull")
@click.argument("url", callback=_service_url)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--root", "root_path", type=click.Path(exists=True, dir_okay=False), help="Pin this root certificate (PEM or DER)."
)
@click.option("--force", is_flag=True, help="Replace PATH even with an older trust list or another log.")
def trust_pull(url: str, path: str, root_path: str | None, force: bool) -> None:
    """Download the trust bundle of the service at URL (GET URL/api/v1/trust-bundle), check
    it (root signature of the trust list, every status list, the tree head) and save it to
    PATH, replacing it at once. A bundle already in PATH must not go backwards: the new
    trust list is not older, and the service proves (consistency proof) that its log extends
    the saved tree head. A status list or organization entry that does not check out is
    saved with a warning (it makes only that organization's verdicts unknown); a tree head
    that does not check out is refused. Exit 0 saved, 1 the answer is not a usable bundle or
    goes backwards (nothing written), 2 the service cannot be reached."""
    from issuer.core.trust import load_bundle

    pinned = _load_root(root_path) if root_path else None
    address = url.rstrip("/") + "/api/v1/trust-bundle"
    request = urllib.request.Request(address, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            data = response.read(MAX_BUNDLE + 1)
    except urllib.error.HTTPError as exc:
        try:
            with exc:
                answer = exc.read(1 << 16)
        except (OSError, http.client.HTTPException):
            answer = b""
        if exc.code >= 500:
            _fail(f"unreachable: {address}: HTTP {exc.code} / 服务暂不可用", EXIT_UNREACHABLE)
        _fail_with_answer(exc.code, answer)
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        _fail(f"unreachable: {address}: {reason or type(exc).__name__} / 无法连接服务", EXIT_UNREACHABLE)
    if len(data) > MAX_BUNDLE:
        _fail(f"untrusted_bundle: 信任包过大 / the answer is larger than {MAX_BUNDLE} bytes")
    try:
        store = load_bundle(data, pinned_root=pinned)
    except TrustError as exc:
        _fail(exc.line())
    bad_head = next((p for p in store.problems if p.part == "tree_head"), None)
    if bad_head is not None:
        _fail(f"{bad_head.code or 'invalid_log_record'}: {bad_head.message_zh} / {bad_head.message}")
    unbound = next((p for p in store.problems if p.code == "invalid_manifest"), None)
    if unbound is not None:
        _fail(f"rollback: {unbound.message_zh} / {unbound.message}")
    head = store.tree_head
    _warn_about(store)
    if not force:
        _refuse_going_back(Path(path), store, head, url)
    _write_atomically(Path(path), [data])
    listed = store.trust_list
    size = f"tree size {head.tree_size}" if head else "no tree head"
    click.echo(
        f"saved {path}: trust list {listed.sequence}, {len(listed.organizations)} organizations, "
        f"{len(store.status_lists)} status lists, {size}{'' if pinned else ' (root not pinned: use --root)'}"
        f" / 已保存信任包"
    )


def _refuse_going_back(path: Path, store: Any, head: Any, url: str) -> None:
    """What was saved before is the floor: an older trust list, a bundle without the tree
    head or manifest the saved one had, an older manifest, an organization's status list older
    than the saved one, a smaller tree, or a tree the service cannot prove extends the saved
    one is refused (a rollback, or a forked log)."""
    from issuer.core import merkle
    from issuer.core.trust import load_bundle

    try:
        saved = load_bundle(path.read_bytes())
    except (OSError, TrustError):
        return  # nothing usable was saved
    before = saved.tree_head
    if saved.trust_list.sequence > store.trust_list.sequence:
        _fail(
            f"rollback: the service's trust list {store.trust_list.sequence} is older than the saved "
            f"{saved.trust_list.sequence} (--force to replace) / 服务的信任列表比已保存的旧"
        )
    if before is not None and head is None:
        _fail(
            "rollback: the saved bundle has a tree head, the service's has none (--force to replace) / 信任包缺少树头"
        )
    if saved.manifest is not None and (store.manifest is None or store.manifest.issued_at < saved.manifest.issued_at):
        _fail(
            "rollback: the service's bundle manifest is missing or older than the saved one (--force to replace) "
            "/ 服务的信任包清单缺失或比已保存的旧"
        )
    for code, listed in saved.status_lists.items():
        new = store.status_lists.get(code)
        if new is not None and new.issued_at < listed.issued_at:
            _fail(
                f"rollback: the status list of {code} is older than the saved one (--force to replace) "
                f"/ 机构{code}的状态列表比已保存的旧"
            )
    if before is None or head is None or before.tree_size == 0:
        return
    if head.tree_size < before.tree_size or (head.tree_size == before.tree_size and head.root_hash != before.root_hash):
        _fail(f"rollback: the log is not the one saved (size {before.tree_size}) / 日志与已保存的不一致")
    if head.tree_size == before.tree_size:
        return
    address = f"{url.rstrip('/')}/api/v1/log/proof/consistency?first={before.tree_size}&second={head.tree_size}"
    try:
        with urllib.request.urlopen(address, timeout=60) as response:
            proof = [bytes.fromhex(h) for h in json.loads(response.read())["proof"]]
        merkle.verify_consistency(before.tree_size, head.tree_size, before.root_hash, head.root_hash, proof)
    except urllib.error.HTTPError as exc:
        exc.close()  # its connection, or the socket is left open
        _fail(
            f"rollback: the service does not prove that its log extends the saved tree head of size "
            f"{before.tree_size} (HTTP {exc.code}) / 服务无法证明其日志是已保存日志的延续"
        )
    except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException, TrustError):
        _fail(
            f"rollback: the service does not prove that its log extends the saved tree head of size "
            f"{before.tree_size} / 服务无法证明其日志是已保存日志的延续"
        )


@main.group("log")
def log_group() -> None:
    """The transparency log / 透明日志."""


@log_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def log_export(path: str) -> None:
    """Write the whole log as of its latest signed tree head to PATH, from this service's
    database: JSON Lines, first {"format": "issuer-log", "version": 1, "tree_head": <signed
    head, base64>, "tree_size": n}, then {"index": i, "entry": <base64>} for i = 0 … n-1.
    Anyone can check it with the trust bundle: the leaf hashes rebuild the head's root."""
    from issuer.service import transparency

    _, svc = _app_services()
    head = transparency.latest_head(svc)
    if head is None:
        _fail("log_empty: 日志为空 / the log is empty")
    _write_atomically(Path(path), _log_lines(svc, head))
    click.echo(
        f"wrote {head.tree_size} log entries to {path} (root {head.root_hash.hex()}) / 已导出{head.tree_size}条日志"
    )


def _log_lines(svc: Any, head: TreeHead) -> Iterator[bytes]:
    """The lines of ``log export``: the signed head, then every entry it covers, in order."""
    from base64 import b64encode

    from issuer.service import transparency

    first = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "tree_head": b64encode(head.signed).decode(),
        "tree_size": head.tree_size,
    }
    yield json.dumps(first).encode() + b"\n"
    for start in range(0, head.tree_size, transparency.MAX_ENTRIES_PER_PAGE):
        end = min(start + transparency.MAX_ENTRIES_PER_PAGE, head.tree_size)
        page = transparency.entries(svc, start, end)
        if [index for index, _ in page] != list(range(start, end)):
            _fail(f"log_incomplete: 日志条目{start}至{end - 1}不完整 / log entries {start} to {end - 1} are missing")
        for index, data in page:
            yield json.dumps({"index": index, "entry": b64encode(data).decode()}).encode() + b"\n"


# --- the auditor (offline, with the core only) ------------------------------------------------


@main.command("audit")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("--log", "log_where", required=True, help="The service's address (https://…) or a `log export` file.")
@click.option("--since", "since_path", type=click.Path(dir_okay=False), help="A tree head seen before (JSON file).")
@click.option("--save-head", type=click.Path(dir_okay=False), help="After a clean audit, save the audited tree head.")
@click.option("--root", "root_path", type=click.Path(dir_okay=False), help="Pin this root certificate (PEM or DER).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit_command(
    bundle: str, log_where: str, since_path: str | None, save_head: str | None, root_path: str | None, as_json: bool
) -> None:
    """Audit the transparency log against the trust BUNDLE, offline but for reading the log:
    the tree head is signed by the trust list's log key and the entries hash to it; the
    bundle's tree head and --since are prefixes of it (append-only); every entry's signature
    and, for certificates, the verifier's rules at the time they were logged (key, registration,
    scope, number); numbers unique and serials continuous per organization, year and level;
    revocations set in the status lists and the other way round; key events as in the trust list.

    Exit 0 no finding, 1 findings (each printed), 2 cannot audit (unreadable bundle or log)."""
    from issuer.core.auditor import audit
    from issuer.core.trust import load_bundle
    from issuer.logsource import open_log

    pinned = _load_root(root_path) if root_path else None
    try:
        store = load_bundle(Path(bundle).read_bytes(), pinned_root=pinned)
    except OSError as exc:
        _fail(f"unreadable: cannot read trust bundle {bundle}: {exc.strerror} / 无法读取信任包", EXIT_UNKNOWN)
    source = open_log(log_where)
    seen = [_read_head(since_path)] if since_path else []
    _warn_about(store)
    if store.tree_head is not None and store.tree_head_signed is not None:
        if store.tree_head.tree_size <= source.tree_size:
            seen.append(store.tree_head_signed)
        else:
            click.echo("注意：信任包的树头比日志新 / note: the bundle's tree head is newer than the log", err=True)
    with _progress(source.tree_size, "审计 / auditing") as advance:
        report = audit(store, source.tree_head, source.entries, since=seen, progress=advance)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_audit(report, pinned is not None)
    if report.clean and save_head:
        _write_atomically(Path(save_head), [json.dumps(report.tree_head.to_json(), indent=1).encode()])
    sys.exit(EXIT_VALID if report.clean else EXIT_NOT_VALID)


def _read_head(path: str) -> bytes:
    """A tree head saved by ``--save-head`` or answered by ``GET /api/v1/log/tree-head``."""
    import base64
    import binascii

    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        return base64.b64decode(saved["signed"], validate=True)
    except OSError as exc:
        _fail(f"unreadable: cannot read {path}: {exc.strerror} / 无法读取树头文件", EXIT_UNKNOWN)
    except (ValueError, KeyError, TypeError, binascii.Error):
        _fail(f"unreadable: {path} is not a saved tree head / 不是树头文件", EXIT_UNKNOWN)


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
        click.echo(_UNPINNED_NOTE)


if __name__ == "__main__":
    main()
