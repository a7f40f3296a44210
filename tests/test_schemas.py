"""The published JSON Schemas (``schemas/``) accept what the code produces and reject
what it never produces."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from issuer.core import trust
from issuer.core.clock import parse_instant
from issuer.core.verify import verify
from tests import factories as f

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
NAMES = ("credential", "trust-list", "trust-bundle", "verdict")


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


_REGISTRY: Registry = Registry().with_resources((_load(n)["$id"], Resource.from_contents(_load(n))) for n in NAMES)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_load(name), registry=_REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(name: str, instance: Any) -> None:
    errors = [e.message for e in validator(name).iter_errors(instance)]
    assert not errors, errors


def assert_invalid(name: str, instance: Any) -> None:
    assert not validator(name).is_valid(instance)


def changed(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``obj`` with the item at ``path`` set to ``value``."""
    out = copy.deepcopy(obj)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = _load(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}.schema.json")


# credential


@pytest.mark.parametrize(
    "cred",
    [
        f.credential(),
        f.credential(work_type=None, status_index=None),
        f.credential(number="S000062000123195999999", level=5, issue_date=date(2019, 1, 1), status_index=0),
        f.replace(f.credential(), occupation_edition=2015, status_index=2**32 - 1),
        f.credential(name="阿依古丽·买买提" + "长" * 56),
    ],
)
def test_credential_json_is_valid(cred: Any) -> None:
    assert_valid("credential", cred.to_json())


CREDENTIAL = f.credential().to_json()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("number",), "Y00012300000126300001"),  # 21 characters
        (("number",), "Y0001230000012630000011"),  # 23 characters
        (("number",), "X000123000001263000001"),  # kind
        (("number",), "Y000123000001183000001"),  # year before 2019
        (("number",), "Y000123000001263000000"),  # serial 000000
        (("number",), "Y000123000001266000001"),  # level 6
        (("number",), "y000123000001263000001"),  # lower case
        (("number",), "Y000123000001263000001\n"),
        (("version",), 2),
        (("holder_name",), ""),
        (("holder_name",), " 张三丰"),
        (("holder_name",), "张三\n丰"),
        (("holder_name",), "长" * 65),
        (("document_type",), 0),
        (("document_type",), 24),
        (("document_commitment",), CREDENTIAL["document_commitment"].upper()),
        (("document_commitment",), CREDENTIAL["document_commitment"][:46]),
        (("occupation",), "6310103"),
        (("occupation",), "9-31-01-03"),
        (("occupation",), "6-31-1-03"),
        (("occupation_edition",), None),
        (("work_type",), "--"),
        (("work_type",), ""),
        (("level",), 0),
        (("level",), 6),
        (("level",), "3"),
        (("issue_date",), "2026-11-29T00:00:00"),
        (("issue_date",), "2026-13-01"),
        (("issue_date",), 20786),
        (("status_index",), -1),
        (("status_index",), 2**32),
        (("extra",), 1),  # unknown property
    ],
)
def test_credential_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("credential", changed(CREDENTIAL, path, value))


def test_credential_json_requires_every_property() -> None:
    for key in CREDENTIAL:
        assert_invalid("credential", {k: v for k, v in CREDENTIAL.items() if k != key})


# trust list and bundle


def _rich_trust_list() -> trust.TrustList:
    """Every optional field of the trust list filled in."""
    auth = f.authority()
    old = f.org_signer(auth, seed="org-old")
    new = f.org_signer(auth, seed="org-new")
    other = f.org_signer(auth, code="S000062000123", name="某某职业培训学校", seed="other")
    org = f.organization(
        [old, new],
        status=(
            trust.StatusChange("active", date(2025, 1, 1)),
            trust.StatusChange("suspended", date(2026, 3, 1)),
            trust.StatusChange("active", date(2026, 6, 1)),
        ),
        keys=(
            trust.KeyEntry(old.certificate.der, "compromised", datetime(2026, 5, 1, 2, 30, tzinfo=UTC)),
            trust.KeyEntry(new.certificate.der, "retired"),
        ),
        scope=(
            trust.ScopeEntry(
                "6-31-01-03", frozenset({3, 4, 5}), valid_from=date(2025, 1, 1), valid_until=date(2027, 12, 31)
            ),
            trust.ScopeEntry("4-07-05-04", frozenset({5}), ("消防设施监控操作",), edition=2015),
        ),
    )
    cancelled = f.organization(
        [other],
        code="S000062000123",
        name="某某职业培训学校",
        status=(trust.StatusChange("active", date(2025, 1, 1)), trust.StatusChange("cancelled", date(2026, 1, 1))),
    )
    return f.trust_list([org, cancelled], sequence=7)


def test_trust_list_json_is_valid() -> None:
    assert_valid("trust-list", f.world().store.trust_list.to_json())
    assert_valid("trust-list", _rich_trust_list().to_json())


TRUST_LIST = _rich_trust_list().to_json()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), 2),
        (("issued_at",), "2026-11-01T00:00:00+00:00"),
        (("issued_at",), "2026-11-01"),
        (("sequence",), -1),
        (("catalogue", "edition"), "2022"),
        (("catalogue", "occupations", "6-31-01"), "电工"),
        (("catalogue", "extra"), {}),
        (("organizations", 0, "code"), "Y00012300000"),  # 12 characters
        (("organizations", 0, "code"), "Y0001230000011"),  # 14 characters
        (("organizations", 0, "code"), "Z000123000001"),
        (("organizations", 0, "name"), ""),
        (("organizations", 0, "registered_from"), None),
        (("organizations", 0, "registered_until"), "2030/12/31"),
        (("organizations", 0, "status", 0, "status"), "revoked"),
        (("organizations", 0, "status", 0, "since"), "2025-01-01T00:00:00Z"),
        (("organizations", 0, "scope", 0, "levels"), [3, 3]),
        (("organizations", 0, "scope", 0, "levels"), [6]),
        (("organizations", 0, "scope", 0, "occupation"), "6-31-01-3"),
        (("organizations", 0, "scope", 0, "work_types"), [""]),
        (("organizations", 0, "keys", 0, "certificate"), "not base64!"),
        (("organizations", 0, "keys", 0, "certificate"), "QUJD"[:3]),
        (("organizations", 0, "keys", 0, "status"), "revoked"),
        (("organizations", 0, "keys", 0, "compromised_at"), "2026-05-01T10:30:00+08:00"),
        (("organizations", 0, "keys", 0, "kid"), "f37dc816c6738ea2"),  # unknown property
        (("organizations", 0, "extra"), None),
        (("extra",), None),
    ],
)
def test_trust_list_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("trust-list", changed(TRUST_LIST, path, value))


def test_trust_bundle_is_valid() -> None:
    w = f.world()
    assert_valid("trust-bundle", w.store.bundle())
    auth = f.authority()
    assert_valid("trust-bundle", json.loads(f.bundle_json(auth, _rich_trust_list())))


VECTORS = Path(__file__).resolve().parent / "vectors"


def test_published_vectors_are_valid() -> None:
    """The committed test vectors: their bundle, its trust list, and every verdict."""
    text = (VECTORS / "bundle.json").read_text(encoding="utf-8")
    assert_valid("trust-bundle", json.loads(text))
    store = trust.load_bundle(text)
    assert_valid("trust-list", store.trust_list.to_json())
    manifest = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
    for vector in manifest["vectors"]:
        assert_valid("verdict", verify(vector["qr_text"], store, at=parse_instant(vector["at"])).to_json())


BUNDLE = f.world().store.bundle()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("format",), "issuer-trust-list"),
        (("version",), 2),
        (("root_certificate",), ""),
        (("root_certificate",), BUNDLE["root_certificate"].rstrip("=") + "!"),
        (("trust_list",), BUNDLE["trust_list"][:-1]),  # length not a multiple of 4
        (("trust_list",), None),
        (("signature",), "AAAA"),  # unknown property
    ],
)
def test_trust_bundle_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("trust-bundle", changed(BUNDLE, path, value))


# verdict


def _tampered(qr: str) -> str:
    """Flip one character of the payload so that the signature no longer matches."""
    i = len(qr) - 120
    return qr[:i] + ("A" if qr[i] != "A" else "B") + qr[i + 1 :]


def _verdicts() -> dict[str, dict[str, Any]]:
    w = f.world()
    stranger = f.org_signer(f.authority("another authority"), seed="stranger")
    return {
        "valid": verify(w.qr(), w.store, at=f.NOW).to_json(),
        "valid_no_options": verify(w.qr(f.credential(work_type=None, status_index=None)), w.store, at=f.NOW).to_json(),
        "decodable": verify("HTTPS://X/V/NOT-BASE32", w.store, at=f.NOW).to_json(),
        "known_key": verify(stranger.qr_text(f.credential(), f.HOST), w.store, at=f.NOW).to_json(),
        "signature": verify(_tampered(w.qr()), w.store, at=f.NOW).to_json(),
        "scope": verify(w.qr(f.credential(occupation="4-04-05-05")), w.store, at=f.NOW).to_json(),
        "number": verify(w.qr(f.credential(number="Y000123000001253000001")), w.store, at=f.NOW).to_json(),
        "issue_date": verify(w.qr(), w.store, at=datetime(2026, 11, 28, 15, 59, 59, 123456, tzinfo=UTC)).to_json(),
    }


VERDICTS = _verdicts()


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_verdict_json_is_valid(case: str) -> None:
    verdict = VERDICTS[case]
    assert_valid("verdict", verdict)
    if case.startswith("valid"):
        assert verdict["status"] == "valid"
    else:
        assert (verdict["status"], verdict["failed_check"]) == ("not_valid", case)


VALID = VERDICTS["valid"]
SCOPE = VERDICTS["scope"]


@pytest.mark.parametrize(
    ("verdict", "path", "value"),
    [
        (VALID, ("status",), "invalid"),
        (VALID, ("failed_check",), "scope"),  # valid with a failed check named
        (VALID, ("failed_check",), "revocation"),
        (VALID, ("checks",), VALID["checks"][:9]),
        (VALID, ("checks",), [*VALID["checks"], VALID["checks"][0]]),
        (VALID, ("checks",), [VALID["checks"][1], VALID["checks"][0], *VALID["checks"][2:]]),
        (VALID, ("checks", 3, "outcome"), "not_run"),
        (VALID, ("checks", 3, "detail"), "why"),
        (VALID, ("credential",), None),
        (VALID, ("credential", "number"), "Y00012300000126300001"),  # 21 characters
        (VALID, ("organization",), None),
        (VALID, ("organization", "kid"), "f37dc816c6738ea2ff"),
        (VALID, ("organization", "code"), "Y000123"),
        (VALID, ("at",), "2026-11-29"),
        (VALID, ("extra",), None),
        (SCOPE, ("failed_check",), None),
        (SCOPE, ("checks", 7, "detail"), ""),
        (SCOPE, ("checks", 8, "outcome"), "failed"),  # two failures
        (SCOPE, ("checks", 0, "extra"), ""),
    ],
)
def test_verdict_json_rejects(verdict: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("verdict", changed(verdict, path, value))
