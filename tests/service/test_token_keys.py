"""The service with its keys in a PKCS#11 token (SoftHSM2), on the test database (SQLite, or
PostgreSQL with TEST_DATABASE_URL): organization certificates, credentials, revocations,
trust lists, status lists and tree heads are all signed in the token, and an outsider checks
them with the downloaded bundle, the core verifier and the core auditor only. No private key
is ever written to the keys folder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from issuer.core import trust
from issuer.core.auditor import audit
from issuer.core.verify import Status, verify
from issuer.service import bootstrap
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store.pkcs11 import LOG_LABEL, ROOT_LABEL, TokenKeys, org_label
from tests.builders import issue_person, outsider_trust, qr_of
from tests.conftest import ORG_CODE, Clock, issuer_principal, register
from tests.hsm import SoftHsm

TOKEN = "issuer-service"


@pytest.fixture()
def svc(app_with: Callable[..., Flask], softhsm: SoftHsm, tmp_path: Path) -> UseCases:
    """The service on the emptied test database, its keys in a fresh token and its
    certificates in a keys folder of its own."""
    app = app_with(KEYS_DIR=str(tmp_path / "token-keys"), **softhsm.settings(softhsm.fresh(TOKEN)))
    found: UseCases = app.extensions["issuer.use_cases"]
    assert isinstance(found.ctx.keys, TokenKeys)
    made = bootstrap.init_authority(found.ctx.keys, "人社部（令牌测试）", now=datetime(2024, 1, 1, tzinfo=UTC))
    assert made
    register(found)
    return found


def _audited(svc: UseCases, store: trust.TrustStore) -> list[tuple[str, str | None]]:
    head = svc.log.latest_head()
    assert head is not None and store.tree_head_signed is not None
    report = audit(store, store.tree_head_signed, svc.log.entries(0, head.tree_size))
    return [(f.code, f.number) for f in report.findings]


def _active_kid(svc: UseCases) -> str:
    return next(k.kid for k in svc.registry.read(OPERATOR, ORG_CODE).keys if k.status == "active")


def _labels(svc: UseCases) -> list[str]:
    from pkcs11 import Attribute, ObjectClass

    assert isinstance(svc.ctx.keys, TokenKeys)
    with svc.ctx.keys.token.session() as session:
        return sorted(k.label for k in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))


def _key_files(svc: UseCases) -> list[str]:
    return sorted(p.name for p in svc.keystore.root.rglob("*.key.pem"))


def test_everything_signed_in_the_token_verifies_offline(svc: UseCases, clock: Clock) -> None:
    kept, revoked = issue_person(svc, 1), issue_person(svc, 2)
    clock.advance(minutes=5)
    svc.revoking.revoke(issuer_principal(svc), revoked.number, reason="fraud")
    clock.advance(days=2)
    assert svc.log.checkpoint(timedelta(days=1)) is not None, "a tree head signed again, by the token"

    store = outsider_trust(svc)  # the trust list, the status list, the tree head and the manifest
    assert store.status_list(ORG_CODE) is not None
    assert verify(qr_of(svc, kept), store, at=clock.now).status is Status.VALID
    assert verify(qr_of(svc, revoked), store, at=clock.now).status is Status.REVOKED
    assert _audited(svc, store) == []
    assert _labels(svc) == sorted([LOG_LABEL, ROOT_LABEL, org_label(ORG_CODE, _active_kid(svc))])
    assert _key_files(svc) == []


def test_rotation_and_compromise_keep_their_meaning_with_the_token(svc: UseCases, clock: Clock) -> None:
    first_kid = _active_kid(svc)
    before = issue_person(svc, 1)
    clock.advance(hours=1)
    svc.registry.rotate_key(OPERATOR, ORG_CODE)
    second_kid = _active_kid(svc)
    clock.advance(hours=1)
    rotated = issue_person(svc, 2)
    clock.advance(hours=1)
    svc.registry.compromise_key(OPERATOR, ORG_CODE, second_kid, compromised_at=clock.now - timedelta(minutes=30))
    replacement = issue_person(svc, 3)

    store = outsider_trust(svc)
    at = clock.now
    assert verify(qr_of(svc, before), store, at=at).status is Status.VALID, "a retired key's past signatures hold"
    assert verify(qr_of(svc, rotated), store, at=at).status is Status.VALID, "signed before the compromise"
    assert verify(qr_of(svc, replacement), store, at=at).status is Status.VALID
    third_kid = _active_kid(svc)
    assert len({first_kid, second_kid, third_kid}) == 3
    assert _labels(svc) == sorted(
        [LOG_LABEL, ROOT_LABEL, *(org_label(ORG_CODE, kid) for kid in (first_kid, second_kid, third_kid))]
    )
    assert _audited(svc, store) == []
    assert _key_files(svc) == []


def test_issuer_keys_init_authority_makes_the_root_in_the_token(
    softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from issuer.cli import main

    settings = softhsm.settings(softhsm.fresh(TOKEN))
    for name, value in {**settings, "KEYS_DIR": str(tmp_path / "keys"), "INSTANCE_PATH": str(tmp_path)}.items():
        monkeypatch.setenv(f"ISSUER_{name}", value)
    made = CliRunner().invoke(main, ["keys", "init-authority", "--name", "某省人社厅"])
    assert made.exit_code == 0, made.output
    assert made.output == f"created {tmp_path / 'keys' / 'authority' / 'root.crt.pem'}\n"
    again = CliRunner().invoke(main, ["keys", "init-authority", "--name", "某省人社厅"])
    assert again.exit_code == 1 and "根密钥已存在" in again.output
    assert sorted(p.name for p in (tmp_path / "keys").rglob("*") if p.is_file()) == ["root.crt.pem"]


def test_a_refused_pin_makes_the_service_not_ready_and_is_never_logged(
    svc: UseCases, app_with: Callable[..., Flask], softhsm: SoftHsm, caplog: pytest.LogCaptureFixture
) -> None:
    assert svc.readiness.problems() == []
    wrong = {**softhsm.settings(TOKEN), "PKCS11_PIN": "wrong-pin-97531"}
    other: UseCases = app_with(KEYS_DIR=str(svc.keystore.root), **wrong).extensions["issuer.use_cases"]
    assert [p.part for p in other.readiness.problems()] == ["keys"]
    assert "refused the PIN" in caplog.text and "97531" not in caplog.text
