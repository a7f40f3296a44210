"""``validate_roster``: every row checked as issuance would check it (the cells, the
certificates already held, ``issuance.prepare`` and the printability check), issuing
nothing; the ``RosterReport`` of every problem and the valid rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import islice

from issuer.core import policy
from issuer.core.errors import IssuerError
from issuer.core.policy import IssueTime
from issuer.service import issuance, lifecycle
from issuer.service.context import Services
from issuer.service.issuance import IssueRequest, Prepared
from issuer.service.principal import Principal, Role, require_role
from issuer.service.registry import trust_entry
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
    svc: Services,
    principal: Principal | None,
    rows: Iterable[RosterRow],
    *,
    photos: Mapping[str, bytes] | None = None,
) -> RosterReport:
    """Check every row as issuance would, issuing nothing; collect every problem of every
    row. Raises ``Forbidden`` when the organization cannot issue today at all."""
    ctx = _context(svc, require_role(principal, Role.ORG_ISSUER), photos)
    report = RosterReport(issue_date=ctx.today)
    # scrypt releases the GIL: commitments of a chunk's rows are computed on every core.
    with ThreadPoolExecutor(max_workers=PREPARE_THREADS) as pool:
        for chunk in _chunks(rows, CHUNK_ROWS):
            checked = [check_cells(ctx, row) for row in chunk]
            _check_holders(ctx, checked)
            prepared = pool.map(lambda row: _prepare(ctx, row) if not row.problems else None, checked)
            for row, ready in zip(checked, list(prepared), strict=True):
                _finish(ctx, report, row, ready)
    return report


def _context(svc: Services, principal: Principal, photos: Mapping[str, bytes] | None) -> Context:
    now = lifecycle.to_second(svc.clock())
    with svc.db.reading() as session:
        org = issuance.organization_of(session, principal)
        entry = trust_entry(org)
        org_id = org.id
        imprint = issuance.Imprint.of(org)
    policy.check_registration(entry, IssueTime.at(now))
    return Context(svc, principal, now, org_id, entry, imprint, PhotoIndex(photos))


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
    with ctx.svc.db.reading() as session:
        held = issuance.held_certificates(session, ctx.organization_id, wanted)
    for r in rows:
        number = held.get(r.holder) if r.holder is not None else None
        if number is not None:
            error = issuance.already_certified(number)
            r.add("document_number", error.code, error.message, error.message_zh)


def _finish(ctx: Context, report: RosterReport, row: Row, ready: tuple[IssueRequest, Prepared] | None) -> None:
    report.rows += 1
    if ready is not None:
        valid = _check_printable(ctx, row, *ready)
        if valid is not None:
            report.valid.append(valid)
    report.problems.extend(sorted(row.problems, key=lambda p: ORDER.get(p.field or "", len(ORDER))))


def _prepare(ctx: Context, row: Row) -> tuple[IssueRequest, Prepared] | None:
    """``issuance.prepare`` on a row whose cells passed (it computes the scrypt commitment,
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
        return request, issuance.prepare(ctx.svc, request, ctx.now)
    except IssuerError as e:
        _row_error(row, e)
        return None


def _check_printable(ctx: Context, row: Row, request: IssueRequest, prepared: Prepared) -> ValidRow | None:
    try:
        issuance.check_printable(ctx.svc, ctx.imprint, prepared, request.photo)
    except IssuerError as e:
        _row_error(row, e)
        return None
    return ValidRow(row.source.row, replace(request, photo=None), prepared, row.text("photo") or None, row.photo_member)


def _row_error(row: Row, error: IssuerError) -> None:
    if error.kind != "invalid_input":
        raise error  # the deployment's fault (a layout, a font), not the row's
    row.add_error(error_column(row.source, error), error)
