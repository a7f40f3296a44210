"""The test of issue 14: no full identity document number is kept in clear anywhere.

The service runs its real flows over HTTP (a real server, the project's own client):
one certificate issued by API and retried with its Idempotency-Key, a roster issued with
its photos (named by ID number, as organizations name them) and retried, its images
drawn and packed with result.xlsx, a revocation whose note names the number, the public
and the API lookups, a verification, a console search by ID number, the audit trail read.
Then every column of every row of every table (through the models' metadata), every
file under the instance folder, the batch storage and the key store (archives and
spreadsheets unzipped, the SQLite database and its WAL read raw, so that freed pages
count) and every captured log line are searched for each test number, in either case of
its check character. The scan is shown to find a planted number in a table and in a
spreadsheet inside an archive."""

from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import create_engine, insert, select

from issuer.app import create_app
from issuer.cli import client
from issuer.service.principal import OPERATOR, Role
from issuer.service.wiring import UseCases
from issuer.store import migrate
from issuer.store import models as m
from tests.builders import HEADER, jpeg, resident_id, to_xlsx
from tests.conftest import ELECTRICIAN, ORG_CODE, PG_URL, Clock, _empty_tables, register
from tests.factories import ID_NUMBER, issue_body
from tests.servers import serving

HOLDERS = {"张三丰": ID_NUMBER, "李四": resident_id(1), "王五": resident_id(2), "赵六": resident_id(3)}
NUMBERS = tuple(HOLDERS.values())


# --- the scan ---------------------------------------------------------------------------------


def _needles(numbers: tuple[str, ...]) -> dict[bytes, str]:
    forms = {}
    for number in numbers:
        for form in {number, number.lower(), number.upper()}:
            forms[form.encode("utf-8")] = number
            forms[form.encode("utf-16-le")] = number
    return forms


def _scan_bytes(where: str, data: bytes, needles: dict[bytes, str], depth: int = 0) -> Iterator[str]:
    for needle, number in needles.items():
        if needle in data:
            yield f"{where}: {number}"
    if depth < 3 and data[:4] == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            return
        with archive:
            for name in archive.namelist():
                yield from _scan_bytes(f"{where}!{name}", archive.read(name), needles, depth + 1)


def _text_of(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    return str(value).encode("utf-8")


def scan_tables(url: str, numbers: tuple[str, ...]) -> list[str]:
    """Every table of the models, every row, every column."""
    needles = _needles(numbers)
    found: list[str] = []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table in m.Base.metadata.sorted_tables:
                for i, row in enumerate(conn.execute(select(table))):
                    for column, value in row._mapping.items():
                        if value is not None:
                            found.extend(_scan_bytes(f"{table.name}[{i}].{column}", _text_of(value), needles))
    finally:
        engine.dispose()
    return found


def scan_files(roots: list[Path], numbers: tuple[str, ...]) -> list[str]:
    """Every file under ``roots``, read raw; ZIP archives (and the XLSX in them) unzipped."""
    needles = _needles(numbers)
    found: list[str] = []
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            found.extend(_scan_bytes(str(path.relative_to(root.parent)), path.read_bytes(), needles))
    return found


def scan_text(where: str, text: str, numbers: tuple[str, ...]) -> list[str]:
    return list(_scan_bytes(where, text.encode("utf-8"), _needles(numbers)))


# --- the flows --------------------------------------------------------------------------------


@pytest.fixture()
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("ISSUER_INSTANCE_PATH", str(path))
    return path


@pytest.fixture()
def url(instance: Path, database_url: str) -> str:
    """PostgreSQL when the tests run on it; else a database of this test's own, in the
    instance folder as the service keeps it, so that its file is scanned too."""
    if PG_URL:
        _empty_tables(database_url)
        return database_url
    own = f"sqlite:///{instance / 'issuer.sqlite3'}"
    migrate.upgrade(own)
    return own


def _json(service: client.Service, path: str, body: dict[str, Any], **headers: str) -> tuple[dict[str, Any], Any]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    with service.open(path, method="POST", body=[data], headers={"Content-Type": "application/json", **headers}) as r:
        return json.loads(r.read()), r.headers


def _roster(tmp: Path) -> tuple[Path, Path]:
    rows = [
        [name, "居民身份证", number, ELECTRICIAN, "--", "3", 80, 75, "", f"{number}.jpg"]
        for name, number in HOLDERS.items()
        if name != "张三丰"
    ]
    roster = tmp / "名单.xlsx"
    roster.write_bytes(to_xlsx(rows, HEADER))
    photos = tmp / "照片.zip"
    with zipfile.ZipFile(photos, "w") as z:
        for number in NUMBERS[1:3]:  # 赵六's photo is missing: a problem naming the file
            z.writestr(f"{number}.jpg", jpeg())
    return roster, photos


def _run_the_flows(base: str, svc: UseCases, admin: str, issuer: str, tmp: Path) -> dict[str, Any]:
    org = client.Service(base, issuer)
    first, _ = _json(org, "/api/v1/certificates", issue_body(), **{"Idempotency-Key": "exam-0001"})
    again, replayed = _json(org, "/api/v1/certificates", issue_body(), **{"Idempotency-Key": "exam-0001"})
    assert replayed["Idempotency-Replayed"] == "true" and again == first and first["document_number"] == ID_NUMBER

    roster, photos = _roster(tmp)
    fields = {"valid_rows_only": "true", "formats": "png,pdf", "dpi": "150"}
    files = {"roster": roster, "photos": photos}
    batch = client.upload(org, fields, files, {"Idempotency-Key": "session-0001"})
    assert client.upload(org, fields, files, {"Idempotency-Key": "session-0001"})["id"] == batch["id"]
    done = client.wait(org, batch["id"], poll=0.1, timeout=120)
    assert [p["code"] for p in done["report"]["problems"]] == ["photo_missing"]
    client.download(org, done, tmp / "证书.zip")
    sheet = openpyxl.load_workbook(io.BytesIO(client.result(org, batch["id"])), read_only=True).worksheets[0]
    issued = [str(row[2]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[2]]

    revoked = first["number"]
    with org.open(f"/api/v1/certificates/{revoked}/image?format=pdf&dpi=150") as r:
        assert r.read(5) == b"%PDF-"
    note = f"证件号码{ID_NUMBER}录入错误"
    _json(org, f"/api/v1/certificates/{revoked}/revoke", {"reason": "data_error", "note": note})

    lisi = issued[0]
    public = client.Service(base, "")
    query = urllib.parse.urlencode({"number": lisi, "name": "李四", "document_number": HOLDERS["李四"]})
    assert public.json(f"/api/v1/lookup?{query}")["document_number"].startswith("2301")
    found, _ = _json(public, "/api/v1/lookup", {"number": lisi, "name": "李四", "document_number": HOLDERS["李四"]})
    assert found["status"] == "valid"
    qr_text = org.json(f"/api/v1/certificates/{lisi}")["qr_text"]
    verdict, _ = _json(public, "/api/v1/verify", {"qr_text": qr_text})
    assert verdict["status"] == "valid"

    svc.accounts.create(
        OPERATOR, username="issuer1", display_name="周八", role="org_issuer", password="correct-horse-42",
        organization=ORG_CODE,
    )  # fmt: skip
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    sign_in = urllib.parse.urlencode({"username": "issuer1", "password": "correct-horse-42"}).encode()
    browser.open(urllib.request.Request(f"{base}/console/sign-in", sign_in, {"Origin": base})).read()
    for number in (HOLDERS["李四"], ID_NUMBER, lisi):
        page = browser.open(f"{base}/console/certificates?q={urllib.parse.quote(number)}").read().decode()
        assert lisi in page or revoked in page
    form = urllib.parse.urlencode({"number": lisi, "name": "李四", "document_number": HOLDERS["李四"]}).encode()
    assert "有效" in browser.open(urllib.request.Request(f"{base}/lookup", form, {"Origin": base})).read().decode()

    audit = client.Service(base, admin).json("/api/v1/audit")
    actions = {event["action"] for event in audit["events"]}
    assert {"certificate.revoke", "apikey.create"} <= actions, actions
    return {"done": done, "revoked": revoked}


def test_no_full_document_number_is_kept_anywhere(
    instance: Path, url: str, keys_dir: Path, tmp_path: Path, clock: Clock, captured: io.StringIO
) -> None:
    batches = tmp_path / "batches"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "KEYS_DIR": str(keys_dir),
            "KEY_PASSPHRASE": "test-passphrase",
            "QR_HOST": "cert.hrss.example.cn",
            "BATCH_DIR": str(batches),
        },
        clock=clock,
    )
    svc: UseCases = app.extensions["issuer.use_cases"]
    downloads = tmp_path / "client"
    downloads.mkdir()
    try:
        register(svc)
        admin = svc.api_keys.create(OPERATOR, role=Role.AUTHORITY_ADMIN.value, name="张科长").secret
        issuer = svc.api_keys.create(OPERATOR, role=Role.ORG_ISSUER.value, name="发证员", organization=ORG_CODE).secret
        with serving(app) as base:
            seen = _run_the_flows(base, svc, admin, issuer, downloads)
    finally:
        svc.close()

    assert seen["done"]["status"] == "done"
    [archive_path] = batches.rglob("*.zip")
    with zipfile.ZipFile(archive_path) as archive:
        assert "result.xlsx" in archive.namelist()  # the scan below opens it
    logs = captured.getvalue()
    assert "GET /console/certificates?q=2301" in logs  # the request log was captured
    leaks = [
        *scan_tables(url, NUMBERS),
        *scan_files([instance, batches, keys_dir], NUMBERS),
        *scan_text("logs", logs, NUMBERS),
    ]
    assert leaks == [], "\n".join(leaks)


def test_the_scan_finds_a_planted_number_in_a_table_and_in_a_spreadsheet_in_an_archive(
    url: str, tmp_path: Path
) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(m.IdempotencyRecord.__table__).values(
                principal="p", key="k", request_hash="h", status_code=201,
                response={"document_number": ID_NUMBER.lower()}, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    engine.dispose()
    sheet = io.BytesIO()
    with zipfile.ZipFile(sheet, "w", zipfile.ZIP_DEFLATED) as xlsx:
        xlsx.writestr("xl/worksheets/sheet1.xml", f"<c t='inlineStr'><is><t>{HOLDERS['李四']}</t></is></c>")
    store = tmp_path / "store"
    store.mkdir()
    with zipfile.ZipFile(store / "archive.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("result.xlsx", sheet.getvalue())
    assert scan_tables(url, NUMBERS) == [f"idempotency_records[0].response: {ID_NUMBER}"]
    assert scan_files([store], NUMBERS) == [
        f"store/archive.zip!result.xlsx!xl/worksheets/sheet1.xml: {HOLDERS['李四']}"
    ]
    assert scan_text("logs", f"x {NUMBERS[3]} y", NUMBERS) == [f"logs: {NUMBERS[3]}"]
