"""The bundle manifest is signed from the one stored before it: what another process stored
in between is what the next manifest builds on, even though this process remembers the
manifest it signed last."""

from __future__ import annotations

import dataclasses
import hashlib

from flask import Flask
from sqlalchemy import select, update

from issuer.core.manifest import read_unverified
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import issue_person, outsider_trust
from tests.conftest import Keys


def _stored(svc: UseCases) -> bytes:
    with svc.database.read_sessions() as session:
        signed = session.scalar(select(m.BundleManifestRecord.signed))
    assert signed is not None
    return signed


def _store(svc: UseCases, signed: bytes) -> None:
    with svc.database.sessions.begin() as session:
        session.execute(update(m.BundleManifestRecord).values(signed=signed))


def test_a_manifest_another_process_stored_is_built_on_not_the_one_remembered(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    issue_person(svc, 0)
    mine = read_unverified(_stored(svc))
    elsewhere = {**mine.status_lists, "ZZZZZZZZZZZZZZZZZZ": hashlib.sha256(b"a list signed elsewhere").digest()}
    theirs = dataclasses.replace(mine, status_lists=elsewhere)
    key = svc.ctx.keys.log_key()
    _store(svc, theirs.sign(key, svc.log.public_key().kid))
    issue_person(svc, 1)
    assert read_unverified(_stored(svc)).status_lists == elsewhere


def test_a_damaged_manifest_is_not_built_on_but_signed_again_from_the_parts(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    issue_person(svc, 0)
    signed = bytearray(_stored(svc))
    signed[-1] ^= 1  # the signature's last byte
    _store(svc, bytes(signed))
    issue_person(svc, 1)
    store = outsider_trust(svc)
    assert store.manifest_signed == _stored(svc) and not store.problems  # it names every part
