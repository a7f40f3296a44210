"""Issuing a validated roster: every valid row in one transaction, numbered in one
contiguous block per (year, level). Rendering and background work build on this."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from issuer.core.clock import china_date
from issuer.core.errors import Conflict, InvalidInput
from issuer.service.context import Services
from issuer.service.idempotency import run_once
from issuer.service.issuance import issue_in
from issuer.service.principal import Principal, Role, require_role
from issuer.service.roster import PhotoArchive, RosterReport, read_roster, validate_roster


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
    with svc.transaction() as session:
        return _issue_report(svc, session, p, report, valid_rows_only)


def _refuse_unless_issuable(svc: Services, report: RosterReport, valid_rows_only: bool) -> None:
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


@dataclass(frozen=True)
class Upload:
    roster: bytes
    filename: str
    photos: bytes | None = None
    valid_rows_only: bool = False

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for part in (self.roster, self.filename.encode(), self.photos or b"", b"1" if self.valid_rows_only else b"0"):
            h.update(hashlib.sha256(part).digest())
        return h.hexdigest()


def check(svc: Services, principal: Principal | None, upload: Upload) -> RosterReport:
    """Read and validate without issuing (dry run)."""
    photos = PhotoArchive(upload.photos) if upload.photos else None
    return validate_roster(svc, principal, read_roster(upload.roster, upload.filename), photos=photos)


def submit(
    svc: Services, principal: Principal | None, upload: Upload, *, idempotency_key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Validate and issue a roster. A retry with the same Idempotency-Key returns the first
    answer and issues nothing twice; the answer is stored with the certificates."""
    p = require_role(principal, Role.ORG_ISSUER)

    def work(session: Session, report: RosterReport) -> dict[str, Any]:
        issued = _issue_report(svc, session, p, report, upload.valid_rows_only)
        return {"report": report.to_dict(), "issued": [{"row": r.row, "number": r.number} for r in issued]}

    return run_once(svc, p, idempotency_key, upload.fingerprint(), prepare=lambda: check(svc, p, upload), work=work)


def _issue_report(
    svc: Services, session: Session, principal: Principal, report: RosterReport, valid_rows_only: bool
) -> list[IssuedRow]:
    _refuse_unless_issuable(svc, report, valid_rows_only)
    issued = issue_in(svc, session, principal, [(v.request, v.prepared) for v in report.valid])
    return [IssuedRow(v.row, i.record.number, i.qr_text) for v, i in zip(report.valid, issued, strict=True)]
