"""Least privilege, as a table: for every endpoint and every kind of caller, the answer.

The roles (DESIGN.md, Roles):

* authority admin: registers, suspends, resumes, cancels and re-scopes organizations,
  rotates and revokes their keys, manages API keys, reads the audit log and statistics,
  reads and revokes any certificate (document number masked);
* organization issuer: issues, reads, searches and revokes its own organization's
  certificates only, and reads its own organization record; another organization's
  certificate or record looks as if it did not exist (404);
* auditor: reads organizations, the audit log and statistics; no personal data, so no
  certificate endpoint at all;
* public (no key): verify, lookup, trust bundle, OpenAPI document, health, API docs;
  metrics too, to the addresses ISSUER_METRICS_ALLOW names (127.0.0.1 here).
  Public endpoints neither need nor check a key.

Every cell sends a valid request, so a 2xx means the action really happened (checked by
a side effect per endpoint), and a refusal means nothing changed.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.builders import photos_zip
from tests.conftest import ELECTRICIAN, ORG_CODE, OTHER_CODE, TREE_HASH, WELDER, Clock, Keys, auth
from tests.factories import ID_NUMBER, issue_body

MASKED_ID = "1101**********002X"
NEW_ORG = "Y000111000003"
COOK = "4-03-02-01"  # 中式烹调师: in the catalogue, in neither organization's scope

CALLERS = ("anonymous", "forged_key", "revoked_key", "auditor", "other_issuer", "issuer", "admin")
"""In the order they call. ``issuer`` belongs to ORG_CODE, whose organization and
certificates the requests target; ``other_issuer`` belongs to OTHER_CODE. A forged key
names a live key's id with a wrong secret; a revoked key was an authority admin's. Those
who must be refused call first and the admin last, so that its actions (suspend, cancel,
rotate ...) cannot decide the answer anyone else gets."""

# Expected status per caller. 401: no key or a bad key. 403: role_not_allowed.
# 404: another organization's record or certificate, which must look absent.
# The last column is for both bad keys (forged and revoked).
# fmt: off
MATRIX: dict[str, tuple[int, int, int, int, int, int]] = {
    # endpoint                                                 anonymous admin issuer other auditor bad key
    "GET    /api/v1/organizations":                              (401,   200,  403,   403,  200,    401),
    "POST   /api/v1/organizations":                              (401,   201,  403,   403,  403,    401),
    "GET    /api/v1/organizations/{code}":                       (401,   200,  200,   404,  200,    401),
    "POST   /api/v1/organizations/{code}/suspend":               (401,   200,  403,   403,  403,    401),
    "POST   /api/v1/organizations/{code}/resume":                (401,   200,  403,   403,  403,    401),
    "POST   /api/v1/organizations/{code}/cancel":                (401,   200,  403,   403,  403,    401),
    "PUT    /api/v1/organizations/{code}/scope":                 (401,   200,  403,   403,  403,    401),
    "POST   /api/v1/organizations/{code}/keys/rotate":           (401,   200,  403,   403,  403,    401),
    "POST   /api/v1/organizations/{code}/keys/{kid}/compromise": (401,   200,  403,   403,  403,    401),
    "PUT    /api/v1/organizations/{code}/appearance":            (401,   200,  200,   404,  403,    401),
    "GET    /api/v1/certificates":                               (401,   403,  200,   200,  403,    401),
    "POST   /api/v1/certificates":                               (401,   403,  201,   201,  403,    401),
    "GET    /api/v1/certificates/{number}":                      (401,   200,  200,   404,  403,    401),
    "POST   /api/v1/certificates/{number}/revoke":               (401,   200,  200,   404,  403,    401),
    "GET    /api/v1/certificates/{number}/image":                (401,   403,  200,   404,  403,    401),
    "POST   /api/v1/batches":                                    (401,   403,  202,   202,  403,    401),
    "GET    /api/v1/batches/template":                           (401,   403,  200,   200,  403,    401),
    "GET    /api/v1/batches":                                    (401,   403,  200,   200,  403,    401),
    "GET    /api/v1/batches/{batch_id}":                         (401,   403,  200,   404,  403,    401),
    "GET    /api/v1/batches/{batch_id}/archive":                 (401,   403,  200,   404,  403,    401),
    "GET    /api/v1/batches/{batch_id}/pdf":                     (401,   403,  200,   404,  403,    401),
    "GET    /api/v1/batches/{batch_id}/result":                  (401,   403,  200,   404,  403,    401),
    "GET    /api/v1/api-keys":                                   (401,   200,  403,   403,  403,    401),
    "POST   /api/v1/api-keys":                                   (401,   201,  403,   403,  403,    401),
    "DELETE /api/v1/api-keys/{key_id}":                          (401,   200,  403,   403,  403,    401),
    "GET    /api/v1/audit":                                      (401,   200,  403,   403,  200,    401),
    "GET    /api/v1/statistics":                                 (401,   200,  403,   403,  200,    401),
    "GET    /api/v1/dev/clock":                                  (401,   404,  403,   403,  403,    401),
    "PUT    /api/v1/dev/clock":                                  (401,   404,  403,   403,  403,    401),
    "POST   /api/v1/verify":                                     (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/lookup":                                     (200,   200,  200,   200,  200,    200),
    "POST   /api/v1/lookup":                                     (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/trust-bundle":                               (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/status-lists/{code}":                        (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/log/tree-head":                              (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/log/proof/inclusion":                        (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/log/proof/consistency":                      (200,   200,  200,   200,  200,    200),
    "GET    /api/v1/log/entries":                                (200,   200,  200,   200,  200,    200),
    "GET    /api/openapi.json":                                  (200,   200,  200,   200,  200,    200),
    "GET    /healthz":                                           (200,   200,  200,   200,  200,    200),
    "GET    /readyz":                                            (200,   200,  200,   200,  200,    200),
    "GET    /metrics":                                           (200,   200,  200,   200,  200,    200),
    "GET    /api/docs":                                          (200,   200,  200,   200,  200,    200),
}
# fmt: on


def _split(endpoint: str) -> tuple[str, str]:
    method, path = endpoint.split()
    return method, path


def name(endpoint: str) -> str:
    """``GET /path``, without the table's padding."""
    return " ".join(endpoint.split())


def is_public(endpoint: str) -> bool:
    """Public endpoints answer anyone the same; the lookup shows a masked document number
    only to whoever already knows the number, the name and the document number."""
    return MATRIX[endpoint][0] < 300


def expected_row(endpoint: str) -> dict[str, int]:
    anonymous, admin, issuer, other, auditor, bad = MATRIX[endpoint]
    return {
        "anonymous": anonymous,
        "admin": admin,
        "issuer": issuer,
        "other_issuer": other,
        "auditor": auditor,
        "forged_key": bad,
        "revoked_key": bad,
    }


# --- the world every cell runs in ------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One concrete request for an endpoint, and what its check needs to know."""

    path: str
    json: Any = None
    query: dict[str, Any] | None = None
    files: dict[str, bytes] | None = None
    """Multipart uploads: field name → content (sent as ``名单.csv``)."""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    client: FlaskClient
    svc: UseCases
    keys: Keys
    clock: Clock
    forged_key: str
    revoked_key: str
    _certificate: dict[str, Any] | None = None
    _batch: str | None = None

    def key(self, caller: str) -> str | None:
        return {
            "anonymous": None,
            "admin": self.keys.admin,
            "issuer": self.keys.issuer,
            "other_issuer": self.keys.other_issuer,
            "auditor": self.keys.auditor,
            "forged_key": self.forged_key,
            "revoked_key": self.revoked_key,
        }[caller]

    def headers(self, caller: str) -> dict[str, str]:
        key = self.key(caller)
        return auth(key) if key else {}

    def issue(self, key: str | None = None, person: int | None = None, **overrides: Any) -> dict[str, Any]:
        """Issue to 张三丰 (``ID_NUMBER``), or to the ``person``-th other person."""
        response = self.client.post(
            "/api/v1/certificates", json=issue_body(person, **overrides), headers=auth(key or self.keys.issuer)
        )
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def certificate(self) -> dict[str, Any]:
        """A valid certificate of ORG_CODE (the same one until it is revoked)."""
        if self._certificate is None or self.read_certificate(self._certificate["number"])["status"] != "valid":
            self._certificate = self.issue()
        return self._certificate

    def batch(self) -> str:
        """A finished batch of ORG_CODE (one certificate), its images drawn."""
        if self._batch is None:
            from tests.builders import id17s, simple_roster

            roster = simple_roster([("批次甲", id17s(1, start=700)[0], 3)])
            response = self.client.post(
                "/api/v1/batches",
                data={"roster": (io.BytesIO(roster), "名单.csv"), "photos": (io.BytesIO(photos_zip()), "照片.zip")},
                headers=auth(self.keys.issuer),
            )
            assert response.status_code == 202, response.get_json()
            self._batch = response.get_json()["id"]
            self.svc.queue.join()  # type: ignore[union-attr]
        return self._batch

    def read_certificate(self, number: str) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get(
            f"/api/v1/certificates/{number}", headers=auth(self.keys.issuer)
        ).get_json()
        return body

    def organization(self, code: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/organizations/{code}", headers=auth(self.keys.admin))
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def active_kid(self, code: str) -> str:
        return next(k["kid"] for k in self.organization(code)["keys"] if k["status"] == "active")

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused request must leave as it was."""
        orgs = [
            (
                o.code,
                o.status,
                [(s.occupation, s.valid_until) for s in o.scope],
                [(k.kid, k.status) for k in o.keys],
            )
            for o in self.svc.registry.list(OPERATOR)
        ]
        events = self.svc.audit.read(OPERATOR, after_id=0, limit=1000).events
        keys = [(k.id, k.revoked_at) for k in self.svc.api_keys.list(OPERATOR)]
        return orgs, len(events), self.svc.certificates.statistics(OPERATOR), keys


@pytest.fixture()
def world(client: FlaskClient, svc: UseCases, keys: Keys, clock: Clock) -> World:
    gone = svc.api_keys.create(OPERATOR, role="authority_admin", name="已离职的管理员")
    svc.api_keys.revoke(OPERATOR, gone.info.id)
    admin_id = keys.admin.split("_")[1]
    return World(client, svc, keys, clock, forged_key=f"isk_{admin_id}_{'A' * 43}", revoked_key=gone.secret)


# --- a valid request per endpoint, and what a 2xx must have done -------------------------------

Request = Callable[[World], Call]
Check = Callable[[World, str, Call, TestResponse], None]
REQUESTS: dict[str, Request] = {}
CHECKS: dict[str, Check] = {}


def request_for(endpoint: str) -> Callable[[Request], Request]:
    def register(f: Request) -> Request:
        REQUESTS[name(endpoint)] = f
        return f

    return register


def check_for(endpoint: str) -> Callable[[Check], Check]:
    def register(f: Check) -> Check:
        CHECKS[name(endpoint)] = f
        return f

    return register


def _status_of(w: World, code: str) -> str:
    status: str = w.organization(code)["status"]
    return status


PEOPLE = itertools.count()


def _try_issue(w: World, **overrides: Any) -> TestResponse:
    """Issue to someone new, a second after what came before (a change takes effect at the next whole second)."""
    w.clock.advance(seconds=1)
    return w.client.post(
        "/api/v1/certificates", json=issue_body(next(PEOPLE), **overrides), headers=auth(w.keys.issuer)
    )


@request_for("GET /api/v1/organizations")
def _list_organizations(w: World) -> Call:
    return Call("/api/v1/organizations")


@check_for("GET /api/v1/organizations")
def _lists_both(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert {o["code"] for o in response.get_json()} == {ORG_CODE, OTHER_CODE}


@request_for("POST /api/v1/organizations")
def _register(w: World) -> Call:
    body = {
        "type": "Y",
        "authority_code": NEW_ORG[1:5],
        "province": NEW_ORG[5:7],
        "site_code": NEW_ORG[7:],
        "name": "北京某某职业技能等级认定中心",
        "scope": [{"occupation": ELECTRICIAN, "levels": [5, 4, 3]}],
        "registered_from": "2026-01-01",
        "registered_until": "2030-12-31",
    }
    return Call("/api/v1/organizations", json=body)


@check_for("POST /api/v1/organizations")
def _registered(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["code"] == NEW_ORG
    org = w.organization(NEW_ORG)
    assert org["status"] == "active"
    assert [k["status"] for k in org["keys"]] == ["active"]


@request_for("GET /api/v1/organizations/{code}")
def _read_organization(w: World) -> Call:
    return Call(f"/api/v1/organizations/{ORG_CODE}")


@check_for("GET /api/v1/organizations/{code}")
def _the_organization(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["code"] == ORG_CODE


@request_for("POST /api/v1/organizations/{code}/suspend")
def _suspend(w: World) -> Call:
    return Call(f"/api/v1/organizations/{ORG_CODE}/suspend", json={"note": "责令整改"})


@check_for("POST /api/v1/organizations/{code}/suspend")
def _suspended(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert _status_of(w, ORG_CODE) == "suspended"
    refused = _try_issue(w)
    assert refused.status_code == 403 and refused.get_json()["code"] == "organization_suspended"


@request_for("POST /api/v1/organizations/{code}/resume")
def _resume(w: World) -> Call:
    if _status_of(w, ORG_CODE) != "suspended":
        w.svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="责令整改")
    return Call(f"/api/v1/organizations/{ORG_CODE}/resume", json={"note": "整改完成"})


@check_for("POST /api/v1/organizations/{code}/resume")
def _resumed(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert _status_of(w, ORG_CODE) == "active"
    assert _try_issue(w).status_code == 201


@request_for("POST /api/v1/organizations/{code}/cancel")
def _cancel(w: World) -> Call:
    return Call(f"/api/v1/organizations/{ORG_CODE}/cancel", json={"note": "注销备案"})


@check_for("POST /api/v1/organizations/{code}/cancel")
def _cancelled(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert _status_of(w, ORG_CODE) == "cancelled"
    assert _try_issue(w).status_code == 403


@request_for("PUT /api/v1/organizations/{code}/scope")
def _rescope(w: World) -> Call:
    scope = [
        {"occupation": ELECTRICIAN, "levels": [5, 4, 3, 2, 1]},
        {"occupation": WELDER, "levels": [5, 4, 3], "work_types": ["电焊工", "气焊工"]},
        {"occupation": COOK, "levels": [5, 4, 3]},
    ]
    return Call(f"/api/v1/organizations/{ORG_CODE}/scope", json={"scope": scope})


@check_for("PUT /api/v1/organizations/{code}/scope")
def _rescoped(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert COOK in {s["occupation"] for s in w.organization(ORG_CODE)["scope"]}
    assert _try_issue(w, occupation=COOK, work_type=None).status_code == 201


@request_for("POST /api/v1/organizations/{code}/keys/rotate")
def _rotate(w: World) -> Call:
    return Call(f"/api/v1/organizations/{ORG_CODE}/keys/rotate", facts={"old": w.active_kid(ORG_CODE)})


@check_for("POST /api/v1/organizations/{code}/keys/rotate")
def _rotated(w: World, caller: str, call: Call, response: TestResponse) -> None:
    statuses = {k["kid"]: k["status"] for k in w.organization(ORG_CODE)["keys"]}
    assert statuses[call.facts["old"]] == "retired"
    assert w.active_kid(ORG_CODE) != call.facts["old"]


@request_for("POST /api/v1/organizations/{code}/keys/{kid}/compromise")
def _compromise(w: World) -> Call:
    kid = w.active_kid(ORG_CODE)
    return Call(f"/api/v1/organizations/{ORG_CODE}/keys/{kid}/compromise", json={}, facts={"kid": kid})


@check_for("POST /api/v1/organizations/{code}/keys/{kid}/compromise")
def _compromised(w: World, caller: str, call: Call, response: TestResponse) -> None:
    statuses = {k["kid"]: k["status"] for k in w.organization(ORG_CODE)["keys"]}
    assert statuses[call.facts["kid"]] == "compromised"
    assert "active" in statuses.values()  # a replacement, so that the organization goes on issuing


@request_for("PUT /api/v1/organizations/{code}/appearance")
def _appearance(w: World) -> Call:
    return Call(f"/api/v1/organizations/{ORG_CODE}/appearance", json={"layout": "landscape"})


@check_for("PUT /api/v1/organizations/{code}/appearance")
def _landscape(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert w.organization(ORG_CODE)["layout"] == "landscape"


@request_for("GET /api/v1/certificates/{number}/image")
def _image(w: World) -> Call:
    return Call(f"/api/v1/certificates/{w.certificate()['number']}/image", query={"dpi": 150})


@check_for("GET /api/v1/certificates/{number}/image")
def _printable(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.mimetype == "image/png" and response.data.startswith(b"\x89PNG")


@request_for("POST /api/v1/batches")
def _batch(w: World) -> Call:
    from tests.builders import id17s, simple_roster

    roster = simple_roster([("批次学员", id17s(1, start=500)[0], 3)])
    return Call("/api/v1/batches", files={"roster": roster, "photos": photos_zip()})


@check_for("POST /api/v1/batches")
def _batch_issued_for_own_organization(w: World, caller: str, call: Call, response: TestResponse) -> None:
    w.svc.queue.join()  # type: ignore[union-attr]
    own = {"issuer": ORG_CODE, "other_issuer": OTHER_CODE}[caller]
    key = {"issuer": w.keys.issuer, "other_issuer": w.keys.other_issuer}[caller]
    body = w.client.get(f"/api/v1/batches/{response.get_json()['id']}", headers=auth(key)).get_json()
    assert body["status"] == "done" and body["issued"] == 1
    result = w.client.get(body["links"]["result"], headers=auth(key))
    assert result.status_code == 200 and _result_numbers(result.data)[0].startswith(own)


def _result_numbers(sheet: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(sheet), read_only=True)
    return [str(r[2]) for r in book.worksheets[0].iter_rows(min_row=2, values_only=True) if r[2]]


@request_for("GET /api/v1/batches/template")
def _template(w: World) -> Call:
    return Call("/api/v1/batches/template")


@check_for("GET /api/v1/batches/template")
def _xlsx(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.data.startswith(b"PK")


@request_for("GET /api/v1/batches")
def _batches(w: World) -> Call:
    return Call("/api/v1/batches", facts={"id": w.batch()})


@check_for("GET /api/v1/batches")
def _own_batches_only(w: World, caller: str, call: Call, response: TestResponse) -> None:
    ids = [b["id"] for b in response.get_json()["items"]]
    assert (call.facts["id"] in ids) == (caller == "issuer")


@request_for("GET /api/v1/batches/{batch_id}")
def _batch_status(w: World) -> Call:
    return Call(f"/api/v1/batches/{w.batch()}")


@check_for("GET /api/v1/batches/{batch_id}")
def _batch_done(w: World, caller: str, call: Call, response: TestResponse) -> None:
    body = response.get_json()
    assert (body["status"], body["rendered"], body["issued"]) == ("done", 1, 1)


@request_for("GET /api/v1/batches/{batch_id}/result")
def _batch_result(w: World) -> Call:
    return Call(f"/api/v1/batches/{w.batch()}/result")


@check_for("GET /api/v1/batches/{batch_id}/result")
def _result_sheet(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.data.startswith(b"PK") and _result_numbers(response.data)[0].startswith(ORG_CODE)


@request_for("GET /api/v1/batches/{batch_id}/archive")
def _batch_archive(w: World) -> Call:
    return Call(f"/api/v1/batches/{w.batch()}/archive")


@check_for("GET /api/v1/batches/{batch_id}/archive")
def _zip(w: World, caller: str, call: Call, response: TestResponse) -> None:
    import zipfile

    data = response.data
    response.close()  # the archive is streamed from its file
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(n.split("/")[0] for n in archive.namelist()) == ["pdf", "png", "result.xlsx"]


@request_for("GET /api/v1/batches/{batch_id}/pdf")
def _batch_pdf(w: World) -> Call:
    return Call(f"/api/v1/batches/{w.batch()}/pdf")


@check_for("GET /api/v1/batches/{batch_id}/pdf")
def _one_pdf(w: World, caller: str, call: Call, response: TestResponse) -> None:
    import pypdfium2

    data = response.data
    response.close()  # the PDF is streamed from its temporary file
    document = pypdfium2.PdfDocument(data)
    assert len(document) == 1 and "批次甲" in document[0].get_textpage().get_text_range()
    document.close()


@request_for("GET /api/v1/certificates")
def _search(w: World) -> Call:
    return Call("/api/v1/certificates", query={"level": 3}, facts={"number": w.certificate()["number"]})


@check_for("GET /api/v1/certificates")
def _searched_own_only(w: World, caller: str, call: Call, response: TestResponse) -> None:
    numbers = [c["number"] for c in response.get_json()["items"]]
    if caller == "issuer":
        assert call.facts["number"] in numbers
    else:  # another organization searches only its own, and has none
        assert numbers == []


@request_for("POST /api/v1/certificates")
def _issue(w: World) -> Call:
    return Call("/api/v1/certificates", json=issue_body())


@check_for("POST /api/v1/certificates")
def _issued_for_own_organization(w: World, caller: str, call: Call, response: TestResponse) -> None:
    number = response.get_json()["number"]
    own = {"issuer": ORG_CODE, "other_issuer": OTHER_CODE}[caller]
    assert number.startswith(own)
    read = w.client.get(f"/api/v1/certificates/{number}", headers=w.headers(caller))
    assert read.status_code == 200 and read.get_json()["document_number"] == ID_NUMBER


@request_for("GET /api/v1/certificates/{number}")
def _read_certificate(w: World) -> Call:
    return Call(f"/api/v1/certificates/{w.certificate()['number']}")


@check_for("GET /api/v1/certificates/{number}")
def _read(w: World, caller: str, call: Call, response: TestResponse) -> None:
    cert = response.get_json()
    assert call.path.endswith(cert["number"])
    assert cert["document_number"] == {"issuer": ID_NUMBER, "admin": MASKED_ID}[caller]


@request_for("POST /api/v1/certificates/{number}/revoke")
def _revoke(w: World) -> Call:
    cert = w.certificate()
    return Call(f"/api/v1/certificates/{cert['number']}/revoke", json={"reason": "data_error"}, facts=cert)


@check_for("POST /api/v1/certificates/{number}/revoke")
def _revoked(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert w.read_certificate(call.facts["number"])["status"] == "revoked"
    verdict = w.client.post("/api/v1/verify", json={"qr_text": call.facts["qr_text"]}).get_json()
    assert verdict["status"] == "revoked" and verdict["revocation_reason"] == "data_error"


@request_for("POST /api/v1/verify")
def _verify(w: World) -> Call:
    return Call("/api/v1/verify", json={"qr_text": w.certificate()["qr_text"]})


@check_for("POST /api/v1/verify")
def _verified(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["status"] == "valid"


def _lookup_fields(w: World) -> dict[str, str]:
    return {"number": w.certificate()["number"], "name": "张三丰", "document_number": ID_NUMBER}


@request_for("GET /api/v1/lookup")
def _lookup_get(w: World) -> Call:
    return Call("/api/v1/lookup", query=_lookup_fields(w))


@request_for("POST /api/v1/lookup")
def _lookup_post(w: World) -> Call:
    return Call("/api/v1/lookup", json=_lookup_fields(w))


@check_for("GET /api/v1/lookup")
@check_for("POST /api/v1/lookup")
def _found(w: World, caller: str, call: Call, response: TestResponse) -> None:
    found = response.get_json()
    assert found["status"] == "valid" and found["document_number"] == MASKED_ID


@request_for("GET /api/v1/trust-bundle")
def _trust_bundle(w: World) -> Call:
    return Call("/api/v1/trust-bundle")


@check_for("GET /api/v1/trust-bundle")
def _bundle(w: World, caller: str, call: Call, response: TestResponse) -> None:
    bundle = response.get_json()
    assert bundle["root_certificate"] and bundle["trust_list"]


def _trust_store(w: World) -> Any:
    from issuer.core.trust import load_bundle

    return load_bundle(json.dumps(w.client.get("/api/v1/trust-bundle").get_json()))


def _signed_head(w: World, head: dict[str, Any]) -> Any:
    """``head`` (JSON of a signed tree head) opened with the trust bundle's log key."""
    from issuer.core.transparency import open_tree_head

    opened = open_tree_head(base64.b64decode(head["signed"]), _trust_store(w))
    assert (opened.tree_size, opened.root_hash.hex()) == (head["tree_size"], head["root_hash"])
    return opened


def _latest_head(w: World) -> dict[str, Any]:
    body: dict[str, Any] = w.client.get("/api/v1/log/tree-head").get_json()
    return body


@request_for("GET /api/v1/status-lists/{code}")
def _status_list(w: World) -> Call:
    revoked = w.client.get(
        "/api/v1/certificates", query_string={"revoked": "true"}, headers=auth(w.keys.issuer)
    ).get_json()["items"]
    if not revoked:
        number = w.issue(person=next(PEOPLE))["number"]
        response = w.client.post(
            f"/api/v1/certificates/{number}/revoke", json={"reason": "fraud"}, headers=auth(w.keys.admin)
        )
        assert response.status_code == 200
        revoked = [response.get_json()]
    return Call(f"/api/v1/status-lists/{ORG_CODE}", facts={"revoked": sorted(c["status_index"] for c in revoked)})


@check_for("GET /api/v1/status-lists/{code}")
def _signed_status_list(w: World, caller: str, call: Call, response: TestResponse) -> None:
    body = response.get_json()
    found = _trust_store(w).add_status_list(base64.b64decode(body["signed"]))  # the organization's key signed it
    assert found.organization == body["organization"] == ORG_CODE
    assert found.revoked_indexes() == call.facts["revoked"] and body["revoked_count"] == len(call.facts["revoked"])
    assert response.headers["Cache-Control"].startswith("public")


@request_for("GET /api/v1/log/tree-head")
def _tree_head(w: World) -> Call:
    w.certificate()
    return Call("/api/v1/log/tree-head")


@check_for("GET /api/v1/log/tree-head")
def _signed_by_the_log(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert _signed_head(w, response.get_json()).tree_size >= 1


@request_for("GET /api/v1/log/proof/inclusion")
def _inclusion(w: World) -> Call:
    cert = w.certificate()
    return Call("/api/v1/log/proof/inclusion", query={"number": cert["number"]}, facts=cert)


@check_for("GET /api/v1/log/proof/inclusion")
def _included(w: World, caller: str, call: Call, response: TestResponse) -> None:
    from issuer.core import merkle

    body = response.get_json()
    head = _signed_head(w, body["tree_head"])
    assert body["leaf_index"] == call.facts["log_index"] and body["tree_size"] == head.tree_size
    proof = [bytes.fromhex(p) for p in body["proof"]]
    merkle.verify_inclusion(
        bytes.fromhex(body["leaf_hash"]), body["leaf_index"], head.tree_size, proof, head.root_hash, TREE_HASH
    )


@request_for("GET /api/v1/log/proof/consistency")
def _consistency(w: World) -> Call:
    w.certificate()
    first = _latest_head(w)
    w.issue(person=next(PEOPLE))
    second = _latest_head(w)
    query = {"first": first["tree_size"], "second": second["tree_size"]}
    return Call("/api/v1/log/proof/consistency", query=query, facts={"first": first, "second": second})


@check_for("GET /api/v1/log/proof/consistency")
def _consistent(w: World, caller: str, call: Call, response: TestResponse) -> None:
    from issuer.core import merkle

    first, second = (_signed_head(w, call.facts[k]) for k in ("first", "second"))
    proof = [bytes.fromhex(p) for p in response.get_json()["proof"]]
    assert first.tree_size < second.tree_size
    merkle.verify_consistency(first.tree_size, second.tree_size, first.root_hash, second.root_hash, proof, TREE_HASH)


@request_for("GET /api/v1/log/entries")
def _entries(w: World) -> Call:
    w.certificate()
    head = _latest_head(w)
    return Call("/api/v1/log/entries", query={"start": 0, "end": head["tree_size"]}, facts=head)


@check_for("GET /api/v1/log/entries")
def _entries_make_the_root(w: World, caller: str, call: Call, response: TestResponse) -> None:
    from issuer.core import merkle
    from issuer.core.transparency import decode_entry

    head = _signed_head(w, call.facts)
    body = response.get_json()
    data = [base64.b64decode(e["entry"]) for e in body["entries"]]
    assert [e["index"] for e in body["entries"]] == list(range(head.tree_size))
    assert [decode_entry(d).type for d in data] == [e["type"] for e in body["entries"]]
    assert "issue" in {e["type"] for e in body["entries"]}
    assert merkle.MemoryTree((TREE_HASH.leaf(d) for d in data), TREE_HASH).root() == head.root_hash


@request_for("GET /api/v1/api-keys")
def _list_keys(w: World) -> Call:
    return Call("/api/v1/api-keys")


@check_for("GET /api/v1/api-keys")
def _keys_without_secrets(w: World, caller: str, call: Call, response: TestResponse) -> None:
    listed = response.get_json()
    assert w.keys.admin.split("_")[1] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)
    secret = w.keys.admin.split("_", 2)[2]  # the secret itself may hold "_"
    assert secret not in response.get_data(as_text=True)


@request_for("POST /api/v1/api-keys")
def _create_key(w: World) -> Call:
    return Call("/api/v1/api-keys", json={"role": "auditor", "name": "省审计组"})


@check_for("POST /api/v1/api-keys")
def _created_key_works(w: World, caller: str, call: Call, response: TestResponse) -> None:
    secret = response.get_json()["key"]
    assert w.client.get("/api/v1/audit", headers=auth(secret)).status_code == 200


@request_for("DELETE /api/v1/api-keys/{key_id}")
def _revoke_key(w: World) -> Call:
    new = w.svc.api_keys.create(OPERATOR, role="auditor", name="临时审计")
    return Call(f"/api/v1/api-keys/{new.info.id}", facts={"secret": new.secret})


@check_for("DELETE /api/v1/api-keys/{key_id}")
def _revoked_key_fails(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["revoked_at"] is not None
    after = w.client.get("/api/v1/audit", headers=auth(call.facts["secret"]))
    assert after.status_code == 401 and after.get_json()["code"] == "invalid_api_key"


@request_for("GET /api/v1/audit")
def _audit(w: World) -> Call:
    return Call("/api/v1/audit")


@check_for("GET /api/v1/audit")
def _audit_trail(w: World, caller: str, call: Call, response: TestResponse) -> None:
    page = response.get_json()
    assert page["chain_intact"] is True
    assert "apikey.create" in {e["action"] for e in page["events"]}


@request_for("GET /api/v1/dev/clock")
def _read_clock(w: World) -> Call:
    return Call("/api/v1/dev/clock")


@request_for("PUT /api/v1/dev/clock")
def _set_clock(w: World) -> Call:
    return Call("/api/v1/dev/clock", json={"now": "2026-12-01T09:37:00+08:00"})


@check_for("GET /api/v1/dev/clock")
@check_for("PUT /api/v1/dev/clock")
def _clock_shown(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["now"].startswith("2026-")


@request_for("GET /api/v1/statistics")
def _statistics(w: World) -> Call:
    w.certificate()
    return Call("/api/v1/statistics")


@check_for("GET /api/v1/statistics")
def _counted(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert {"organization": ORG_CODE, "level": 3, "issued": 1, "revoked": 0} in response.get_json()


@request_for("GET /api/openapi.json")
def _openapi(w: World) -> Call:
    return Call("/api/openapi.json")


@check_for("GET /api/openapi.json")
def _document(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert "/api/v1/certificates" in response.get_json()["paths"]


@request_for("GET /healthz")
def _healthz(w: World) -> Call:
    return Call("/healthz")


@check_for("GET /healthz")
def _healthy(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["status"] == "ok"


@request_for("GET /readyz")
def _readyz(w: World) -> Call:
    return Call("/readyz")


@check_for("GET /readyz")
def _ready(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.get_json()["status"] == "ready"


@request_for("GET /metrics")
def _metrics(w: World) -> Call:
    return Call("/metrics")  # from 127.0.0.1, an allowed address: the key decides nothing


@check_for("GET /metrics")
def _scraped(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert "issuer_certificates_issued_total" in response.get_data(as_text=True)


@request_for("GET /api/docs")
def _docs(w: World) -> Call:
    return Call("/api/docs")


@check_for("GET /api/docs")
def _page(w: World, caller: str, call: Call, response: TestResponse) -> None:
    assert response.mimetype == "text/html" and "/api/v1/certificates" in response.get_data(as_text=True)


# --- the tests --------------------------------------------------------------------------------

PERSONAL = re.compile(re.escape(ID_NUMBER[:4]) + r"[0-9*]{10}" + re.escape(ID_NUMBER[14:]), re.IGNORECASE)
"""The holder's document number, in full or masked."""


def _send(w: World, endpoint: str, caller: str, call: Call) -> TestResponse:
    method, _ = _split(endpoint)
    if call.files is not None:
        data = {name: (io.BytesIO(content), "名单.csv") for name, content in call.files.items()}
        return w.client.open(
            call.path, method=method, data=data, content_type="multipart/form-data", headers=w.headers(caller)
        )
    return w.client.open(call.path, method=method, json=call.json, query_string=call.query, headers=w.headers(caller))


def _refusal_is_explained(caller: str, response: TestResponse) -> None:
    body = response.get_json()
    if response.status_code == 401:
        assert body["code"] == ("authentication_required" if caller == "anonymous" else "invalid_api_key")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif response.status_code == 403:
        assert body["code"] == "role_not_allowed"
    elif response.status_code == 404:
        assert body["code"] in {"organization_not_found", "certificate_not_found", "batch_not_found", "no_dev_clock"}


@pytest.mark.parametrize("endpoint", list(MATRIX), ids=name)
def test_each_caller_gets_exactly_what_its_role_allows(world: World, endpoint: str) -> None:
    key = name(endpoint)
    observed: dict[str, int] = {}
    problems: list[str] = []
    for caller in CALLERS:
        call = REQUESTS[key](world)
        before = world.snapshot()
        response = _send(world, endpoint, caller, call)
        observed[caller] = response.status_code
        if response.status_code != expected_row(endpoint)[caller]:
            problems.append(f"{caller}: {response.status_code} {response.get_data(as_text=True)[:200]}")
            continue
        if caller == "auditor" and not is_public(endpoint):
            assert not PERSONAL.search(response.get_data(as_text=True)), "an auditor saw a document number"
        if response.status_code < 300:
            CHECKS[key](world, caller, call, response)
        else:
            _refusal_is_explained(caller, response)
            assert world.snapshot() == before, f"a refused {caller} changed something"
    assert observed == expected_row(endpoint), "\n".join(problems)


def _route_endpoints(app: Flask) -> set[str]:
    """Every route but the static files and the HTML pages (``issuer.web``: sessions, not
    API keys; ``tests/web/test_console.py`` checks that every console page needs one)."""
    from issuer.web import WEB_BLUEPRINTS

    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.split(".")[0] in WEB_BLUEPRINTS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add(f"{method} {path}")
    return found


def test_the_matrix_covers_every_operation_of_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    documented = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {name(e) for e in MATRIX}
    assert documented - covered == set(), "an endpoint without a row in MATRIX"
    assert {e for e in covered if e.split()[1].startswith("/api/v1/")} == documented


def test_the_matrix_covers_every_route_of_the_app(app: Flask) -> None:
    assert _route_endpoints(app) == {name(e) for e in MATRIX}


def test_every_endpoint_has_a_valid_request_and_a_check_of_its_effect() -> None:
    endpoints = {name(e) for e in MATRIX}
    assert set(REQUESTS) == endpoints
    assert set(CHECKS) == endpoints


# --- personal data ----------------------------------------------------------------------------


def test_the_admin_sees_the_document_number_masked_and_the_issuing_organization_in_full(world: World) -> None:
    number = world.certificate()["number"]
    as_admin = world.client.get(f"/api/v1/certificates/{number}", headers=auth(world.keys.admin)).get_json()
    as_owner = world.client.get(f"/api/v1/certificates/{number}", headers=auth(world.keys.issuer)).get_json()
    assert as_admin["document_number"] == MASKED_ID
    assert as_owner["document_number"] == ID_NUMBER
    search = world.client.get("/api/v1/certificates", headers=auth(world.keys.issuer)).get_json()
    assert search["items"][0]["document_number"] == ID_NUMBER
    revoked = world.client.post(
        f"/api/v1/certificates/{number}/revoke", json={"reason": "issued_in_error"}, headers=auth(world.keys.admin)
    )
    assert revoked.status_code == 200
    assert revoked.get_json()["document_number"] == MASKED_ID
    assert ID_NUMBER not in revoked.get_data(as_text=True)


def _as_text(response: TestResponse) -> str:
    """The body as a reader sees it (JSON escapes Chinese as \\uXXXX)."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def test_an_auditor_never_receives_personal_data(world: World) -> None:
    world.certificate()
    world.batch()
    world.issue(key=world.keys.other_issuer, holder_name="李四")
    spare = world.issue(person=next(PEOPLE), holder_name="王五")["number"]
    revoked = world.client.post(
        f"/api/v1/certificates/{spare}/revoke", json={"reason": "fraud"}, headers=auth(world.keys.admin)
    )
    assert revoked.status_code == 200
    answered = {}
    for endpoint in filter(lambda e: not is_public(e), MATRIX):
        call = REQUESTS[name(endpoint)](world)
        response = _send(world, endpoint, "auditor", call)
        answered[name(endpoint)] = response.status_code
        text = _as_text(response)
        assert not PERSONAL.search(text), endpoint
        assert not {"张三丰", "李四", "王五"} & set(re.findall(r"张三丰|李四|王五", text)), endpoint
    # It did read what it may, with certificates issued and revoked, so the absence means something.
    assert answered["GET /api/v1/audit"] == answered["GET /api/v1/statistics"] == 200
    assert answered["GET /api/v1/organizations"] == 200


def test_another_organizations_certificate_looks_exactly_like_a_missing_one(world: World) -> None:
    theirs = world.certificate()["number"]
    missing = theirs[:-6] + "999999"
    other = auth(world.keys.other_issuer)

    def answer(path: str, number: str, **kwargs: Any) -> tuple[int, str]:
        response = world.client.open(path.format(number), headers=other, **kwargs)
        return response.status_code, response.get_data(as_text=True).replace(number, "<number>")

    for path, kwargs in [
        ("/api/v1/certificates/{}", {}),
        ("/api/v1/certificates/{}/revoke", {"method": "POST", "json": {"reason": "fraud"}}),
    ]:
        assert answer(path, theirs, **kwargs) == answer(path, missing, **kwargs)
    assert world.read_certificate(theirs)["status"] == "valid"

    record = world.client.get(f"/api/v1/organizations/{ORG_CODE}", headers=other)
    absent = world.client.get("/api/v1/organizations/Y000123000009", headers=other)
    assert record.status_code == absent.status_code == 404
    assert record.get_json()["code"] == absent.get_json()["code"] == "organization_not_found"
