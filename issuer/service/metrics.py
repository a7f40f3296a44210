"""What ``/metrics`` reports, in Prometheus' text format. Two kinds of figure:

- counted by the process as things happen: verifications by outcome, requests and the
  time each took. Under ``issuer serve`` several processes answer, and a scrape reaches one
  of them: these are then kept in prometheus_client's multiprocess mode (a file per
  process in ``PROMETHEUS_MULTIPROC_DIR``, which ``issuer serve`` sets up) and summed over
  every process, the exited ones too, when scraped;
- read from the database when scraped (``Figures``): certificates issued and revoked,
  batches waiting, the drawing rate, when a worker last drew something, the age of the
  signed lists. They count the work of every process, ``issuer worker`` too, which serves
  no ``/metrics`` of its own; a counter kept in each process would lose a worker's counts
  when it exits and count nothing done in another.

prometheus_client is imported when the metrics are built, not with this module: it chooses
between counting in memory and in files once, when first imported, by
``PROMETHEUS_MULTIPROC_DIR``, which ``issuer serve`` sets after the ``issuer`` command
(and with it this module) was imported."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from issuer.service.context import Clock
from issuer.store.metrics import StoredFigures

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from issuer.service.verifying import LiveVerdict

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DRAWING_WINDOW = timedelta(minutes=5)
"""The drawing rate is the certificates drawn in this window before the scrape, a second."""
QUEUED = ("validating", "issuing", "rendering")
"""The statuses of a batch waiting for a worker (``service.batches``)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Figures(Protocol):
    """The database's figures (``issuer.store.metrics.MetricsReader``)."""

    def read(self, *, now: datetime, since: datetime, statuses: Sequence[str]) -> StoredFigures: ...


def multiprocess_folder() -> str | None:
    """Where the processes of ``issuer serve`` keep their counts, when prometheus_client
    counts in files: it decides when it is first imported, by ``PROMETHEUS_MULTIPROC_DIR``."""
    from prometheus_client import values

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and values.ValueClass is values.MutexValue:
        log.warning(
            "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set: counting in this process only"
        )
        return None
    if folder:
        os.makedirs(folder, exist_ok=True)  # counting into a folder that is not there would fail a request
    return folder or None


def outcome(live: LiveVerdict) -> tuple[str, str]:
    """A verification's labels: its status and the check that decided it (none when
    valid; ``record`` when the service's row disagrees with what was signed; ``status``
    for a revocation or an unusable status list)."""
    status = live.status
    if status == "valid":
        return status, ""
    if live.damaged:
        return status, "record"
    deciding = live.verdict.deciding
    return status, deciding.name if deciding is not None else "status"


class Metrics:
    def __init__(self, figures: Figures, clock: Clock, *, folder: str | None = None) -> None:
        """``folder``: count in prometheus_client's multiprocess files there (``multiprocess_folder``)."""
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self._figures = figures
        self._clock = clock
        self._folder = folder
        self._registry = CollectorRegistry()
        self._verifications = Counter(
            "issuer_verifications",
            "Verifications answered (API and scan page), by status and the check that decided it",
            ("outcome", "check"),
            registry=self._registry,
        )
        self._requests = Counter(
            "issuer_http_requests",
            "Requests answered, by Flask endpoint, method and status code",
            ("endpoint", "method", "status"),
            registry=self._registry,
        )
        self._latency = Histogram(
            "issuer_http_request_duration_seconds",
            "Time to answer a request, by Flask endpoint and method",
            ("endpoint", "method"),
            registry=self._registry,
        )
        self._stored = _StoredCollector(self)
        if folder is None:
            self._registry.register(self._stored)

    def verified(self, live: LiveVerdict) -> None:
        self._verifications.labels(*outcome(live)).inc()

    def answered(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """A request answered. ``endpoint``: Flask's name for the route (a few dozen),
        never the path, whose values are unbounded."""
        method = method if method in METHODS else "other"
        self._requests.labels(endpoint, method, str(status)).inc()
        self._latency.labels(endpoint, method).observe(seconds)

    def exposition(self) -> bytes:
        """Every figure, in the text format (``CONTENT_TYPE``)."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if self._folder is None:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self._folder)  # type: ignore[no-untyped-call]
        registry.register(self._stored)
        return generate_latest(registry)

    def stored(self) -> Iterator[Metric]:
        """The database's figures as metric families; ``issuer_database_up`` 0 and none of
        them when the database cannot be read (the scrape still answers)."""
        from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

        now = self._clock()
        up = GaugeMetricFamily("issuer_database_up", "Whether the database answered this scrape (1) or not (0)")
        try:
            f = self._figures.read(now=now, since=now - DRAWING_WINDOW, statuses=QUEUED)
        except Exception as exc:
            log.warning("metrics: the database cannot be read: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield CounterMetricFamily(
            "issuer_certificates_issued", "Certificates issued, by every process (from the database)", f.certificates
        )
        yield CounterMetricFamily(
            "issuer_certificates_revoked", "Certificates revoked, by every process (from the database)", f.revoked
        )
        batches = GaugeMetricFamily(
            "issuer_batches_queued", "Batches waiting for a worker, by status", labels=["status"]
        )
        for status, count in f.batches.items():
            batches.add_metric([status], count)
        yield batches
        yield GaugeMetricFamily(
            "issuer_batch_items_waiting", "Certificates of batches being drawn not drawn yet", f.items_waiting
        )
        yield GaugeMetricFamily(
            "issuer_drawing_rate",
            f"Certificates drawn a second, over the last {DRAWING_WINDOW.seconds} seconds",
            f.items_drawn_since / DRAWING_WINDOW.total_seconds(),
        )
        leases = GaugeMetricFamily(
            "issuer_validation_leases",
            "Validation slots held by a running validation (held) or left by one that stopped (expired)",
            labels=["state"],
        )
        leases.add_metric(["held"], f.leases_held)
        leases.add_metric(["expired"], f.leases_expired)
        yield leases
        yield GaugeMetricFamily(
            "issuer_log_pending_certificates",
            "Certificates issued and not yet appended to the transparency log by the sequencer",
            f.unlogged,
        )
        yield GaugeMetricFamily(
            "issuer_log_pending_age_seconds",
            "Seconds since the oldest certificate not yet in the transparency log was issued (0: none waits); "
            "more than a minute: no sequencer is appending (ISSUER_LOG_DELAY_MS, the log-sequence upkeep job)",
            max(0.0, (now - f.oldest_unlogged_at).total_seconds()) if f.oldest_unlogged_at is not None else 0.0,
        )
        for name, doc, at in (
            (
                "issuer_drawing_last_age_seconds",
                "Seconds since a drawing worker last finished a certificate (none drawn yet: no sample)",
                f.last_drawn_at,
            ),
            (
                "issuer_status_list_age_seconds",
                "Seconds since the least recently signed of the organizations' status lists was signed",
                f.oldest_status_list_at,
            ),
            ("issuer_tree_head_age_seconds", "Seconds since the latest tree head was signed", f.tree_head_at),
            ("issuer_trust_list_age_seconds", "Seconds since the latest trust list was signed", f.trust_list_at),
        ):
            family = GaugeMetricFamily(name, doc)
            if at is not None:
                family.add_metric([], max(0.0, (now - at).total_seconds()))
            yield family


class _StoredCollector:
    """The database's figures, read at each scrape (a collector prometheus_client calls)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics.stored()
