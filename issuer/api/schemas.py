"""Marshmallow schemas of every request and response body (unknown fields are refused)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from issuer.core.clock import parse_date
from issuer.service.certificates import MAX_PAGE, MAX_PAGE_SIZE
from issuer.service.principal import Role
from issuer.service.revoking import REVOCATION_REASONS

_CODE = validate.Regexp(r"^[1-8]-\d{2}-\d{2}-\d{2}$", error="occupation code like 6-31-01-03")
_LEVEL = validate.Range(min=1, max=5)
_SCORE = validate.Range(min=0, max=100)


_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"Unknown field\.", "未知字段"),
        (r"Missing data for required field\.", "缺少必填字段"),
        (r"Field may not be null\.", "字段不能为null"),
        (r"Invalid value\.|Invalid input\.", "值无效"),
        (r"Invalid input type\.|Invalid type\.", "类型错误，应为对象"),
        (r"Not a valid (?:number|integer)\.", "不是有效的数字"),
        (r"Number too large\.", "数字过大"),
        (r"Special numeric values \(nan or infinity\) are not permitted\.", "不允许nan或infinity"),
        (r"Not a valid string\.|Not a valid utf-8 string\.", "不是有效的字符串"),
        (r"Not a valid boolean\.", "不是有效的布尔值（true或false）"),
        (r"Not a valid date\.", "不是有效的日期（YYYY-MM-DD）"),
        (r"Not a valid (?:naive |aware )?datetime\.", "不是有效的时间"),
        (r"Not a valid list\.|Not a valid tuple\.", "不是有效的列表"),
        (r"Not a valid mapping type\.", "不是有效的对象"),
        (r"Not a valid (?:URL|email address|UUID)\.", "格式无效"),
        (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.", r"应在\1至\2之间"),
        (r"Must be greater than or equal to (\S+)\.", r"应不小于\1"),
        (r"Must be less than or equal to (\S+)\.", r"应不大于\1"),
        (r"Must be greater than (\S+)\.", r"应大于\1"),
        (r"Must be less than (\S+)\.", r"应小于\1"),
        (r"Length must be between (\d+) and (\d+)\.", r"长度应在\1至\2之间"),
        (r"Shorter than minimum length (\d+)\.", r"长度不能少于\1"),
        (r"Longer than maximum length (\d+)\.", r"长度不能超过\1"),
        (r"Length must be (\d+)\.", r"长度应为\1"),
        (r"Must be one of: (.*)\.", r"应为以下之一：\1"),
        (r"String does not match expected pattern\.", "格式不符合要求"),
        (r"occupation code like 6-31-01-03", "职业编码格式应如6-31-01-03"),
        (
            r"a date YYYY-MM-DD or a time with an offset.*",
            "应为日期YYYY-MM-DD或带时区的时间，如2026-12-01T09:37:00+08:00",
        ),
    )
)
"""Every message the schemas give (marshmallow's own and ours), in Chinese."""


def message_zh(message: str) -> str:
    """The Chinese of a schema message; one not in ``_ZH`` (a new validator) still says
    what is wrong, in English after the Chinese."""
    for pattern, zh in _ZH:
        if pattern.fullmatch(message):
            return pattern.sub(zh, message)
    return f"输入无效：{message}"


def bilingual(messages: Any) -> Any:
    """Schema errors (``{"field": ["…"]}``, nested for objects, lists and dicts) with each
    message as ``{"message": …, "message_zh": …}``, like every other error."""
    if isinstance(messages, dict):
        return {key: bilingual(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [bilingual(m) for m in messages]
    if isinstance(messages, str):
        return {"message": messages, "message_zh": message_zh(messages)}
    return messages


def first_error(messages: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """The path of the first failed field (``scores.theory``) and its message."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            found = first_error(value, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(messages, list | tuple) and messages:
        return first_error(messages[0], path)
    elif isinstance(messages, str):
        return ".".join(path), messages
    return None


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class DateOrInstant(fields.Field):  # type: ignore[type-arg]
    """``2026-12-01`` (a China date) or ``2026-12-01T09:37:00+08:00`` (an instant with an offset)."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "invalid": "a date YYYY-MM-DD or a time with an offset, e.g. 2026-12-01T09:37:00+08:00"
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date | datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                return parse_date(value)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            raise self.make_error("invalid")
        return moment


_WHEN = {
    "description": "when it takes effect: absent or today = now (the next whole second); a later date "
    "(00:00 China time) or a later time with an offset; never earlier",
    "oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
}


# --- organizations ----------------------------------------------------------------------


_EDITION = fields.Integer(
    load_default=None,
    allow_none=True,
    strict=True,
    validate=validate.OneOf([2015, 2022]),
    metadata={
        "description": "the 职业分类大典 edition the occupation code is of (default 2022); a 2015 code is "
        "translated to its 2022 code by the table of docs/RULES.md (Occupations), or refused naming it"
    },
)


class ScopeItemIn(Strict):
    occupation = fields.String(required=True, validate=_CODE)
    edition = _EDITION
    levels = fields.List(fields.Integer(validate=_LEVEL), required=True, validate=validate.Length(min=1, max=5))
    work_types = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)


class RegistrationIn(Strict):
    type = fields.String(required=True, validate=validate.OneOf(["Y", "S"]))
    authority_code = fields.String(required=True, validate=validate.Regexp(r"^\d{4}$"))
    province = fields.String(required=True, validate=validate.Regexp(r"^\d{2}$"))
    site_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    scope = fields.List(fields.Nested(ScopeItemIn), required=True, validate=validate.Length(min=1, max=500))
    registered_from = fields.Date(required=True)
    registered_until = fields.Date(load_default=None, allow_none=True)


class StatusChangeIn(Strict):
    since = DateOrInstant(load_default=None, allow_none=True, metadata=_WHEN)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class ScopeUpdateIn(Strict):
    scope = fields.List(fields.Nested(ScopeItemIn), required=True, validate=validate.Length(min=1, max=500))
    effective = DateOrInstant(load_default=None, allow_none=True, metadata=_WHEN)


class CompromiseIn(Strict):
    compromised_at = fields.AwareDateTime(load_default=None, allow_none=True)


class StatusChangeOut(ma.Schema):
    status = fields.String()
    since = fields.DateTime(metadata={"description": "in force from this instant"})
    note = fields.String()


class ScopeItemOut(ma.Schema):
    occupation = fields.String()
    occupation_name = fields.String()
    edition = fields.Integer()
    levels = fields.List(fields.Integer())
    work_types = fields.List(fields.String())
    valid_from = fields.DateTime(allow_none=True, metadata={"description": "in force from (inclusive)"})
    valid_until = fields.DateTime(allow_none=True, metadata={"description": "in force until (exclusive)"})


class KeyOut(ma.Schema):
    kid = fields.String()
    status = fields.String()
    certificate_pem = fields.String()
    created_at = fields.DateTime()
    retired_at = fields.DateTime(allow_none=True)
    compromised_at = fields.DateTime(allow_none=True)


class OrganizationOut(ma.Schema):
    code = fields.String()
    name = fields.String()
    status = fields.String(
        metadata={"description": "the latest status decided; in force from its since (see status_history)"}
    )
    layout = fields.String()
    has_background = fields.Boolean()
    has_logo = fields.Boolean()
    has_seal = fields.Boolean()
    registered_from = fields.Date()
    registered_until = fields.Date(allow_none=True)
    status_history = fields.List(fields.Nested(StatusChangeOut))
    scope = fields.List(fields.Nested(ScopeItemOut))
    keys = fields.List(fields.Nested(KeyOut))


# --- certificates -----------------------------------------------------------------------


_SCORE_DOC = {"description": "0 to 100, at most two decimals (more is refused, not rounded)"}
METHODS = ("exam", "performance_review", "process_assessment", "competition")
"""The assessment methods' keys (``issuer/core/data/assessment-methods.json``; a test holds
the two to each other)."""
TIERS = ("national_1", "provincial_1", "provincial_2")
"""The competition tiers' keys, likewise."""


def _score_field(what: str) -> fields.Decimal:
    return fields.Decimal(
        validate=_SCORE, allow_nan=False, metadata={"description": f"{what}: {_SCORE_DOC['description']}"}
    )


class ScoresIn(Strict):
    theory = _score_field("理论知识考试 (exam)")
    practical = _score_field("技能操作考核 (exam)")
    review = _score_field("综合评审, levels 2 and 1")
    performance = _score_field("工作业绩评审 (performance_review)")
    process = _score_field("过程考核 (process_assessment)")


_PASSED_ON = {"description": "the China date it was passed (default: the issue date)"}


class PassedOnIn(Strict):
    theory = fields.Date(metadata=_PASSED_ON)
    practical = fields.Date(metadata=_PASSED_ON)
    review = fields.Date(metadata=_PASSED_ON)
    performance = fields.Date(metadata=_PASSED_ON)
    process = fields.Date(metadata=_PASSED_ON)


class CompetitionIn(Strict):
    tier = fields.String(
        required=True,
        validate=validate.OneOf(TIERS),
        metadata={"description": "national_1 国家级一类竞赛, provincial_1 省级一类竞赛, provincial_2 省级二类竞赛"},
    )
    rank = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=100_000), metadata={"description": "1 = first"}
    )
    held_level = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=_LEVEL,
        metadata={
            "description": "the level the competitor already held (null: none); the tier's rule may grant one more"
        },
    )
    date = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "of the result; default the issue date"}
    )


class IssueIn(Strict):
    holder_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    document_type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    document_number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    occupation = fields.String(required=True, validate=_CODE)
    work_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    edition = _EDITION
    level = fields.Integer(required=True, strict=True, validate=_LEVEL)
    method = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(METHODS),
        metadata={
            "description": "评价方式: exam 考试考核 (default: theory and practical, review at levels 2 and 1), "
            "performance_review 工作业绩评审 (performance), process_assessment 过程考核 (process), "
            "competition 竞赛选拔 (competition); see docs/RULES.md, Assessment"
        },
    )
    scores = fields.Nested(
        ScoresIn,
        load_default=dict,
        metadata={"description": "each component of the method at the level, at least 60"},
    )
    passed_on = fields.Nested(
        PassedOnIn,
        load_default=dict,
        metadata={
            "description": "per component, the date it was passed (default the issue date): components passed at "
            "different sittings combine within 2 years of each other"
        },
    )
    competition = fields.Nested(
        CompetitionIn,
        metadata={"description": "the result, for competition (leave it out for the other methods)"},
    )
    issue_date = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "default today; at most MAX_BACKDATE_DAYS (30) days back, never in the future"},
    )
    replaces = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "re-issue (换发): the number of the organization's certificate this one replaces"},
    )
    photo = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=700_000),
        metadata={
            "format": "byte",
            "description": "base64 of a JPEG or PNG photo (1-inch, white background), at most 500 KB and 2000 "
            "pixels a side; required when the organization's layout has a photo box, then portrait (taller than "
            "wide) and at least the box's size at 300 dpi (25×35 mm: 295×413 pixels)",
        },
    )


class ScoresOut(ma.Schema):
    theory = fields.Decimal(as_string=True, allow_none=True)
    practical = fields.Decimal(as_string=True, allow_none=True)
    review = fields.Decimal(as_string=True, allow_none=True)
    performance = fields.Decimal(as_string=True, allow_none=True)
    process = fields.Decimal(as_string=True, allow_none=True)


class ResultOut(ma.Schema):
    component = fields.String()
    name = fields.String(metadata={"description": "e.g. 理论知识考试"})
    name_en = fields.String()
    score = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "null for a competition"})
    passed_on = fields.Date()
    tier = fields.String(allow_none=True, metadata={"description": "competition only"})
    tier_name = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True)
    held_level = fields.Integer(allow_none=True)


class MethodOut(ma.Schema):
    key = fields.String(metadata={"description": "exam, performance_review, process_assessment or competition"})
    code = fields.Integer(metadata={"description": "the credential's claim -12 (1, the default, is not written)"})
    name = fields.String(metadata={"description": "e.g. 竞赛选拔"})
    name_en = fields.String()


class OrganizationRef(ma.Schema):
    code = fields.String()
    name = fields.String()


class CertificateOut(ma.Schema):
    number = fields.String()
    status = fields.String(metadata={"description": "valid or revoked"})
    holder_name = fields.String()
    document_type = fields.Integer()
    document_type_name = fields.String()
    document_number = fields.String(metadata={"description": "full for the issuing organization, masked otherwise"})
    occupation = fields.String()
    occupation_name = fields.String()
    occupation_edition = fields.Integer(metadata={"description": "2022 (a 2015 code is issued as its 2022 code)"})
    work_type = fields.String(metadata={"description": "工种/职业方向, -- when none"})
    level = fields.Integer()
    level_label = fields.String(metadata={"description": "e.g. 三级/高级工"})
    issue_date = fields.Date()
    issue_date_zh = fields.String(metadata={"description": "e.g. 2026年11月29日"})
    issued_at = fields.DateTime(allow_none=True, metadata={"description": "the instant in the credential"})
    organization = fields.Nested(OrganizationRef)
    method = fields.Nested(MethodOut, metadata={"description": "the assessment method (评价方式)"})
    scores = fields.Nested(ScoresOut)
    results = fields.List(
        fields.Nested(ResultOut), metadata={"description": "every component as judged, with the date it was passed"}
    )
    qr_text = fields.String()
    status_index = fields.Integer()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    revocation_note = fields.String(allow_none=True)
    replaces = fields.String(allow_none=True, metadata={"description": "the certificate this one replaced"})
    replaced_by = fields.String(allow_none=True, metadata={"description": "the certificate that replaced this one"})
    has_photo = fields.Boolean()
    log_index = fields.Integer(
        allow_none=True,
        metadata={
            "description": "leaf index of its issuance in the transparency log; null until the log's sequencer "
            "has appended it (ISSUER_LOG_DELAY_MS after its issuance)"
        },
    )


class CertificatePage(ma.Schema):
    items = fields.List(fields.Nested(CertificateOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class SearchArgs(Strict):
    number = fields.String(validate=validate.Length(max=22), metadata={"description": "a prefix of the number"})
    name = fields.String(validate=validate.Length(max=64), metadata={"description": "part of the holder's name"})
    document_number = fields.String(
        validate=validate.Length(max=40),
        metadata={"description": "the whole document number, or its last 1-4 characters"},
    )
    batch = fields.String(validate=validate.Regexp(r"^[0-9a-fA-F]{32}$"), metadata={"description": "a batch id"})
    occupation = fields.String(validate=_CODE)
    level = fields.Integer(validate=_LEVEL)
    issued_from = fields.Date()
    issued_until = fields.Date()
    revoked = fields.Boolean()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class RevokeIn(Strict):
    reason = fields.String(required=True, validate=validate.OneOf(list(REVOCATION_REASONS)))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class ImageArgs(Strict):
    format = fields.String(load_default="png", validate=validate.OneOf(["png", "pdf"]))
    dpi = fields.Integer(
        load_default=300,
        validate=validate.OneOf([150, 200, 300, 600]),
        metadata={"description": "image resolution: 150, 200, 300 or 600 (QR modules of at least 0.6 mm at each)"},
    )


_IMAGE = {"format": "byte", "description": "base64 of a PNG or JPEG (at most 2 MB); null removes it"}


class AppearanceIn(Strict):
    layout = fields.String(required=True, validate=validate.Length(min=1, max=40))
    background = fields.String(load_default=None, allow_none=True, metadata=_IMAGE)
    logo = fields.String(load_default=None, allow_none=True, metadata=_IMAGE)
    seal = fields.String(
        load_default=None, allow_none=True, metadata={**_IMAGE, "description": "PNG with transparency"}
    )


class BatchUploadIn(Strict):
    """The multipart form of ``POST /batches``: the files and the options in one body."""

    roster = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "CSV (UTF-8 or GBK) or XLSX roster"},
    )
    photos = fields.Raw(
        load_default=None, metadata={"type": "string", "format": "binary", "description": "ZIP of photos"}
    )
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "validate only, issue nothing: the batch ends checked"}
    )
    valid_rows_only = fields.Boolean(load_default=False, metadata={"description": "issue the valid rows only"})
    formats = fields.String(
        load_default="png,pdf",
        validate=validate.OneOf(["png,pdf", "pdf,png", "png", "pdf"]),
        metadata={"description": "files in the archive: png, pdf or both (png,pdf)"},
    )
    dpi = fields.Integer(
        load_default=300, validate=validate.OneOf([150, 200, 300, 600]), metadata={"description": "image resolution"}
    )


class RosterProblemOut(ma.Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    value = fields.String()
    code = fields.String()
    message = fields.String()
    message_zh = fields.String()


class RosterReportOut(ma.Schema):
    rows = fields.Integer()
    valid_rows = fields.Integer()
    invalid_rows = fields.Integer()
    issue_date = fields.String(allow_none=True)
    problems = fields.List(fields.Nested(RosterProblemOut))


class BatchArchiveOut(ma.Schema):
    url = fields.String()
    bytes = fields.Integer()
    sha256 = fields.String()


class RefusalOut(ma.Schema):
    code = fields.String(
        metadata={
            "description": "roster_has_errors, roster_empty, roster_validated_another_day, or why issuing was refused"
        }
    )
    message = fields.String()
    message_zh = fields.String()


class BatchLinksOut(ma.Schema):
    self = fields.String(metadata={"description": "this batch: poll it"})
    result = fields.String(
        allow_none=True, metadata={"description": "result.xlsx (every row: its number or its problems), once validated"}
    )
    archive = fields.String(allow_none=True, metadata={"description": "the ZIP of every image, once done"})


class BatchStatusOut(ma.Schema):
    id = fields.String()
    status = fields.String(
        metadata={
            "description": "validating → issuing → rendering → done; checked (a dry run: validated, nothing issued), "
            "rejected (nothing issued: see refusal and report.problems), failed (see error), "
            "expired (archive removed)"
        }
    )
    status_zh = fields.String()
    roster_name = fields.String()
    dry_run = fields.Boolean()
    valid_rows_only = fields.Boolean()
    rows = fields.Integer(metadata={"description": "the roster's rows (counted when it was uploaded)"})
    checked = fields.Integer(metadata={"description": "rows validated so far"})
    issued = fields.Integer()
    rendered = fields.Integer()
    progress = fields.Float(
        metadata={"description": "0 to 1: checked / rows while validating, then rendered / issued while drawing"}
    )
    formats = fields.List(fields.String())
    dpi = fields.Integer()
    created_at = fields.String()
    created_by = fields.String()
    queued = fields.Boolean(
        metadata={"description": "false if queueing the batch's background job failed: retry the upload"}
    )
    finished_at = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    refusal = fields.Nested(
        RefusalOut, allow_none=True, metadata={"description": "why a rejected roster was not issued"}
    )
    archive = fields.Nested(BatchArchiveOut, allow_none=True)
    links = fields.Nested(BatchLinksOut)
    report = fields.Nested(RosterReportOut, metadata={"description": "every problem of every row, once validated"})


class BatchListOut(ma.Schema):
    items = fields.List(fields.Nested(BatchStatusOut))


# --- public -----------------------------------------------------------------------------


class VerifyIn(Strict):
    qr_text = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class CheckOut(ma.Schema):
    name = fields.String()
    outcome = fields.String()
    detail = fields.String()
    detail_zh = fields.String()


class ExplanationOut(ma.Schema):
    kind = fields.String(metadata={"description": "valid, revoked, reissued, not_valid or unknown"})
    reason = fields.String(allow_none=True)
    headline = fields.String()
    headline_zh = fields.String()
    explanation = fields.String()
    explanation_zh = fields.String()
    advice = fields.String(metadata={"description": "what to do next"})
    advice_zh = fields.String()


class VerifyOut(ma.Schema):
    status = fields.String(metadata={"description": "valid, revoked, not_valid or unknown"})
    status_zh = fields.String()
    reason = fields.String(
        allow_none=True,
        metadata={
            "description": "why it is not valid or cannot be told: a reason code of the offline verifier "
            "(docs/FORMAT.md §8), reissued, or record_damaged (记录已损坏: the service's record of this "
            "certificate disagrees with its signed credential or status list)"
        },
    )
    explanation = fields.Nested(ExplanationOut, metadata={"description": "what it means, in plain words"})
    failed_check = fields.String(allow_none=True)
    signature_suite = fields.String(
        allow_none=True,
        metadata={"description": "the signature checked: ed25519, or sm2-sm3 (国密); null when no key was found"},
    )
    checks = fields.List(fields.Nested(CheckOut))
    checked_at = fields.DateTime()
    recorded = fields.Boolean(metadata={"description": "the service holds this very credential"})
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    replaced_by = fields.String(allow_none=True, metadata={"description": "re-issued as this certificate"})
    certificate = fields.Dict(allow_none=True, metadata={"description": "signed fields; no document number"})
    organization = fields.Nested(OrganizationRef, allow_none=True)


class LookupArgs(Strict):
    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    document_number = fields.String(required=True, validate=validate.Length(min=1, max=40))


class LookupOut(ma.Schema):
    status = fields.String(
        metadata={"description": "valid, revoked, not_valid (the record is damaged) or unknown (no usable status list)"}
    )
    reason = fields.String(
        allow_none=True,
        metadata={"description": "record_damaged (记录已损坏) when the record disagrees with its signed data"},
    )
    number = fields.String()
    holder_name = fields.String()
    document_type_name = fields.String()
    document_number = fields.String(metadata={"description": "masked"})
    occupation = fields.String()
    occupation_name = fields.String()
    work_type = fields.String()
    level_label = fields.String()
    issue_date = fields.Date()
    issue_date_zh = fields.String()
    organization = fields.Nested(OrganizationRef)
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    replaced_by = fields.String(allow_none=True, metadata={"description": "re-issued as this certificate"})


class BundleOut(ma.Schema):
    format = fields.String()
    version = fields.Integer()
    root_certificate = fields.String(metadata={"format": "byte", "description": "DER, base64"})
    trust_list = fields.String(metadata={"format": "byte", "description": "COSE_Sign1 by the root key, base64"})
    status_lists = fields.List(
        fields.String(metadata={"format": "byte"}),
        metadata={"description": "every organization's signed status list (COSE_Sign1, base64)"},
    )
    tree_head = fields.String(
        allow_none=True,
        metadata={"format": "byte", "description": "the latest signed tree head of the log (COSE_Sign1, base64)"},
    )
    manifest = fields.String(
        metadata={
            "format": "byte",
            "description": "the manifest binding this bundle's parts: SHA-256 of the trust list, the tree head and "
            "each status list, signed by the log key (COSE_Sign1, base64)",
        }
    )


# --- status lists and the transparency log (public) -------------------------------------

_INDEX = validate.Range(min=0, max=2**62)
_SIZE = validate.Range(min=1, max=2**62)


class StatusListArgs(Strict):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "cose"]),
        metadata={"description": "json (default) or cose: the signed list itself as application/cose"},
    )


class StatusListOut(ma.Schema):
    organization = fields.String()
    issued_at = fields.String()
    max_age = fields.Integer(metadata={"description": "seconds after issued_at that the list speaks for"})
    expires_at = fields.String()
    bits = fields.Integer(metadata={"description": "entries in the list"})
    revoked_count = fields.Integer()
    signed = fields.String(metadata={"format": "byte", "description": "COSE_Sign1 by the organization key, base64"})


class TreeHeadOut(ma.Schema):
    tree_size = fields.Integer()
    root_hash = fields.String(metadata={"description": "hex"})
    timestamp = fields.String()
    tree_hash = fields.String(
        metadata={"description": "the Merkle tree's hash: sha256, or sm3 when the log key is SM2 (国密)"}
    )
    log_kid = fields.String(metadata={"description": "hex"})
    signed = fields.String(metadata={"format": "byte", "description": "COSE_Sign1 by the log key, base64"})


_ONE_OF = "give exactly one of leaf_index and number (both or neither: 422 leaf_index_or_number)"


class InclusionArgs(Strict):
    leaf_index = fields.Integer(validate=_INDEX, metadata={"description": f"a leaf of the log; {_ONE_OF}"})
    number = fields.String(
        validate=validate.Length(min=1, max=40), metadata={"description": f"a certificate number; {_ONE_OF}"}
    )
    tree_size = fields.Integer(validate=_SIZE, metadata={"description": "a signed tree head's size; default latest"})


class InclusionOut(ma.Schema):
    leaf_index = fields.Integer()
    tree_size = fields.Integer()
    leaf_hash = fields.String(metadata={"description": "hex"})
    proof = fields.List(fields.String(), metadata={"description": "hex, RFC 9162 §2.1.3"})
    tree_head = fields.Nested(TreeHeadOut, metadata={"description": "the signed tree head of tree_size"})


class ConsistencyArgs(Strict):
    first = fields.Integer(required=True, validate=_SIZE)
    second = fields.Integer(required=True, validate=_SIZE)


class ConsistencyOut(ma.Schema):
    first = fields.Integer()
    second = fields.Integer()
    proof = fields.List(fields.String(), metadata={"description": "hex, RFC 9162 §2.1.4"})


class EntriesArgs(Strict):
    start = fields.Integer(required=True, validate=_INDEX)
    end = fields.Integer(required=True, validate=_SIZE, metadata={"description": "exclusive; at most start + 1000"})


class EntryProblemOut(ma.Schema):
    code = fields.String()
    message = fields.String()
    message_zh = fields.String()


class EntryOut(ma.Schema):
    index = fields.Integer()
    type = fields.String(
        metadata={"description": "issue, revoke, key, audit, or unreadable (the stored entry cannot be read)"}
    )
    entry = fields.String(metadata={"format": "byte", "description": "the entry (deterministic CBOR), base64"})
    problem = fields.Nested(
        EntryProblemOut, allow_none=True, metadata={"description": "why an unreadable entry cannot be read, or null"}
    )


class EntriesOut(ma.Schema):
    entries = fields.List(fields.Nested(EntryOut))
    tree_size = fields.Integer(metadata={"description": "the latest signed tree head's size"})


# --- administration ---------------------------------------------------------------------


class ApiKeyIn(Strict):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organization = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=13))


class ApiKeyOut(ma.Schema):
    id = fields.String()
    role = fields.String()
    name = fields.String()
    organization = fields.String(allow_none=True)
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    key = fields.String(metadata={"description": "the secret key; returned once, on creation"})


class AuditArgs(Strict):
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditEventOut(ma.Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    target = fields.String()
    details = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class ChainBreakOut(ma.Schema):
    code = fields.String(metadata={"description": "audit_chain_broken, audit_event_rewritten or audit_events_missing"})
    position = fields.Integer(metadata={"description": "1-based position of the event in the trail"})
    event_id = fields.Integer(allow_none=True, metadata={"description": "null for a deleted event"})
    detail = fields.String()
    detail_zh = fields.String()


class AuditPage(ma.Schema):
    events = fields.List(fields.Nested(AuditEventOut))
    chain_intact = fields.Boolean(
        metadata={
            "description": "the returned events link to each other and to the ones before, match the checkpoints "
            "the transparency log holds, and (on the last page) none the log anchors is missing"
        }
    )
    first_broken = fields.Nested(
        ChainBreakOut, allow_none=True, metadata={"description": "the first event that breaks the chain, or null"}
    )


class ClockIn(Strict):
    now = fields.AwareDateTime(required=True, metadata={"description": "the new time, with an offset"})


class ClockOut(ma.Schema):
    now = fields.DateTime()


class StatisticsRow(ma.Schema):
    organization = fields.String()
    level = fields.Integer()
    issued = fields.Integer()
    revoked = fields.Integer()
