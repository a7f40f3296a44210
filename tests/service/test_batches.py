"""Issuing a roster: accepted at once and validated in the background, all or nothing by
default, contiguous numbers per level, a batch record whose images are drawn in the
background and packed into one archive."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from sqlalchemy import select, update

from issuer.core import merkle, qrtext, trust
from issuer.core.errors import Conflict
from issuer.core.transparency import issue_entry
from issuer.core.verify import verify
from issuer.service import batches, drawing, jobs
from issuer.service.wiring import UseCases, build
from issuer.store import models as m
from issuer.store.records import BatchRecord
from tests.builders import (
    PHOTO,
    archive_members,
    id17s,
    issued_rows,
    jpeg,
    resident_id,
    roster_rows,
    simple_roster,
    submit,
    submitted,
    to_csv,
    to_xlsx,
    upload,
)
from tests.builders import issue_request as request
from tests.builders import serials as _serials
from tests.conftest import OTHER_CODE, TREE_HASH, Clock, Keys, issuer_principal


def finished(svc: UseCases, batch_id: str) -> BatchRecord:
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.join()
    return svc.batches.status(issuer_principal(svc), batch_id)


def _batches(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        return len(session.scalars(select(m.Batch.id)).all())


def _items(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        return len(session.scalars(select(m.BatchItem.position)).all())


def test_a_roster_is_issued_in_one_contiguous_block_per_level(app: Flask, keys: Keys, svc: UseCases) -> None:
    svc.issuing.issue(issuer_principal(svc), request())  # serial 3-000001 is taken
    rows = [(f"学员{i}", id17, 3 if i % 3 else 4) for i, id17 in enumerate(id17s(30))]
    batches.ISSUE_CHUNK, saved = 7, batches.ISSUE_CHUNK  # several chunks inside the one transaction
    try:
        batch = submitted(svc, simple_roster(rows))
    finally:
        batches.ISSUE_CHUNK = saved
    assert (batch.status, batch.issued, batch.checked) == ("rendering", 30, 30)
    issued = issued_rows(svc, batch.id)
    assert [row for row, _ in issued] == list(range(2, 32))
    level3 = [int(n[-6:]) for _, n in issued if n[15] == "3"]
    level4 = [int(n[-6:]) for _, n in issued if n[15] == "4"]
    assert level3 == list(range(2, 2 + len(level3)))
    assert level4 == list(range(1, 1 + len(level4)))
    _, bundle = svc.publishing.bundle()
    store = trust.load_bundle(json.dumps(bundle))
    with svc.database.read_sessions() as session:
        texts = [qrtext.encode(c.credential, svc.ctx.qr_host) for c in session.scalars(select(m.Certificate))]
    assert len(texts) == 31 and all(verify(t, store, at=svc.ctx.clock()).valid for t in texts)


def test_a_roster_of_many_chunks_is_logged_after_its_commit_under_one_tree_head_in_row_order(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    """The roster's transaction does not lock the log, which every organization's issuing
    would wait on: its job tells the sequencer once it has committed, which appends the
    whole roster in one append."""
    svc.issuing.issue(issuer_principal(svc), request())
    before = svc.log.latest_head()
    assert before is not None
    size = before.tree_size
    rows = [(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(23))]
    batches.ISSUE_CHUNK, saved = 5, batches.ISSUE_CHUNK
    try:
        batch = submitted(svc, simple_roster(rows))
    finally:
        batches.ISSUE_CHUNK = saved
    assert (batch.status, batch.issued) == ("rendering", 23)
    with svc.database.read_sessions() as session:
        heads = session.scalars(select(m.TreeHeadRecord.tree_size).order_by(m.TreeHeadRecord.tree_size)).all()
        entries = {e.index: e for e in session.scalars(select(m.LogEntry))}
        by_number = {c.number: c for c in session.scalars(select(m.Certificate))}
    assert [h for h in heads if h > size] == [size + 23]
    indexes = [by_number[number].log_index for _, number in issued_rows(svc, batch.id)]
    assert indexes == list(range(size, size + 23))
    latest = svc.log.latest_head()
    assert latest is not None
    for _, number in issued_rows(svc, batch.id):
        certificate = by_number[number]
        entry = entries[certificate.log_index]
        assert (entry.type, entry.data) == (
            "issue",
            issue_entry(certificate.credential, certificate.created_at).encode(),
        )
        proof = svc.log.inclusion(leaf_index=None, number=number, tree_size=None)
        merkle.verify_inclusion(
            TREE_HASH.leaf(entry.data), proof.leaf_index, size + 23, proof.proof, latest.root_hash, TREE_HASH
        )


def _holders(svc: UseCases, org_code: str) -> list[tuple[Any, ...]]:
    with svc.database.read_sessions() as session:
        org = session.scalars(select(m.Organization).where(m.Organization.code == org_code)).one()
        records = session.scalars(select(m.Certificate).where(m.Certificate.organization_id == org.id)).all()
        return sorted(
            (
                r.holder_name,
                svc.certificates.document_number(r),
                r.document_type,
                r.occupation,
                r.work_type,
                r.level,
                r.issue_date,
                r.score_theory,
                r.score_practical,
                r.score_review,
            )
            for r in records
        )


def test_the_same_500_rows_in_gbk_csv_and_in_xlsx_issue_the_same_certificates(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    rows = roster_rows(500)
    from_csv = submitted(svc, to_csv(rows, "gbk"), "名单.csv")
    from_xlsx = submitted(svc, to_xlsx(rows), "名单.xlsx", principal=issuer_principal(svc, OTHER_CODE))
    assert from_csv.issued == from_xlsx.issued == 500
    assert [r for r, _ in issued_rows(svc, from_csv.id)] == [r for r, _ in issued_rows(svc, from_xlsx.id)]
    csv_holders, xlsx_holders = _holders(svc, "Y000123000001"), _holders(svc, OTHER_CODE)
    assert len(csv_holders) == 500 and csv_holders == xlsx_holders


def test_a_500_row_roster_with_3_bad_rows_is_rejected_with_exactly_those_and_issues_nothing(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    rows = roster_rows(500)
    rows[99][2] = rows[99][2][:-1] + ("0" if rows[99][2][-1] != "0" else "1")
    rows[200][3] = "6-99-99-99"
    rows[300] = ["王五", "居民身份证", resident_id(300), "6-18-02-04", "电焊工", "二级", 80, 80, 80, PHOTO]
    # (the welder's scope: levels 5-3)
    batch = submitted(svc, to_csv(rows, "gbk"))
    assert (batch.status, batch.issued, batch.checked) == ("rejected", 0, 500)
    assert batch.refusal is not None and batch.refusal["code"] == "roster_has_errors"
    assert batch.refusal["message_zh"] == "名单中500行有3行存在问题，未发放任何证书"
    assert {(p["row"], p["column"]) for p in batch.report["problems"]} == {
        (101, "证件号码"),
        (202, "职业编码"),
        (302, "等级"),
    }
    assert (batch.report["valid_rows"], batch.report["invalid_rows"]) == (497, 3)
    assert _serials(svc) == [] and _items(svc) == 0
    with pytest.raises(Conflict) as no_archive:
        svc.batches.archive(issuer_principal(svc), batch.id)
    assert no_archive.value.code == "batch_rejected"
    out = io.BytesIO()
    svc.batches.result(issuer_principal(svc), batch.id, out)
    sheet = openpyxl.load_workbook(out, read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[1]) for r in table] == [(101, "未发证"), (202, "未发证"), (302, "未发证")]
    assert "校验码" in table[0][-1]


def test_by_default_a_roster_with_a_bad_row_issues_nothing_unless_valid_rows_only(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    wrong_checksum = "乙,居民身份证,110105199001019990,6-31-01-03,3,80,75,photo.jpg".encode("gbk")
    data = simple_roster([("甲", id17s(1)[0], 3)]) + b"\n" + wrong_checksum
    refused = submitted(svc, data)
    assert refused.status == "rejected" and refused.refusal is not None
    assert refused.refusal["code"] == "roster_has_errors" and len(refused.report["problems"]) == 1
    assert _serials(svc) == []
    partial = submitted(svc, data, valid_rows_only=True)
    assert partial.status == "rendering" and partial.valid_rows_only and partial.refusal is None
    assert [row for row, _ in issued_rows(svc, partial.id)] == [2] and _serials(svc) == [1]
    assert (partial.report["invalid_rows"], partial.issued) == (1, 1)
    only_bad = submitted(svc, simple_roster([]) + b"\n" + wrong_checksum, valid_rows_only=True)
    assert only_bad.status == "rejected" and only_bad.refusal == {
        "code": "roster_empty",
        "message": "the roster has no valid row to issue",
        "message_zh": "名单中没有可发证的有效行",
    }


def test_a_dry_run_validates_and_issues_nothing(app: Flask, keys: Keys, svc: UseCases) -> None:
    data = simple_roster([("甲", id17s(2)[0], 3), ("乙", id17s(2)[1], 9)])
    checked = submitted(svc, data, dry_run=True)
    assert (checked.status, checked.dry_run, checked.issued, checked.checked) == ("checked", True, 0, 2)
    assert [p["row"] for p in checked.report["problems"]] == [3] and checked.refusal is None
    assert _serials(svc) == [] and _items(svc) == 0


def test_a_roster_cannot_be_issued_twice(app: Flask, keys: Keys, svc: UseCases) -> None:
    data = simple_roster([("甲", id17s(1)[0], 3)])
    assert submitted(svc, data).status == "rendering"
    again = submitted(svc, data)
    assert again.status == "rejected" and again.report["problems"][0]["code"] == "already_certified"


def test_a_retried_upload_answers_the_same_batch_and_validates_nothing_twice(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    data = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(4))])
    principal = issuer_principal(svc)
    first, replayed_first = svc.batches.submit(principal, upload(data), idempotency_key="k")
    finished(svc, first.id)  # the job has ended: its upload is deleted
    again, replayed = svc.batches.submit(principal, upload(data), idempotency_key="k")
    assert (replayed_first, replayed) == (False, True)
    assert again.id == first.id and again.status == "done" and again.validation_attempts == 1
    assert _serials(svc) == [1, 2, 3, 4] and _batches(svc) == 1
    assert list((svc.drawing.batch_dir / "uploads").iterdir()) == []  # the replay stored nothing
    with pytest.raises(Conflict):
        svc.batches.submit(principal, upload(data + b"\n"), idempotency_key="k")


def test_each_row_s_commitment_is_computed_once_from_upload_to_issue(
    app: Flask, keys: Keys, svc: UseCases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scrypt commitment is what validating a row costs: issuing takes the one computed
    while validating (``ValidRow.prepared``) and computes none."""
    from issuer.core import identity

    computed: list[str] = []
    real = identity.commit

    def counted(number: str) -> bytes:
        computed.append(number)
        return real(number)

    monkeypatch.setattr(identity, "commit", counted)
    batch = submitted(svc, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(12))]))
    assert batch.issued == 12 and len(computed) == 12 and len(set(computed)) == 12


def _photo_roster(n: int) -> tuple[bytes, io.BytesIO]:
    """Rows with a photo of their own every second row, the others sharing ``PHOTO``."""
    rows = roster_rows(n)
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as z:
        z.writestr(PHOTO, jpeg())
        for i in range(0, n, 2):
            rows[i][-1] = f"{i}.jpg"
            z.writestr(f"照片/{i}.jpg", jpeg())
    photos.seek(0)
    return to_csv(rows), photos


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _qr(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    found = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1
    return found[0].text


def test_images_are_drawn_in_the_background_and_packed_once_each_with_the_result_sheet(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    data, photos = _photo_roster(12)
    data += to_csv([["坏行", "居民身份证", "110105199001019990", "6-31-01-03", "", "3", 80, 80, "", ""]])[
        len(to_csv([])) :
    ]
    body = submit(svc, data, photos=photos, valid_rows_only=True, dpi=150)
    done = finished(svc, body.id)
    assert (done.status, done.issued, done.rendered, done.rows) == ("done", 12, 12, 13)
    numbers = [n for _, n in issued_rows(svc, done.id)]
    path = svc.drawing.archive_path(done.id)
    assert path.stat().st_size == done.archive_bytes
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        members = archive_members(svc, numbers)
        assert Counter(names) == Counter(["result.xlsx", *members])
        assert all(re.fullmatch(r"(png|pdf)/Y\d{21}_\w+\.(png|pdf)", m) for m in members), members[:2]
        first_png = archive.read(members[0])
        first_pdf = archive.read(members[len(numbers)])
        sheet = openpyxl.load_workbook(io.BytesIO(archive.read("result.xlsx")), read_only=True).worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    _, bundle = svc.publishing.bundle()
    assert verify(_qr(first_png), trust.load_bundle(json.dumps(bundle)), at=svc.ctx.clock()).valid
    # The PDF is the same page as vectors: its text extracts, its code reads from a rendering.
    document = pypdfium2.PdfDocument(first_pdf)
    text = document[0].get_textpage().get_text_range()
    assert numbers[0] in text and table[1][3] in text  # the number and the holder's name
    assert _qr(_png(document[0].render(scale=150 / 72).to_pil())) == _qr(first_png)
    document.close()
    assert table[0][:3] == ["名单行号", "结果", "证书编号"]
    expected = [(row, "已发证", n) for row, n in zip(range(2, 14), numbers, strict=True)]
    assert [(r[0], r[1], r[2]) for r in table[1:13]] == expected
    assert table[13][:2] == [14, "未发证"] and "校验码" in table[13][-1]
    assert resident_id(0)[6:14] not in json.dumps(table, ensure_ascii=False, default=str)  # masked
    assert not svc.drawing.parts_dir(done.id).exists(), "the loose files are removed once packed"


def test_a_batch_drawn_again_gives_the_same_files(app: Flask, keys: Keys, svc: UseCases) -> None:
    """What a redelivered job does: every image drawn again is byte for byte the same."""
    body = submit(svc, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))]))
    done = finished(svc, body.id)
    path = svc.drawing.archive_path(done.id)
    with zipfile.ZipFile(path) as archive:
        first = {n: archive.read(n) for n in archive.namelist() if n != "result.xlsx"}
    path.unlink()
    with svc.database.sessions.begin() as session:
        session.execute(update(m.BatchItem).values(rendered_at=None))
        session.execute(update(m.Batch).values(status="rendering"))
    svc.batches.dispatch(done.id)
    again = finished(svc, done.id)
    with zipfile.ZipFile(path) as archive:
        assert {n: archive.read(n) for n in archive.namelist() if n != "result.xlsx"} == first
    assert len(first) == 6 and again.archive_sha256 == drawing._sha256(path)[0]


def _issued_not_drawn(svc: UseCases, data: bytes) -> BatchRecord:
    """A roster issued by its validation job in a service that stops before drawing: the
    queue closed, the job run as the queue runs it."""
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.close()
    accepted = submit(svc, data)
    svc.batches.run_validation(accepted.id)
    issued = svc.batches.status(issuer_principal(svc), accepted.id)
    assert (issued.status, issued.rendered) == ("rendering", 0)
    return issued


def test_a_restarted_service_validates_and_finishes_what_its_predecessor_left(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    roster = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(7))])
    drawing_left = _issued_not_drawn(svc, roster[: roster.rindex(b"\n")])  # the first 6 rows
    validation_left = submit(svc, simple_roster([("丙", id17s(1, start=50)[0], 3)]))
    assert validation_left.status == "validating"  # the service stopped before validating it
    restarted = build(app.config, app.instance_path, clock=svc.ctx.clock)
    try:
        assert restarted.batches.resume() == [validation_left.id, drawing_left.id]
        assert finished(restarted, drawing_left.id).status == "done"
        assert finished(restarted, validation_left.id).status == "done"
    finally:
        restarted.close()
    assert _serials(svc) == [1, 2, 3, 4, 5, 6, 7]


def test_a_certificate_revoked_before_it_is_drawn_is_not_printed(app: Flask, keys: Keys, svc: UseCases) -> None:
    batch = _issued_not_drawn(svc, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(2))]))
    revoked = issued_rows(svc, batch.id)[0][1]
    svc.revoking.revoke(issuer_principal(svc), revoked, reason="data_error")
    restarted = build(app.config, app.instance_path, clock=svc.ctx.clock)
    try:
        restarted.batches.resume()
        assert finished(restarted, batch.id).status == "done"
        with zipfile.ZipFile(svc.drawing.archive_path(batch.id)) as archive:
            names = archive.namelist()
            sheet = openpyxl.load_workbook(io.BytesIO(archive.read("result.xlsx")), read_only=True).worksheets[0]
            results = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    finally:
        restarted.close()
    assert not any(revoked in n for n in names) and len(names) == 3
    assert results == ["已撤销", "已发证"]


def test_a_batch_that_cannot_be_drawn_fails_with_the_reason(app: Flask, keys: Keys, svc: UseCases) -> None:
    batch = _issued_not_drawn(svc, simple_roster([("甲", id17s(1)[0], 3)]))
    with svc.database.sessions.begin() as session:
        session.execute(update(m.Organization).values(layout="withdrawn-layout"))
    restarted = build(app.config, app.instance_path, clock=svc.ctx.clock)
    try:
        restarted.batches.resume()
        failed = finished(restarted, batch.id)
    finally:
        restarted.close()
    assert failed.status == "failed" and "withdrawn-layout" in (failed.error or "")
    with pytest.raises(Conflict) as refused:
        svc.batches.archive(issuer_principal(svc), failed.id)
    assert refused.value.code == "batch_failed"


def test_when_queueing_fails_the_batch_waits_and_a_retry_queues_it(
    app: Flask, keys: Keys, svc: UseCases, tmp_path: Path
) -> None:
    unreachable = build(
        {**app.config, "QUEUE": "redis", "REDIS_URL": "redis://127.0.0.1:9/0"}, app.instance_path, clock=svc.ctx.clock
    )
    data = simple_roster([("甲", id17s(1)[0], 3)])
    try:
        accepted = submit(unreachable, data, key="k1")
    finally:
        unreachable.close()
    current = svc.batches.status(issuer_principal(svc), accepted.id)
    assert current.status == "validating" and current.dispatched_at is None and _serials(svc) == []
    again = submit(svc, data, key="k1")
    assert again.id == accepted.id
    assert finished(svc, accepted.id).status == "done" and _serials(svc) == [1]


def test_another_organizations_batch_is_not_found(app: Flask, keys: Keys, svc: UseCases) -> None:
    body = submit(svc, simple_roster([("甲", id17s(1)[0], 3)]))
    from issuer.core.errors import NotFound

    with pytest.raises(NotFound):
        svc.batches.status(issuer_principal(svc, OTHER_CODE), body.id)
    with pytest.raises(NotFound):
        svc.batches.archive(issuer_principal(svc, OTHER_CODE), body.id)
    with pytest.raises(NotFound):
        svc.batches.result(issuer_principal(svc, OTHER_CODE), body.id, io.BytesIO())


def test_old_archives_are_purged_and_their_certificates_kept(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    body = submit(svc, simple_roster([("甲", id17s(1)[0], 3)]), formats=("pdf",), dpi=150)
    done = finished(svc, body.id)
    path = svc.drawing.archive_path(done.id)
    assert path.exists()
    assert svc.batches.purge(timedelta(days=30)) == []
    clock.advance(days=31)
    assert svc.batches.purge(timedelta(days=30)) == [done.id]
    assert not path.exists() and svc.batches.status(issuer_principal(svc), done.id).status == "expired"
    with pytest.raises(Conflict) as refused:
        svc.batches.archive(issuer_principal(svc), done.id)
    assert refused.value.code == "batch_expired"
    assert _serials(svc) == [1]
