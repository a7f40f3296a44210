"""``validate_roster``: every row checked as issuance would check it (the cells, the
certificates already held, ``issuing.prepare`` and the printability check), issuing
nothing; the ``RosterReport`` of every problem and the valid rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import islice

from issuer.core import policy
from issuer.core.errors import IssuerError
from issuer.core.policy import IssueTime
from issuer.service import issuing, lifecycle
from issuer.service.context import Context as Ports
from issuer.service.issuing import IssueRequest, Issuing, Prepared
from issuer.service.principal import Principal, Role, require_role
from issuer.service.publishing import trust_entry
from issuer.service.roster.columns import ORDER
from issuer.service.roster.fields import error_column
from issuer.service.roster.photos import PhotoIndex
from issuer.service.roster.reading import RosterRow
from issuer.service.roster.report import RosterReport, ValidRow
from issuer.service.roster.row_checks import Context, Row, check_cells

CHUNK_ROWS = 200
PREPARE_THREADS = 2
"""Rows checked together: one database query per chunk for holders of the certificate."""


def validate_roster(
    issuer: Issuing,
    principal: Principal | None,
    rows: Iterable[RosterRow],
    *,
    photos: Mapping[str, bytes] | None = None,
) -> RosterReport:
    """Check every row as issuance would, issuing nothing; collect every problem of every
    row. Raises ``Forbidden`` when the organization cannot issue today at all."""
    ctx = _context(issuer.context, require_role(principal, Role.ORG_ISSUER), photos)
    report = RosterReport(issue_date=ctx.today, imprint=ctx.imprint)
    # scrypt releases the GIL: commitments of a chunk's rows are computed on every core.
    with ThreadPoolExecutor(max_workers=PREPARE_THREADS) as pool:
        for chunk in _chunks(rows, CHUNK_ROWS):
            checked = [check_cells(ctx, row) for row in chunk]
            _check_holders(ctx, checked)
            prepared = pool.map(lambda row: _prepare(ctx, row) if not row.problems else None, checked)
            for row, ready in zip(checked, list(prepared), strict=True):
                _finish(ctx, report, row, ready)
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


def _finish(ctx: Context, report: RosterReport, row: Row, ready: tuple[IssueRequest, Prepared] | None) -> None:
    report.rows += 1
    if ready is not None:
        valid = _check_printable(ctx, row, *ready)
        if valid is not None:
            report.valid.append(valid)
    report.problems.extend(sorted(row.problems, key=lambda p: ORDER.get(p.field or "", len(ORDER))))


def _prepare(ctx: Context, row: Row) -> tuple[IssueRequest, Prepared] | None:
    """``issuing.prepare`` on a row whose cells passed (it computes the scrypt commitment,
    once); thread-safe: it records problems on its own row only."""
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
    )
    try:
        return request, issuing.prepare(ctx.ports, request, ctx.now)
    except IssuerError as e:
        _row_error(row, e)
        return None


def _check_printable(ctx: Context, row: Row, request: IssueRequest, prepared: Prepared) -> ValidRow | None:
    try:
        issuing.check_printable(ctx.ports, ctx.imprint, prepared, request.photo)
    except IssuerError as e:
        _row_error(row, e)
        return None
    return ValidRow(row.source.row, replace(request, photo=None), prepared, row.text("photo") or None, row.photo_member)


def _row_error(row: Row, error: IssuerError) -> None:
    if error.kind != "invalid_input":
        raise error  # the deployment's fault (a layout, a font), not the row's
    row.add_error(error_column(row.source, error), error)
