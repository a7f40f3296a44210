"""``issuer batch``: batch issuance. ``submit``, ``status`` and ``fetch`` are clients of a
running service (``issuer.cli.client``); ``resume`` and ``purge`` run on its machine."""

from __future__ import annotations

import csv
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
@service_options
@click.option("--idempotency-key", help="Send the same value again to retry safely.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write row → certificate number as CSV.")
@click.option("--wait", is_flag=True, help="Wait until the certificates are drawn.")
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
    wait: bool,
    archive: str | None,
    poll: float,
    timeout: float | None,
) -> None:
    """Upload a roster (CSV or XLSX) and print the batch id. Exit 0 when issued (or valid in
    a dry run), 1 when the roster has problems (each printed), 2 when the service cannot be
    reached. With --wait or --archive: 1 also when the drawing failed, 3 on --timeout."""
    service = client.Service(url, key)
    fields = {"dry_run": str(dry_run).lower(), "valid_rows_only": str(valid_rows_only).lower()}
    fields |= {name: value for name, value in (("formats", formats), ("dpi", dpi)) if value}
    files = {"roster": Path(roster), **({"photos": Path(photos)} if photos else {})}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    answer = client.upload(service, fields, files, headers, progress)
    _echo_answer(answer)
    if out:
        _write_numbers(Path(out), answer["issued"])
    if dry_run:
        sys.exit(1 if answer["report"]["invalid_rows"] else 0)
    if wait or archive:
        status = client.wait(service, answer["batch"]["id"], poll, timeout, progress)
        if archive:
            _download(service, status, Path(archive))
        else:
            echo_all(_status_lines(status))


@batch.command("resume")
def batch_resume() -> None:
    """On the service's machine: queue again the drawing of every unfinished batch (after
    Redis lost its queue, or queueing failed when the roster was issued). With the
    in-process queue, `issuer run` does this itself when it starts."""
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
    past their retention (ISSUER_IDEMPOTENCY_HOURS). Run it from cron."""
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
    """Show a batch's progress (Chinese, then English). Exit 0 done, 1 failed (or unknown
    batch), 2 the service cannot be reached, 3 still being drawn."""
    status = client.Service(url, key).json(client.batch_path(batch_id))
    echo_all(_status_lines(status))
    sys.exit({"done": 0, "rendering": EXIT_PENDING}.get(status["status"], 1))


@batch.command("fetch")
@click.argument("batch_id", callback=clean_batch_id)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Where to save the ZIP. Default: batch-<id>.zip here."
)
@service_options
@wait_options
def batch_fetch(batch_id: str, output: str | None, url: str, key: str, poll: float, timeout: float | None) -> None:
    """Wait until the batch is drawn, then download its ZIP (png/<number>.png,
    pdf/<number>.pdf, result.xlsx) and check its SHA-256. The download goes to FILE.part
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


def _echo_answer(answer: dict[str, Any]) -> None:
    report = answer["report"]
    rows, valid = report["rows"], report["valid_rows"]
    click.echo(f"共{rows}行，有效{valid}行 / rows {rows}, valid {valid}, invalid {report['invalid_rows']}")
    for problem in report["problems"]:
        echo_problem(problem)
    issued = answer["issued"]
    if issued:
        click.echo(f"issued {len(issued)}: {issued[0]['number']} … {issued[-1]['number']} / 已发证{len(issued)}张")
    if answer.get("batch"):
        click.echo(f"批次 / batch: {answer['batch']['id']}")


def _write_numbers(path: Path, issued: list[dict[str, Any]]) -> None:
    with writing(path), path.open("w", encoding="utf-8-sig", newline="") as fh:
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
