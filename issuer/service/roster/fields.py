"""Which roster column an error from ``issuing.prepare`` or the printability check is
about: the request field it names (``service.fields``), as the roster's column."""

from __future__ import annotations

from issuer.core.errors import IssuerError
from issuer.service.fields import field_of
from issuer.service.roster.reading import RosterRow


def error_column(row: RosterRow, error: IssuerError) -> str | None:
    """The column of ``row`` an error is about: the occupation by the column the row gave it
    in (code or name), the holder's name in ``name``, the others by their own names."""
    field = field_of(error)
    if field == "occupation":
        return "occupation_code" if row.text("occupation_code") else "occupation_name"
    return {"holder_name": "name", "competition": "competition_tier"}.get(field or "", field)
