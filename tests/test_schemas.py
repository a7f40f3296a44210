"""The published JSON Schemas (``schemas/``) accept what the code produces and reject
what it never produces."""

from __future__ import annotations

import base64
import copy
import dataclasses
import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from issuer.core import cbor, cose, merkle, pki, qrtext, statuslist, transparency, trust
from issuer.core.clock import parse_instant
from issuer.core.verify import CHECK_NAMES, Outcome, Status, verify
from tests import factories as f

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
NAMES = ("credential", "trust-list", "trust-bundle", "verdict", "status-list", "tree-head", "log-entry")


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


_REGISTRY: Registry = Registry().with_resources((_load(n)["$id"], Resource.from_contents(_load(n))) for n in NAMES)


def validator(name: str) -> Draft202012Validator:
    """The schema ``name``, or one of its definitions as ``name#/$defs/…``."""
    name, _, pointer = name.partition("#")
    schema = {"$ref": f"{_load(name)['$id']}#{pointer}"} if pointer else _load(name)
    return Draft202012Validator(schema, registry=_REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(name: str, instance: Any) -> None:
    errors = [e.message for e in validator(name).iter_errors(instance)]
    assert not errors, errors


def assert_invalid(name: str, instance: Any) -> None:
    assert not validator(name).is_valid(instance)


def json_view(cbor_bytes: bytes) -> Any:
    """The JSON view of deterministic CBOR as the code gives it: byte strings in base64."""
    return trust._jsonable(cbor.decode_strict(cbor_bytes))


def signed_payload(signed: bytes) -> Any:
    """The JSON view of the payload of a COSE_Sign1 message."""
    return json_view(cose.parse(signed).payload)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


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
        f.credential(number="S000062000123195999999", level=5, when=date(2019, 1, 1), status_index=0),
        f.credential(number="S000062000123195999999", level=5, when=f.china("2019-01-01 00:00"), status_index=0),
        f.replace(f.credential(), occupation_edition=2015, status_index=2**32 - 1),
        f.credential(name="阿依古丽·买买提" + "长" * 56),
        f.replace(f.credential(), assessment_method=4),  # version 3: 竞赛选拔
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
        (("version",), 3),
        (("version",), 1),  # version 1 has no instant
        (("issued_at",), None),
        (("issued_at",), "2026-11-29T01:36:00+00:00"),
        (("issued_at",), "2026-11-29"),
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
        (("assessment_method",), 0),
        (("assessment_method",), 24),
        (("assessment_method",), 4),  # version 2: the default method only
        (("assessment_method",), None),
        (("extra",), 1),  # unknown property
    ],
)
def test_credential_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("credential", changed(CREDENTIAL, path, value))


@pytest.mark.parametrize(("path", "value"), [(("assessment_method",), 1), (("assessment_method",), 24)])
def test_version_3_credential_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    """Version 3 exists for a method other than the default (docs/FORMAT.md §3)."""
    third = f.replace(f.credential(), assessment_method=2).to_json()
    assert third["version"] == 3
    assert_invalid("credential", changed(third, path, value))


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
            trust.StatusChange("active", f.REGISTERED),
            trust.StatusChange("suspended", f.china("2026-03-01 09:37")),
            trust.StatusChange("active", f.china("2026-06-01 00:00")),
        ),
        keys=(
            trust.KeyEntry(old.certificate.der, "compromised", datetime(2026, 5, 1, 2, 30, tzinfo=UTC)),
            trust.KeyEntry(new.certificate.der, "retired"),
        ),
        scope=(
            trust.ScopeEntry(
                "6-31-01-03", frozenset({3, 4, 5}), valid_from=f.REGISTERED, valid_until=f.china("2027-12-31 14:00")
            ),
            trust.ScopeEntry("4-07-05-04", frozenset({5}), ("消防设施监控操作",), edition=2015),
        ),
    )
    cancelled = f.organization(
        [other],
        code="S000062000123",
        name="某某职业培训学校",
        status=(
            trust.StatusChange("active", f.REGISTERED),
            trust.StatusChange("cancelled", f.china("2026-01-01 10:00")),
        ),
    )
    return dataclasses.replace(f.trust_list([org, cancelled], sequence=7), logs=(LOG, LOG_2))


LOG_KEY = f.seeded_key("log")
LOG = trust.LogKey("证书透明日志 / test log", LOG_KEY.public_key().public_bytes_raw())
LOG_2 = trust.LogKey("a second log", f.seeded_key("log-2").public_key().public_bytes_raw())


def test_trust_list_json_is_valid() -> None:
    assert_valid("trust-list", f.world().store.trust_list.to_json())
    assert_valid("trust-list", _rich_trust_list().to_json())


def test_the_trust_list_json_is_the_signed_payload() -> None:
    auth = f.authority()
    tl = _rich_trust_list()
    assert signed_payload(tl.sign(auth.key, auth.root)) == tl.to_json()
    assert "logs" not in f.world().store.trust_list.to_json()


TRUST_LIST = _rich_trust_list().to_json()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), 3),
        (("version",), 1),  # version 1 writes dates, not instants
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
        (("organizations", 0, "status", 0, "since"), "2025-01-01"),  # a date where an instant belongs
        (("organizations", 0, "scope", 0, "until"), "2027-12-31"),
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
        (("logs",), []),  # absent rather than empty
        (("logs", 0, "name"), ""),
        (("logs", 0, "public_key"), b64(bytes(31))),
        (("logs", 0, "public_key"), b64(bytes(33))),
        (("logs", 0, "public_key"), LOG.public_key_raw.hex()),
        (("logs", 0, "kid"), b64(LOG.kid)),  # unknown property
        (("extra",), None),
    ],
)
def test_trust_list_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("trust-list", changed(TRUST_LIST, path, value))


def _tree_head(size: int = 3, *, timestamp: datetime = f.NOW) -> transparency.TreeHead:
    tree = merkle.MemoryTree(merkle.SHA256.leaf(i.to_bytes(4, "big")) for i in range(size))
    return transparency.TreeHead(size, tree.root(), timestamp).sign(LOG_KEY, LOG.kid)


def _bundle_with_everything() -> dict[str, Any]:
    """A version 2 bundle with status lists of two organizations and a tree head."""
    auth = f.authority()
    tl = _rich_trust_list()
    new = f.org_signer(auth, seed="org-new")
    other = f.org_signer(auth, code="S000062000123", name="某某职业培训学校", seed="other")
    lists = [f.status_list(new, [0, 104729]), f.status_list(other)]
    bundle = trust.make_bundle(auth.root_der, tl.sign(auth.key, auth.root), lists, _tree_head().signed)
    store = trust.load_bundle(json.dumps(bundle))  # what the code accepts
    assert store.tree_head_signed is not None and len(store.status_lists) == 2
    return bundle


def _bundle_version_1() -> dict[str, Any]:
    auth = f.authority()
    tl = f.world().store.trust_list
    bundle = {
        "format": "issuer-trust-bundle",
        "version": 1,
        "root_certificate": b64(auth.root_der),
        "trust_list": b64(tl.sign(auth.key, auth.root)),
    }
    trust.load_bundle(json.dumps(bundle))  # still loads
    return bundle


def test_trust_bundle_is_valid() -> None:
    w = f.world()
    assert_valid("trust-bundle", w.store.bundle())
    auth = f.authority()
    assert_valid("trust-bundle", json.loads(f.bundle_json(auth, _rich_trust_list())))
    assert_valid("trust-bundle", _bundle_with_everything())
    assert_valid("trust-bundle", _bundle_version_1())


VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.mark.parametrize("folder", [VECTORS, VECTORS / "v1", VECTORS / "sm2"], ids=["current", "v1", "sm2"])
def test_published_vectors_are_valid(folder: Path) -> None:
    """The committed test vectors: their bundle, its trust list and status lists, and every
    verdict (the 国密 profile's included: its messages, kids and tree head are SM2's)."""
    text = (folder / "bundle.json").read_text(encoding="utf-8")
    assert_valid("trust-bundle", json.loads(text))
    store = trust.load_bundle(text)
    assert_valid("trust-list", signed_payload(store.signed))
    assert store.signed_status_lists
    for signed in store.signed_status_lists.values():
        assert_valid("status-list", signed_payload(signed))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    statuses = set()
    for vector in manifest["vectors"]:
        verdict = verify(vector["qr_text"], store, at=parse_instant(vector["at"])).to_json()
        assert_valid("verdict", verdict)
        statuses.add(verdict["status"])
    if store.tree_head is not None:
        assert_valid("tree-head", store.tree_head.to_json())
    assert statuses == {s.value for s in Status} if folder.name != "sm2" else {"valid", "revoked", "not_valid"}


def test_a_verdict_undecided_at_known_key_is_valid() -> None:
    """An organization entry set aside (§6): its credentials are unknown at check 2."""
    auth = f.authority()
    signer = f.org_signer(auth)
    payload = f.trust_list([f.organization([signer])]).to_payload()
    payload["organizations"][0]["status"] = [{"status": "dormant", "since": "2025-01-01T00:00:00Z"}]
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload))
    verdict = verify(signer.qr_text(f.credential(), f.HOST), store, at=f.NOW).to_json()
    assert (verdict["status"], verdict["reason"]) == ("unknown", "organization_unreadable")
    assert_valid("verdict", verdict)


BUNDLE = f.world().store.bundle()
FULL_BUNDLE = _bundle_with_everything()
BUNDLE_1 = _bundle_version_1()
NOT_COSE = b64(f.authority().root_der)  # base64, but of a certificate


@pytest.mark.parametrize(
    ("bundle", "path", "value"),
    [
        (BUNDLE, ("format",), "issuer-trust-list"),
        (BUNDLE, ("version",), 3),
        (BUNDLE, ("version",), 1),  # version 1 has no status lists or tree head
        (BUNDLE, ("version",), "2"),
        (BUNDLE, ("root_certificate",), ""),
        (BUNDLE, ("root_certificate",), BUNDLE["root_certificate"].rstrip("=") + "!"),
        (BUNDLE, ("trust_list",), BUNDLE["trust_list"][:-1]),  # length not a multiple of 4
        (BUNDLE, ("trust_list",), None),
        (BUNDLE, ("trust_list",), NOT_COSE),
        (BUNDLE, ("status_lists",), None),
        (BUNDLE, ("status_lists",), BUNDLE["status_lists"][0]),
        (BUNDLE, ("status_lists", 0), BUNDLE["status_lists"][0][:-2]),
        (BUNDLE, ("status_lists", 0), NOT_COSE),
        (BUNDLE, ("tree_head",), ""),
        (FULL_BUNDLE, ("tree_head",), FULL_BUNDLE["tree_head"].replace("=", "")),
        (FULL_BUNDLE, ("tree_head",), NOT_COSE),
        (FULL_BUNDLE, ("tree_head",), _tree_head().to_json()),  # the API view, not the signed bytes
        (BUNDLE, ("signature",), "AAAA"),  # unknown property
        (BUNDLE_1, ("status_lists",), []),
        (BUNDLE_1, ("tree_head",), None),
        (BUNDLE_1, ("version",), 2),  # version 2 needs both
    ],
)
def test_trust_bundle_rejects(bundle: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("trust-bundle", changed(bundle, path, value))


@pytest.mark.parametrize("key", ["status_lists", "tree_head"])
def test_trust_bundle_version_2_requires(key: str) -> None:
    assert_invalid("trust-bundle", {k: v for k, v in BUNDLE.items() if k != key})


# status list


@pytest.mark.parametrize(
    "listed",
    [
        statuslist.StatusList.of(f.ORG_CODE, set(), f.STATUS_AT),
        statuslist.StatusList.of(f.ORG_CODE, {0, 9, 104729, statuslist.STATUS_LIST_BITS - 1}, f.STATUS_AT),
        statuslist.StatusList.of("S000062000123", {3}, f.STATUS_AT, max_age=timedelta(seconds=1), size=8),
        statuslist.StatusList.of(f.ORG_CODE, set(range(0, 1 << 16, 3)), f.NOW, max_age=timedelta(days=30)),
    ],
    ids=["empty", "some", "smallest", "many"],
)
def test_status_list_json_is_valid(listed: statuslist.StatusList) -> None:
    signer = f.org_signer(f.authority())
    view = signed_payload(listed.sign(signer.key, signer.kid))
    assert view == trust._jsonable(listed.to_payload())
    assert_valid("status-list", view)


STATUS_LIST = trust._jsonable(statuslist.StatusList.of(f.ORG_CODE, {104729}, f.STATUS_AT).to_payload())
_BITS = bytes(statuslist.STATUS_LIST_BITS // 8)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), 2),
        (("organization",), "Y000123"),
        (("organization",), "y000123000001"),
        (("issued_at",), "2026-11-29T08:00:00+08:00"),
        (("issued_at",), "2026-11-29"),
        (("issued_at",), "2026-11-29T00:00:00.5Z"),
        (("max_age",), 0),
        (("max_age",), 259200.5),
        (("max_age",), "72h"),
        (("bits",), 0),
        (("bits",), 1048575),  # not a multiple of 8
        (("bits",), (1 << 24) + 8),
        (("bits",), True),
        (("list",), STATUS_LIST["list"].rstrip("=")),
        (("list",), STATUS_LIST["list"] + "!"),
        (("list",), b64(b"not gzip, not gzip, not gzip")),
        (("list",), b64(b"\x1f\x8b\x08")),
        (("list",), gzip.compress(_BITS, mtime=0).hex()),
        (("extra",), None),
    ],
)
def test_status_list_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("status-list", changed(STATUS_LIST, path, value))


def test_status_list_json_requires_every_property() -> None:
    for key in STATUS_LIST:
        assert_invalid("status-list", {k: v for k, v in STATUS_LIST.items() if k != key})


# transparency log: tree heads and entries


@pytest.mark.parametrize("size", [0, 1, 3, 1000])
def test_tree_head_json_is_valid(size: int) -> None:
    head = _tree_head(size)
    assert_valid("tree-head", head.to_json())
    assert_valid("tree-head#/$defs/payload", signed_payload(head.signed))
    store = trust.load_bundle(json.dumps(FULL_BUNDLE))
    assert transparency.open_tree_head(head.signed, store).to_json() == head.to_json()


TREE_HEAD = _tree_head().to_json()
TREE_HEAD_PAYLOAD = signed_payload(_tree_head().signed)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("tree_size",), -1),
        (("tree_size",), "3"),
        (("root_hash",), TREE_HEAD["root_hash"].upper()),
        (("root_hash",), TREE_HEAD["root_hash"][:62]),
        (("root_hash",), b64(bytes.fromhex(TREE_HEAD["root_hash"]))),
        (("timestamp",), "2026-11-29T12:00:00+08:00"),
        (("timestamp",), "2026-11-29T04:00:00.000001Z"),
        (("tree_hash",), "SHA-256"),
        (("tree_hash",), None),
        (("log_kid",), TREE_HEAD["log_kid"] + "00"),
        (("log_kid",), b64(LOG.kid)),
        (("log_kid",), ""),
        (("signed",), ""),
        (("signed",), TREE_HEAD["signed"].rstrip("=")),
        (("signed",), NOT_COSE),
        (("signed",), _tree_head().signed.hex()),
        (("extra",), None),
    ],
)
def test_tree_head_json_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("tree-head", changed(TREE_HEAD, path, value))


def test_an_unsigned_tree_head_is_not_published() -> None:
    assert_invalid("tree-head", transparency.TreeHead(0, merkle.SHA256.empty, f.NOW).to_json())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), 2),
        (("tree_size",), -1),
        (("root_hash",), TREE_HEAD["root_hash"]),  # hex in the API view, bytes in the payload
        (("root_hash",), b64(bytes(31))),
        (("timestamp",), "2026-11-29"),
        (("log_kid",), TREE_HEAD["log_kid"]),  # not in the signed payload
    ],
)
def test_tree_head_payload_rejects(path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("tree-head#/$defs/payload", changed(TREE_HEAD_PAYLOAD, path, value))


LOGGED_AT = datetime(2026, 11, 29, 3, 0, 0, 654321, tzinfo=UTC)


def _entries() -> dict[str, transparency.Entry]:
    """One entry of each kind, each signed by whom the format says."""
    w = f.world()
    auth = w.authority
    credential = qrtext.decode(w.qr())
    revoke = transparency.revoke_statement("Y000123000001263000001", 104729, "fraud", LOGGED_AT)
    entries = {
        "issue": transparency.issue_entry(credential, LOGGED_AT),
        "revoke": transparency.signed_entry("revoke", revoke, w.signer.key, w.signer.kid, LOGGED_AT),
    }
    root_kid = pki.kid_of(auth.root_der)
    for event in transparency.KEY_EVENTS:
        statement = transparency.key_statement(f.ORG_CODE, w.signer.kid, event, LOGGED_AT - timedelta(days=1))
        entries[f"key-{event}"] = transparency.signed_entry("key", statement, auth.key, root_kid, LOGGED_AT)
    return entries


ENTRIES = _entries()


@pytest.mark.parametrize("kind", sorted(ENTRIES))
def test_log_entry_json_is_valid(kind: str) -> None:
    entry = ENTRIES[kind]
    data = entry.encode()
    assert transparency.decode_entry(data) == dataclasses.replace(entry, logged_at=LOGGED_AT.replace(microsecond=0))
    assert_valid("log-entry", json_view(data))
    if entry.type == "revoke":
        assert_valid("log-entry#/$defs/revoke_statement", signed_payload(entry.signed))
        assert transparency.read_revoke(cose.parse(entry.signed).payload).number == "Y000123000001263000001"
    elif entry.type == "key":
        assert_valid("log-entry#/$defs/key_statement", signed_payload(entry.signed))


def test_the_revocation_reasons_are_those_of_the_service() -> None:
    from issuer.service.revoking import REVOCATION_REASONS

    reasons = _load("log-entry")["$defs"]["revoke_statement"]["properties"]["reason"]["enum"]
    assert reasons == list(REVOCATION_REASONS)


ISSUE = json_view(ENTRIES["issue"].encode())
REVOKE = json_view(ENTRIES["revoke"].encode())
KEY = json_view(ENTRIES["key-compromised"].encode())


@pytest.mark.parametrize(
    ("entry", "path", "value"),
    [
        (ISSUE, ("version",), 2),
        (ISSUE, ("type",), "revocation"),
        (ISSUE, ("type",), "revoke"),  # a revoke entry holds a statement
        (REVOKE, ("type",), "issue"),  # an issue entry holds a credential
        (ISSUE, ("statement",), REVOKE["statement"]),  # both
        (KEY, ("credential",), ISSUE["credential"]),
        (ISSUE, ("logged_at",), "2026-11-29T03:00:00.654321Z"),
        (ISSUE, ("logged_at",), "2026-11-29T11:00:00+08:00"),
        (ISSUE, ("credential",), f.world().qr()),  # the QR text, not the signed bytes
        (ISSUE, ("credential",), ISSUE["credential"].rstrip("=") + "!"),
        (REVOKE, ("statement",), b64(transparency.revoke_statement("Y000123000001263000001", 1, "fraud", f.NOW))),
        (KEY, ("statement",), None),
        (KEY, ("extra",), None),
    ],
)
def test_log_entry_json_rejects(entry: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("log-entry", changed(entry, path, value))


@pytest.mark.parametrize("key", ["version", "type", "logged_at", "credential"])
def test_log_entry_json_requires(key: str) -> None:
    assert_invalid("log-entry", {k: v for k, v in ISSUE.items() if k != key})


REVOKE_STATEMENT = signed_payload(ENTRIES["revoke"].signed)
KEY_STATEMENT = signed_payload(ENTRIES["key-retired"].signed)


@pytest.mark.parametrize(
    ("definition", "statement", "path", "value"),
    [
        ("revoke_statement", REVOKE_STATEMENT, ("number",), "y000123000001263000001"),
        ("revoke_statement", REVOKE_STATEMENT, ("number",), "Y000123000001263000000"),
        ("revoke_statement", REVOKE_STATEMENT, ("status_index",), -1),
        ("revoke_statement", REVOKE_STATEMENT, ("status_index",), None),
        ("revoke_statement", REVOKE_STATEMENT, ("reason",), "because"),
        ("revoke_statement", REVOKE_STATEMENT, ("reason",), ""),
        ("revoke_statement", REVOKE_STATEMENT, ("revoked_at",), "2026-11-29"),
        ("revoke_statement", REVOKE_STATEMENT, ("note",), "a private note"),
        ("key_statement", KEY_STATEMENT, ("organization",), "Y0001230000011"),
        ("key_statement", KEY_STATEMENT, ("kid",), f.world().signer.kid.hex()),
        ("key_statement", KEY_STATEMENT, ("kid",), b64(bytes(32))),
        ("key_statement", KEY_STATEMENT, ("event",), "removed"),
        ("key_statement", KEY_STATEMENT, ("at",), "2026-11-28T11:00:00+08:00"),
        ("key_statement", KEY_STATEMENT, ("status",), "retired"),
    ],
)
def test_log_statement_json_rejects(definition: str, statement: Any, path: tuple[Any, ...], value: Any) -> None:
    assert_invalid(f"log-entry#/$defs/{definition}", changed(statement, path, value))


def test_log_statements_are_not_interchangeable() -> None:
    assert_invalid("log-entry#/$defs/key_statement", REVOKE_STATEMENT)
    assert_invalid("log-entry#/$defs/revoke_statement", KEY_STATEMENT)


# verdict


def test_verdict_schema_names_the_checks_and_outcomes_of_the_verifier() -> None:
    schema = _load("verdict")
    names = [item["properties"]["name"]["const"] for item in schema["properties"]["checks"]["prefixItems"]]
    assert names == list(CHECK_NAMES)
    assert schema["$defs"]["check"]["properties"]["name"]["enum"] == list(CHECK_NAMES)
    assert schema["properties"]["failed_check"]["enum"] == [None, *CHECK_NAMES]
    assert set(schema["properties"]["status"]["enum"]) == {s.value for s in Status}
    assert set(schema["$defs"]["check"]["properties"]["outcome"]["enum"]) == {o.value for o in Outcome}


def _tampered(qr: str) -> str:
    """Flip one character of the payload so that the signature no longer matches."""
    i = len(qr) - 120
    return qr[:i] + ("A" if qr[i] != "A" else "B") + qr[i + 1 :]


def _verdicts() -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    """Verdicts the code gives, each with its expected status and failed check."""
    w = f.world()
    stranger = f.org_signer(f.authority("another authority"), seed="stranger")
    tl = w.store.trust_list
    revoking = f.store(w.authority, tl, [f.status_list(w.signer, [104729])])
    without_lists = f.store(w.authority, tl)
    stale = f.STATUS_AT + statuslist.DEFAULT_MAX_AGE + timedelta(seconds=1)
    not_claims = qrtext.encode(cose.sign(cbor.encode({-1: 1}), w.signer.key, w.signer.kid), f.HOST)
    cases = {
        "valid": ("valid", None, verify(w.qr(), w.store, at=f.NOW)),
        "valid_no_work_type": ("valid", None, verify(w.qr(f.credential(work_type=None)), w.store, at=f.NOW)),
        "valid_status_not_run": ("valid", None, verify(w.qr(), revoking, at=f.NOW, check_status=False)),
        "revoked": ("revoked", "status", verify(w.qr(), revoking, at=f.NOW)),
        "unknown_no_index": (
            "unknown",
            None,
            verify(w.qr(f.credential(work_type=None, status_index=None)), w.store, at=f.NOW),
        ),
        "unknown_no_list": ("unknown", None, verify(w.qr(), without_lists, at=f.NOW)),
        "unknown_stale_list": ("unknown", None, verify(w.qr(), w.store, at=stale)),
        "decodable": ("not_valid", "decodable", verify("HTTPS://X/V/NOT-BASE32", w.store, at=f.NOW)),
        "known_key": ("not_valid", "known_key", verify(stranger.qr_text(f.credential(), f.HOST), w.store, at=f.NOW)),
        "signature": ("not_valid", "signature", verify(_tampered(w.qr()), w.store, at=f.NOW)),
        "claims": ("not_valid", "claims", verify(not_claims, w.store, at=f.NOW)),
        "scope": ("not_valid", "scope", verify(w.qr(f.credential(occupation="4-04-05-05")), w.store, at=f.NOW)),
        "number": (
            "not_valid",
            "number",
            verify(w.qr(f.credential(number="Y000123000001253000001")), w.store, at=f.NOW),
        ),
        "issue_date": (
            "not_valid",
            "issue_date",
            verify(w.qr(), w.store, at=datetime(2026, 11, 28, 15, 59, 59, 123456, tzinfo=UTC)),
        ),
    }
    return {case: (status, failed, verdict.to_json()) for case, (status, failed, verdict) in cases.items()}


VERDICTS = _verdicts()


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_verdict_json_is_valid(case: str) -> None:
    status, failed, verdict = VERDICTS[case]
    assert (verdict["status"], verdict["failed_check"]) == (status, failed)
    assert_valid("verdict", verdict)


def _verdict(case: str) -> dict[str, Any]:
    return VERDICTS[case][2]


VALID = _verdict("valid")
NOT_RUN = _verdict("valid_status_not_run")
REVOKED = _verdict("revoked")
UNKNOWN = _verdict("unknown_stale_list")
SCOPE = _verdict("scope")
CLAIMS = _verdict("claims")
DECODABLE = _verdict("decodable")


@pytest.mark.parametrize(
    ("verdict", "path", "value"),
    [
        (VALID, ("status",), "invalid"),
        (VALID, ("status",), "revoked"),
        (VALID, ("status",), "unknown"),
        (VALID, ("failed_check",), "scope"),  # valid with a failed check named
        (VALID, ("failed_check",), "revocation"),
        (VALID, ("checks",), VALID["checks"][:10]),
        (VALID, ("checks",), [*VALID["checks"], VALID["checks"][0]]),
        (VALID, ("checks",), [VALID["checks"][1], VALID["checks"][0], *VALID["checks"][2:]]),
        (VALID, ("checks", 3, "outcome"), "not_run"),
        (VALID, ("checks", 3, "detail"), "why"),
        (VALID, ("checks", 10, "outcome"), "failed"),
        (VALID, ("checks", 10), UNKNOWN["checks"][10]),
        (VALID, ("checks", 10), REVOKED["checks"][10]),
        (VALID, ("credential",), None),
        (VALID, ("credential", "number"), "Y00012300000126300001"),  # 21 characters
        (VALID, ("organization",), None),
        (VALID, ("organization", "kid"), "f37dc816c6738ea2ff"),
        (VALID, ("organization", "code"), "Y000123"),
        (VALID, ("at",), "2026-11-29"),
        (VALID, ("extra",), None),
        (NOT_RUN, ("checks", 9, "outcome"), "not_run"),
        (REVOKED, ("checks", 10, "outcome"), "passed"),  # revoked, yet the status check passed
        (REVOKED, ("checks", 10, "outcome"), "unknown"),
        (REVOKED, ("checks", 10, "detail"), ""),
        (REVOKED, ("checks", 9), SCOPE["checks"][9]),  # a check not run before the status check
        (REVOKED, ("failed_check",), None),
        (REVOKED, ("status",), "not_valid"),
        (REVOKED, ("status",), "valid"),
        (UNKNOWN, ("checks", 10, "outcome"), "not_run"),
        (UNKNOWN, ("checks", 10, "outcome"), "passed"),
        (UNKNOWN, ("checks", 10, "detail_zh"), ""),
        (UNKNOWN, ("checks", 4), {**UNKNOWN["checks"][10], "name": "certificate_chain"}),  # unknown, not status
        (UNKNOWN, ("failed_check",), "status"),
        (UNKNOWN, ("credential",), None),
        (UNKNOWN, ("status",), "valid"),
        (SCOPE, ("failed_check",), None),
        (SCOPE, ("failed_check",), "number"),  # names another check than the one that failed
        (SCOPE, ("failed_check",), "status"),
        (SCOPE, ("status",), "revoked"),
        (SCOPE, ("status",), "unknown"),
        (SCOPE, ("checks", 7, "detail"), ""),
        (SCOPE, ("checks", 8, "outcome"), "failed"),  # two failures
        (SCOPE, ("checks", 8, "outcome"), "passed"),  # a check run after the failure
        (SCOPE, ("checks", 10), VALID["checks"][10]),
        (SCOPE, ("checks", 6), NOT_RUN["checks"][10] | {"name": "registration"}),  # not run before the failure
        (SCOPE, ("checks", 0, "extra"), ""),
        (CLAIMS, ("organization",), None),  # the signature passed: its organization is known
        (CLAIMS, ("credential",), VALID["credential"]),
        (DECODABLE, ("organization",), VALID["organization"]),
    ],
)
def test_verdict_json_rejects(verdict: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    assert_invalid("verdict", changed(verdict, path, value))


def test_only_the_known_key_and_status_checks_can_be_unknown() -> None:
    unknown = UNKNOWN["checks"][10]
    assert_valid("verdict#/$defs/check", unknown)
    assert_valid("verdict#/$defs/check", {**unknown, "name": "known_key"})
    for name in CHECK_NAMES[2:10]:
        assert_invalid("verdict#/$defs/check", {**unknown, "name": name})
