"""Fixtures: a real database (SQLite by default; PostgreSQL when TEST_DATABASE_URL is set,
as CI does), real keys (Ed25519 by default; the 国密 profile's SM2 when
ISSUER_TEST_PROFILE=sm2, as CI's third leg does), a controllable clock."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from issuer import config as settings
from issuer.app import create_app
from issuer.service import bootstrap, registry
from issuer.service.principal import OPERATOR, Principal, Role
from issuer.service.wiring import UseCases
from issuer.store import migrate
from issuer.store.models import Base
from tests.hsm import SoftHsm, softhsm_tokens

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PROFILE = os.environ.get("ISSUER_TEST_PROFILE", "ed25519")
"""The signature suite of the test deployment's root, and so of every key it makes."""
TREE_HASH = settings.PROFILES[PROFILE].tree_hash
"""The hash of the test deployment's transparency log (SHA-256, or SM3 in the SM2 profile)."""
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys")
    from issuer.store.keystore import KeyStore

    store = KeyStore(path, "test-passphrase")
    suite = settings.PROFILES[PROFILE]
    bootstrap.init_authority(store, "人力资源和社会保障部（测试）", now=datetime(2024, 1, 1, tzinfo=UTC), suite=suite)
    return path


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        url = _worker_database(PG_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.upgrade(url)
    return url


def worker_redis(url: str) -> str:
    """``url`` with the pytest-xdist worker's number added to its Redis database (``/8`` →
    ``/9`` for gw1): tests of one file may run in several workers at once, and each empties
    its database. Files use bases 4 apart, so up to 4 workers never share one."""
    index = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + index}"


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own database beside the named one
    (``test`` → ``test_gw0``), created on first use; without xdist the named one itself."""
    if not WORKER:
        return url
    base = make_url(url)
    name = f"{base.database}_{WORKER}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


@pytest.fixture()
def clock() -> Clock:
    return Clock(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))


def _test_config(database_url: str, keys_dir: Path, tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "KEY_PASSPHRASE": "test-passphrase",
        "CRYPTO_PROFILE": PROFILE,
        "QR_HOST": "cert.hrss.example.cn",
        "BATCH_DIR": str(tmp_path / "batches"),
        "BATCH_CHUNK": 5,
        "LOG_DELAY_MS": 0,
    }


def point_the_cli_at(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``issuer`` command, run in this process, works on ``app``'s database and keys."""
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("ISSUER_KEYS_DIR", app.config["KEYS_DIR"])
    monkeypatch.setenv("ISSUER_KEY_PASSPHRASE", app.config["KEY_PASSPHRASE"])


@pytest.fixture()
def app(database_url: str, keys_dir: Path, clock: Clock, tmp_path: Path) -> Iterator[Flask]:
    _empty_tables(database_url)
    app = create_app(_test_config(database_url, keys_dir, tmp_path), clock=clock)
    yield app
    app.extensions["issuer.use_cases"].close()


@pytest.fixture()
def app_with(
    app: Flask, database_url: str, keys_dir: Path, clock: Clock, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """``app_with(SETTING=value, …)``: another app beside ``app``, on the same database and
    clock, with some settings changed."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        other = create_app({**_test_config(database_url, keys_dir, tmp_path), **config}, clock=clock)
        made.append(other)
        return other

    yield make
    for other in made:
        other.extensions["issuer.use_cases"].close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def svc(app: Flask) -> UseCases:
    """The app's use cases, called as the API and the pages call them."""
    found: UseCases = app.extensions["issuer.use_cases"]
    return found


ORG_CODE = "Y000123000001"
OTHER_CODE = "S000044000002"
ELECTRICIAN = "6-31-01-03"
WELDER = "6-18-02-04"


def register(
    svc: UseCases, code: str = ORG_CODE, name: str = "黑龙江某某电力股份有限公司", *, until: date = date(2030, 12, 31)
) -> None:
    svc.registry.register(
        OPERATOR,
        registry.Registration(
            kind=code[0],
            authority_code=code[1:5],
            province=code[5:7],
            site_code=code[7:13],
            name=name,
            scope=(
                registry.ScopeItem(ELECTRICIAN, (5, 4, 3, 2, 1)),
                registry.ScopeItem(WELDER, (5, 4, 3), ("电焊工", "气焊工")),
            ),
            registered_from=date(2025, 1, 1),
            registered_until=until,
        ),
    )


@dataclass(frozen=True)
class Keys:
    admin: str
    issuer: str
    other_issuer: str
    auditor: str


@pytest.fixture()
def keys(svc: UseCases) -> Keys:
    """Two registered organizations and a key for every role."""
    register(svc)
    register(svc, OTHER_CODE, "广东某某职业技能培训中心")

    def make(role: Role, org: str | None = None) -> str:
        return svc.api_keys.create(OPERATOR, role=role.value, name=f"test {role.value}", organization=org).secret

    return Keys(
        admin=make(Role.AUTHORITY_ADMIN),
        issuer=make(Role.ORG_ISSUER, ORG_CODE),
        other_issuer=make(Role.ORG_ISSUER, OTHER_CODE),
        auditor=make(Role.AUDITOR),
    )


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def issuer_principal(svc: UseCases, code: str = ORG_CODE) -> Principal:
    org = svc.registry.read(OPERATOR, code)
    return Principal(Role.ORG_ISSUER, "test", org.id, org.code)


@pytest.fixture()
def captured() -> Iterator[io.StringIO]:
    """Everything any logger of the process writes (werkzeug's request log included), as a
    file handler would write it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root, werkzeug = logging.getLogger(), logging.getLogger("werkzeug")
    levels = root.level, werkzeug.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    werkzeug.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        werkzeug.setLevel(levels[1])


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """SoftHSM2 with tokens of this test process's own (tests.hsm); skipped without it."""
    yield from softhsm_tokens(tmp_path_factory)
