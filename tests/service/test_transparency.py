"""The service's transparency log and status lists, checked as an outsider would: with the
downloaded trust bundle, the core verifier and the core auditor only."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from issuer.cli import main
from issuer.core import merkle, statuslist, transparency, trust
from issuer.core.auditor import audit
from issuer.core.verify import Status, verify
from issuer.service import issuance, registry
from issuer.service import transparency as log
from issuer.service.context import Services
from issuer.service.principal import OPERATOR
from issuer.store import models as m
from tests.conftest import ORG_CODE, Clock, Keys, issuer_principal
from tests.service.test_issuance import request
from tests.service.test_roster import resident_id


def _issue(svc: Services, i: int) -> issuance.Issued:
    body, _ = issuance.issue(
        svc,
        issuer_principal(svc),
        request(holder_name=f"学员{i}", document_number=resident_id(i)),
        render=lambda issued: {"number": issued.record.number, "qr_text": issued.qr_text},
    )
    return body  # type: ignore[return-value]


def _bundle(svc: Services) -> trust.TrustStore:
    _, bundle = registry.trust_bundle(svc)
    return trust.load_bundle(json.dumps(bundle))


def _entries(svc: Services) -> list[tuple[int, bytes]]:
    head = log.latest_head(svc)
    assert head is not None
    return log.entries(svc, 0, head.tree_size)


def test_every_issuance_revocation_and_key_event_is_logged_under_a_signed_head(
    app: Flask, keys: Keys, svc: Services
) -> None:
    issued = [_issue(svc, i) for i in range(3)]
    issuance.revoke(svc, issuer_principal(svc), issued[1]["number"], reason="fraud")  # type: ignore[index]
    store = _bundle(svc)
    assert store.tree_head_signed is not None
    head = transparency.open_tree_head(store.tree_head_signed, store)
    entries = _entries(svc)
    types = [transparency.decode_entry(data).type for _, data in entries]
    assert types == ["key", "key", "issue", "issue", "issue", "revoke"]  # two organizations registered first
    assert head.tree_size == 6
    assert merkle.MemoryTree(merkle.leaf_hash(d) for _, d in entries).root() == head.root_hash
    with svc.db.reading() as session:
        logged = dict(session.execute(select(m.Certificate.number, m.Certificate.log_index)).all())
    assert [logged[c["number"]] for c in issued] == [2, 3, 4]  # type: ignore[index]
    for number, index in logged.items():
        proof = log.inclusion(svc, leaf_index=None, number=number, tree_size=None)
        merkle.verify_inclusion(proof.leaf_hash, index, head.tree_size, proof.proof, head.root_hash)


def _verify_offline(bundle: dict[str, object], qr_text: str, at: str, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", qr_text, "--trust", str(path), "--at", at])
    return result.exit_code, result.output


def test_a_revoked_certificate_fails_offline_with_a_fresh_bundle_and_is_unknown_with_a_stale_one(
    app: Flask, keys: Keys, svc: Services, clock: Clock, tmp_path: Path
) -> None:
    cert = _issue(svc, 1)
    _, before = registry.trust_bundle(svc)
    clock.advance(hours=1)
    issuance.revoke(svc, issuer_principal(svc), cert["number"], reason="fraud")  # type: ignore[index]
    _, after = registry.trust_bundle(svc)
    now = clock.now.isoformat()

    code, output = _verify_offline(after, cert["qr_text"], now, tmp_path)  # type: ignore[index]
    assert code == 1 and "已撤销" in output and "REVOKED" in output

    # The bundle fetched before the revocation cannot know it, and says so once it is stale.
    late = (clock.now + statuslist.DEFAULT_MAX_AGE).isoformat()
    code, output = _verify_offline(before, cert["qr_text"], late, tmp_path)  # type: ignore[index]
    assert code == 2 and "status unknown since" in output and "撤销状态未知" in output
    code, _ = _verify_offline(before, cert["qr_text"], now, tmp_path)  # type: ignore[index]
    assert code == 0, "within its maximum age an older list still speaks, as documented"


def test_status_lists_are_signed_again_when_read_after_a_day(
    app: Flask, keys: Keys, svc: Services, clock: Clock
) -> None:
    first = _bundle(svc).status_list(ORG_CODE)
    clock.advance(hours=25)
    again = _bundle(svc).status_list(ORG_CODE)
    assert first is not None and again is not None and again.issued_at - first.issued_at >= timedelta(hours=25)
    assert again.fresh_at(clock.now + statuslist.DEFAULT_MAX_AGE - timedelta(hours=1))


def test_a_compromised_key_fails_what_it_signed_from_then_and_the_log_and_trust_list_show_it(
    app: Flask, keys: Keys, svc: Services, clock: Clock
) -> None:
    before = _issue(svc, 1)
    clock.advance(days=1)
    after = _issue(svc, 2)
    org = registry.read_organization(svc, OPERATOR, ORG_CODE)
    kid = next(k.kid for k in org.keys if k.status == "active")
    registry.compromise_key(svc, OPERATOR, ORG_CODE, kid, compromised_at=clock.now - timedelta(hours=1))
    replacement = _issue(svc, 3)
    store = _bundle(svc)
    at = clock.now
    assert verify(before["qr_text"], store, at=at).status is Status.VALID  # type: ignore[index]
    assert verify(after["qr_text"], store, at=at).failed_check == "key_status"  # type: ignore[index]
    assert verify(replacement["qr_text"], store, at=at).status is Status.VALID  # type: ignore[index]

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
    assert [(f.code, f.number) for f in report.findings] == [("invalid_certificate", after["number"])]  # type: ignore[index]


def test_the_audit_of_a_busy_log_is_clean(app: Flask, keys: Keys, svc: Services, clock: Clock) -> None:
    issued = [_issue(svc, i) for i in range(6)]
    issuance.revoke(svc, issuer_principal(svc), issued[2]["number"], reason="data_error")  # type: ignore[index]
    registry.rotate_key(svc, OPERATOR, ORG_CODE)
    first_head = log.latest_head(svc)
    clock.advance(hours=2)
    issued += [_issue(svc, i) for i in range(6, 9)]
    issuance.revoke(svc, issuer_principal(svc), issued[7]["number"], reason="fraud")  # type: ignore[index]
    store = _bundle(svc)
    assert store.tree_head_signed is not None and first_head is not None
    report = audit(store, store.tree_head_signed, _entries(svc), since=[first_head.signed])
    assert report.findings == []
    assert (report.issued, report.revoked) == (9, 2) and report.key_events == 4  # 2 added, retired, added
