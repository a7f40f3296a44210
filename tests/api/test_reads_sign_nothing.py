"""A GET signs nothing and writes nothing: the trust bundle's manifest is signed when a part
of the bundle changes and read back as stored, by the bundle and by the public verification
(the scan page, the lookup and ``POST /verify`` read alike)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from issuer.core import cose, trust
from issuer.service.wiring import UseCases
from issuer.store import models as m
from issuer.store.keystore import KeyRing
from tests.conftest import Keys, auth
from tests.factories import issue_body

PUBLISHED = (m.BundleManifestRecord, m.TrustListRecord, m.StatusListRecord, m.TreeHeadRecord, m.LogEntry)


def _published(svc: UseCases) -> dict[str, Any]:
    with svc.database.read_sessions() as session:
        return {
            model.__tablename__: (
                session.scalar(select(func.count()).select_from(model)),
                sorted(repr(tuple(r)) for r in session.execute(select(model.__table__))),
            )
            for model in PUBLISHED
        }


@contextmanager
def nothing_signed_nor_written(svc: UseCases, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail on any signature or any use of the log key; collect every statement that is not
    a read, on both engines."""

    def refused(*_: Any, **__: Any) -> Any:
        raise AssertionError("a GET signed something")

    monkeypatch.setattr(cose, "sign", refused)
    monkeypatch.setattr(KeyRing, "log_key", refused)
    writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split()[0].upper() not in ("SELECT", "BEGIN", "PRAGMA", "ROLLBACK", "COMMIT"):
            writes.append(statement)

    engines = {svc.database.engine, svc.database.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        yield writes
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
        monkeypatch.undo()


def test_getting_the_trust_bundle_twice_signs_and_writes_nothing(
    client: FlaskClient, keys: Keys, svc: UseCases, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.post("/api/v1/certificates", json=issue_body(0), headers=auth(keys.issuer))
    before = _published(svc)
    with nothing_signed_nor_written(svc, monkeypatch) as writes:
        first = client.get("/api/v1/trust-bundle")
        second = client.get("/api/v1/trust-bundle")
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json() and first.headers["ETag"] == second.headers["ETag"]
    assert writes == [] and _published(svc) == before
    store = trust.load_bundle(first.data)
    assert store.manifest is not None and not store.problems  # the stored manifest names every part


def test_verifying_signs_and_writes_nothing(
    client: FlaskClient, keys: Keys, svc: UseCases, app_with: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = client.post("/api/v1/certificates", json=issue_body(0), headers=auth(keys.issuer)).get_json()
    payload = issued["qr_text"].split("/V/")[1]
    fresh = app_with()  # another process: it has loaded no trust store yet
    use: UseCases = fresh.extensions["issuer.use_cases"]
    before = _published(svc)
    with nothing_signed_nor_written(use, monkeypatch) as writes:
        page = fresh.test_client().get(f"/V/{payload}")
        answer = fresh.test_client().post("/api/v1/verify", json={"qr_text": issued["qr_text"]})
    assert page.status_code == 200 and "证书有效" in page.get_data(as_text=True)
    assert answer.status_code == 200 and answer.get_json()["status"] == "valid"
    assert writes == [] and _published(svc) == before


def test_every_change_to_a_part_signs_the_manifest_in_its_own_transaction(
    client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    def manifest() -> bytes:
        with svc.database.read_sessions() as session:
            signed = session.scalar(select(m.BundleManifestRecord.signed))
        assert signed is not None
        return signed

    def names_every_part() -> None:
        store = trust.load_bundle(client.get("/api/v1/trust-bundle").data)
        assert store.manifest_signed == manifest() and not store.problems

    registered = manifest()
    names_every_part()
    issued = client.post("/api/v1/certificates", json=issue_body(0), headers=auth(keys.issuer)).get_json()
    after_issue = manifest()  # a new tree head
    assert after_issue != registered
    names_every_part()
    client.post(f"/api/v1/certificates/{issued['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer))
    assert manifest() != after_issue  # a new status list and tree head
    names_every_part()
