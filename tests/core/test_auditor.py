"""The auditor reports exactly what is wrong with a log: an altered certificate, a number
used twice, an entry removed, a history rewritten, revocations missing from status lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from issuer.core import auditor, cbor, cose, merkle, pki, transparency, trust
from issuer.core.auditor import audit
from issuer.core.credential import decode_payload
from issuer.core.errors import TrustError
from issuer.core.signing import Signer
from issuer.core.transparency import Entry, TreeHead
from tests import factories as f

LOGGED = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
REVOKED_SERIAL = 4


@dataclass
class Log:
    auth: f.Authority
    signer: Signer
    organization: trust.OrganizationEntry
    log_key: object
    log: trust.LogKey
    entries: list[bytes]

    def store(
        self,
        revoked: Sequence[int] = (),
        organization: trust.OrganizationEntry | None = None,
        *,
        status_list: bool = True,
    ) -> trust.TrustStore:
        tl = f.trust_list([organization or self.organization], logs=[self.log])
        lists = [f.status_list(self.signer, revoked, issued_at=LOGGED + timedelta(hours=1))] if status_list else []
        return f.store(self.auth, tl, lists)

    def head(self, entries: Sequence[bytes] | None = None) -> bytes:
        chosen = self.entries if entries is None else entries
        tree = merkle.MemoryTree(merkle.SHA256.leaf(e) for e in chosen)
        head = TreeHead(tree.size, tree.root(), LOGGED + timedelta(hours=2))
        return head.sign(self.log_key, self.log.kid).signed  # type: ignore[arg-type]


def credential(serial: int, **changes: object) -> object:
    number = f"{f.ORG_CODE}263{serial:06d}"
    fields: dict[str, object] = {"name": f"学员{serial}", **changes}
    return f.credential(number=number, status_index=1000 + serial, **fields)  # type: ignore[arg-type]


def issue(signer: Signer, cred: object) -> bytes:
    return transparency.issue_entry(signer.sign(cred), LOGGED).encode()  # type: ignore[arg-type]


def revoke(signer: Signer, serial: int) -> bytes:
    statement = transparency.revoke_statement(f"{f.ORG_CODE}263{serial:06d}", 1000 + serial, "data_error", LOGGED)
    return transparency.signed_entry("revoke", statement, signer.key, signer.kid, LOGGED).encode()


def key_added(auth: f.Authority, signer: Signer, event: str = "added") -> bytes:
    statement = transparency.key_statement(f.ORG_CODE, signer.kid, event, LOGGED)
    return transparency.signed_entry("key", statement, auth.key, pki.kid_of(auth.root_der), LOGGED).encode()


@pytest.fixture()
def log() -> Log:
    auth = f.authority()
    signer = f.org_signer(auth)
    key, log_key = f.log_key()
    entries = [key_added(auth, signer)] + [issue(signer, credential(s)) for s in range(1, 9)]
    entries.append(revoke(signer, REVOKED_SERIAL))
    return Log(auth, signer, f.organization([signer]), key, log_key, entries)


def codes(report: object) -> list[tuple[str, int | None]]:
    return [(x.code, x.index) for x in report.findings]  # type: ignore[attr-defined]


def run(log: Log, entries: Sequence[bytes] | None = None, **kwargs: object) -> object:
    chosen = log.entries if entries is None else entries
    store = kwargs.pop("store", None) or log.store([1000 + REVOKED_SERIAL])
    return audit(store, kwargs.pop("head", None) or log.head(chosen), enumerate(chosen), **kwargs)  # type: ignore[arg-type]


def test_a_sound_log_has_no_finding(log: Log) -> None:
    report = run(log)
    assert codes(report) == []
    assert (report.entries, report.issued, report.revoked, report.key_events) == (10, 8, 1, 1)  # type: ignore[attr-defined]


def test_one_altered_certificate_is_exactly_that_finding(log: Log) -> None:
    signed = bytearray(cose.parse(transparency.decode_entry(log.entries[3]).signed).payload)
    original = transparency.decode_entry(log.entries[3])
    message = cose.parse(original.signed)
    claims = decode_payload(message.payload)
    forged_payload = bytes(signed).replace("学员3".encode(), "学员9".encode())
    assert forged_payload != bytes(signed) and decode_payload(forged_payload).holder_name == "学员9"
    forged = cbor.cbor2.dumps(cbor.cbor2.CBORTag(18, [message.protected, {}, forged_payload, message.signature]))
    entries = list(log.entries)
    entries[3] = Entry("issue", forged, LOGGED).encode()
    report = run(log, entries)
    assert codes(report) == [("bad_signature", 3)]
    assert report.findings[0].number == str(claims.number)  # type: ignore[attr-defined]


def test_one_number_used_twice_is_exactly_that_finding(log: Log) -> None:
    twice = issue(log.signer, credential(5, name="冒名者"))
    report = run(log, [*log.entries, twice])
    assert codes(report) == [("duplicate_number", 10)]
    assert report.findings[0].number == f"{f.ORG_CODE}263000005"  # type: ignore[attr-defined]


def test_one_entry_removed_is_exactly_that_finding(log: Log) -> None:
    entries = [e for i, e in enumerate(log.entries) if i != 6]  # serial 6
    report = run(log, entries)
    assert codes(report) == [("serial_gap", None)]
    assert report.findings[0].number == f"{f.ORG_CODE}263000006"  # type: ignore[attr-defined]


def test_an_entry_changed_under_a_signed_head_breaks_the_root(log: Log) -> None:
    entries = list(log.entries)
    entries[2] = issue(log.signer, credential(2, work_type=None))  # validly signed, but not what was logged
    report = run(log, entries, head=log.head())
    assert codes(report) == [("log_root_mismatch", None)]


def test_a_head_seen_before_must_be_a_prefix(log: Log) -> None:
    earlier = log.head(log.entries[:5])
    assert codes(run(log, since=[earlier])) == []
    rewritten = [*log.entries[:2], issue(log.signer, credential(2, work_type=None)), *log.entries[3:]]
    report = run(log, rewritten, since=[earlier])
    assert codes(report) == [("log_not_append_only", None)]


def test_a_tree_head_not_signed_by_the_trust_lists_log_is_refused(log: Log) -> None:
    other_key, other = f.log_key("another log")
    tree = merkle.MemoryTree(merkle.SHA256.leaf(e) for e in log.entries)
    forged = TreeHead(tree.size, tree.root(), LOGGED).sign(other_key, other.kid).signed
    with pytest.raises(TrustError):
        run(log, head=forged)


def test_revocations_and_status_lists_must_agree(log: Log) -> None:
    report = run(log, store=log.store([]))
    assert codes(report) == [("revocation_not_in_status_list", 9)]
    report = run(log, store=log.store([1000 + REVOKED_SERIAL, 1000 + 7]))
    assert codes(report) == [("unlogged_revocation", None)]


def test_a_revocation_signed_by_another_organization_is_a_bad_signature(log: Log) -> None:
    stranger = f.org_signer(log.auth, code="S000044000002", name="广东某某职业技能培训中心", seed="other")
    entries = [*log.entries[:-1], revoke(stranger, REVOKED_SERIAL)]
    other_org = f.organization([stranger], code="S000044000002", name="广东某某职业技能培训中心")
    tl = f.trust_list([log.organization, other_org], logs=[log.log])
    store = f.store(log.auth, tl, [f.status_list(log.signer, [], issued_at=LOGGED)])
    assert codes(run(log, entries, store=store)) == [("bad_signature", 9)]


def test_a_certificate_outside_the_scope_is_invalid(log: Log) -> None:
    entries = [*log.entries, issue(log.signer, credential(9, occupation="4-04-05-05", work_type=None))]
    assert codes(run(log, entries)) == [("invalid_certificate", 10)]


def test_a_key_event_must_agree_with_the_trust_list(log: Log) -> None:
    entries = [*log.entries, key_added(log.auth, log.signer, "compromised")]
    assert codes(run(log, entries)) == [("key_event_mismatch", 10)]
    compromised = trust.KeyEntry(log.signer.certificate.der, "compromised", compromised_at=LOGGED)
    organization = replace(log.organization, keys=(compromised,))
    store = log.store(organization=organization, status_list=False)
    report = run(log, [*log.entries[:1], key_added(log.auth, log.signer, "compromised")], store=store)
    assert codes(report) == []


def test_credentials_signed_after_the_key_was_compromised_are_invalid(log: Log) -> None:
    compromised = trust.KeyEntry(
        log.signer.certificate.der, "compromised", compromised_at=datetime(2026, 11, 29, tzinfo=UTC)
    )
    organization = replace(log.organization, keys=(compromised,))
    earlier = issue(log.signer, credential(1, when=f.china("2026-11-27 10:00")))
    later = issue(log.signer, credential(2))
    report = run(log, [earlier, later], store=log.store(organization=organization, status_list=False))
    assert codes(report) == [("invalid_certificate", 1)]


def test_the_progress_callback_counts_every_entry(log: Log) -> None:
    seen: list[int] = []
    run(log, progress=seen.append)
    assert sum(seen) == len(log.entries)


def checkpoint(key: object, kid: bytes, events: int, head: bytes = bytes(32)) -> bytes:
    statement = transparency.audit_statement(events, head)
    return transparency.signed_entry("audit", statement, key, kid, LOGGED).encode()  # type: ignore[arg-type]


def test_audit_checkpoints_signed_by_the_log_are_kept_in_order(log: Log) -> None:
    entries = [
        *log.entries,
        checkpoint(log.log_key, log.log.kid, 1, b"\x01" * 32),
        checkpoint(log.log_key, log.log.kid, 3),
    ]
    report = run(log, entries)
    assert codes(report) == []
    assert [(i, c.events, c.head) for i, c in report.checkpoints] == [(10, 1, b"\x01" * 32), (11, 3, bytes(32))]  # type: ignore[attr-defined]
    assert report.to_json()["audit_checkpoints"] == 2  # type: ignore[attr-defined]


def test_an_audit_checkpoint_not_signed_by_the_log_is_a_bad_signature(log: Log) -> None:
    forged = checkpoint(log.signer.key, log.signer.kid, 1)
    report = run(log, [*log.entries, forged])
    assert codes(report) == [("bad_signature", 10)]
    assert report.checkpoints == []  # type: ignore[attr-defined]


def test_an_audit_checkpoint_counting_no_more_events_is_out_of_order(log: Log) -> None:
    entries = [*log.entries, checkpoint(log.log_key, log.log.kid, 2), checkpoint(log.log_key, log.log.kid, 2)]
    assert codes(run(log, entries)) == [("audit_checkpoint_out_of_order", 11)]


def test_two_worker_processes_report_what_one_process_reports(log: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of three, so that several are in flight; a log with one finding of each kind
    that certificates give (a forged signature, a number twice, one out of scope, garbage)."""
    monkeypatch.setattr(auditor, "_BATCH", 3)
    forged = bytearray(transparency.decode_entry(log.entries[3]).signed)
    forged[-1] ^= 1
    entries = [
        *log.entries,
        Entry("issue", bytes(forged), LOGGED).encode(),
        issue(log.signer, credential(5, name="冒名者")),
        issue(log.signer, credential(9, occupation="4-04-05-05", work_type=None)),
        b"\x00garbage",
        checkpoint(log.log_key, log.log.kid, 1),
    ]
    one, two = run(log, entries), run(log, entries, workers=2)
    assert codes(one) == [
        ("bad_signature", 10),
        ("duplicate_number", 11),
        ("invalid_certificate", 12),
        ("entry_unreadable", 13),
    ]
    assert one.to_json()["audit_checkpoints"] == 1  # type: ignore[attr-defined]
    assert two.to_json() == one.to_json()  # type: ignore[attr-defined]


def test_workers_stop_with_the_audit_at_the_tree_heads_size(log: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditor, "_BATCH", 2)
    head = log.head(log.entries[:5])
    one, two = run(log, head=head), run(log, head=head, workers=2)
    assert one.entries == 5  # type: ignore[attr-defined]
    assert two.to_json() == one.to_json()  # type: ignore[attr-defined]
