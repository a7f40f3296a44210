"""First steps of a deployment: the authority root key, the schema, and for development a
registered organization with API keys, so that ``make run`` gives a working service."""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from issuer.core import pki
from issuer.core.suites import ED25519, Suite
from issuer.service import registry
from issuer.service.context import AuthorityKeys
from issuer.service.principal import OPERATOR, Role
from issuer.service.wiring import UseCases
from issuer.store import migrate

DEV_AUTHORITY = "人力资源和社会保障部职业技能鉴定中心（开发环境）"
DEV_ORG = registry.Registration(
    kind="S",
    authority_code="0000",
    province="11",
    site_code="000001",
    name="北京市某某职业技能培训学校（开发环境）",
    scope=(
        registry.ScopeItem("6-31-01-03", (5, 4, 3, 2, 1)),
        registry.ScopeItem("6-18-02-04", (5, 4, 3), ("电焊工", "气焊工")),
        registry.ScopeItem("4-04-05-05", (5, 4, 3, 2, 1)),
        registry.ScopeItem("4-03-02-01", (5, 4, 3, 2, 1)),
    ),
    registered_from=date(2025, 1, 1),
    registered_until=date(2030, 12, 31),
)


def init_authority(keys: AuthorityKeys, name: str, *, now: datetime, suite: Suite = ED25519) -> bool:
    """Create the root key (in the key store's backend: a file, or the token) in ``suite``
    and its certificate unless they exist. Returns whether it created."""
    if keys.has_authority():
        return False
    key = keys.new_authority_key(suite)
    keys.save_authority(key, pki.create_root(key, name, not_before=now - timedelta(minutes=5)))
    return True


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def init_dev(app: UseCases, instance_path: str) -> list[str]:
    """Everything ``make run`` needs, created only where missing. Returns what it did."""
    done = []
    migrate.upgrade(app.database.url)
    if init_authority(app.ctx.keys, DEV_AUTHORITY, now=app.ctx.clock(), suite=app.ctx.crypto_suite):
        done.append("created the development authority root key")
    with app.ctx.reading() as uow:
        has_org = uow.organizations.exists(DEV_ORG.code_text)
        has_keys = uow.api_keys.any()
        has_accounts = uow.accounts.any()
    if not has_org:
        app.registry.register(OPERATOR, DEV_ORG)
        done.append(f"registered development organization {DEV_ORG.code_text}")
    if not has_keys:
        admin = app.api_keys.create(OPERATOR, role=Role.AUTHORITY_ADMIN.value, name="development admin")
        issuer_key = app.api_keys.create(
            OPERATOR, role=Role.ORG_ISSUER.value, name="development issuer", organization=DEV_ORG.code_text
        )
        auditor = app.api_keys.create(OPERATOR, role=Role.AUDITOR.value, name="development auditor")
        path = Path(instance_path) / "dev-api-keys.txt"
        _write_secret(
            path,
            f"authority_admin {admin.secret}\norg_issuer {issuer_key.secret}\nauditor {auditor.secret}\n",
        )
        done.append(f"created development API keys in {path}")
    if not has_accounts:
        lines = []
        for username, name, role, org in (
            ("issuer", "开发发证员", Role.ORG_ISSUER, DEV_ORG.code_text),
            ("admin", "开发管理员", Role.AUTHORITY_ADMIN, None),
        ):
            password = f"{secrets.token_urlsafe(12)}-{secrets.randbelow(90) + 10}"  # never letters only
            app.accounts.create(
                OPERATOR, username=username, display_name=name, role=role.value, password=password, organization=org
            )
            lines.append(f"{username} {password}\n")
        path = Path(instance_path) / "dev-accounts.txt"
        _write_secret(path, "".join(lines))
        done.append(f"created development console accounts in {path} (sign in at /console/)")
    app.publishing.refresh()
    return done
