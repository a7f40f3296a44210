"""The production server behind ``issuer serve``: the app under gunicorn, through gunicorn's
Python API, so that serving is one command reading the same settings as ``issuer run``.

Pre-fork: the master process binds the socket and only watches its workers; each worker
builds its own app after the fork (``load``), with its own database connections and, with
the in-process queue, its own drawing thread (which is why that queue allows one worker
only: ``check``). No worker runs the upkeep jobs: ``issuer scheduler`` does, once for the
whole deployment. Worker threads (gunicorn's
``gthread`` worker) answer requests and keep connections alive between them.

Signals (to the master): HUP starts new workers with the settings read again and stops the
old ones once their requests are answered; TERM stops gracefully (requests under way are
answered, within ``--graceful-timeout``) and exits 0; INT and QUIT stop at once."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from issuer import logformat
from issuer.cli.observe import JsonLogger, child_exit, metrics_folder
from issuer.config import ConfigError

ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
"""Werkzeug's request line (what ``issuer run`` logs) and the time taken; every record,
this one too, has ID numbers masked and name/ID query values withheld (``issuer.logs``)."""


@dataclass(frozen=True)
class ServerSettings:
    """What ``issuer serve`` is told on its command line."""

    bind: str = "127.0.0.1:8000"
    workers: int = 1
    threads: int = 4
    timeout: int = 30
    """Seconds a worker may stay silent before the master kills and replaces it (a hung
    process; its request threads running long do not silence it)."""
    graceful_timeout: int = 30
    """Seconds the requests under way get to finish at HUP or TERM."""
    keepalive: int = 5
    """Seconds an idle connection is kept open for the client's next request."""
    backlog: int = 2048
    access_log: str | None = None
    """``-`` (stderr) or a file; ``None``: no line per request."""
    log_format: str = "text"
    """``ISSUER_LOG_FORMAT``: ``json`` writes gunicorn's records, and the app's, as JSON lines."""


def default_workers(config: Mapping[str, Any]) -> int:
    """One worker per CPU this process may run on; one with the in-process queue, which
    draws batches in the serving process."""
    if config["QUEUE"] == "inprocess":
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check(settings: ServerSettings, config: Mapping[str, Any]) -> None:
    """Refuse what cannot be served (``ConfigError``, one line), before any worker starts."""
    if settings.workers < 1 or settings.threads < 1:
        raise ConfigError("--workers and --threads must be at least 1")
    if config["QUEUE"] == "inprocess" and settings.workers > 1:
        raise ConfigError(
            "ISSUER_QUEUE=inprocess draws batches in the serving process: serve with --workers 1, "
            "or set ISSUER_QUEUE=redis and run `issuer worker`"
        )


_MALFORMED = (
    http_errors.InvalidRequestLine,
    http_errors.InvalidRequestMethod,
    http_errors.InvalidHTTPVersion,
    http_errors.InvalidHeader,
    http_errors.InvalidHeaderName,
    http_errors.ObsoleteFolding,
    http_errors.InvalidChunkSize,
    http_errors.ChunkMissingTerminator,
    http_errors.InvalidChunkExtension,
)
_RESPONSE_FAULTS = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName)
_REFUSALS: dict[type[Exception], tuple[int, str, str, str, str]] = {
    http_errors.LimitRequestLine: (414, "URI Too Long", "uri_too_long", "the request line is too long", "请求行过长"),
    http_errors.LimitRequestHeaders: (
        431,
        "Request Header Fields Too Large",
        "header_fields_too_large",
        "the request headers are too large",
        "请求头过大",
    ),
}


def refusal(error: Exception) -> tuple[int, str, str, str, str] | None:
    """How a request gunicorn cannot read is answered (status, reason, code, message,
    message_zh), in the service's one error shape; ``None``: not the client's fault."""
    if isinstance(error, _RESPONSE_FAULTS):
        return None
    for kind, answer in _REFUSALS.items():
        if isinstance(error, kind):
            return answer
    if isinstance(error, _MALFORMED):
        return 400, "Bad Request", "malformed_request", "the request is not valid HTTP/1.1", "请求不是有效的HTTP请求"
    return None


class IssuerWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, answering a request it cannot even read (a malformed
    request line or header, one too long) in the JSON error shape of every other error
    (``{code, message, message_zh, errors}``) instead of gunicorn's HTML page."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        answer = refusal(exc)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        status, reason, code, message, message_zh = answer
        self.log.warning("refused a request from %s: %s", (addr or ("",))[0], exc)
        body = json.dumps(
            {"code": code, "message": message, "message_zh": message_zh, "errors": {}}, ensure_ascii=False
        ).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except OSError:
            self.log.debug("the refusal could not be sent")


class IssuerServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running ``create_app()`` (the ``ISSUER_*`` settings) in each worker."""

    def __init__(self, settings: ServerSettings) -> None:
        self._settings = settings
        super().__init__(prog="issuer serve")

    def load_config(self) -> None:
        """gunicorn's settings; run again at every HUP."""
        s = self._settings
        values: dict[str, Any] = {
            "bind": [s.bind],
            "workers": s.workers,
            "worker_class": IssuerWorker,
            "threads": s.threads,
            "timeout": s.timeout,
            "graceful_timeout": s.graceful_timeout,
            "keepalive": s.keepalive,
            "backlog": s.backlog,
            "accesslog": s.access_log,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "preload_app": False,
            "control_socket_disable": True,  # one path per user: two servers on a machine would collide
            "when_ready": self._ready,
            "worker_exit": _worker_exit,
            "child_exit": child_exit,
        }
        if s.log_format == "json":
            values["logger_class"] = JsonLogger
        for name, value in values.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        """The app of one worker, built after the fork (threads and connections are the
        worker's own)."""
        from issuer.app import create_app

        app = create_app()
        resume_batches(app, self._say, self._say)
        return app

    def _ready(self, arbiter: Any) -> None:
        addresses = ", ".join(str(listener) for listener in arbiter.LISTENERS)
        s = self._settings
        self._say(f"issuer serve: listening on {addresses} ({s.workers} workers × {s.threads} threads)")

    def _say(self, line: str) -> None:
        logformat.say(line, self._settings.log_format)


def _worker_exit(_arbiter: Any, worker: Any) -> None:
    """In the worker, as it exits: stop its background threads (the job under way is
    finished; jobs not started are queued again by the next worker's ``resume_batches``)
    and close its database connections."""
    app: Flask | None = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        close_app(app)


def close_app(app: Flask) -> None:
    app.extensions["issuer.use_cases"].close()


def resume_batches(app: Flask, warn: Callable[[str], None], say: Callable[[str], None]) -> None:
    """With the in-process queue, queue again the batches being validated or drawn when
    the service stopped (``issuer run`` and ``issuer serve`` at start)."""
    from issuer.service import jobs

    use = app.extensions["issuer.use_cases"]
    if not isinstance(use.queue, jobs.InProcessQueue):
        return
    try:
        resumed = use.batches.resume()
    except Exception as exc:  # a database not migrated yet: the service still starts
        warn(f"batches not resumed: {exc}")
    else:
        if resumed:
            say(f"resumed {len(resumed)} unfinished batch(es) / 继续处理{len(resumed)}个未完成的批次")


def run_server(settings: ServerSettings) -> None:
    """Serve until TERM (exit 0), INT or QUIT. Log records are masked in the master too,
    and in the format asked for (the workers, forked from it, write theirs alike)."""
    logformat.configure(settings.log_format)
    with metrics_folder():
        IssuerServer(settings).run()
