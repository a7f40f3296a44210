"""Issuing a roster: all or nothing by default, contiguous numbers per level."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from issuer.core import trust
from issuer.core.errors import Conflict, InvalidInput
from issuer.core.verify import verify
from issuer.service import batches, issuance, registry, roster
from issuer.service.context import Services
from tests.conftest import Clock, Keys, issuer_principal
from tests.service.test_issuance import _render, _serials, request


def _csv(rows: list[tuple[str, str, int]]) -> bytes:
    from issuer.core.identity import check_character

    lines = ["姓名,证件类型,证件号码,职业编码,等级,理论知识成绩,技能操作成绩"]
    for name, id17, level in rows:
        lines.append(f"{name},居民身份证,{id17}{check_character(id17)},6-31-01-03,{level},80,75")
    return "\n".join(lines).encode("gbk")


def _ids(n: int, start: int = 0) -> list[str]:
    return [f"11010519900101{(start + i):03d}" for i in range(n)]


def _report(svc: Services, data: bytes) -> roster.RosterReport:
    return roster.validate_roster(svc, issuer_principal(svc), roster.read_roster(data, "名单.csv"))


def test_a_roster_is_issued_in_one_contiguous_block_per_level(app: Flask, keys: Keys, svc: Services) -> None:
    issuance.issue(svc, issuer_principal(svc), request(), render=_render)  # serial 3-000001 is taken
    rows = [(f"学员{i}", id17, 3 if i % 3 else 4) for i, id17 in enumerate(_ids(30))]
    report = _report(svc, _csv(rows))
    issued = batches.issue_roster(svc, issuer_principal(svc), report)
    assert [r.row for r in issued] == list(range(2, 32))
    level3 = [int(r.number[-6:]) for r in issued if r.number[15] == "3"]
    level4 = [int(r.number[-6:]) for r in issued if r.number[15] == "4"]
    assert level3 == list(range(2, 2 + len(level3)))
    assert level4 == list(range(1, 1 + len(level4)))
    _, bundle = registry.trust_bundle(svc)
    store = trust.load_bundle(json.dumps(bundle))
    assert all(verify(r.qr_text, store, at=svc.clock()).valid for r in issued)


def test_by_default_a_roster_with_a_bad_row_issues_nothing(app: Flask, keys: Keys, svc: Services) -> None:
    wrong_checksum = "乙,居民身份证,110105199001019990,6-31-01-03,3,80,75".encode("gbk")
    report = _report(svc, _csv([("甲", _ids(1)[0], 3)]) + b"\n" + wrong_checksum)
    assert report.invalid_rows == 1
    with pytest.raises(InvalidInput) as refused:
        batches.issue_roster(svc, issuer_principal(svc), report)
    assert refused.value.code == "roster_has_errors" and len(refused.value.errors["problems"]) == 1
    assert _serials(svc) == []
    issued = batches.issue_roster(svc, issuer_principal(svc), report, valid_rows_only=True)
    assert [r.row for r in issued] == [2] and _serials(svc) == [1]


def test_a_roster_validated_yesterday_must_be_validated_again(
    app: Flask, keys: Keys, svc: Services, clock: Clock
) -> None:
    report = _report(svc, _csv([("甲", _ids(1)[0], 3)]))
    clock.advance(days=1)
    with pytest.raises(Conflict):
        batches.issue_roster(svc, issuer_principal(svc), report)
    clock.advance(days=-1)
    assert len(batches.issue_roster(svc, issuer_principal(svc), report)) == 1


def test_a_roster_cannot_be_issued_twice(app: Flask, keys: Keys, svc: Services) -> None:
    data = _csv([("甲", _ids(1)[0], 3)])
    batches.issue_roster(svc, issuer_principal(svc), _report(svc, data))
    again = _report(svc, data)
    assert again.invalid_rows == 1
    assert again.problems[0].code == "already_certified"
