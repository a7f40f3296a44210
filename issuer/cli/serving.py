"""``issuer run`` (the development server), ``issuer serve`` (the production server:
gunicorn, ``issuer.cli.server``) and ``issuer worker`` (drawing batches from the Redis queue)."""

from __future__ import annotations

import os

import click

from issuer.cli.output import fail


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Run the service on the development server (one process; `issuer serve` in
    production). With the in-process queue, batches being validated or drawn when the
    service stopped are picked up again. Unless ISSUER_SCHEDULER=0, a thread runs the upkeep
    jobs (`issuer scheduler` in production). Unless ISSUER_QR_HOST is set, QR codes point at
    this server as it can be reached (http://, this host and port; with --host 0.0.0.0, this
    machine's address on its network, so that a phone there opens them)."""
    from issuer import config, logformat
    from issuer.app import create_app
    from issuer.cli.server import resume_batches
    from issuer.service.upkeep import SchedulerThread

    log_format = config.from_environment()["LOG_FORMAT"]
    logformat.configure(log_format)

    def say(line: str) -> None:
        logformat.say(line, log_format)

    overrides = {} if os.environ.get("ISSUER_QR_HOST") else {"QR_HOST": f"http://{reachable(host)}:{port}"}
    app = create_app(overrides)
    say(f"QR codes point at {app.config['QR_HOST']}")
    resume_batches(app, say, say)
    upkeep = None
    if int(app.config["SCHEDULER"]):
        upkeep = SchedulerThread(app.extensions["issuer.use_cases"].upkeep.scheduler())
        upkeep.start()
        say("upkeep jobs run in this process (ISSUER_SCHEDULER=1)")
    try:
        if log_format == "json":  # app.run would first print Flask's banner, which is no record
            from werkzeug.serving import run_simple

            run_simple(host, port, app, threaded=True)
        else:
            app.run(host=host, port=port)
    finally:
        if upkeep is not None:
            upkeep.stop()


def reachable(host: str) -> str:
    """The address another device uses for a server listening on ``host``: the host itself,
    or for every interface (``0.0.0.0``, empty) and IPv6 literals (which a QR code's
    alphanumeric mode cannot carry) the IPv4 address this machine's traffic leaves from (no
    packet is sent: a UDP socket only picks its route), else 127.0.0.1."""
    import socket

    if host and ":" not in host and host != "0.0.0.0":
        return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT (port 0: any free port)")
@click.option(
    "--workers", type=int, default=None, help="processes  [default: the CPU count; 1 with ISSUER_QUEUE=inprocess]"
)
@click.option("--threads", type=int, default=4, show_default=True, help="request threads per process")
@click.option("--timeout", type=int, default=30, show_default=True, help="seconds before a stuck worker is killed")
@click.option(
    "--graceful-timeout", type=int, default=30, show_default=True, help="seconds requests get to finish at HUP/TERM"
)
@click.option("--keepalive", type=int, default=5, show_default=True, help="seconds an idle connection stays open")
@click.option("--backlog", type=int, default=2048, show_default=True, help="connections waiting to be accepted")
@click.option("--access-log", default=None, help="a line per request to this file (- for stderr)  [default: none]")
def serve(
    bind: str,
    workers: int | None,
    threads: int,
    timeout: int,
    graceful_timeout: int,
    keepalive: int,
    backlog: int,
    access_log: str | None,
) -> None:
    """Serve in production: gunicorn, WORKERS processes of THREADS threads, the settings of
    `issuer run` (ISSUER_*). HUP: new workers, old ones finish their requests; TERM:
    graceful stop (exit 0)."""
    from issuer import config
    from issuer.cli.server import ServerSettings, check, default_workers, run_server

    environment = config.from_environment()
    config.check(environment)
    settings = ServerSettings(
        bind=bind,
        workers=workers or default_workers(environment),
        threads=threads,
        timeout=timeout,
        graceful_timeout=graceful_timeout,
        keepalive=keepalive,
        backlog=backlog,
        access_log=access_log,
        log_format=environment["LOG_FORMAT"],
    )
    check(settings, environment)
    run_server(settings)


@click.command()
def worker() -> None:
    """Validate rosters and draw batches' certificates from the Redis queue
    (ISSUER_QUEUE=redis, ISSUER_REDIS_URL) until SIGTERM or Ctrl-C; the job under way is
    finished first. At start, queues again the validations no worker is running (one was
    killed). Run one per core."""
    import signal
    import threading

    from issuer import config, logformat
    from issuer.app import create_app
    from issuer.service.jobs import RedisQueue
    from issuer.service.wiring import build

    log_format = config.from_environment()["LOG_FORMAT"]
    logformat.configure(log_format, text="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    app = create_app()
    use = build(app.config, app.instance_path, worker=True)
    if not isinstance(use.queue, RedisQueue):
        fail("ISSUER_QUEUE is not redis: the service runs batches itself / 未启用Redis队列")
    resumed = use.batches.resume_validations()
    if resumed:
        logformat.say(
            f"queued {len(resumed)} unfinished validation(s) again / 重新排队{len(resumed)}份名单的校验", log_format
        )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logformat.say(f"worker {os.getpid()} waiting for batches / 等待批量任务", log_format)
    try:
        use.queue.work(stop)
    finally:
        use.close()
