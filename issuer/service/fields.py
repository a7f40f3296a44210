"""Which field of an issue request an error is about, so that the console shows it beside
that field and a roster report names that column: by the error's code, by the field the
renderer names (a character no font has, a value too long for its box), or by the results
the assessment rules name (a failing or missing score, a date, the competition result)."""

from __future__ import annotations

from issuer.core.errors import IssuerError

FIELDS = (
    "holder_name",
    "document_type",
    "document_number",
    "occupation",
    "edition",
    "work_type",
    "level",
    "method",
    "theory",
    "theory_date",
    "practical",
    "practical_date",
    "review",
    "review_date",
    "performance",
    "performance_date",
    "process",
    "process_date",
    "competition",
    "photo",
)
"""The fields of an issue request a person fills in, in the order forms show them."""

_BY_CODE = {
    "invalid_holder_name": "holder_name",
    "unknown_document_type": "document_type",
    "wrong_document_type": "document_type",
    "holder_under_age": "document_number",
    "unknown_occupation": "occupation",
    "licensed_occupation": "occupation",
    "invalid_occupation_code": "occupation",
    "out_of_scope": "occupation",
    "level_not_in_standard": "level",
    "level_not_in_work_type": "level",
    "unknown_work_type": "work_type",
    "invalid_work_type": "work_type",
    "invalid_photo": "photo",
    "invalid_image": "photo",
    "photo_required": "photo",
    "photo_too_small": "photo",
    "photo_not_portrait": "photo",
    "unknown_edition": "edition",
    "unmapped_occupation": "occupation",
    "ambiguous_occupation": "occupation",
    "unknown_method": "method",
    "competition_level_mismatch": "level",
}
_BY_RENDERED_NAME = {
    # The renderer names a field by its key or by its English name (``render.FIELD_NAMES``).
    "holder name": "holder_name",
    "holder_name": "holder_name",
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
_DOCUMENT_CODES = ("invalid_id", "invalid_document", "missing_document")


def field_of(error: IssuerError) -> str | None:
    """The request field ``error`` is about (one of ``FIELDS``), or None for the request as
    a whole (the organization is suspended, the person already holds the certificate)."""
    found = _BY_CODE.get(error.code) or _BY_RENDERED_NAME.get(
        str(error.errors.get("field") or error.errors.get("image") or "")
    )
    if found is not None:
        return found
    scores = error.errors.get("failed") or error.errors.get("missing") or [error.errors.get("component")]
    if scores and str(scores[0]) in FIELDS:
        dated = f"{scores[0]}_date"
        return dated if error.errors.get("part") == "date" and dated in FIELDS else str(scores[0])
    if error.code.startswith(_DOCUMENT_CODES):
        return "document_number"
    return None
