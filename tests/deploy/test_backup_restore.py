"""A restore tested by a script: ``deploy/backup.sh`` and ``deploy/restore.sh`` on SQLite
and, when TEST_DATABASE_URL names one, PostgreSQL (docs/DEPLOY.md, "Backups").

A deployment set up as ``issuer dev init`` sets one up (its own keys folder, database,
batches folder and secrets) issues certificates and revokes one; it is backed up, wiped and
restored into an empty database and keys folder. Then the certificates it handed out verify
offline against the restored service's trust bundle, pinned to the root certificate saved
before the backup; the service answers for the same numbers, the revocation and the
document numbers (decrypted with the data key) included; the next certificate takes the
next serial; and ``issuer audit --instance`` finds nothing. A restore into a deployment that
is not empty, and a backup whose members do not match its manifest, write nothing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from issuer.app import create_app
from issuer.cli import main
from issuer.core import trust
from issuer.core.numbering import CertificateNumber
from issuer.core.verify import verify
from tests import factories as f
from tests.conftest import PG_URL, WORKER, auth
from tests.deploy.files import DEPLOY

BACKUP, RESTORE = DEPLOY / "backup.sh", DEPLOY / "restore.sh"
DATA_KEY = "YmFja3VwLXJlc3RvcmUtdGVzdC1kYXRhLWtleS0zMmI="  # base64 of 32 bytes; a test value
PASSPHRASE = "backup-restore-test-passphrase"
PEOPLE = (11, 12, 13)
REVOKED = 12


def _tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


@dataclass
class Deployment:
    """One deployment's settings (``ISSUER_*``, ``DATABASE_URL``) and folders."""

    root: Path
    database_url: str
    """Empty: SQLite, ``issuer.sqlite3`` in the instance folder (as ``make run``)."""

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def instance(self) -> Path:
        return self.root / "instance"

    @property
    def batches(self) -> Path:
        return self.root / "batches"

    def environment(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "ISSUER_INSTANCE_PATH": str(self.instance),
            "ISSUER_KEYS_DIR": str(self.keys),
            "ISSUER_BATCH_DIR": str(self.batches),
            "ISSUER_KEY_PASSPHRASE": PASSPHRASE,
            "ISSUER_DATA_KEY": DATA_KEY,
            "ISSUER_QR_HOST": f.HOST,
        }

    def env_file(self) -> Path:
        """The settings as systemd's EnvironmentFile holds them (a comment, a quoted value)."""
        path = self.root / "issuer.env"
        lines = ["# the service's settings", *(f"{k}={v}" for k, v in self.environment().items())]
        quoted = "\n".join(lines).replace(f"={self.keys}", f'="{self.keys}"')
        path.write_text(quoted + "\n", encoding="utf-8")
        return path

    def script(self, *args: str, settings: bool = True) -> subprocess.CompletedProcess[str]:
        """A deploy/ script, as an operator runs it: the service's settings in its
        environment (unless ``settings`` is false: ``--env-file``), nothing else of the test's."""
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **(self.environment() if settings else {})}
        return subprocess.run(
            ["bash", *args], env=env, cwd=self.root, capture_output=True, text=True, timeout=60, check=False
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The database backed up and the empty one restored into: for SQLite, the default
    (``issuer.sqlite3`` in ``ISSUER_INSTANCE_PATH``) both times, the file being wiped."""
    if request.param == "sqlite":
        _tools("sqlite3")
        yield "", ""
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL names no PostgreSQL database")
    _tools("pg_dump", "pg_restore", "psql")
    base = make_url(PG_URL)
    names = [f"{base.database}_backup_{WORKER or 'main'}", f"{base.database}_restored_{WORKER or 'main'}"]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]
        yield urls[0], urls[1]
    finally:
        drop()
        admin.dispose()


@contextmanager
def settings_of(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's environment holds ``deployment``'s settings and no other ``ISSUER_*``."""
    with monkeypatch.context() as m:
        for name in list(os.environ):
            if name.startswith("ISSUER_"):
                m.delenv(name)
        for name, value in deployment.environment().items():
            m.setenv(name, value)
        yield


@contextmanager
def service(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    """The service of ``deployment``, built as ``issuer serve`` builds it: from the
    environment."""
    with settings_of(deployment, monkeypatch):
        app = create_app({"TESTING": True})
        try:
            yield app.test_client()
        finally:
            app.extensions["issuer.use_cases"].close()


def _cli(deployment: Deployment, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    with settings_of(deployment, monkeypatch):
        return CliRunner().invoke(main, list(args))


def _api_keys(deployment: Deployment) -> dict[str, str]:
    lines = (deployment.instance / "dev-api-keys.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines)


def _set_up(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, dict[str, Any]], str]:
    """``issuer dev init``, certificates issued, one revoked. Returns them by number, and
    the organization's API key (its hash is in the database; the secret is kept here, since
    ``dev-api-keys.txt`` is in the instance folder, which is wiped)."""
    done = _cli(deployment, monkeypatch, "dev", "init")
    assert done.exit_code == 0, done.output
    key = _api_keys(deployment)["org_issuer"]
    issued = {}
    with service(deployment, monkeypatch) as client:
        for person in PEOPLE:
            answer = client.post("/api/v1/certificates", json=f.issue_body(person), headers=auth(key))
            assert answer.status_code == 201, answer.get_json()
            issued[person] = answer.get_json()
        number = issued[REVOKED]["number"]
        revoked = client.post(f"/api/v1/certificates/{number}/revoke", json={"reason": "data_error"}, headers=auth(key))
        assert revoked.status_code == 200, revoked.get_json()
    deployment.batches.mkdir(exist_ok=True)
    (deployment.batches / "kept.zip").write_bytes(b"a finished batch's archive")
    return {n["number"]: {**n, "status": "revoked" if p == REVOKED else "valid"} for p, n in issued.items()}, key


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    assert member is not None, name
    return member.read()


def _wipe(deployment: Deployment) -> None:
    for folder in (deployment.keys, deployment.instance, deployment.batches):
        shutil.rmtree(folder)


def test_a_backup_restored_into_an_empty_deployment_gives_back_the_same_certificates(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backed_up, restored_into = databases
    deployment = Deployment(tmp_path, backed_up)
    issued, key = _set_up(deployment, monkeypatch)
    root_pem = (deployment.keys / "authority" / "root.crt.pem").read_bytes()  # as the ceremony exported it

    made = deployment.script(str(BACKUP), "--with-batches", str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.strip())
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("issuer-backup-")
    assert archive.stat().st_mode & 0o077 == 0  # personal data and key files: the owner's only
    with tarfile.open(archive) as tar:
        database_member = "database.pgdump" if backed_up else "database.sqlite3"
        assert sorted(tar.getnames()) == sorted(["MANIFEST.sha256", "INFO", database_member, "keys.tar", "batches.tar"])
        members = {name: _read(tar, name) for name in tar.getnames()}
    for name, content in members.items():  # the secrets stay out of the backup
        assert PASSPHRASE.encode() not in content and DATA_KEY.encode() not in content, name
    with tarfile.open(fileobj=io.BytesIO(members["keys.tar"])) as keys:
        private = [name for name in keys.getnames() if name.endswith(".key.pem")]
        assert private and all(b"ENCRYPTED PRIVATE KEY" in _read(keys, name) for name in private)

    _wipe(deployment)
    deployment.database_url = restored_into  # PostgreSQL: a new, empty database
    restored = deployment.script(str(RESTORE), "--env-file", str(deployment.env_file()), str(archive), settings=False)
    assert restored.returncode == 0, restored.stderr
    assert (deployment.batches / "kept.zip").read_bytes() == b"a finished batch's archive"

    with service(deployment, monkeypatch) as client:
        bundle = client.get("/api/v1/trust-bundle")
        assert bundle.status_code == 200
        store = trust.load_bundle(bundle.data, pinned_root=x509.load_pem_x509_certificate(root_pem))
        now = datetime.now(UTC)
        for number, before in issued.items():
            assert verify(before["qr_text"], store, at=now).status.value == before["status"], number
            answer = client.post("/api/v1/verify", json={"qr_text": before["qr_text"]}).get_json()
            assert answer["status"] == before["status"]
            after = client.get(f"/api/v1/certificates/{number}", headers=auth(key)).get_json()
            assert (after["number"], after["status"], after["qr_text"]) == (number, before["status"], before["qr_text"])
            assert after["document_number"] == before["document_number"]  # decrypted with ISSUER_DATA_KEY
        assert client.get("/readyz").status_code == 200

        following = client.post("/api/v1/certificates", json=f.issue_body(14), headers=auth(key))
        assert following.status_code == 201, following.get_json()  # the organization's key signs again
        serials = [CertificateNumber.parse(n).serial for n in issued]
        assert CertificateNumber.parse(following.get_json()["number"]).serial == max(serials) + 1

    audit = _cli(deployment, monkeypatch, "audit", "--instance")
    assert audit.exit_code == 0, audit.output


def test_a_restore_refuses_a_deployment_that_is_not_empty_and_a_damaged_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tools("sqlite3")
    deployment = Deployment(tmp_path, "")
    done = _cli(deployment, monkeypatch, "dev", "init")
    assert done.exit_code == 0, done.output
    made = deployment.script(str(BACKUP), str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.strip())

    database = deployment.instance / "issuer.sqlite3"
    before = database.read_bytes()
    again = deployment.script(str(RESTORE), str(archive))
    assert again.returncode == 1 and "not empty" in again.stderr
    assert database.read_bytes() == before

    shutil.rmtree(deployment.keys)
    kept = deployment.script(str(RESTORE), str(archive))
    assert kept.returncode == 1 and "restore into a database that does not exist yet" in kept.stderr
    assert database.read_bytes() == before and not deployment.keys.exists()

    database.unlink()
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w") as copy:
        for member in original.getmembers():
            data = original.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == "INFO":
                content = content.replace(b"key_backend=file", b"key_backend=pkcs11")
                member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    refused = deployment.script(str(RESTORE), str(damaged))
    assert refused.returncode == 1 and "does not match MANIFEST.sha256" in refused.stderr
    assert not database.exists() and not deployment.keys.exists()
