"""Builders shared by the service, API, page and command-line tests: issue requests, rosters
(CSV and XLSX as organizations export them), photos, and what a test reads back. The one
place tests take them from (no test module imports another)."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import openpyxl
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from werkzeug.test import TestResponse

from issuer.core import qrtext, trust
from issuer.core.identity import check_character
from issuer.service import batches
from issuer.service.issuing import IssueRequest
from issuer.service.principal import Principal
from issuer.service.wiring import UseCases
from issuer.store import models as m
from issuer.store.records import BatchRecord, CertificateRecord, NewCertificate
from tests.conftest import auth, issuer_principal
from tests.factories import ID_NUMBER, photo

ELECTRICIAN = "6-31-01-03"
WELDER = "6-18-02-04"


def issue_request(**overrides: Any) -> IssueRequest:
    """张三丰, electrician level 3, passing theory and practical, with the photo the layout
    needs: override what a test is about."""
    fields: dict[str, Any] = {
        "holder_name": "张三丰",
        "document_type": "居民身份证",
        "document_number": ID_NUMBER,
        "occupation": ELECTRICIAN,
        "level": 3,
        "scores": {"theory": Decimal(80), "practical": Decimal(70)},
        "photo": photo(),
    }
    fields.update(overrides)
    return IssueRequest(**fields)


def issue_person(svc: UseCases, i: int) -> CertificateRecord:
    """Person ``i``'s certificate (学员i, an identity number of its own), issued by the test
    organization."""
    record, _ = svc.issuing.issue(
        issuer_principal(svc), issue_request(holder_name=f"学员{i}", document_number=resident_id(i))
    )
    return record


def outsider_trust(svc: UseCases) -> trust.TrustStore:
    """The trust store an outsider loads from the bundle the service publishes."""
    _, bundle = svc.publishing.bundle()
    return trust.load_bundle(json.dumps(bundle))


def qr_of(svc: UseCases, record: CertificateRecord) -> str:
    """The QR text printed on ``record``'s certificate."""
    return qrtext.encode(record.credential, svc.ctx.qr_host)


def serials(svc: UseCases) -> list[int]:
    """Every serial issued so far, in order."""
    with svc.database.read_sessions() as session:
        numbers = session.scalars(select(m.Certificate.number)).all()
    return sorted(int(n[-6:]) for n in numbers)


# --- rosters ------------------------------------------------------------------------------

HEADER = (
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "工种/职业方向",
    "等级",
    "理论知识成绩",
    "技能操作成绩",
    "综合评审成绩",
    "照片",
)
Row = list[Any]


def resident_id(i: int) -> str:
    """A valid 居民身份证 number (黑龙江) of someone born 1970-2009 (16 or older from 2026), a
    different one for every ``i`` below 73,000."""
    born = date(1970, 1, 1) + timedelta(days=37 * i % 14_600)
    first17 = f"230102{born:%Y%m%d}{i % 1000:03d}"
    return first17 + check_character(first17)


def id17s(n: int, start: int = 0) -> list[str]:
    """``n`` different first 17 digits of 居民身份证 numbers (``simple_roster`` adds the check)."""
    return [f"11010519900101{(start + i):03d}" for i in range(n)]


PHOTO = "photo.jpg"
"""The photo every built roster row names (``photos_zip`` holds it): the layouts print one."""


def simple_roster(rows: list[tuple[str, str, int]]) -> bytes:
    """A GBK CSV of electricians: (name, first 17 digits of the ID number, level) per row,
    each with the photo of ``photos_zip``."""
    lines = ["姓名,证件类型,证件号码,职业编码,等级,理论知识成绩,技能操作成绩,照片"]
    for name, id17, level in rows:
        lines.append(f"{name},居民身份证,{id17}{check_character(id17)},{ELECTRICIAN},{level},80,75,{PHOTO}")
    return "\n".join(lines).encode("gbk")


@cache
def photos_zip() -> bytes:
    """The photos ZIP of built rosters: ``PHOTO``, a valid 1-inch photo."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(PHOTO, photo())
    return out.getvalue()


def candidate(i: int) -> Row:
    """A valid row: electricians at levels 5-3 (2 with a review), welders with a work type;
    each with the photo of ``photos_zip``."""
    theory, practical = 60 + i % 40, Decimal(60 + i % 37) + (Decimal("0.5") if i % 2 else 0)
    if i % 5 == 4:
        return [f"焊工学员{i}", "居民身份证", resident_id(i), WELDER, "电焊工", 5 - i % 3, theory, practical, "", PHOTO]
    if i % 7 == 6:
        return [f"技师学员{i}", "居民身份证", resident_id(i), ELECTRICIAN, "", 2, theory, practical, 88, PHOTO]
    level = ("3", "四级", "初级工", "三级/高级工")[i % 4]
    return [f"学员{i}", "居民身份证", resident_id(i), ELECTRICIAN, "--", level, theory, practical, "", PHOTO]


def roster_rows(n: int) -> list[Row]:
    return [candidate(i) for i in range(n)]


def to_csv(rows: Sequence[Row], encoding: str = "utf-8", header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([["" if v is None else str(v) for v in row] for row in rows])
    return out.getvalue().encode(encoding)


def to_xlsx(rows: Sequence[Row], header: Sequence[str] = HEADER) -> bytes:
    """As Excel would store it: scores and digit-only levels as numbers, blanks as nothing."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append([_as_excel(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)
_XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
_SHEET = "xl/worksheets/sheet1.xml"


def _with_doctype(doctype: bytes, reference: bytes) -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return doctype + body.replace(
            b"</sheetData>",
            b'<row r="9"><c r="A9" t="inlineStr"><is><t>' + reference + b"</t></is></c></row></sheetData>",
        )

    return change


DAMAGED_XLSX: dict[str, tuple[str, Callable[[bytes], bytes | None]]] = {
    "truncated workbook.xml": ("xl/workbook.xml", lambda xml: xml[: len(xml) // 2]),
    "missing workbook.xml": ("xl/workbook.xml", lambda xml: None),
    "missing sheet": (_SHEET, lambda xml: None),
    "truncated sheet": (_SHEET, lambda xml: xml[: len(xml) // 2]),
    "bad [Content_Types].xml": ("[Content_Types].xml", lambda xml: b"<Types"),
    "missing [Content_Types].xml": ("[Content_Types].xml", lambda xml: None),
    "bad workbook.xml.rels": ("xl/_rels/workbook.xml.rels", lambda xml: b"\xff\xfe<"),
    "billion laughs in the sheet": (_SHEET, _with_doctype(_DTD, b"&c;")),
    "billion laughs in workbook.xml": ("xl/workbook.xml", _with_doctype(_DTD, b"&c;")),
    "external entity in the sheet": (_SHEET, _with_doctype(_XXE, b"&e;")),
    "a lone surrogate (&#xDC80;) in a cell": (_SHEET, _with_doctype(b"", b"&#xDC80;")),
    "sheet that unpacks to 300 MB": (_SHEET, lambda xml: xml + b" " * 300_000_000),
}
"""Ways an XLSX roster can be damaged or hostile: part → how the part is changed (None: removed)."""


@cache
def damaged_xlsx(kind: str) -> bytes:
    """A valid one-row roster with one part changed as ``DAMAGED_XLSX[kind]`` says, or, for
    ``"not a zip"``, bytes that only start like one."""
    if kind == "not a zip":
        return b"PK\x03\x04 these bytes only start like a zip archive"
    part, change = DAMAGED_XLSX[kind]
    source = zipfile.ZipFile(io.BytesIO(to_xlsx([candidate(1)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            body = source.read(name)
            changed = change(body) if name == part else body
            if changed is not None:
                archive.writestr(name, changed)
    return out.getvalue()


def _as_excel(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value.isdigit() and len(value) < 3:
        return int(value)
    return value


def jpeg(size: tuple[int, int] = (300, 420)) -> bytes:
    """A passport-style photo, large enough for the 1-inch box at 300 dpi unless ``size``
    says otherwise."""
    out = io.BytesIO()
    Image.new("RGB", size, (250, 250, 250)).save(out, "JPEG")
    return out.getvalue()


def new_certificate(organization_id: int, signing_key_id: int, serial: int = 1) -> NewCertificate:
    """A certificate row as issuance stores it (the signed credential is a stand-in: the
    store does not read it)."""
    number = f"Y000123000001263{serial:06d}"
    return NewCertificate(
        number=number,
        organization_id=organization_id,
        signing_key_id=signing_key_id,
        holder_name="张三丰",
        document_type=1,
        document_number_encrypted=b"encrypted",
        document_number_hmac=f"hmac-{serial}",
        document_number_masked="110105**********2X",
        occupation=ELECTRICIAN,
        occupation_edition=2022,
        work_type=None,
        level=3,
        issue_date=date(2026, 11, 29),
        issued_at=None,
        qualification=f"qualification-{serial}",
        score_theory=None,
        score_practical=None,
        score_review=None,
        photo=None,
        status_index=1000 + serial,
        credential=b"signed credential",
        created_at=datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
        created_by="tester",
        log_index=serial - 1,
    )


# --- batches: uploaded (answered at once, the batch validating) and followed -----------------

WAITING = ("validating", "issuing")
BUILT = b"the photos of built rosters"
"""``post``'s default: send ``photos_zip``."""
SETTLE_SECONDS = 120.0


def submit(
    svc: UseCases, data: bytes, name: str = "名单.csv", principal: Principal | None = None, **kw: Any
) -> BatchRecord:
    """Upload a roster through the use case, with the photos of built rows (``photos_zip``)
    unless told otherwise: the batch as the upload answers it."""
    key = kw.pop("key", None)
    batch, _ = svc.batches.submit(principal or issuer_principal(svc), upload(data, name, **kw), idempotency_key=key)
    return batch


def upload(data: bytes, name: str = "名单.csv", **kw: Any) -> batches.Upload:
    """A roster upload with the photos of built rows (``photos_zip``) unless told otherwise."""
    kw.setdefault("photos", io.BytesIO(photos_zip()))
    return batches.Upload(roster=data, filename=name, **kw)


def wait_for(condition: Callable[[], bool], seconds: float = 10, *, pause: float = 0.01) -> None:
    """Return once ``condition()`` holds; fail the test if it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not done in {seconds} s"
        time.sleep(pause)


def settled(svc: UseCases, batch_id: str, *, timeout: float = SETTLE_SECONDS) -> BatchRecord:
    """The batch once its validation job has ended (issued, rejected, checked or failed):
    after the job has committed the roster, its sequencer has appended it to the log."""
    deadline = time.monotonic() + timeout
    while True:
        with svc.ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
        assert batch is not None
        if batch.status not in WAITING and not svc.log.waiting():
            return batch
        assert time.monotonic() < deadline, f"batch {batch_id} still {batch.status} after {timeout} s"
        time.sleep(0.01)


def submitted(svc: UseCases, data: bytes, name: str = "名单.csv", **kw: Any) -> BatchRecord:
    """Upload a roster and wait for its validation job to end."""
    return settled(svc, submit(svc, data, name, **kw).id)


def issued_rows(svc: UseCases, batch_id: str) -> list[tuple[int, str]]:
    """(roster row, certificate number) of every certificate the batch issued, in order."""
    with svc.ctx.reading() as uow:
        return [(line.row, line.number) for line in uow.batches.lines(batch_id)]


def post(
    client: FlaskClient,
    key: str,
    data: bytes,
    name: str = "名单.csv",
    headers: dict[str, str] | None = None,
    photos: bytes | None = BUILT,
    **form: str,
) -> TestResponse:
    """POST a roster, with the photos of built rows (``photos_zip``) unless told otherwise."""
    files = {"roster": (io.BytesIO(data), name)}
    if photos is not None:
        files["photos"] = (io.BytesIO(photos_zip() if photos is BUILT else photos), "照片.zip")
    return client.post(
        "/api/v1/batches",
        data={**files, **form},
        headers={**auth(key), **(headers or {})},
        content_type="multipart/form-data",
    )


def follow(client: FlaskClient, key: str, batch_id: str, *, timeout: float = SETTLE_SECONDS) -> dict[str, Any]:
    """GET the batch until its validation job has ended."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/batches/{batch_id}", headers=auth(key)).get_json()
        if body["status"] not in WAITING:
            return body
        assert time.monotonic() < deadline, f"batch {batch_id} still {body['status']} after {timeout} s"
        time.sleep(0.01)


def uploaded(client: FlaskClient, key: str, data: bytes, name: str = "名单.csv", **form: str) -> dict[str, Any]:
    """POST a roster (accepted: 202) and follow it until validated."""
    response = post(client, key, data, name, **form)
    assert response.status_code == 202, response.get_json()
    return follow(client, key, response.get_json()["id"])


def numbers(client: FlaskClient, key: str, batch_id: str) -> list[tuple[int, str]]:
    """(roster row, number) of the issued rows, from the batch's result spreadsheet."""
    from openpyxl import load_workbook

    response = client.get(f"/api/v1/batches/{batch_id}/result", headers=auth(key))
    assert response.status_code == 200, response.get_json()
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    return [(int(r[0]), str(r[2])) for r in sheet.iter_rows(min_row=2, values_only=True) if r[2]]


def archive_members(svc: UseCases, numbers: list[str], formats: tuple[str, ...] = ("png", "pdf")) -> list[str]:
    """The archive's files for ``numbers``: ``png/<number>_<holder name>.png`` and so on."""
    names = {}
    for number in numbers:
        record = svc.certificates.by_number(number)
        assert record is not None
        names[number] = record.holder_name
    return [f"{fmt}/{n}_{names[n]}.{fmt}" for fmt in formats for n in numbers]
