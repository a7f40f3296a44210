"""A throw-away deployment for the service benchmarks: a keys folder with an authority
root, a migrated database (a SQLite file, or the PostgreSQL database ``bench`` with its
schema dropped and recreated), one registered organization and its issuing principal."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from issuer import config as defaults
from issuer.core import identity
from issuer.core.clock import china_date
from issuer.core.numbering import CertificateNumber
from issuer.core.suites import ED25519, Suite
from issuer.service import bootstrap, wiring
from issuer.service.context import utc_now
from issuer.service.issuing import IssueRequest
from issuer.service.principal import OPERATOR, Principal, Role
from issuer.service.registry import Registration, ScopeItem
from issuer.service.wiring import UseCases
from issuer.store import migrate
from issuer.store import models as m
from issuer.store.keystore import KeyStore

PG_HOST, PG_PORT, PG_USER, PG_DATABASE = "127.0.0.1", 5432, "postgres", "bench"
PG_URL = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
PASSPHRASE = "bench-passphrase"
QR_HOST = "cert.hrss.example.cn"
AUTHORITY = "人力资源和社会保障部职业技能鉴定中心（基准测试）"
ORG_CODE = "Y000123000001"
ORG_NAME = "黑龙江某某电力股份有限公司"
ELECTRICIAN = "6-31-01-03"
HOLDER_NAMES = ("张三丰", "李四", "王小明", "赵敏", "阿卜杜热依木江·买买提")


# PostgreSQL --------------------------------------------------------------------------------


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); creates the database if missing."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3, autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    except psycopg.Error as exc:
        return f"{PG_HOST}:{PG_PORT} unreachable ({str(exc).strip().splitlines()[0]})"
    return None


def reset_postgres(url: str = PG_URL) -> str:
    """Drop and recreate the schema of the database at ``url`` (``bench``); returns ``url``."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'issuer.sqlite3'}"


# The deployment ----------------------------------------------------------------------------


def app_config(url: str, keys_dir: Path) -> dict[str, Any]:
    """The settings create_app / wiring.build need (defaults, not the environment)."""
    return {
        **defaults.DEFAULTS,
        "DATABASE_URL": url,
        "KEYS_DIR": str(keys_dir),
        "KEY_PASSPHRASE": PASSPHRASE,
        "QR_HOST": QR_HOST,
    }


@dataclass
class Deployment:
    folder: Path
    config: dict[str, Any]
    use: UseCases
    principal: Principal
    """An org_issuer principal of the registered organization."""

    def close(self) -> None:
        self.use.close()


def _registration(today: date) -> Registration:
    return Registration(
        kind=ORG_CODE[0],
        authority_code=ORG_CODE[1:5],
        province=ORG_CODE[5:7],
        site_code=ORG_CODE[7:13],
        name=ORG_NAME,
        scope=(ScopeItem(ELECTRICIAN, (5, 4, 3, 2, 1)),),
        registered_from=today - timedelta(days=365),
        registered_until=today + timedelta(days=5 * 365),
    )


def deploy(url: str, folder: Path, *, suite: Suite = ED25519) -> Deployment:
    """Authority root (in ``suite``), migrated schema and a registered organization at ``url``."""
    keys_dir = folder / "keys"
    now = utc_now()
    bootstrap.init_authority(KeyStore(keys_dir, PASSPHRASE), AUTHORITY, now=now, suite=suite)
    migrate.upgrade(url)
    config = app_config(url, keys_dir)
    use = wiring.build(config, str(folder))
    org = use.registry.register(OPERATOR, _registration(china_date(now)))
    return Deployment(folder, config, use, Principal(Role.ORG_ISSUER, "bench", org.id, org.code))


def another_organization(use: UseCases, site_code: str, name: str) -> Principal:
    """An org_issuer principal of one more organization, registered like the first but for
    its site code and name."""
    registration = replace(_registration(china_date(utc_now())), site_code=site_code, name=name)
    org = use.registry.register(OPERATOR, registration)
    return Principal(Role.ORG_ISSUER, "bench", org.id, org.code)


def issuer_api_key(deployment: Deployment) -> str:
    """A new org_issuer API key (the whole secret) for the registered organization."""
    key = deployment.use.api_keys.create(OPERATOR, role=Role.ORG_ISSUER.value, name="bench", organization=ORG_CODE)
    return key.secret


# Requests and the serials they got ---------------------------------------------------------


def resident_id(i: int) -> str:
    """A valid, distinct 居民身份证 number for each ``i`` below 15 million."""
    born = date(1960, 1, 1) + timedelta(days=i % 15_000)
    first17 = f"110105{born:%Y%m%d}{i // 15_000 % 1000:03d}"
    return first17 + identity.check_character(first17)


@cache
def photo() -> bytes:
    """A 1-inch photo as the shipped layouts print it (25 × 35 mm at 300 dpi: 295 × 413
    pixels, a portrait JPEG), which issuing requires: the package's placeholder."""
    from issuer.render.samples import placeholder_photo

    return placeholder_photo()


def issue_fields(i: int, level: int) -> dict[str, Any]:
    """The fields of the ``i``-th request, as the JSON body of POST /api/v1/certificates."""
    return {
        "holder_name": HOLDER_NAMES[i % len(HOLDER_NAMES)],
        "document_type": "居民身份证",
        "document_number": resident_id(i),
        "occupation": ELECTRICIAN,
        "level": level,
        "scores": {"theory": "82", "practical": "75.5"},
        "photo": base64.b64encode(photo()).decode(),
    }


def issue_request(i: int, level: int) -> IssueRequest:
    fields = issue_fields(i, level)
    scores = {k: Decimal(v) for k, v in fields.pop("scores").items()}
    picture = base64.b64decode(fields.pop("photo"))
    return IssueRequest(**fields, scores=scores, photo=picture)


def serials(use: UseCases, level: int) -> list[int]:
    """The serials of the organization's certificates at ``level``, in ascending order."""
    with use.database.read_sessions() as session:
        numbers = session.scalars(select(m.Certificate.number).where(m.Certificate.level == level)).all()
    return sorted(CertificateNumber.parse(n).serial for n in numbers)
