"""The service's transparency log and status lists, checked as an outsider would: with the
downloaded trust bundle, the core verifier and the core auditor only."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from issuer.cli import main
from issuer.core import merkle, statuslist, transparency
from issuer.core.auditor import audit
from issuer.core.verify import Status, verify
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import issue_person, outsider_trust, qr_of
from tests.conftest import ORG_CODE, OTHER_CODE, TREE_HASH, Clock, Keys, issuer_principal


def _entries(svc: UseCases) -> list[tuple[int, bytes]]:
    head = svc.log.latest_head()
    assert head is not None
    return svc.log.entries(0, head.tree_size)


def test_every_issuance_revocation_and_key_event_is_logged_under_a_signed_head(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    issued = [issue_person(svc, i) for i in range(3)]
    svc.revoking.revoke(issuer_principal(svc), issued[1].number, reason="fraud")
    store = outsider_trust(svc)
    assert store.tree_head_signed is not None
    head = transparency.open_tree_head(store.tree_head_signed, store)
    entries = _entries(svc)
    types = [transparency.decode_entry(data).type for _, data in entries]
    # two organizations registered first; every audit event (registrations, API keys, the
    # revocation) is followed by its checkpoint
    assert [t for t in types if t != "audit"] == ["key", "key", "issue", "issue", "issue", "revoke"]
    with svc.database.read_sessions() as session:
        audited = session.scalar(select(func.count()).select_from(m.AuditEvent))
    assert types.count("audit") == audited and types[-2:] == ["revoke", "audit"]
    assert head.tree_size == 6 + audited
    assert merkle.MemoryTree((TREE_HASH.leaf(d) for _, d in entries), TREE_HASH).root() == head.root_hash
    with svc.database.read_sessions() as session:
        logged = dict(session.execute(select(m.Certificate.number, m.Certificate.log_index)).all())
    assert [logged[c.number] for c in issued] == [i for i, t in enumerate(types) if t == "issue"]
    for number, index in logged.items():
        proof = svc.log.inclusion(leaf_index=None, number=number, tree_size=None)
        merkle.verify_inclusion(proof.leaf_hash, index, head.tree_size, proof.proof, head.root_hash, TREE_HASH)


def _verify_offline(bundle: dict[str, object], qr_text: str, at: str, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", qr_text, "--trust", str(path), "--at", at])
    return result.exit_code, result.output


def test_a_revoked_certificate_fails_offline_with_a_fresh_bundle_and_is_unknown_with_a_stale_one(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, tmp_path: Path
) -> None:
    cert = issue_person(svc, 1)
    _, before = svc.publishing.bundle()
    clock.advance(hours=1)
    svc.revoking.revoke(issuer_principal(svc), cert.number, reason="fraud")
    _, after = svc.publishing.bundle()
    now = clock.now.isoformat()

    code, output = _verify_offline(after, qr_of(svc, cert), now, tmp_path)
    assert code == 1 and "已撤销" in output and "REVOKED" in output

    # The bundle fetched before the revocation cannot know it, and says so once it is stale.
    late = (clock.now + statuslist.DEFAULT_MAX_AGE).isoformat()
    code, output = _verify_offline(before, qr_of(svc, cert), late, tmp_path)
    assert code == 2 and "status unknown since" in output and "撤销状态未知" in output
    code, _ = _verify_offline(before, qr_of(svc, cert), now, tmp_path)
    assert code == 0, "within its maximum age an older list still speaks, as documented"


def test_reading_signs_nothing_and_the_scheduled_refresh_signs_lists_a_day_old(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    first = outsider_trust(svc).status_list(ORG_CODE)
    clock.advance(hours=25)
    unchanged = outsider_trust(svc).status_list(ORG_CODE)
    assert first is not None and unchanged is not None and unchanged.issued_at == first.issued_at
    assert sorted(svc.publishing.refresh()) == sorted([ORG_CODE, OTHER_CODE])
    again = outsider_trust(svc).status_list(ORG_CODE)
    assert again is not None and again.issued_at - first.issued_at >= timedelta(hours=25)
    assert again.fresh_at(clock.now + statuslist.DEFAULT_MAX_AGE - timedelta(hours=1))
    clock.advance(hours=23)
    assert svc.publishing.refresh() == [], "a list signed less than a day ago is left as it is"


def test_a_compromised_key_fails_what_it_signed_from_then_and_the_log_and_trust_list_show_it(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    before = issue_person(svc, 1)
    clock.advance(days=1)
    after = issue_person(svc, 2)
    org = svc.registry.read(OPERATOR, ORG_CODE)
    kid = next(k.kid for k in org.keys if k.status == "active")
    svc.registry.compromise_key(OPERATOR, ORG_CODE, kid, compromised_at=clock.now - timedelta(hours=1))
    replacement = issue_person(svc, 3)
    store = outsider_trust(svc)
    at = clock.now
    assert verify(qr_of(svc, before), store, at=at).status is Status.VALID
    assert verify(qr_of(svc, after), store, at=at).failed_check == "key_status"
    assert verify(qr_of(svc, replacement), store, at=at).status is Status.VALID

    entry = store.key(bytes.fromhex(kid))
    assert entry is not None and entry.entry.status == "compromised"
    events = [
        transparency.read_key_event(transparency.cose.parse(e.signed).payload)
        for e in (transparency.decode_entry(d) for _, d in _entries(svc))
        if e.type == "key"
    ]
    assert [(e.organization, e.kid.hex(), e.event) for e in events if e.event != "added"] == [
        (ORG_CODE, kid, "compromised")
    ]
    assert store.tree_head_signed is not None
    report = audit(store, store.tree_head_signed, _entries(svc))
    assert [(f.code, f.number) for f in report.findings] == [("invalid_certificate", after.number)]


def test_the_audit_of_a_busy_log_is_clean(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    issued = [issue_person(svc, i) for i in range(6)]
    svc.revoking.revoke(issuer_principal(svc), issued[2].number, reason="data_error")
    svc.registry.rotate_key(OPERATOR, ORG_CODE)
    first_head = svc.log.latest_head()
    clock.advance(hours=2)
    issued += [issue_person(svc, i) for i in range(6, 9)]
    svc.revoking.revoke(issuer_principal(svc), issued[7].number, reason="fraud")
    store = outsider_trust(svc)
    assert store.tree_head_signed is not None and first_head is not None
    report = audit(store, store.tree_head_signed, _entries(svc), since=[first_head.signed])
    assert report.findings == []
    assert (report.issued, report.revoked) == (9, 2) and report.key_events == 4  # 2 added, retired, added
