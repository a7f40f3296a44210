"""Issuance: atomic, gapless numbering under concurrency; nothing consumed on failure."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from issuer.core import identity
from issuer.core.errors import AssessmentError, Conflict, Forbidden, IdentityError, InvalidInput, NotFound
from issuer.render import Assets, TextDoesNotFit
from issuer.service import registry
from issuer.service.issuing import IssueRequest, Issuing, refuse_unless_it_verifies
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store import models as m
from issuer.store.records import CertificateRecord
from issuer.store.uow import UnitOfWork, UnitOfWorkFactory
from tests import factories as f
from tests.builders import ID_NUMBER, jpeg, serials
from tests.builders import issue_request as request
from tests.conftest import ELECTRICIAN, ORG_CODE, OTHER_CODE, Clock, Keys, auth, issuer_principal
from tests.factories import issue_body


class DroppedConnection(Exception):
    """The database went away between the last statement and COMMIT."""


def dropping_at_commit(units: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """Units of work that do everything but commit."""

    def make(**kwargs: bool) -> UnitOfWork:
        uow = units(**kwargs)

        def commit() -> None:
            raise DroppedConnection

        uow.commit = commit  # type: ignore[method-assign]
        return uow

    return make


def test_eight_concurrent_clients_get_distinct_gapless_serials(app: Flask, keys: Keys, svc: UseCases) -> None:
    """8 clients × 200 requests through HTTP; every 25th request is invalid and must
    consume no number. Appended to the log after their commits, they are still in serial
    order there: a series' counter stays locked until its certificate is committed."""
    per_client, clients = 200, 8
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client_run(index: int) -> None:
        client = app.test_client()
        start.wait()
        for i in range(per_client):
            serial = index * per_client + i
            bad = serial % 25 == 0
            person = "110105194912310021" if bad else f.id_number(serial)
            body = issue_body(document_number=person, holder_name=f"学员{index}")
            response = client.post("/api/v1/certificates", json=body, headers=auth(keys.issuer))
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=client_run, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    issued = statuses.count(201)
    assert issued + statuses.count(422) == per_client * clients
    assert statuses.count(422) == per_client * clients // 25
    assert serials(svc) == list(range(1, issued + 1))
    with svc.database.read_sessions() as session:
        logged = session.execute(select(m.Certificate.number, m.Certificate.log_index)).all()
    assert None not in {index for _, index in logged}  # each request appended what it committed
    assert [number for number, _ in sorted(logged, key=lambda row: row[1])] == sorted(n for n, _ in logged)


def test_a_rolled_back_issuance_consumes_no_number(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    dropping = replace(svc.ctx, units=dropping_at_commit(svc.ctx.units))
    with pytest.raises(DroppedConnection):
        Issuing(dropping, svc.sequencer, svc.publishing, svc.revoking).issue(principal, request())
    record, _ = svc.issuing.issue(principal, request())
    assert record.number == f"{ORG_CODE}263000001"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"document_number": "110105194912310021"}, IdentityError),
        ({"scores": {"theory": Decimal(59), "practical": Decimal(90)}}, AssessmentError),
        ({"level": 2, "scores": {"theory": Decimal(80), "practical": Decimal(80)}}, AssessmentError),
        ({"occupation": "4-04-05-05"}, Forbidden),
        (
            {
                "occupation": "6-18-02-04",
                "work_type": "电焊工",
                "level": 2,
                "scores": {"theory": Decimal(80), "practical": Decimal(80), "review": Decimal(80)},
            },
            Forbidden,
        ),
        ({"occupation": "6-18-02-04", "work_type": "钎焊工"}, Forbidden),
    ],
    ids=["id-checksum", "failed-theory", "missing-review", "out-of-scope", "level-out-of-scope", "work-type"],
)
def test_invalid_requests_consume_nothing(
    app: Flask, keys: Keys, svc: UseCases, overrides: dict[str, Any], error: type[Exception]
) -> None:
    principal = issuer_principal(svc)
    with pytest.raises(error):
        svc.issuing.issue(principal, request(**overrides))
    body, _ = svc.issuing.issue(principal, request())
    assert body.number.endswith("000001")


@pytest.mark.parametrize(
    ("moment", "year", "issue_date"),
    [
        (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), "26", date(2026, 12, 31)),
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "27", date(2027, 1, 1)),
    ],
)
def test_the_year_is_that_of_the_issue_date_in_china(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, moment: datetime, year: str, issue_date: date
) -> None:
    clock.now = moment
    body, _ = svc.issuing.issue(issuer_principal(svc), request())
    assert body.number[13:15] == year
    with svc.database.read_sessions() as session:
        assert session.scalars(select(m.Certificate.issue_date)).one() == issue_date


def test_serials_count_per_year_and_level(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    n3 = [svc.issuing.issue(principal, request(document_number=f.id_number(n)))[0].number for n in range(2)]
    n4 = svc.issuing.issue(principal, request(level=4))[0].number
    assert [n[-7:] for n in n3] == ["3000001", "3000002"]
    assert n4[-7:] == "4000001"


def test_an_exhausted_serial_range_is_a_clear_error_and_stores_nothing(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    svc.issuing.issue(principal, request())
    with svc.database.sessions.begin() as session:
        session.execute(update(m.SerialCounter).values(last_serial=999_999))
    with pytest.raises(Conflict) as failure:
        svc.issuing.issue(principal, request(document_number=f.id_number(2)))
    assert failure.value.code == "serials_exhausted"
    assert serials(svc) == [1]
    with svc.database.read_sessions() as session:
        assert session.scalars(select(m.SerialCounter.last_serial)).one() == 999_999


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    first, replayed_first = svc.issuing.issue(principal, request(), idempotency_key="exam-2026-11-0001")
    again, replayed = svc.issuing.issue(principal, request(), idempotency_key="exam-2026-11-0001")
    assert first == again and replayed_first is False
    assert replayed is True
    assert serials(svc) == [1]
    with pytest.raises(Conflict):
        svc.issuing.issue(principal, request(holder_name="李四"), idempotency_key="exam-2026-11-0001")


def test_concurrent_retries_with_one_idempotency_key_issue_once(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    results: list[dict[str, Any]] = []
    start = threading.Barrier(6)

    def retry() -> None:
        start.wait()
        results.append(svc.issuing.issue(principal, request(), idempotency_key="same")[0])

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and len({r.number for r in results}) == 1
    assert serials(svc) == [1]


def test_a_suspended_organization_cannot_issue(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="年检未通过")
    clock.advance(seconds=1)  # a change made now takes effect at the next whole second
    with pytest.raises(Forbidden) as failure:
        svc.issuing.issue(issuer_principal(svc), request())
    assert failure.value.code == "organization_suspended"


def test_document_numbers_are_encrypted_at_rest(app: Flask, keys: Keys, svc: UseCases) -> None:
    svc.issuing.issue(issuer_principal(svc), request())
    with svc.database.read_sessions() as session:
        record = session.scalars(select(m.Certificate)).one()
    assert ID_NUMBER.encode() not in record.document_number_encrypted
    assert ID_NUMBER not in record.document_number_hmac
    assert record.document_number_masked == "1101**********002X"
    assert svc.ctx.cipher.decrypt(record.document_number_encrypted, context=record.number.encode()) == ID_NUMBER


def test_a_name_the_certificate_cannot_print_is_refused_before_numbering(app: Flask, keys: Keys, svc: UseCases) -> None:
    from issuer.render import MissingGlyph

    principal = issuer_principal(svc)
    with pytest.raises(MissingGlyph) as failure:
        svc.issuing.issue(principal, request(holder_name="张\U0002a6d6"))
    assert failure.value.errors["code_point"] == "U+2A6D6"
    body, _ = svc.issuing.issue(principal, request())
    assert body.number.endswith("000001")


def test_the_answer_to_an_issue_is_the_certificate_as_stored(app: Flask, keys: Keys, svc: UseCases) -> None:
    answered, replayed = svc.issuing.issue(
        issuer_principal(svc),
        request(scores={"theory": Decimal("82.5"), "practical": Decimal(75)}, work_type=None, photo=jpeg()),
    )
    with svc.ctx.reading() as uow:
        stored = uow.certificates.get(answered.number)
    assert not replayed
    assert answered == stored
    assert [str(s) for s in (answered.score_theory, answered.score_practical)] == ["82.50", "75.00"]


def test_a_layout_changed_since_the_last_issue_is_checked_in_the_issuing_transaction(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    """A name 49 characters long fits the landscape layout, not the portrait one: once the
    organization moves to portrait, it is refused, although this process last saw landscape."""
    principal, name = issuer_principal(svc), "张" * 49
    svc.registry.set_appearance(OPERATOR, ORG_CODE, layout="landscape", assets=Assets())
    svc.issuing.issue(principal, request(holder_name=name))
    svc.registry.set_appearance(OPERATOR, ORG_CODE, layout="portrait", assets=Assets())
    with pytest.raises(TextDoesNotFit):
        svc.issuing.issue(principal, request(holder_name=name, document_number=f.id_number(2)))
    assert serials(svc) == [1]


# --- issuing is judged now, and on the date the certificate states -------------------------------


def _try(svc: UseCases, clock: Clock, stated: str | None, person: int = 1, **overrides: Any) -> str:
    """Issue with ``issue_date`` ``stated``: the number, or the refusal's code."""
    day = date.fromisoformat(stated) if stated else None
    try:
        body, _ = svc.issuing.issue(
            issuer_principal(svc), request(document_number=f.id_number(person), issue_date=day, **overrides)
        )
    except (Forbidden, InvalidInput, Conflict) as refused:
        return refused.code
    return str(body.number)


def test_a_stated_date_may_lie_up_to_30_days_back_never_ahead(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.now = f.china("2026-11-29 10:00")
    assert _try(svc, clock, "2026-10-30", person=1).startswith(ORG_CODE)
    assert _try(svc, clock, "2026-10-29", person=2) == "issue_date_too_old"
    assert _try(svc, clock, "2026-11-30", person=3) == "future_issue_date"


def test_a_back_dated_certificate_carries_the_last_second_of_its_day(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.now = f.china("2026-11-29 10:00")
    number = _try(svc, clock, "2026-11-20")
    with svc.database.read_sessions() as session:
        record = session.scalars(select(m.Certificate).where(m.Certificate.number == number)).one()
    assert record.issue_date == date(2026, 11, 20) and record.issued_at == f.china("2026-11-20 23:59:59")


def test_a_suspended_organization_cannot_back_date_to_when_it_was_active(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.now = f.china("2026-11-29 10:00")
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="")
    clock.advance(seconds=1)
    assert _try(svc, clock, "2026-11-25") == "organization_suspended"


def test_a_resumed_organization_cannot_back_date_into_its_suspension(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.now = f.china("2026-11-20 10:00")
    svc.registry.change_status(OPERATOR, ORG_CODE, "suspended", since=None, note="")
    clock.now = f.china("2026-11-27 10:00")
    svc.registry.change_status(OPERATOR, ORG_CODE, "active", since=None, note="")
    clock.now = f.china("2026-11-29 10:00")
    assert _try(svc, clock, "2026-11-25", person=1) == "organization_suspended"
    assert _try(svc, clock, "2026-11-28", person=2).startswith(ORG_CODE)
    assert _try(svc, clock, "2026-11-19", person=3).startswith(ORG_CODE)


def test_an_expired_registration_cannot_back_date_to_when_it_ran(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    from tests.conftest import register

    clock.now = f.china("2026-11-20 10:00")
    register(svc, "S000037000004", "山东某某技工学校", until=date(2026, 11, 25))
    principal = issuer_principal(svc, "S000037000004")
    clock.now = f.china("2026-11-29 10:00")
    with pytest.raises(Forbidden) as refused:
        svc.issuing.issue(principal, request(issue_date=date(2026, 11, 24)))
    assert refused.value.code == "not_registered"


def test_an_occupation_taken_out_of_scope_cannot_be_back_dated_to_before_the_change(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.now = f.china("2026-11-27 10:00")
    svc.registry.set_scope(OPERATOR, ORG_CODE, [registry.ScopeItem("6-18-02-04", (5, 4, 3))], effective=None)
    clock.now = f.china("2026-11-29 10:00")
    assert _try(svc, clock, "2026-11-20") == "out_of_scope"


def test_nothing_is_dated_before_the_registration_or_the_signing_certificate(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.now = f.china("2026-11-29 10:00")
    svc.registry.rotate_key(OPERATOR, ORG_CODE)
    clock.advance(seconds=1)
    assert _try(svc, clock, "2026-11-28", person=1) == "certificate_not_valid_then"  # the new key starts today
    assert _try(svc, clock, None, person=2).startswith(ORG_CODE)
    clock.now = f.china("2026-11-29 10:00")
    svc.registry.register(
        OPERATOR,
        registry.Registration(
            "S",
            "0000",
            "37",
            "000006",
            "山东某某培训学校",
            (registry.ScopeItem(ELECTRICIAN, (5, 4, 3)),),
            date(2026, 11, 27),
            None,
        ),
    )
    newcomer = issuer_principal(svc, "S000037000006")
    with pytest.raises(Forbidden) as refused:
        svc.issuing.issue(newcomer, request(issue_date=date(2026, 11, 26)))
    assert refused.value.code == "not_registered"


# --- one person, one certificate per occupation × 工种 × level; re-issue ------------------------


def test_the_same_person_twice_is_refused_with_the_existing_number(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    first, _ = svc.issuing.issue(principal, request())
    with pytest.raises(Conflict) as refused:
        svc.issuing.issue(principal, request(holder_name="张三"))
    assert refused.value.code == "already_certified" and refused.value.errors == {"number": first.number}
    other_level, _ = svc.issuing.issue(principal, request(level=4))
    welder = {"occupation": "6-18-02-04", "level": 3}
    svc.issuing.issue(principal, request(work_type="电焊工", **welder))
    svc.issuing.issue(principal, request(work_type="气焊工", **welder))  # another 工种
    assert other_level.number != first.number


def test_a_revoked_certificate_does_not_count(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    first, _ = svc.issuing.issue(principal, request())
    svc.revoking.revoke(principal, first.number, reason="issued_in_error")
    again, _ = svc.issuing.issue(principal, request())
    assert again.number != first.number


def test_concurrent_requests_for_one_person_issue_once(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        try:
            outcomes.append(svc.issuing.issue(principal, request())[0].number)
        except Conflict as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [f"{ORG_CODE}263000001"] + ["already_certified"] * 3


def test_re_issue_revokes_the_old_certificate_and_links_both_in_one_transaction(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    principal = issuer_principal(svc)
    old, _ = svc.issuing.issue(principal, request(holder_name="张三风"))  # a typo
    clock.advance(minutes=5)
    new, _ = svc.issuing.issue(principal, request(replaces=old.number))
    with svc.database.read_sessions() as session:
        rows = {c.number: c for c in session.scalars(select(m.Certificate))}
    assert rows[old.number].revocation_reason == "reissued" and rows[old.number].revoked_at is not None
    assert rows[old.number].replaced_by == new.number and rows[new.number].replaces == old.number
    assert rows[new.number].holder_name == "张三丰"
    with pytest.raises(Conflict) as again:  # a retry without an Idempotency-Key
        svc.issuing.issue(principal, request(replaces=old.number))
    assert again.value.code == "already_reissued" and again.value.errors == {"number": new.number}


def test_a_failed_re_issue_leaves_the_old_certificate_as_it_was(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    old, _ = svc.issuing.issue(principal, request())
    with pytest.raises(AssessmentError):
        svc.issuing.issue(principal, request(replaces=old.number, scores={"theory": Decimal(50)}))
    with pytest.raises(Forbidden):
        svc.issuing.issue(principal, request(replaces=old.number, occupation="4-04-05-05"))
    with svc.database.read_sessions() as session:
        record = session.scalars(select(m.Certificate)).one()
    assert record.revoked_at is None and record.replaced_by is None


def test_only_the_organizations_own_certificates_can_be_re_issued(app: Flask, keys: Keys, svc: UseCases) -> None:
    theirs, _ = svc.issuing.issue(issuer_principal(svc, OTHER_CODE), request())
    with pytest.raises(NotFound):
        svc.issuing.issue(issuer_principal(svc), request(replaces=theirs.number))


def test_nothing_is_stored_that_the_offline_verifier_would_refuse() -> None:
    """The last check before a credential is stored: the verifier's own, on the signed bytes."""
    world = f.world()
    refuse_unless_it_verifies(world.store, world.signer.sign(f.credential()), f.NOW)
    stranger = f.org_signer(world.authority, seed="not-in-the-trust-list")
    with pytest.raises(Forbidden) as refused:
        refuse_unless_it_verifies(world.store, stranger.sign(f.credential()), f.NOW)
    assert refused.value.code == "unknown_key" and "无法通过验证" in refused.value.message_zh


def test_data_too_long_for_a_readable_qr_code_is_refused_before_numbering(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    """Every accepted credential prints on every layout with modules of at least 0.6 mm."""
    from issuer.render import QrTooLarge
    from issuer.render.samples import LONG_NAME, LONG_WORK_TYPE

    principal = issuer_principal(svc)
    with pytest.raises(QrTooLarge) as refused:
        svc.issuing.issue(principal, request(holder_name=LONG_NAME, work_type="长" * 64))
    assert refused.value.code == "qr_too_large" and "汉字" in refused.value.message_zh
    assert serials(svc) == []
    longest, _ = svc.issuing.issue(principal, request(holder_name=LONG_NAME, work_type=LONG_WORK_TYPE))
    assert longest.number.endswith("000001")


class FirstCommitHeld:
    """Units of work whose first writing commit waits until ``release`` is set; ``commits``
    counts the writing commits."""

    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units
        self.waiting, self.release = threading.Event(), threading.Event()
        self.commits = 0

    def __call__(self, **kwargs: bool) -> UnitOfWork:
        uow = self._units(**kwargs)
        if kwargs.get("reading"):
            return uow
        commit = uow.commit

        def held_commit() -> None:
            if not self.waiting.is_set():
                self.waiting.set()
                assert self.release.wait(10)
            self.commits += 1
            commit()

        uow.commit = held_commit  # type: ignore[method-assign]
        return uow


def _issue_while_one_commits(
    svc: UseCases, people: list[int] | list[IssueRequest], *, keyed: bool = False
) -> tuple[FirstCommitHeld, list[object]]:
    """Issue for ``people[0]`` and hold its commit; meanwhile the others come, one thread
    each; then let it commit. Returns the units and each request's record or error."""
    units = FirstCommitHeld(svc.ctx.units)
    issuing = Issuing(replace(svc.ctx, units=units), svc.sequencer, svc.publishing, svc.revoking)
    principal = issuer_principal(svc)
    outcomes: list[object] = [None] * len(people)

    def issue(position: int) -> None:
        try:
            given = people[position]
            person = given if isinstance(given, IssueRequest) else request(document_number=f.id_number(given))
            key = f"key-{position}" if keyed else None
            outcomes[position] = issuing.issue(principal, person, idempotency_key=key)[0]
        except Exception as exc:
            outcomes[position] = exc

    first = threading.Thread(target=issue, args=(0,))
    first.start()
    assert units.waiting.wait(10)
    others = [threading.Thread(target=issue, args=(p,)) for p in range(1, len(people))]
    for thread in others:
        thread.start()
    while len(issuing._together._queues.get(principal, [])) < len(people) - 1:  # all queued behind the first
        time.sleep(0.001)
    units.release.set()
    for thread in [first, *others]:
        thread.join(30)
    return units, outcomes


def test_requests_that_come_while_one_commits_are_issued_together_each_its_own(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    units, outcomes = _issue_while_one_commits(svc, [0, 1, 2, 3, 4])
    assert units.commits == 2  # the first, then the four that came meanwhile in one transaction
    records = [o for o in outcomes if isinstance(o, CertificateRecord)]
    assert len(records) == 5 and serials(svc) == [1, 2, 3, 4, 5]
    with svc.ctx.reading() as uow:
        for person, record in enumerate(records):
            stored = uow.certificates.get(record.number)
            assert stored is not None and stored.document_number_masked == record.document_number_masked
            assert record.document_number_masked == identity.mask(f.id_number(person))
            assert record.log_index == stored.log_index is not None


def test_a_group_that_cannot_be_issued_whole_is_issued_one_by_one(app: Flask, keys: Keys, svc: UseCases) -> None:
    """Two requests for the same person in one group: the group fails, and alone each of
    the others is issued and the second of the pair is refused as certified already."""
    units, outcomes = _issue_while_one_commits(svc, [0, 1, 2, 2, 3])
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == 1 and refused[0].code == "already_certified"
    assert sum(isinstance(o, CertificateRecord) for o in outcomes) == 4
    assert serials(svc) == [1, 2, 3, 4]  # the failed group's numbers were rolled back
    assert units.commits == 1 + 3  # the first; none for the group; three alone (the refused one commits nothing)


def test_the_answers_of_a_group_are_kept_for_their_idempotency_keys(app: Flask, keys: Keys, svc: UseCases) -> None:
    units, outcomes = _issue_while_one_commits(svc, [0, 1, 2], keyed=True)
    assert units.commits == 2
    principal = issuer_principal(svc)
    for position, outcome in enumerate(outcomes):
        assert isinstance(outcome, CertificateRecord)
        retried = request(document_number=f.id_number(position))
        again, replayed = svc.issuing.issue(principal, retried, idempotency_key=f"key-{position}")
        assert replayed and again.number == outcome.number
    assert serials(svc) == [1, 2, 3]


def test_reissues_of_one_certificate_that_come_together_reissue_it_once(app: Flask, keys: Keys, svc: UseCases) -> None:
    old, _ = svc.issuing.issue(issuer_principal(svc), request(document_number=f.id_number(9)))
    corrections = [  # three corrections of its level: three qualifications, so no index stops the second
        request(document_number=f.id_number(9), level=level, replaces=old.number) for level in (3, 4, 5)
    ]
    _, outcomes = _issue_while_one_commits(svc, [request(document_number=f.id_number(0)), *corrections])
    reissued = [o for o in outcomes[1:] if isinstance(o, CertificateRecord)]
    refused = [o for o in outcomes[1:] if isinstance(o, Conflict)]
    assert len(reissued) == 1 and [e.code for e in refused] == ["already_reissued", "already_reissued"]
    with svc.ctx.reading() as uow:
        stored = uow.certificates.get(old.number)
    assert stored is not None and stored.replaced_by == reissued[0].number
