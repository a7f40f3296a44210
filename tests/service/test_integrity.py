"""A certificate row checked against its signed data (``service/integrity.py``), on the
in-memory fakes: every signed field compared, revocation read from the signed status list,
the signed list winning over the row when it says revoked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from issuer.service.integrity import CheckedRecord, RecordCheck
from issuer.service.issuing import Issuing
from issuer.service.log import TransparencyLog
from issuer.service.principal import OPERATOR, Principal, Role
from issuer.service.publishing import Publishing
from issuer.service.registry import Registration, Registry, ScopeItem
from issuer.service.revoking import Revoking
from issuer.service.sequencer import Sequencer
from issuer.store.records import CertificateRecord
from tests.builders import ELECTRICIAN
from tests.builders import issue_request as request
from tests.service import fakes

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        ctx, self.store, _ = fakes.context(NOW)
        log = TransparencyLog(ctx)
        publishing = Publishing(ctx, log)
        self.revoking = Revoking(ctx, log, publishing)
        self.issuing = Issuing(ctx, Sequencer(log, delay=0), publishing, self.revoking)
        self.records = RecordCheck(ctx, publishing)
        registry = Registry(ctx, log, publishing)
        registration = Registration(
            "Y",
            "0001",
            "23",
            "000001",
            "黑龙江某某电力股份有限公司",
            (ScopeItem(ELECTRICIAN, (3,)),),
            date(2025, 1, 1),
            date(2030, 12, 31),
        )
        org = registry.register(OPERATOR, registration)
        self.issuer = Principal(Role.ORG_ISSUER, "clerk", org.id, org.code)

    def issued(self) -> CertificateRecord:
        return self.issuing.issue(self.issuer, request())[0]

    def check(self, record: CertificateRecord) -> CheckedRecord:
        return self.records.check(record, NOW)


@pytest.fixture()
def world() -> World:
    return World()


def test_a_row_as_issued_is_valid(world: World) -> None:
    checked = world.check(world.issued())
    assert (checked.status, checked.damage, checked.listed_revoked) == ("valid", (), False)
    assert checked.credential is not None and checked.credential.holder_name == "张三丰"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("holder_name", "李四"),
        ("document_type", 2),
        ("occupation", "6-18-02-04"),
        ("work_type", "电焊工"),
        ("level", 2),
        ("issue_date", date(2026, 1, 1)),
        ("status_index", 7),
        ("issued_at", datetime(2026, 1, 1, tzinfo=UTC)),
        ("organization_code", "S000044000002"),
    ],
)
def test_every_signed_field_changed_in_the_row_is_damage(world: World, column: str, value: object) -> None:
    checked = world.check(replace(world.issued(), **{column: value}))
    assert checked.status == "not_valid"
    assert checked.damage == ("organization" if column == "organization_code" else column,)


def test_stored_bytes_that_do_not_verify_are_damage(world: World) -> None:
    record = world.issued()
    damaged = bytearray(record.credential)
    damaged[-1] ^= 1
    checked = world.check(replace(record, credential=bytes(damaged)))
    assert (checked.status, checked.damage, checked.credential) == ("not_valid", ("credential",), None)


def test_a_row_un_revoked_stays_revoked_by_the_signed_list(world: World) -> None:
    record = world.issued()
    revoked = world.revoking.revoke(world.issuer, record.number, reason="fraud")
    assert world.check(revoked).revocation is not None and world.check(revoked).revocation.reason_en  # type: ignore[union-attr]
    checked = world.check(replace(revoked, revoked_at=None, revocation_reason=None))
    assert (checked.status, checked.damage, checked.listed_revoked) == ("revoked", ("revoked_at",), True)
    assert checked.revocation is not None and (checked.revocation.reason_zh, checked.revocation.revoked_at) == (
        "",
        None,
    )


def test_a_revocation_only_in_the_row_is_damage(world: World) -> None:
    checked = world.check(replace(world.issued(), revoked_at=NOW, revocation_reason="fraud"))
    assert (checked.status, checked.damage, checked.revocation) == ("not_valid", ("revoked_at",), None)


def test_without_a_signed_list_the_status_is_unknown(world: World) -> None:
    record = world.issued()
    world.store.state.status_lists.clear()
    checked = world.check(record)
    assert (checked.status, checked.listed_revoked, checked.damage) == ("unknown", None, ())
