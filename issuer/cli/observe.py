"""What ``issuer serve`` adds so that it can be watched: gunicorn's own logs (its error log
and the access log) as JSON lines with ``ISSUER_LOG_FORMAT=json``, and the folder in which
its worker processes keep the metrics each counts (prometheus_client's multiprocess mode,
``PROMETHEUS_MULTIPROC_DIR``), so that ``/metrics``, whichever worker answers, sums them all.

The folder is the operator's ``PROMETHEUS_MULTIPROC_DIR`` (emptied of the files of an
earlier run when the server starts: counts left there would be added to this run's),
else a temporary one made when the server starts and removed when it stops. It is set
in the master before any worker is forked and before prometheus_client is imported,
which reads it once, when first imported."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gunicorn import glogging

from issuer.logformat import JsonFormatter

FOLDER = "PROMETHEUS_MULTIPROC_DIR"


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, its error and access records one JSON object a line."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


@contextmanager
def metrics_folder() -> Iterator[Path]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the server's life (see the module's docstring)."""
    given = os.environ.get(FOLDER)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
        yield folder
        return
    master = os.getpid()
    folder = Path(tempfile.mkdtemp(prefix=f"issuer-metrics-{master}-"))
    os.environ[FOLDER] = str(folder)
    try:
        yield folder
    finally:
        # A worker leaves gunicorn by an exception that unwinds the master's frames it was
        # forked in, this one too: only the master removes the folder.
        if os.getpid() == master:
            os.environ.pop(FOLDER, None)
            shutil.rmtree(folder, ignore_errors=True)


def child_exit(_arbiter: Any, worker: Any) -> None:
    """In the master, when a worker has exited (killed too): drop the gauges that only a
    live process may report (``mark_process_dead``); its counters stay, summed with the
    others'. Imported here, not before: prometheus_client must see the folder set."""
    if os.environ.get(FOLDER):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
