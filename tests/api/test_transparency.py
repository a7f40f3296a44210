"""The public status lists and transparency log over HTTP: everything a client is given
checks out with the trust bundle alone."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from issuer.core import cose, merkle, qrtext
from issuer.core.transparency import TreeHead, decode_entry, open_tree_head, read_revoke
from issuer.core.trust import TrustStore, load_bundle
from tests.conftest import ORG_CODE, OTHER_CODE, TREE_HASH, Keys, auth
from tests.factories import issue_body

ISSUED = 3


def _json(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _store(client: FlaskClient) -> TrustStore:
    return load_bundle(json.dumps(_json(client.get("/api/v1/trust-bundle"))))


def _head(client: FlaskClient, body: dict[str, Any] | None = None) -> TreeHead:
    """A signed tree head (the latest if ``body`` is None), opened with the bundle's log key."""
    body = body or _json(client.get("/api/v1/log/tree-head"))
    head = open_tree_head(base64.b64decode(body["signed"]), _store(client))
    assert (head.tree_size, head.root_hash.hex(), head.kid.hex()) == (
        body["tree_size"],
        body["root_hash"],
        body["log_kid"],
    )
    return head


_PEOPLE = itertools.count()


def _issue(client: FlaskClient, keys: Keys, count: int) -> list[dict[str, Any]]:
    return [
        _json(
            client.post("/api/v1/certificates", json=issue_body(person=next(_PEOPLE)), headers=auth(keys.issuer)),
            201,
        )
        for _ in range(count)
    ]


def _entries(client: FlaskClient, start: int, end: int) -> list[dict[str, Any]]:
    body = _json(client.get("/api/v1/log/entries", query_string={"start": start, "end": end}))
    entries: list[dict[str, Any]] = body["entries"]
    return entries


@pytest.fixture()
def logged(client: FlaskClient, keys: Keys) -> dict[str, Any]:
    """Two organizations registered (a key event each), certificates issued in two rounds
    with the head between them kept, and one revoked."""
    first = _issue(client, keys, ISSUED)
    earlier = _json(client.get("/api/v1/log/tree-head"))
    second = _issue(client, keys, ISSUED)
    revoked = _json(
        client.post(
            f"/api/v1/certificates/{first[1]['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer)
        )
    )
    return {"certificates": first + second, "earlier": earlier, "revoked": revoked}


def _audited(client: FlaskClient, keys: Keys) -> int:
    """How many audit events the trail holds: each has its checkpoint in the log."""
    return len(_json(client.get("/api/v1/audit", query_string={"limit": 1000}, headers=auth(keys.admin)))["events"])


def test_the_tree_head_is_signed_by_the_log_and_counts_every_event(
    client: FlaskClient, keys: Keys, logged: dict[str, Any]
) -> None:
    response = client.get("/api/v1/log/tree-head")
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    head = _head(client, _json(response))
    key_events, issued, revocations = 2, 2 * ISSUED, 1
    assert head.tree_size == key_events + issued + revocations + _audited(client, keys)
    bundle_head = _store(client).tree_head_signed
    assert bundle_head is not None and base64.b64encode(bundle_head).decode() == response.get_json()["signed"]


def test_every_certificate_has_an_inclusion_proof_by_number(
    client: FlaskClient, keys: Keys, logged: dict[str, Any]
) -> None:
    latest = _head(client)
    for cert in logged["certificates"]:
        assert cert["log_index"] is not None
        response = client.get("/api/v1/log/proof/inclusion", query_string={"number": cert["number"].lower()})
        body = _json(response)
        head = _head(client, body["tree_head"])
        assert (body["leaf_index"], body["tree_size"]) == (cert["log_index"], latest.tree_size)
        assert head.root_hash == latest.root_hash
        [entry] = _entries(client, cert["log_index"], cert["log_index"] + 1)
        data = base64.b64decode(entry["entry"])
        assert decode_entry(data).type == "issue" and decode_entry(data).signed == qrtext.decode(cert["qr_text"])
        assert TREE_HASH.leaf(data).hex() == body["leaf_hash"]
        proof = [bytes.fromhex(p) for p in body["proof"]]
        merkle.verify_inclusion(
            bytes.fromhex(body["leaf_hash"]), body["leaf_index"], head.tree_size, proof, head.root_hash, TREE_HASH
        )
    own = _json(client.get(f"/api/v1/certificates/{cert['number']}", headers=auth(keys.issuer)))
    assert own["log_index"] == cert["log_index"]


def test_an_inclusion_proof_against_an_earlier_head_comes_with_that_head(
    client: FlaskClient, logged: dict[str, Any]
) -> None:
    earlier = logged["earlier"]
    query = {"leaf_index": 0, "tree_size": earlier["tree_size"]}
    response = client.get("/api/v1/log/proof/inclusion", query_string=query)
    body = _json(response)
    assert body["tree_head"] == earlier
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    head = _head(client, earlier)
    proof = [bytes.fromhex(p) for p in body["proof"]]
    merkle.verify_inclusion(bytes.fromhex(body["leaf_hash"]), 0, head.tree_size, proof, head.root_hash, TREE_HASH)


def test_the_latest_head_is_consistent_with_an_earlier_one(client: FlaskClient, logged: dict[str, Any]) -> None:
    earlier, latest = _head(client, logged["earlier"]), _head(client)
    assert earlier.tree_size < latest.tree_size
    query = {"first": earlier.tree_size, "second": latest.tree_size}
    body = _json(client.get("/api/v1/log/proof/consistency", query_string=query))
    assert (body["first"], body["second"]) == (earlier.tree_size, latest.tree_size)
    proof = [bytes.fromhex(p) for p in body["proof"]]
    merkle.verify_consistency(
        earlier.tree_size, latest.tree_size, earlier.root_hash, latest.root_hash, proof, TREE_HASH
    )
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(earlier.tree_size, latest.tree_size, bytes(32), latest.root_hash, proof, TREE_HASH)


def test_the_entries_rebuild_the_root_and_say_what_happened(
    client: FlaskClient, keys: Keys, logged: dict[str, Any]
) -> None:
    head = _head(client)
    entries = _entries(client, 0, head.tree_size) + _entries(client, head.tree_size, head.tree_size + 5)
    assert [e["index"] for e in entries] == list(range(head.tree_size))
    data = [base64.b64decode(e["entry"]) for e in entries]
    decoded = [decode_entry(d) for d in data]
    assert [d.type for d in decoded] == [e["type"] for e in entries]
    assert [d.type for d in decoded if d.type != "audit"] == ["key", "key"] + ["issue"] * 2 * ISSUED + ["revoke"]
    assert [d.type for d in decoded].count("audit") == _audited(client, keys)
    assert merkle.MemoryTree((TREE_HASH.leaf(d) for d in data), TREE_HASH).root() == head.root_hash
    revoked = read_revoke(cose.parse(decoded[-2].signed).payload)  # the last is its audit checkpoint
    assert (revoked.number, revoked.status_index) == (logged["revoked"]["number"], logged["revoked"]["status_index"])
    # A page in the middle is the same entries.
    assert _entries(client, 3, 5) == entries[3:5]


def test_the_status_list_shows_exactly_the_revoked_index(client: FlaskClient, logged: dict[str, Any]) -> None:
    response = client.get(f"/api/v1/status-lists/{ORG_CODE.lower()}")
    body = _json(response)
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    signed = base64.b64decode(body["signed"])
    found = _store(client).add_status_list(signed)  # signed by the organization's key
    assert found.revoked_indexes() == [logged["revoked"]["status_index"]]
    assert (body["organization"], body["revoked_count"], body["bits"]) == (ORG_CODE, 1, found.size)
    assert body["max_age"] == int(found.max_age.total_seconds())
    assert body["issued_at"] == "2026-11-29T02:00:00Z" and body["expires_at"] == "2026-12-02T02:00:00Z"
    raw = client.get(f"/api/v1/status-lists/{ORG_CODE}", query_string={"format": "cose"})
    assert raw.status_code == 200 and raw.mimetype == "application/cose" and raw.data == signed
    other = _json(client.get(f"/api/v1/status-lists/{OTHER_CODE}"))
    assert other["revoked_count"] == 0


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    body = _json(response, status)
    assert body["code"] == code and body["message"] and body["message_zh"]
    assert set(body) == {"code", "message", "message_zh", "errors"}
    assert "Cache-Control" not in response.headers or "public" not in response.headers["Cache-Control"]
    return body


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("/log/proof/inclusion", {"leaf_index": 0, "number": "Y000123000001263000001"}, 422, "leaf_index_or_number"),
        ("/log/proof/inclusion", {}, 422, "leaf_index_or_number"),
        ("/log/proof/inclusion", {"tree_size": 3}, 422, "leaf_index_or_number"),
        ("/log/proof/inclusion", {"leaf_index": -1}, 422, "invalid_input"),
        ("/log/proof/inclusion", {"leaf_index": "一"}, 422, "invalid_input"),
        ("/log/proof/inclusion", {"leaf_index": 10**30}, 422, "invalid_input"),
        ("/log/proof/inclusion", {"leaf_index": 0, "tree_size": 0}, 422, "invalid_input"),
        ("/log/proof/inclusion", {"leaf_index": 0, "leaf": 1}, 422, "invalid_input"),
        ("/log/proof/inclusion", {"leaf_index": 5, "tree_size": 10**6}, 404, "tree_head_not_found"),
        ("/log/proof/inclusion", {"leaf_index": 10**6}, 422, "leaf_outside_tree"),
        ("/log/proof/inclusion", {"leaf_index": 5, "tree_size": 4}, 422, "leaf_outside_tree"),
        ("/log/proof/inclusion", {"number": "Y000123000001263999999"}, 404, "certificate_not_logged"),
        ("/log/proof/consistency", {"first": 5, "second": 3}, 422, "invalid_tree_sizes"),
        ("/log/proof/consistency", {"first": 0, "second": 3}, 422, "invalid_input"),
        ("/log/proof/consistency", {"first": 3}, 422, "invalid_input"),
        ("/log/proof/consistency", {"first": 1, "second": 10**6}, 404, "tree_head_not_found"),
        ("/log/entries", {"start": 3, "end": 3}, 422, "invalid_range"),
        ("/log/entries", {"start": 4, "end": 3}, 422, "invalid_range"),
        ("/log/entries", {"start": 0, "end": 1001}, 422, "invalid_range"),
        ("/log/entries", {"start": 0}, 422, "invalid_input"),
        ("/log/entries", {"start": "0x1", "end": 2}, 422, "invalid_input"),
        (f"/status-lists/{ORG_CODE}", {"format": "xml"}, 422, "invalid_input"),
        (f"/status-lists/{ORG_CODE}", {"fromat": "cose"}, 422, "invalid_input"),
        ("/status-lists/Y000123000009", {}, 404, "status_list_not_found"),
    ],
)
def test_bad_parameters_are_refused_in_the_one_error_shape(
    client: FlaskClient, logged: dict[str, Any], path: str, query: dict[str, Any], status: int, code: str
) -> None:
    _error(client.get(f"/api/v1{path}", query_string=query), status, code)


def test_a_tree_size_that_no_head_has_is_not_found(client: FlaskClient, keys: Keys, logged: dict[str, Any]) -> None:
    """A batch appends its leaves under one signed head: the sizes in between have none."""
    from tests.builders import id17s, numbers, simple_roster, uploaded

    before = _head(client).tree_size
    roster = simple_roster([(f"批次{i}", id17, 3) for i, id17 in enumerate(id17s(3, start=800))])
    batch = uploaded(client, keys.issuer, roster)
    issued = [{"row": row, "number": number} for row, number in numbers(client, keys.issuer, batch["id"])]
    latest = _head(client)
    assert latest.tree_size == before + 3
    for size in (before + 1, before + 2, latest.tree_size + 1):
        query = {"leaf_index": 0, "tree_size": size}
        _error(client.get("/api/v1/log/proof/inclusion", query_string=query), 404, "tree_head_not_found")
        query = {"first": 1, "second": size}
        _error(client.get("/api/v1/log/proof/consistency", query_string=query), 404, "tree_head_not_found")
    for row in issued:
        body = _json(client.get("/api/v1/log/proof/inclusion", query_string={"number": row["number"]}))
        proof = [bytes.fromhex(p) for p in body["proof"]]
        leaf = bytes.fromhex(body["leaf_hash"])
        merkle.verify_inclusion(leaf, body["leaf_index"], latest.tree_size, proof, latest.root_hash, TREE_HASH)


def test_an_empty_log_has_no_head(client: FlaskClient) -> None:
    _error(client.get("/api/v1/log/tree-head"), 404, "log_empty")
    _error(client.get("/api/v1/log/proof/inclusion", query_string={"leaf_index": 0}), 404, "log_empty")
    assert _json(client.get("/api/v1/log/entries", query_string={"start": 0, "end": 10})) == {
        "entries": [],
        "tree_size": 0,
    }
