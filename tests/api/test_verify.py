"""``POST /api/v1/verify`` answers exactly what ``VerifyOut`` documents, for every kind of
verdict: the view builds the answer without a marshmallow dump (it is the answer served most
often), so each answer is held here to what the schema would make of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from issuer.api.schemas import VerifyOut
from tests.conftest import Keys, auth
from tests.factories import issue_body


def as_documented(answer: dict[str, Any]) -> dict[str, Any]:
    """``VerifyOut`` dumping the answer's values: only its fields, nested ones too, with
    its formats (a dump drops every key the schema does not name)."""
    instants = {k: datetime.fromisoformat(answer[k]) if answer[k] else None for k in ("checked_at", "revoked_at")}
    dumped: dict[str, Any] = VerifyOut().dump({**answer, **instants})
    return dumped


def verify(client: FlaskClient, qr_text: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"qr_text": qr_text})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def test_every_kind_of_verdict_is_exactly_the_documented_answer(client: FlaskClient, keys: Keys) -> None:
    issued = [
        client.post("/api/v1/certificates", json=issue_body(n), headers=auth(keys.issuer)).get_json() for n in range(3)
    ]
    revoked, replaced, valid = issued
    client.post(f"/api/v1/certificates/{revoked['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer))
    renewed = client.post(
        "/api/v1/certificates", json=issue_body(1, replaces=replaced["number"]), headers=auth(keys.issuer)
    ).get_json()
    tampered = valid["qr_text"][:-6] + ("A" if valid["qr_text"][-6] != "A" else "B") + valid["qr_text"][-5:]

    answers = {
        "valid": verify(client, valid["qr_text"]),
        "revoked": verify(client, revoked["qr_text"]),
        "reissued": verify(client, replaced["qr_text"]),
        "tampered": verify(client, tampered),
        "not a code": verify(client, "HTTPS://CERT.EXAMPLE.CN/V/NOT-BASE32"),
    }

    seen = {kind: (a["status"], a["explanation"]["kind"]) for kind, a in answers.items()}
    assert seen == {
        "valid": ("valid", "valid"),
        "revoked": ("revoked", "revoked"),
        "reissued": ("revoked", "reissued"),
        "tampered": ("not_valid", "not_valid"),
        "not a code": ("not_valid", "not_valid"),
    }
    for kind, answer in answers.items():
        assert answer == as_documented(answer), kind
        assert set(answer) == set(VerifyOut().fields), kind
    assert answers["revoked"]["revocation_reason"] == "fraud" and answers["revoked"]["revoked_at"]
    assert answers["reissued"]["replaced_by"] == renewed["number"]
    assert answers["valid"]["organization"] == {
        "code": valid["organization"]["code"],
        "name": valid["organization"]["name"],
    }
    assert answers["not a code"]["certificate"] is None and answers["not a code"]["organization"] is None
