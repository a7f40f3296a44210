"""API keys: shown once, stored as SHA-256 of the secret (the secret is 256 random bits,
so a fast hash is enough), each bound to a role and, for issuers, one organization."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from issuer.core.errors import InvalidInput, NotFound
from issuer.service import audit
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.principal import Principal, Role, require_role
from issuer.store.records import ApiKeyRecord
from issuer.store.uow import UnitOfWork

PREFIX = "isk"


@dataclass(frozen=True)
class KeyInfo:
    id: str
    role: str
    name: str
    organization: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> KeyInfo:
        return cls(
            record.prefix, record.role, record.name, record.organization_code, record.created_at, record.revoked_at
        )


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    secret: str
    """The whole key, ``isk_<id>_<secret>``; not stored, shown once."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    def __init__(self, ctx: Context, log: TransparencyLog) -> None:
        self._ctx = ctx
        self._log = log

    def create(self, principal: Principal | None, *, role: str, name: str, organization: str | None = None) -> NewKey:
        actor = require_role(principal, Role.AUTHORITY_ADMIN).actor
        try:
            chosen = Role(role)
        except ValueError:
            raise InvalidInput(
                "invalid_role", f"role must be one of {', '.join(r.value for r in Role)}", "角色无效"
            ) from None
        if (chosen is Role.ORG_ISSUER) != (organization is not None):
            raise InvalidInput(
                "organization_mismatch",
                "an org_issuer key needs an organization, other roles none",
                "发证人员密钥必须指定机构，其他角色不能指定机构",
            )
        if not 1 <= len(name.strip()) <= 200:
            raise InvalidInput("invalid_name", "a key needs a name of 1-200 characters", "密钥名称应为1至200个字符")

        def work(uow: UnitOfWork) -> NewKey:
            now = self._ctx.clock()
            org = None
            if organization is not None:
                org = uow.organizations.get(organization.strip().upper())
                if org is None:
                    raise NotFound(
                        "organization_not_found", f"no organization {organization}", f"没有机构{organization}"
                    )
            key_id = secrets.token_hex(6)
            secret = secrets.token_urlsafe(32)
            record = uow.api_keys.add(
                prefix=key_id,
                secret_hash=_hash(secret),
                role=chosen.value,
                organization_id=org.id if org else None,
                name=name.strip(),
                created_at=now,
            )
            audit.append(
                uow,
                self._log,
                at=now,
                actor=actor,
                action="apikey.create",
                target=key_id,
                details={"role": chosen.value, "organization": org.code if org else None, "name": record.name},
            )
            uow.commit()
            return NewKey(KeyInfo.of(record), f"{PREFIX}_{key_id}_{secret}")

        return self._ctx.run(work)

    def authenticate(self, presented: str) -> Principal | None:
        """The principal of a presented key, or None for anything that is not a live key."""
        parts = presented.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX or not re.fullmatch(r"[0-9a-f]{12}", parts[1]):
            return None
        with self._ctx.reading() as uow:
            record = uow.api_keys.get(parts[1])
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(record.secret_hash, _hash(parts[2])):
            return None
        return Principal(Role(record.role), record.prefix, record.organization_id, record.organization_code)

    def list(self, principal: Principal | None) -> list[KeyInfo]:
        require_role(principal, Role.AUTHORITY_ADMIN)
        with self._ctx.reading() as uow:
            return [KeyInfo.of(k) for k in uow.api_keys.all()]

    def revoke(self, principal: Principal | None, key_id: str) -> KeyInfo:
        actor = require_role(principal, Role.AUTHORITY_ADMIN).actor

        def work(uow: UnitOfWork) -> KeyInfo:
            now = self._ctx.clock()
            record = uow.api_keys.get(key_id)
            if record is None or record.revoked_at is not None:
                raise NotFound("api_key_not_found", f"no live API key {key_id}", f"没有有效的API密钥{key_id}")
            uow.api_keys.revoke(key_id, now)
            audit.append(uow, self._log, at=now, actor=actor, action="apikey.revoke", target=key_id, details={})
            found = uow.api_keys.get(key_id)
            uow.commit()
            assert found is not None
            return KeyInfo.of(found)

        return self._ctx.run(work)
