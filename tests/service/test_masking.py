"""What people type is kept without document numbers in clear: a revocation note that
names one, a roster problem about a photo named after one or a number in the wrong
column keep the masked form (``1101**********002X``); a name or 工种 that holds one is refused,
since it would be printed and signed into the QR code in clear."""

from __future__ import annotations

import pytest
from flask import Flask

from issuer.core.errors import DocumentNumberInText
from issuer.service.principal import OPERATOR
from issuer.service.roster import read_roster, validate_roster
from issuer.service.wiring import UseCases
from tests.builders import ID_NUMBER, jpeg, resident_id, to_csv
from tests.builders import issue_request as request
from tests.conftest import ELECTRICIAN, Keys, issuer_principal

MASKED = "1101**********002X"


def test_a_revocation_note_keeps_the_number_masked(app: Flask, keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    record, _ = svc.issuing.issue(principal, request())
    revoked = svc.revoking.revoke(principal, record.number, reason="data_error", note=f"证件号码{ID_NUMBER}录入错误")
    assert revoked.revocation_note == f"证件号码{MASKED}录入错误"
    page = svc.audit.read(OPERATOR, after_id=0, limit=100)
    [revocation] = [e for e in page.events if e.action == "certificate.revoke"]
    assert revocation.details["note"] == f"证件号码{MASKED}录入错误"


def test_a_roster_problem_keeps_numbers_masked_wherever_they_stand(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [
        ["张三", "居民身份证", resident_id(1), ELECTRICIAN, "--", "3", 80, 75, "", f"{ID_NUMBER}.jpg"],
        ["李四", "居民身份证", resident_id(2), ELECTRICIAN, "--", "3", 80, 75, "", ""],
    ]
    rows[1][4] = ID_NUMBER  # a number in the 工种 column: refused, it would be printed and signed
    report = validate_roster(
        svc.issuing, issuer_principal(svc), read_roster(to_csv(rows), "名单.csv"), photos={"x.jpg": jpeg()}
    )
    texts = [(p.value, p.message, p.message_zh) for p in report.problems]
    assert texts and all(ID_NUMBER not in t for problem in texts for t in problem)
    assert report.problems[0].value == f"{MASKED}.jpg" and MASKED in report.problems[0].message_zh
    assert (report.problems[1].code, report.problems[1].column) == ("document_number_in_text", "工种/职业方向")
    assert report.problems[1].value == MASKED and report.valid_rows == 0


def test_a_name_or_work_type_holding_a_document_number_is_refused(app: Flask, keys: Keys, svc: UseCases) -> None:
    for overrides, field in (
        ({"holder_name": f"张三{ID_NUMBER}"}, "holder_name"),
        ({"work_type": ID_NUMBER}, "work_type"),
    ):
        with pytest.raises(DocumentNumberInText) as refused:
            svc.issuing.issue(issuer_principal(svc), request(**overrides))
        assert refused.value.code == "document_number_in_text" and refused.value.errors == {"field": field}


def test_the_validated_rows_waiting_on_disk_hold_no_number_in_clear(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [["张三", "居民身份证", ID_NUMBER, ELECTRICIAN, "--", "3", 80, 75, "", "x.jpg"]]
    report = validate_roster(
        svc.issuing, issuer_principal(svc), read_roster(to_csv(rows), "名单.csv"), photos={"x.jpg": jpeg()}
    )
    [valid] = list(report.valid)
    assert valid.request.document_number == ID_NUMBER
    spooled = report.valid._file  # the temporary file itself, as a reader of the disk sees it
    spooled.seek(0)
    on_disk = spooled.read()
    assert len(on_disk) > 100 and ID_NUMBER.encode() not in on_disk and "张三".encode() not in on_disk
