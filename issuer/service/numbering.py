"""Serial allocation: a contiguous block of serials per (organization, year, level), taken
from the counter in the transaction that stores the certificates (``store.counters``: the
counter stays locked until commit, so serials have no gaps and no duplicates, and a
rollback returns them)."""

from __future__ import annotations

from issuer.core.errors import Conflict
from issuer.core.numbering import MAX_SERIAL
from issuer.store.uow import UnitOfWork


def allocate(uow: UnitOfWork, org_code: str, year: int, level: int, count: int = 1) -> int:
    """Reserve ``count`` consecutive serials; returns the first. Raises ``Conflict`` when
    the block would pass 999999 (the transaction then reserves nothing)."""
    last = uow.counters.advance(org_code, year, level, count)
    if last > MAX_SERIAL:
        raise Conflict(
            "serials_exhausted",
            f"serials for {org_code}, year {year:02d}, level {level} are exhausted (999999)",
            f"机构{org_code}在{year:02d}年{level}级的证书流水号已用尽（999999）",
        )
    return last - count + 1
