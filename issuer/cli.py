"""The ``issuer`` command. Errors become one line on stderr and an exit code, here only."""

from __future__ import annotations

import csv
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from issuer.config import ConfigError
from issuer.core.errors import IssuerError, TrustError

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


def _read_input(value: str) -> str:
    """A QR text, or the path of an image whose QR code holds one."""
    path = Path(value)
    looks_like_file = path.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}
    if not looks_like_file:
        return value
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except (OSError, UnidentifiedImageError) as exc:
        _fail(f"unreadable: cannot read image {value}: {exc.__class__.__name__} / 无法读取图片", EXIT_UNKNOWN)
    if not found:
        _fail(f"unreadable: no QR code found in {value} / 图片中未找到二维码", EXIT_UNKNOWN)
    return str(found[0].text)


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
    "unknown": ("无法判断", "CANNOT TELL"),
}
_MARKS = {"passed": "✓", "failed": "✗", "not_run": "·"}


def _print_verdict(verdict: Any, trust: Any, pinned: bool) -> None:
    from issuer.core.display import date_zh, level_zh
    from issuer.core.identity import default_document_types

    zh, en = _VERDICT_WORDS[verdict.status.value]
    click.echo(f"结果 / Result: {zh} {en}")
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
        click.echo(
            "注意：根证书取自信任包本身，未经 --root 固定 / note: root taken from the bundle (pin it with --root)"
        )


@main.command()
@click.argument("input_")
@click.option("--trust", "bundle", required=True, type=click.Path(dir_okay=False), help="Trust bundle (JSON).")
@click.option("--root", "root_path", type=click.Path(dir_okay=False), help="Pin this root certificate (PEM or DER).")
@click.option("--at", "at_text", help="Verify as of this date or time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def verify(input_: str, bundle: str, root_path: str | None, at_text: str | None, as_json: bool) -> None:
    """Verify a QR text or an image of a QR code offline.

    Exit 0 valid, 1 not valid, 2 cannot tell (unreadable input or unusable trust bundle)."""
    from issuer.core import verify as verifier
    from issuer.core.trust import load_bundle

    at = _parse_at(at_text)
    try:
        bundle_bytes = Path(bundle).read_bytes()
    except OSError as exc:
        _fail(f"unreadable: cannot read trust bundle {bundle}: {exc.strerror} / 无法读取信任包", EXIT_UNKNOWN)
    pinned = _load_root(root_path) if root_path else None
    trust = load_bundle(bundle_bytes, pinned_root=pinned)
    verdict = verifier.verify(_read_input(input_), trust, at=at)
    if as_json:
        click.echo(json.dumps(verdict.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_verdict(verdict, trust, pinned is not None)
    codes = {"valid": EXIT_VALID, "not_valid": EXIT_NOT_VALID, "unknown": EXIT_UNKNOWN}
    sys.exit(codes[verdict.status.value])


def _load_root(path: str) -> Any:
    from cryptography import x509

    data = Path(path).read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        _fail(f"unreadable: {path} is not a certificate / 不是证书文件", EXIT_UNKNOWN)


# --- service administration ----------------------------------------------------------------


def _app_services() -> Any:
    from issuer.app import create_app

    app = create_app()
    return app, app.extensions["issuer.services"]


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


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = f"issuer-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f"filename*=UTF-8''{urllib.parse.quote(filename)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _echo_problem(p: dict[str, Any]) -> None:
    click.echo(f"第{p['row']}行 {p.get('column') or ''} {p['value']}: {p['message_zh']} / {p['message']}")


@main.group()
def batch() -> None:
    """Batch issuance against a running service / 批量发证."""


@batch.command("submit")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False))
@click.option("--photos", type=click.Path(exists=True, dir_okay=False), help="ZIP of the photos the roster names.")
@click.option("--dry-run", is_flag=True, help="Validate only; issue nothing.")
@click.option("--valid-rows-only", is_flag=True, help="Issue the valid rows even if others have problems.")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, envvar="ISSUER_URL")
@click.option("--key", required=True, envvar="ISSUER_API_KEY", help="An org_issuer API key (or ISSUER_API_KEY).")
@click.option("--idempotency-key", help="Send the same value again to retry safely.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write row → certificate number as CSV.")
def batch_submit(
    roster: str,
    photos: str | None,
    dry_run: bool,
    valid_rows_only: bool,
    url: str,
    key: str,
    idempotency_key: str | None,
    out: str | None,
) -> None:
    """Upload a roster (CSV or XLSX). Exit 0 when issued (or valid in a dry run), 1 when the
    roster has problems (each printed), 2 when the service cannot be reached."""
    files = {"roster": (Path(roster).name, Path(roster).read_bytes())}
    if photos:
        files["photos"] = (Path(photos).name, Path(photos).read_bytes())
    fields = {"dry_run": str(dry_run).lower(), "valid_rows_only": str(valid_rows_only).lower()}
    body, content_type = _multipart(fields, files)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    req = urllib.request.Request(f"{url.rstrip('/')}/api/v1/batches", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=600) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        answer = json.loads(exc.read() or b"{}")
        for problem in answer.get("errors", {}).get("problems", []):
            _echo_problem(problem)
        _fail(f"{answer.get('code', exc.code)}: {answer.get('message_zh', '')} / {answer.get('message', '')}")
    except (urllib.error.URLError, OSError) as exc:
        _fail(f"unreachable: {url}: {exc} / 无法连接服务", EXIT_UNKNOWN)
    report = answer["report"]
    rows, valid = report["rows"], report["valid_rows"]
    click.echo(f"共{rows}行，有效{valid}行 / rows {rows}, valid {valid}, invalid {report['invalid_rows']}")
    for problem in report["problems"]:
        _echo_problem(problem)
    issued = answer["issued"]
    if issued:
        click.echo(f"issued {len(issued)}: {issued[0]['number']} … {issued[-1]['number']} / 已发证{len(issued)}张")
    if out:
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["行号", "证书编号"])
            writer.writerows([r["row"], r["number"]] for r in issued)
    sys.exit(1 if dry_run and report["invalid_rows"] else 0)


if __name__ == "__main__":
    main()
