"""``issuer scheduler``: the scheduled upkeep jobs (``issuer.service.upkeep``), run for the
whole deployment by one process of their own (or from cron with ``--once``); ``issuer
publish`` is ``issuer scheduler --once --only status-lists``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from issuer.cli.admin import local
from issuer.service.upkeep import TICK, Outcome, Scheduler


@click.command()
@click.option("--once", is_flag=True, help="Run every due job once, then exit (for cron, and tests).")
@click.option(
    "--only",
    "names",
    multiple=True,
    metavar="JOB",
    help="Only this job (repeatable): status-lists, tree-head, trust-list, bundle-manifest, batch-archives, "
    "idempotency-records.",
)
@click.option("--tick", type=click.FloatRange(min=0.1), default=TICK, show_default=True, help="Seconds between looks.")
def scheduler(once: bool, names: Sequence[str], tick: float) -> None:
    """Run the upkeep jobs when due, until SIGTERM or Ctrl-C (the job under way is finished
    first): sign again status lists a day old, the tree head and the trust list when old,
    the bundle manifest if none is signed; remove batch archives past ISSUER_ARCHIVE_DAYS
    and Idempotency-Key records past ISSUER_IDEMPOTENCY_HOURS. However many schedulers run,
    one runs each due job. With --once: each due job once, a line each; exit 1 if one
    failed."""
    app, use = local()
    chosen = use.upkeep.scheduler(names)
    if once:
        _run_once(chosen)
        return
    import signal
    import threading

    from issuer import logformat

    text = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
    logformat.configure(app.config["LOG_FORMAT"], text=text)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    jobs = ", ".join(job.name for job in chosen.jobs)
    log_format = app.config["LOG_FORMAT"]
    logformat.say(f"scheduler {os.getpid()} running the upkeep jobs {jobs} / 定时维护任务运行中", log_format)
    chosen.run_forever(stop, tick)
    logformat.say(f"scheduler {os.getpid()} stopped / 已停止", log_format)


@click.command()
def publish() -> None:
    """Sign again every status list a day old or more: `issuer scheduler --once --only
    status-lists` (the scheduler does it hourly)."""
    _, use = local()
    _run_once(use.upkeep.scheduler(["status-lists"]))


def _run_once(chosen: Scheduler) -> None:
    outcomes = chosen.run_due()
    for outcome in outcomes:
        click.echo(_line(outcome))
    if any(o.failed for o in outcomes):
        sys.exit(1)


def _line(outcome: Outcome) -> str:
    if outcome.failed:
        return f"{outcome.job}: failed / 失败: {outcome.failed}"
    if not outcome.ran:
        return f"{outcome.job}: not due (ran within its interval, or another scheduler runs it) / 未到期"
    return f"{outcome.job}: {outcome.did}"
