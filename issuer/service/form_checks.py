"""Every problem of an issue form at once, beside its field. Issuing stops at the first
problem (it raises); a form is one roster row, so the roster's row checks, which check each
cell on its own, answer the rest (``roster.row_checks``): one set of rules, two shapes."""

from __future__ import annotations

from collections.abc import Mapping

from issuer.core.errors import IssuerError
from issuer.service.issuing import Issuing
from issuer.service.principal import Principal
from issuer.service.roster.checking import validate_roster
from issuer.service.roster.reading import RosterRow

FORM_PHOTO = "photo.jpg"
"""The name the form's photo goes by in the one-row roster."""

_COLUMN_OF_FIELD = {"holder_name": "name", "occupation": "occupation_code"}
_FIELD_OF_COLUMN = {
    "name": "holder_name",
    "occupation_code": "occupation",
    "occupation_name": "occupation",
    "competition_tier": "competition",
    "held_level": "competition",
}
"""Form fields and roster columns where their names differ; the competition's tier and held
level are shown together, beside the competition's heading."""

Messages = tuple[str, str]
"""A problem in English and in Chinese."""


def form_problems(
    issuer: Issuing, principal: Principal | None, fields: Mapping[str, str], photo: bytes | None
) -> tuple[dict[str, Messages], Messages | None]:
    """The problems of the form's fields (form field → messages) and the first one that
    belongs to no field. Nothing is issued or stored. When the organization cannot issue at
    all (suspended, say), that is the one problem."""
    cells = {_COLUMN_OF_FIELD.get(key, key): value.strip() for key, value in fields.items()}
    cells["photo"] = FORM_PHOTO if photo else ""
    row = RosterRow(row=1, cells=cells)
    try:
        report = validate_roster(issuer, principal, [row], photos={FORM_PHOTO: photo} if photo else None, threads=1)
    except IssuerError as exc:
        return {}, (exc.message, exc.message_zh)
    found: dict[str, Messages] = {}
    general: Messages | None = None
    for problem in report.problems:
        if fields.get("replaces") and problem.code == "already_certified":
            continue  # the certificate being re-issued
        if problem.field is None:
            general = general or problem.unlocated()
        else:
            found.setdefault(_FIELD_OF_COLUMN.get(problem.field, problem.field), problem.unlocated())
    return found, general
