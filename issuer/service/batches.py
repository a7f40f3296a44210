"""Issuing a validated roster: every valid row in one transaction, numbered in one
contiguous block per (year, level). Rendering and background work build on this."""

from __future__ import annotations

from dataclasses import dataclass

from issuer.core.clock import china_date
from issuer.core.errors import Conflict, InvalidInput
from issuer.service.context import Services
from issuer.service.issuance import issue_in
from issuer.service.principal import Principal, Role, require_role
from issuer.service.roster import RosterReport


@dataclass(frozen=True)
class IssuedRow:
    row: int
    number: str
    qr_text: str


def issue_roster(
    svc: Services, principal: Principal | None, report: RosterReport, *, valid_rows_only: bool = False
) -> list[IssuedRow]:
    """By default a roster with any invalid row issues nothing; ``valid_rows_only`` issues
    the valid rows and leaves the rest to be corrected. Raises ``InvalidInput`` with the
    problems when refusing."""
    p = require_role(principal, Role.ORG_ISSUER)
    if report.problems and not valid_rows_only:
        raise InvalidInput(
            "roster_has_errors",
            f"{report.invalid_rows} of {report.rows} rows have problems; nothing was issued",
            f"名单中{report.rows}行有{report.invalid_rows}行存在问题，未发放任何证书",
            errors={"problems": [problem.to_dict() for problem in report.problems]},
        )
    if not report.valid:
        raise InvalidInput("roster_empty", "the roster has no valid row to issue", "名单中没有可发证的有效行")
    if report.issue_date != china_date(svc.clock()):
        raise Conflict(
            "roster_validated_another_day",
            "the roster was validated on another day; validate it again",
            "名单不是今天校验的，请重新校验",
        )
    with svc.transaction() as session:
        issued = issue_in(svc, session, p, [(v.request, v.prepared) for v in report.valid])
        return [IssuedRow(v.row, i.record.number, i.qr_text) for v, i in zip(report.valid, issued, strict=True)]
