"""Who is calling, and what each role may do (least privilege)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from issuer.core.errors import Forbidden, IssuerError


class Unauthenticated(IssuerError):
    """No credentials, or credentials that are not a live key (HTTP 401)."""

    kind = "unauthorized"


class Role(StrEnum):
    AUTHORITY_ADMIN = "authority_admin"
    ORG_ISSUER = "org_issuer"
    AUDITOR = "auditor"


ROLE_NAMES_ZH = {Role.AUTHORITY_ADMIN: "人社部门管理员", Role.ORG_ISSUER: "评价机构发证人员", Role.AUDITOR: "审计人员"}


@dataclass(frozen=True)
class Principal:
    role: Role
    key_prefix: str
    organization_id: int | None = None
    organization_code: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.key_prefix}"


OPERATOR = Principal(Role.AUTHORITY_ADMIN, "operator")
"""The person at the server's console (the ``issuer`` command): bootstraps the first keys."""


def require_role(principal: Principal | None, *roles: Role) -> Principal:
    if principal is None:
        raise Unauthenticated(
            "authentication_required",
            "an API key is required (Authorization: Bearer <key>)",
            "需要API密钥（Authorization: Bearer <密钥>）",
        )
    if principal.role not in roles:
        wanted = ", ".join(r.value for r in roles)
        raise Forbidden(
            "role_not_allowed",
            f"this action needs the role {wanted}",
            f"此操作需要以下角色：{'、'.join(ROLE_NAMES_ZH[r] for r in roles)}",
        )
    return principal
