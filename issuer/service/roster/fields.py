"""Which roster column an error from ``issuing.prepare`` or the printability check is
about: by its code, or by the field the renderer names."""

from __future__ import annotations

from issuer.core.errors import IssuerError
from issuer.service.roster.reading import RosterRow

_CODE_COLUMNS = {
    "unknown_document_type": "document_type",
    "level_not_in_standard": "level",
    "level_not_in_work_type": "level",
    "unknown_work_type": "work_type",
    "invalid_photo": "photo",
    "invalid_image": "photo",
    "invalid_holder_name": "name",
    "invalid_work_type": "work_type",
}
_RENDER_FIELDS = {
    # The renderer names a field by its key or by its English name (``FIELD_NAMES``).
    "holder name": "name",
    "holder_name": "name",
    "document type": "document_type",
    "document_type_name": "document_type",
    "document number": "document_number",
    "document_number": "document_number",
    "occupation": "occupation",
    "occupation_name": "occupation",
    "work type": "work_type",
    "work_type": "work_type",
    "skill level": "level",
    "level_label": "level",
    "photo": "photo",
}


def error_column(row: RosterRow, error: IssuerError) -> str | None:
    """The column an error from ``prepare`` or the printability check is about."""
    key = _CODE_COLUMNS.get(error.code) or _RENDER_FIELDS.get(
        str(error.errors.get("field") or error.errors.get("image") or "")
    )
    if error.code in ("unknown_occupation", "invalid_occupation_code", "licensed_occupation") or key == "occupation":
        return "occupation_code" if row.text("occupation_code") else "occupation_name"
    if key is None and error.code.startswith(("invalid_id", "invalid_document", "missing_document")):
        return "document_number"
    return key
