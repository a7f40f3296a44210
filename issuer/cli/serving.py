"""``issuer run`` (the service) and ``issuer worker`` (drawing batches from the Redis queue)."""

from __future__ import annotations

import os

import click

from issuer.cli.output import fail


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Run the service (development server). With the in-process queue, batches being
    validated or drawn when the service stopped are picked up again."""
    from issuer.app import create_app
    from issuer.service import jobs

    app = create_app()
    use = app.extensions["issuer.use_cases"]
    if isinstance(use.queue, jobs.InProcessQueue):
        try:
            resumed = use.batches.resume()
        except Exception as exc:
            click.echo(f"batches not resumed: {exc}", err=True)
        else:
            if resumed:
                click.echo(f"resumed {len(resumed)} unfinished batch(es) / 继续处理{len(resumed)}个未完成的批次")
    app.run(host=host, port=port)


@click.command()
def worker() -> None:
    """Validate rosters and draw batches' certificates from the Redis queue
    (ISSUER_QUEUE=redis, ISSUER_REDIS_URL) until SIGTERM or Ctrl-C; the job under way is
    finished first. At start, queues again the validations no worker is running (one was
    killed). Run one per core."""
    import logging
    import signal
    import threading

    from issuer.app import create_app
    from issuer.service.jobs import RedisQueue
    from issuer.service.wiring import build

    app = create_app({"PUBLISH_EVERY": 0})
    use = build(app.config, app.instance_path, worker=True)
    if not isinstance(use.queue, RedisQueue):
        fail("ISSUER_QUEUE is not redis: the service runs batches itself / 未启用Redis队列")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    resumed = use.batches.resume_validations()
    if resumed:
        click.echo(
            f"queued {len(resumed)} unfinished validation(s) again / 重新排队{len(resumed)}份名单的校验", err=True
        )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"worker {os.getpid()} waiting for batches / 等待批量任务", err=True)
    try:
        use.queue.work(stop)
    finally:
        use.close()
