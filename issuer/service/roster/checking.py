"""``validate_roster``: every row checked as issuance would check it (the cells, the
certificates already held, ``issuing.prepare`` and the printability check), issuing
nothing; the ``RosterReport`` of every problem and the valid rows.

What it costs is one scrypt commitment a row (``identity.commit``, in ``issuing.prepare``;
milliseconds of CPU, the GIL released); everything else is a small fraction of that. So
the rows' commitments are computed by a pool of threads, one a core, each row's
``prepare`` and printability check together, while this thread reads and checks the cells
of the next chunk: the cores stay busy with scrypt, and the rest of the work fits in
between. The commitment travels with the valid row (``ValidRow.prepared``) to issuing,
which does not compute it again."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import islice

from issuer.core import policy
from issuer.core.errors import IssuerError
from issuer.core.policy import IssueTime
from issuer.service import issuing, lifecycle
from issuer.service.context import Context as Ports
from issuer.service.issuing import IssueRequest, Issuing
from issuer.service.principal import Principal, Role, require_role
from issuer.service.publishing import trust_entry
from issuer.service.roster.columns import ORDER
from issuer.service.roster.fields import error_column
from issuer.service.roster.photos import PhotoIndex
from issuer.service.roster.reading import RosterRow
from issuer.service.roster.report import RosterReport, ValidRow
from issuer.service.roster.row_checks import Context, Row, check_cells

CHUNK_ROWS = 200
"""Rows checked together: one database query per chunk for holders of the certificate,
and one progress report."""
IN_FLIGHT = 2
"""Chunks handed to the pool and not collected yet: the pool works on one while the next
one's cells are checked."""

Progress = Callable[[int], None]
"""``progress(rows)``: told how many rows are checked so far, after each chunk."""


def default_threads() -> int:
    """The pool's size when none is configured: one thread a core."""
    return os.cpu_count() or 1


def validate_roster(
    issuer: Issuing,
    principal: Principal | None,
    rows: Iterable[RosterRow],
    *,
    photos: Mapping[str, bytes] | None = None,
    progress: Progress | None = None,
    threads: int = 0,
) -> RosterReport:
    """Check every row as issuance would, issuing nothing; collect every problem of every
    row. ``threads``: the size of the pool that prepares rows (0: one a core). Raises
    ``Forbidden`` when the organization cannot issue today at all."""
    ctx = _context(issuer.context, require_role(principal, Role.ORG_ISSUER), photos)
    report = RosterReport(issue_date=ctx.today, imprint=ctx.imprint)
    pending: deque[list[tuple[Row, Future[ValidRow | None] | None]]] = deque()

    def collect() -> None:
        for row, ready in pending.popleft():
            _finish(report, row, ready.result() if ready is not None else None)
        if progress is not None:
            progress(report.rows)

    with ThreadPoolExecutor(max_workers=threads or default_threads(), thread_name_prefix="roster") as pool:
        for chunk in _chunks(rows, CHUNK_ROWS):
            checked = [check_cells(ctx, row) for row in chunk]
            _check_holders(ctx, checked)
            pending.append([(row, pool.submit(_ready, ctx, row) if not row.problems else None) for row in checked])
            if len(pending) > IN_FLIGHT:
                collect()
        while pending:
            collect()
    return report


def _context(ports: Ports, principal: Principal, photos: Mapping[str, bytes] | None) -> Context:
    now = lifecycle.to_second(ports.clock())
    with ports.reading() as uow:
        org = issuing.organization_of(uow, principal)
    entry = trust_entry(org)
    policy.check_registration(entry, IssueTime.at(now))
    return Context(ports, principal, now, org.id, entry, issuing.Imprint.of(org), PhotoIndex(photos))


def _chunks(rows: Iterable[RosterRow], size: int) -> Iterator[list[RosterRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _check_holders(ctx: Context, rows: list[Row]) -> None:
    """A person who already holds this occupation × 工种 × level from this organization (not
    revoked): one query per chunk."""
    wanted = {r.holder for r in rows if r.holder is not None}
    if not wanted:
        return
    with ctx.ports.reading() as uow:
        held = uow.certificates.held(ctx.organization_id, wanted)
    for r in rows:
        number = held.get(r.holder) if r.holder is not None else None
        if number is not None:
            error = issuing.already_certified(number)
            r.add("document_number", error.code, error.message, error.message_zh)


def _finish(report: RosterReport, row: Row, valid: ValidRow | None) -> None:
    report.rows += 1
    if valid is not None:
        report.valid.append(valid)
    report.problems.extend(sorted(row.problems, key=lambda p: ORDER.get(p.field or "", len(ORDER))))


def _ready(ctx: Context, row: Row) -> ValidRow | None:
    """A row whose cells passed, prepared (``issuing.prepare`` computes the scrypt
    commitment, once) and checked printable; ``None`` with the row's problems recorded.
    Runs in the pool: it records problems on its own row only."""
    assert row.doc is not None and row.occupation is not None and row.level is not None
    request = IssueRequest(
        holder_name=row.text("name"),
        document_type=row.doc[0].code,
        document_number=row.doc[1],
        occupation=row.occupation.code,
        level=row.level,
        scores=dict(row.scores or {}),
        work_type=row.text("work_type") or None,
        photo=row.photo,
        method=row.method.key if row.method is not None and row.method is not ctx.ports.methods.default else None,
        passed_on=dict(row.passed_on),
        placing=row.placing,
    )
    try:
        prepared = issuing.prepare(ctx.ports, request, ctx.now)
        # The row's photo was checked against this imprint's layout by its cell check.
        issuing.check_printable(ctx.ports, ctx.imprint, prepared, request.photo, photo_checked=True)
    except IssuerError as e:
        _row_error(row, e)
        return None
    return ValidRow(row.source.row, replace(request, photo=None), prepared, row.photo_member)


def _row_error(row: Row, error: IssuerError) -> None:
    if error.kind != "invalid_input":
        raise error  # the deployment's fault (a layout, a font), not the row's
    row.add_error(error_column(row.source, error), error)
