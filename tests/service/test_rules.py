"""The service's rules on in-memory fakes (``fakes.py``): no database, no key files, a clock
that moves only when told. Each test reads as one rule; together they run in well under a
second. The same rules against the real store run in the other modules here."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from issuer.core import cose, trust
from issuer.core.errors import Conflict, Forbidden, NotFound
from issuer.core.statuslist import parse_payload
from issuer.core.verify import Status, verify
from issuer.service.certificates import Certificates
from issuer.service.context import Context
from issuer.service.issuing import Issuing
from issuer.service.log import TransparencyLog
from issuer.service.principal import OPERATOR, Principal, Role
from issuer.service.publishing import REFRESH, Publishing
from issuer.service.registry import Registration, Registry, ScopeItem
from issuer.service.revoking import Revoking
from issuer.service.sequencer import Sequencer
from issuer.store.uow import Contention, UnitOfWork
from tests.builders import ELECTRICIAN, WELDER, id17s, qr_of
from tests.builders import issue_request as request
from tests.service import fakes

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
CODE = "Y000123000001"


@dataclass
class Service:
    """The use cases over one fake store."""

    ctx: Context
    store: fakes.FakeStore
    clock: fakes.SettableClock
    registry: Registry
    issuing: Issuing
    revoking: Revoking
    publishing: Publishing
    certificates: Certificates

    def issuer(self, code: str = CODE) -> Principal:
        org = self.registry.read(OPERATOR, code)
        return Principal(Role.ORG_ISSUER, "clerk", org.id, org.code)

    def trust_store(self) -> trust.TrustStore:
        return self.publishing.parts().store()


def service(ctx: Context, store: fakes.FakeStore, clock: fakes.SettableClock) -> Service:
    log = TransparencyLog(ctx)
    publishing = Publishing(ctx, log)
    revoking = Revoking(ctx, log, publishing)
    return Service(
        ctx,
        store,
        clock,
        Registry(ctx, log, publishing),
        Issuing(ctx, Sequencer(log, delay=0), publishing, revoking),
        revoking,
        publishing,
        Certificates(ctx),
    )


@pytest.fixture()
def svc() -> Service:
    found = service(*fakes.context(NOW))
    found.registry.register(
        OPERATOR,
        Registration(
            "Y",
            "0001",
            "23",
            "000001",
            "黑龙江某某电力股份有限公司",
            (ScopeItem(ELECTRICIAN, (5, 4, 3, 2, 1)), ScopeItem(WELDER, (5, 4, 3), ("电焊工",))),
            date(2025, 1, 1),
            date(2030, 12, 31),
        ),
    )
    return found


def person(i: int) -> str:
    from issuer.core.identity import check_character

    first17 = id17s(1, start=i)[0]
    return first17 + check_character(first17)


def test_serials_run_on_per_year_and_level(svc: Service) -> None:
    numbers = [svc.issuing.issue(svc.issuer(), request(document_number=person(i)))[0].number for i in range(3)]
    fourth = svc.issuing.issue(svc.issuer(), request(document_number=person(9), level=4))[0].number
    assert [n[-7:] for n in numbers] == ["3000001", "3000002", "3000003"]
    assert fourth[-7:] == "4000001" and fourth[13:15] == "26"


def test_a_refused_issue_changes_nothing(svc: Service) -> None:
    before, commits = copy.deepcopy(svc.store.state), svc.store.commits
    with pytest.raises(Forbidden) as refused:
        svc.issuing.issue(svc.issuer(), request(occupation="4-04-05-05"))
    assert refused.value.code == "out_of_scope"
    assert svc.store.commits == commits and svc.store.state.counters == before.counters
    assert svc.store.state.log_entries == before.log_entries


def test_serials_past_999999_are_refused_and_none_is_taken(svc: Service) -> None:
    svc.store.state.counters[(CODE, 26, 3)] = 999_999
    with pytest.raises(Conflict) as refused:
        svc.issuing.issue(svc.issuer(), request())
    assert refused.value.code == "serials_exhausted" and svc.store.state.counters[(CODE, 26, 3)] == 999_999


def test_one_live_certificate_per_qualification_and_a_re_issue_replaces_it(svc: Service) -> None:
    first, _ = svc.issuing.issue(svc.issuer(), request(holder_name="张三风"))
    with pytest.raises(Conflict) as twice:
        svc.issuing.issue(svc.issuer(), request())
    assert twice.value.code == "already_certified" and twice.value.errors == {"number": first.number}
    new, _ = svc.issuing.issue(svc.issuer(), request(replaces=first.number))
    old = svc.certificates.by_number(first.number)
    assert old is not None and (old.revocation_reason, old.replaced_by) == ("reissued", new.number)
    assert new.replaces == first.number and new.holder_name == "张三丰"


def test_a_suspended_organization_issues_nothing_from_the_next_second(svc: Service) -> None:
    issued, _ = svc.issuing.issue(svc.issuer(), request())
    svc.registry.change_status(OPERATOR, CODE, "suspended", since=None, note="整改")
    svc.clock.advance(seconds=1)
    with pytest.raises(Forbidden) as refused:
        svc.issuing.issue(svc.issuer(), request(document_number=person(1)))
    assert refused.value.code == "organization_suspended"
    assert verify(qr_of(svc, issued), svc.trust_store(), at=svc.clock.now).status is Status.VALID  # type: ignore[arg-type]


def test_a_revocation_is_on_the_next_status_list_and_in_the_log(svc: Service) -> None:
    issued, _ = svc.issuing.issue(svc.issuer(), request())
    size = len(svc.store.state.log_entries)
    svc.revoking.revoke(svc.issuer(), issued.number, reason="fraud")
    listed = svc.trust_store().status_list(CODE)
    assert listed is not None and listed.revoked(issued.status_index)
    added = [svc.store.state.log_entries[i][0] for i in range(size, len(svc.store.state.log_entries))]
    assert added == ["revoke", "audit"]  # the revocation, then the checkpoint of its audit event
    with pytest.raises(Conflict):
        svc.revoking.revoke(svc.issuer(), issued.number, reason="fraud")


def test_another_organizations_certificate_is_not_found(svc: Service) -> None:
    issued, _ = svc.issuing.issue(svc.issuer(), request())
    stranger = Principal(Role.ORG_ISSUER, "other", 999, "S000044000002")
    with pytest.raises(NotFound):
        svc.revoking.revoke(stranger, issued.number, reason="fraud")


def test_every_registry_change_publishes_the_next_trust_list(svc: Service) -> None:
    first = svc.publishing.latest_sequence()
    svc.registry.set_scope(OPERATOR, CODE, [ScopeItem(ELECTRICIAN, (5, 4, 3))], effective=None)
    svc.registry.rotate_key(OPERATOR, CODE)
    assert svc.publishing.latest_sequence() == first + 2


def test_reads_write_nothing(svc: Service) -> None:
    issued, _ = svc.issuing.issue(svc.issuer(), request())
    svc.clock.advance(days=3)  # every list is old: a read that refreshed would sign it now
    before, commits = copy.deepcopy(svc.store.state), svc.store.commits
    svc.publishing.bundle()
    svc.publishing.status_list(CODE)
    svc.registry.read(OPERATOR, CODE)
    svc.certificates.get(svc.issuer(), issued.number)
    svc.certificates.statistics(OPERATOR)
    assert svc.store.commits == commits and svc.store.state.status_lists == before.status_lists


def test_the_refresh_signs_only_lists_a_day_old(svc: Service) -> None:
    signed = svc.publishing.status_list(CODE)
    svc.clock.advance(seconds=REFRESH.total_seconds() - 1)
    assert svc.publishing.refresh() == []
    svc.clock.advance(seconds=1)
    assert svc.publishing.refresh() == [CODE]
    again = parse_payload(cose.parse(svc.publishing.status_list(CODE)).payload)
    assert again.issued_at > parse_payload(cose.parse(signed).payload).issued_at


def test_a_retry_with_the_same_key_replays_and_another_request_under_it_is_refused(svc: Service) -> None:
    first, replayed_first = svc.issuing.issue(svc.issuer(), request(), idempotency_key="exam-1")
    again, replayed = svc.issuing.issue(svc.issuer(), request(), idempotency_key="exam-1")
    assert (again.number, replayed_first, replayed) == (first.number, False, True)
    with pytest.raises(Conflict) as reused:
        svc.issuing.issue(svc.issuer(), request(holder_name="李四"), idempotency_key="exam-1")
    assert reused.value.code == "idempotency_key_reused"


def test_a_transaction_that_lost_a_race_runs_again() -> None:
    ctx, store, _ = fakes.context(NOW)
    losses = iter([True, True, False])

    def racing(**kwargs: bool) -> UnitOfWork:
        uow = store(**kwargs)
        if kwargs.get("reading") or not next(losses):
            return uow
        commit = uow.commit

        def lose() -> None:
            commit()
            raise Contention("a concurrent transaction took the same audit chain head")

        uow.commit = lose  # type: ignore[method-assign]
        return uow

    from issuer.service.apikeys import ApiKeys

    racing_ctx = replace(ctx, units=racing)
    keys = ApiKeys(racing_ctx, TransparencyLog(racing_ctx))
    created = keys.create(OPERATOR, role="auditor", name="审计")
    assert created.secret.startswith("isk_") and store.commits == 3
