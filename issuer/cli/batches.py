"""``issuer batch``: batch issuance. ``submit``, ``status`` and ``fetch`` are clients of a
running service (``issuer.cli.client``); ``resume`` and ``purge`` run on its machine."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import click

import issuer.cli.client as client
from issuer.cli.admin import local
from issuer.cli.options import clean_batch_id, service_options, wait_options
from issuer.cli.output import EXIT_PENDING, echo_all, echo_problem, fail, progress, writing


@click.group()
def batch() -> None:
    """Batch issuance against a running service / 批量发证.

    Exit codes: 0 done (submit: issued, or a dry run without problems; with --no-wait:
    accepted), 1 refused (the upload refused, the roster rejected or with problems in a
    dry run, unknown batch, bad key) or failed, 2 the service cannot be reached, 3 still
    being validated or drawn (status, or --timeout ran out)."""


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
@service_options
@click.option("--idempotency-key", help="Send the same value again to retry safely.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write row → certificate number as CSV.")
@click.option("--no-wait", is_flag=True, help="Print the batch id once the upload is accepted; do not wait.")
@click.option("--wait", is_flag=True, help="Wait until the certificates are drawn too.")
@click.option(
    "--archive", type=click.Path(dir_okay=False), help="Then download the archive to this file (implies --wait)."
)
@wait_options
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
    no_wait: bool,
    wait: bool,
    archive: str | None,
    poll: float,
    timeout: float | None,
) -> None:
    """Upload a roster (CSV or XLSX), print the batch id, then follow its validation (a
    progress bar) until it is issued, and print the report. Exit 0 when issued (or valid in
    a dry run), 1 when the upload is refused or the roster rejected (its problems printed,
    then one line saying why) or, in a dry run, has problems, 2 when the service cannot be
    reached, 3 on --timeout. --no-wait: exit 0 once the upload is accepted. With --wait or
    --archive: also wait for the drawing (1 when it failed)."""
    if no_wait and (out or wait or archive):
        raise click.UsageError("--no-wait cannot be given with --out, --wait or --archive")
    service = client.Service(url, key)
    fields = {"dry_run": str(dry_run).lower(), "valid_rows_only": str(valid_rows_only).lower()}
    fields |= {name: value for name, value in (("formats", formats), ("dpi", dpi)) if value}
    files = {"roster": Path(roster), **({"photos": Path(photos)} if photos else {})}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    accepted = client.upload(service, fields, files, headers, progress)
    click.echo(f"批次 / batch: {accepted['id']}")
    if no_wait:
        echo_all(_status_lines(accepted))
        return
    status = client.wait(service, accepted["id"], poll, timeout, progress, drawn=False)
    _echo_report(status)
    if status["status"] == "checked":
        sys.exit(1 if status["report"]["invalid_rows"] else 0)
    if status["status"] not in ("rendering", "done"):
        fail(client.failure_line(status))
    if out:
        _write_numbers(Path(out), client.result(service, status["id"]))
    if wait or archive:
        status = client.wait(service, status["id"], poll, timeout, progress)
        if archive:
            _download(service, status, Path(archive))
        else:
            echo_all(_status_lines(status))


@batch.command("resume")
def batch_resume() -> None:
    """On the service's machine: queue again every unfinished batch, its validation or its
    drawing (after Redis lost its queue, or queueing failed when the roster was uploaded).
    With the in-process queue, `issuer run` does this itself when it starts."""
    from issuer.service import jobs

    _, use = local()
    if isinstance(use.queue, jobs.InProcessQueue):
        fail("ISSUER_QUEUE=inprocess: `issuer run` resumes unfinished batches when it starts / 服务启动时自动继续")
    resumed = use.batches.resume()
    click.echo(f"queued {len(resumed)} unfinished batch(es) again / 已重新排队{len(resumed)}个批次")


@batch.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True, help="Days since the batch was done.")
def batch_purge(days: int) -> None:
    """On the service's machine: remove the archives of batches done more than DAYS days ago
    (the certificates stay; each can still be downloaded), and the Idempotency-Key records
    past their retention (ISSUER_IDEMPOTENCY_HOURS). The upkeep scheduler does both on its
    own (ISSUER_ARCHIVE_DAYS); this is for doing it now, by hand."""
    from datetime import timedelta

    from issuer.service.idempotency import purge_expired

    _, use = local()
    purged = use.batches.purge(timedelta(days=days))
    click.echo(f"removed {len(purged)} archive(s) older than {days} days / 已删除{len(purged)}个过期压缩包")
    answers = purge_expired(use.ctx)
    click.echo(f"removed {answers} expired Idempotency-Key record(s) / 已删除{answers}条过期的幂等记录")


@batch.command("status")
@click.argument("batch_id", callback=clean_batch_id)
@service_options
def batch_status(batch_id: str, url: str, key: str) -> None:
    """Show a batch's progress (Chinese, then English). Exit 0 done (or a dry run without
    problems), 1 rejected, failed, a dry run with problems (or unknown batch), 2 the
    service cannot be reached, 3 still being validated, issued or drawn."""
    status = client.Service(url, key).json(client.batch_path(batch_id))
    echo_all(_status_lines(status))
    pending = {name: EXIT_PENDING for name in ("validating", "issuing", "rendering")}
    checked = 1 if status["status"] == "checked" and status["report"].get("invalid_rows") else 0
    sys.exit({"done": 0, "checked": checked, **pending}.get(status["status"], 1))


@batch.command("fetch")
@click.argument("batch_id", callback=clean_batch_id)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Where to save the ZIP. Default: batch-<id>.zip here."
)
@service_options
@wait_options
def batch_fetch(batch_id: str, output: str | None, url: str, key: str, poll: float, timeout: float | None) -> None:
    """Wait until the batch is drawn, then download its ZIP (png/<number>_<name>.png,
    pdf/<number>_<name>.pdf, result.xlsx) and check its SHA-256. The download goes to FILE.part
    first; run again after an interruption to continue where it stopped. Exit 0 saved,
    1 failed (or unknown batch, or checksum mismatch), 2 the service cannot be reached,
    3 --timeout ran out."""
    service = client.Service(url, key)
    status = client.wait(service, batch_id, poll, timeout, progress)
    _download(service, status, Path(output or f"batch-{status['id']}.zip"))


def _download(service: client.Service, status: dict[str, Any], target: Path) -> None:
    with writing(client.partial(target)):
        client.download(service, status, target, progress)
    click.echo(f"已保存{target}（{status['archive']['bytes']}字节，SHA-256一致） / saved {target}, SHA-256 verified")


def _echo_report(status: dict[str, Any]) -> None:
    report = status["report"]
    rows, valid = report["rows"], report["valid_rows"]
    click.echo(f"共{rows}行，有效{valid}行 / rows {rows}, valid {valid}, invalid {report['invalid_rows']}")
    for problem in report["problems"]:
        echo_problem(problem)
    if status["issued"]:
        click.echo(f"已发证{status['issued']}张 / issued {status['issued']}")


def _write_numbers(path: Path, sheet: bytes) -> None:
    """Row → number of every issued row, from the batch's result spreadsheet."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(sheet), read_only=True)
    issued = [(row[0], row[2]) for row in book.worksheets[0].iter_rows(min_row=2, values_only=True) if row[2]]
    book.close()
    with writing(path), path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号", "证书编号"])
        writer.writerows(issued)


def _status_lines(s: dict[str, Any]) -> list[str]:
    lines = [f"批次{s['id']}：{s['status_zh']} / batch {s['id']}: {s['status']}"]
    if s["status"] in ("validating", "issuing"):
        lines.append(
            f"名单{s['rows']}行，已校验{s['checked']}行（{round(s['progress'] * 100)}%） / "
            f"rows {s['rows']}, checked {s['checked']}"
        )
    else:
        drawn, issued = s["rendered"], s["issued"]
        lines.append(
            f"名单{s['rows']}行，发证{issued}张，已生成{drawn}张（{round(s['progress'] * 100)}%，"
            f"{'+'.join(s['formats'])} {s['dpi']} dpi） / rows {s['rows']}, issued {issued}, drawn {drawn}"
        )
    if not s["queued"]:
        lines.append("尚未排入队列（服务未能连接任务队列） / not queued yet: the service could not reach its job queue")
    if s["refusal"]:
        lines.append(client.failure_line(s))
    if s["archive"]:
        archive = s["archive"]
        lines.append(f"压缩包 / archive: {archive['bytes']} bytes, sha256 {archive['sha256']}")
    if s["error"]:
        lines.append(f"错误 / error: {s['error']}")
    return lines
