"""A bounded schemathesis run over the served OpenAPI document: every operation, with
each role's API key and with none, on schema-valid requests and on requests the schema
says are wrong. No answer is a 5xx or lies outside the document (status, content type,
body); a schema-valid request is refused only for a reason ``REFUSALS`` names."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Keys, auth

EXAMPLES = 20
"""Cases per operation and generation mode: both runs take about 30 s on an idle 2-CPU machine."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

REFUSALS = {
    # who may: the schema describes requests, not credentials
    "authentication_required": "no key",
    "invalid_api_key": "a key of no one (schemathesis draws bearer tokens from the security scheme)",
    "role_not_allowed": "a key of a role the operation is not for",
    "organization_mismatch": "an organization for a role that has none, or none for one that has",
    "organization_required": "an organization issuer key needs an organization",
    # what exists: identifiers drawn at random name nothing
    "api_key_not_found": "no such API key",
    "batch_not_found": "no such batch",
    "certificate_not_found": "no such certificate (or another organization's)",
    "organization_not_found": "no such organization",
    "organization_unknown": "no such organization",
    "key_not_found": "no such key of the organization",
    "status_list_not_found": "no status list for that code",
    "no_matching_certificate": "the lookup's three fields match no certificate",
    "certificate_not_logged": "the certificate is not in the log",
    "tree_head_not_found": "no signed tree head of that size",
    "log_empty": "nothing logged yet",
    "no_dev_clock": "the clock is settable only in development (ISSUER_CLOCK)",
    # the state things are in
    "organization_exists": "that organization code is registered already",
    "organization_cancelled": "a cancelled registration changes no more",
    "status_unchanged": "the organization already has that status",
    "key_already_compromised": "the key is marked compromised already",
    "already_revoked": "the certificate is revoked already",
    "already_certified": "the person holds this certificate already",
    "already_reissued": "the certificate was re-issued already",
    "certificate_revoked": "a revoked certificate is not drawn",
    "idempotency_key_reused": "the same Idempotency-Key with another body",
    "batch_not_ready": "the batch's roster is being validated, or its images drawn",
    "rate_limited": "the lookup's 10 requests a minute per client",
    # rules of the domain that no schema states (README, the fields' descriptions)
    "leaf_index_or_number": "exactly one of leaf_index and number",
    "invalid_range": "log entries: end > start, at most 1,000",
    "invalid_tree_sizes": "consistency: first <= second",
    "leaf_outside_tree": "the leaf lies beyond the tree size",
    "invalid_number": "the numbering rule (organization code, check character)",
    "invalid_period": "registered_until before registered_from",
    "invalid_scope": "a scope the catalogue cannot issue",
    "registration_outside_root": "a registration period outside the root certificate's",
    "effective_in_the_past": "a change may not take effect before now",
    "invalid_since": "a status change's date",
    "invalid_time": "a compromise time in the future",
    "unknown_occupation": "an occupation code not in the 2022 catalogue",
    "licensed_occupation": "准入类 occupations are not issued here",
    "invalid_occupation_code": "an occupation code the catalogue cannot parse",
    "level_not_in_standard": "the occupation has no such level",
    "level_not_in_work_type": "the 工种 has no such level",
    "unknown_work_type": "a 工种 the occupation does not have",
    "unknown_province": "a province code that does not exist",
    "unknown_level": "a level the catalogue does not know",
    "unknown_document_type": "a document type not in the configuration",
    "invalid_document_number": "a document number its type does not allow",
    "missing_document_number": "an empty document number",
    "invalid_id_format": "a 居民身份证 number of the wrong shape",
    "invalid_id_birth_date": "a 居民身份证 number with an impossible birth date",
    "invalid_id_checksum": "the GB 11643 check character",
    "invalid_id_province": "a 居民身份证 number whose first two digits are no province (docs/RULES.md)",
    "invalid_id_address": "a 居住证 number not beginning 810000, 820000 or 830000",
    "invalid_id_first_generation": "a 15-digit first-generation 居民身份证 number",
    "wrong_document_type": "a number shaped as another document type's",
    "holder_under_age": "a holder under 16 on the issue date",
    "invalid_holder_name": "a name the credential cannot carry (category C, spaces at an end)",
    "invalid_name": "a name that is blank once trimmed",
    "out_of_scope": "the organization is not registered for this occupation and level",
    "not_registered": "outside the organization's registration",
    "organization_suspended": "the organization is suspended",
    "no_active_key": "the organization has no usable key",
    "assessment_failed": "a component below 60",
    "missing_component": "a component the level requires is missing",
    "unexpected_component": "a component the level does not have (review below level 2)",
    "invalid_score": "more than two decimals (the field's description)",
    "future_issue_date": "an issue date after today",
    "issue_date_too_old": "an issue date more than 30 days back (the field's description)",
    "unknown_layout": "a certificate layout that does not exist",
    "invalid_image": "base64 of bytes that are not a PNG or JPEG",
    "invalid_photo": "base64 of bytes that are not a PNG or JPEG",
    "missing_glyph": "a character no font of the layout has",
    "text_does_not_fit": "a text too long for its box",
    "roster_encoding": "a roster that is neither UTF-8 nor GBK",
    "roster_unknown_column": "a roster header the columns do not know",
    "roster_missing_column": "a roster without a required column",
    "roster_duplicate_column": "a roster with a column twice",
    "roster_empty": "a roster without a header row, or without a row below it",
    "roster_has_errors": "a roster with invalid rows",
    "unreadable_roster": "a roster file that cannot be read",
    "photos_unreadable": "a photos file that is not a ZIP",
    "formula_like_value": "a name or 工种 beginning as a spreadsheet formula would (README)",
    "document_number_in_text": "a name or 工种 holding an identity document number (README)",
    "photo_required": "no photo, when the organization's layout prints one (the field's description)",
    "photo_too_small": "a photo smaller than its box at 300 dpi (the field's description)",
    "photo_not_portrait": "a photo not taller than wide (the field's description)",
    "unmapped_occupation": "a 2015 code the table of changes does not list (the field's description)",
    "ambiguous_occupation": "a 2015 code split in 2022",
    "unknown_component": "a score of a component the method does not have",
    "results_too_far_apart": "components passed more than 2 years apart (the field's description)",
    "result_after_issue_date": "a component passed after the issue date",
    "competition_not_placed": "a rank the competition tier does not promote",
    "competition_no_promotion": "a held level the tier promotes no further",
    "competition_level_mismatch": "a level other than the one the competition result earns",
}
"""The codes of 4xx answers to schema-valid requests, each with its reason; every status is
also one the operation documents (``status_code_conformance``)."""


@dataclass
class Seen:
    answers: collections.Counter[tuple[str, int, str]] = field(default_factory=collections.Counter)
    """(operation, status, error code) → how many answers."""
    failures: list[str] = field(default_factory=list)


def _code(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _run(operation: Any, mode: GenerationMode, headers: dict[str, dict[str, str]], seen: Seen) -> None:
    """``EXAMPLES`` cases of ``operation`` as a random one of ``headers``' callers."""
    try:
        cases = operation.as_strategy(generation_mode=mode)
    except Exception:  # an operation without anything to make invalid
        return

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, who=st.sampled_from(sorted(headers)))
    def call(case: Any, who: str) -> None:
        response = case.call(headers=headers[who])
        seen.answers[(operation.label, response.status_code, _code(response))] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers[who])
        except AssertionError as failure:  # what schemathesis' checks raise
            seen.failures.append(f"{operation.label} as {who}: {response.status_code} {str(failure)[:400]}")

    try:
        call()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to make invalid: no parameters, no body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_with_every_key_answers_as_documented(app: Flask, keys: Keys, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"none": {}, "admin": auth(keys.admin), "issuer": auth(keys.issuer), "auditor": auth(keys.auditor)}
    operations = [result.ok() for result in schema.get_all_operations()]
    seen = Seen()
    for operation in operations:
        _run(operation, mode, headers, seen)

    assert len(operations) >= 36
    assert sum(seen.answers.values()) >= 10 * len(operations)
    assert seen.failures == []
    assert [a for a in seen.answers if a[1] >= 500] == []
    if mode is GenerationMode.POSITIVE:
        refused = {(label, status, code) for label, status, code in seen.answers if 400 <= status < 500}
        assert {r for r in refused if r[2] not in REFUSALS} == set()
