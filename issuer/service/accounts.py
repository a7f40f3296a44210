"""Web console accounts: one per person, a role (an organization's issuer or an authority
administrator), a password stored as a salted scrypt hash, and a lockout after repeated
failures so that passwords cannot be guessed online."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.errors import Conflict, Forbidden, InvalidInput
from issuer.service import audit
from issuer.service.context import Services
from issuer.service.principal import Principal, Role, require_role
from issuer.service.registry import get_organization
from issuer.store import models as m

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""About 50 ms and 32 MiB a guess (OWASP's minimum for scrypt is N=2^17 with r=8 at
p=1, or an equivalent cost; 2^15 keeps sign-in quick on small servers: raise it freely,
old hashes carry their own parameters)."""
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
ROLES = (Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)


class SignInRefused(Forbidden):
    """Wrong name or password, or a locked account: the same words for both, so that a
    guesser learns nothing about which accounts exist."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 << 20)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=128 << 20
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the account does not exist, so both cases take the same time
    (made on first use: a scrypt hash costs every process that imports this ~50 ms)."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class AccountInfo:
    id: int
    username: str
    display_name: str
    role: Role
    organization_code: str | None
    organization_id: int | None
    session_epoch: int

    def principal(self) -> Principal:
        return Principal(self.role, f"web-{self.username}", self.organization_id, self.organization_code)

    @classmethod
    def of(cls, record: m.Account) -> AccountInfo:
        code = record.organization.code if record.organization else None
        return cls(
            record.id,
            record.username,
            record.display_name,
            Role(record.role),
            code,
            record.organization_id,
            record.session_epoch,
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise InvalidInput(
            "weak_password",
            f"a password needs at least {MIN_PASSWORD} characters, not only letters or only digits",
            f"密码至少{MIN_PASSWORD}位，且不能只含字母或只含数字",
        )


def create(
    svc: Services,
    principal: Principal | None,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    organization: str | None = None,
) -> AccountInfo:
    actor = require_role(principal, Role.AUTHORITY_ADMIN).actor
    name = username.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{2,63}", name):
        raise InvalidInput(
            "invalid_username",
            "a username is 3-64 letters, digits, '.', '_' or '-'",
            "用户名为3至64位字母、数字或“.”“_”“-”",
        )
    try:
        chosen = Role(role)
    except ValueError:
        chosen = None
    if chosen not in ROLES:
        raise InvalidInput("invalid_role", "role must be org_issuer or authority_admin", "角色应为机构发证员或管理员")
    if (chosen is Role.ORG_ISSUER) != bool(organization):
        raise InvalidInput(
            "organization_required", "an issuer account belongs to one organization", "发证员账号须属于一个机构"
        )
    if not 1 <= len(display_name.strip()) <= 64:
        raise InvalidInput("invalid_display_name", "the name needs 1-64 characters", "姓名应为1至64个字符")
    _check_password(password)
    hashed = hash_password(password)

    def work(session: Session) -> AccountInfo:
        if session.scalars(select(m.Account.id).where(m.Account.username == name)).first():
            raise Conflict("username_taken", f"username {name} is taken", f"用户名{name}已被使用")
        org = get_organization(session, organization) if organization else None
        now = svc.clock()
        record = m.Account(
            username=name,
            display_name=display_name.strip(),
            role=chosen.value if chosen else "",
            organization_id=org.id if org else None,
            password_hash=hashed,
            session_epoch=0,
            failed_logins=0,
            created_at=now,
        )
        session.add(record)
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action="account.create",
            target=name,
            details={"role": record.role, "organization": organization},
        )
        _ = record.organization
        return AccountInfo.of(record)

    return svc.retrying(work)


def sign_in(svc: Services, username: str, password: str) -> AccountInfo:
    """The account, or ``SignInRefused``. Five failures in a row lock it for 15 minutes
    (a correct password during the lockout does not open it)."""
    name = username.strip().lower()[:64]
    with svc.db.reading() as session:
        record = session.scalars(select(m.Account).where(m.Account.username == name)).first()
        stored = record.password_hash if record else _dummy_hash()
        locked = record is not None and record.locked_until is not None and record.locked_until > svc.clock()
    good = password_matches(password, stored) and record is not None and record.disabled_at is None
    if record is None:
        raise _refused()
    if locked:
        raise _refused(locked=True)

    def work(session: Session) -> AccountInfo | None:
        account = session.get(m.Account, record.id)
        now = svc.clock()
        if good:
            account.failed_logins, account.locked_until = 0, None
            _ = account.organization
            return AccountInfo.of(account)
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.failed_logins, account.locked_until = 0, now + LOCKOUT
            audit.append(session, at=now, actor="system", action="account.locked", target=account.username, details={})
        return None

    found: AccountInfo | None = svc.retrying(work)
    if found is None:
        raise _refused()
    return found


def _refused(*, locked: bool = False) -> SignInRefused:
    """One answer for a wrong name, a wrong password and a locked account, naming the
    lockout so that a person who mistyped knows to wait; ``locked`` only sets the code
    for the audit and the logs."""
    minutes = int(LOCKOUT.total_seconds() // 60)
    return SignInRefused(
        "account_locked" if locked else "sign_in_failed",
        f"wrong username or password (after {MAX_FAILURES} failures an account is locked for {minutes} minutes)",
        f"用户名或密码错误（连续失败{MAX_FAILURES}次将锁定{minutes}分钟）",
    )


def current(svc: Services, account_id: int, epoch: int) -> AccountInfo | None:
    """The signed-in account behind a session, if the session is still good."""
    with svc.db.reading() as session:
        record = session.get(m.Account, account_id)
        if record is None or record.disabled_at is not None or record.session_epoch != epoch:
            return None
        return AccountInfo.of(record)


def sign_out(svc: Services, account_id: int) -> None:
    """End every session of the account (the cookie's epoch no longer matches)."""

    def work(session: Session) -> None:
        record = session.get(m.Account, account_id)
        if record is not None:
            record.session_epoch += 1

    svc.retrying(work)


def change_password(svc: Services, account_id: int, current_password: str, new_password: str) -> None:
    """A person changes their own password: the current one is asked again, and every
    session of the account ends (sign in again with the new one)."""
    with svc.db.reading() as session:
        record = session.get(m.Account, account_id)
        stored = record.password_hash if record else _dummy_hash()
    if record is None or not password_matches(current_password, stored):
        raise SignInRefused("wrong_password", "the current password is wrong", "当前密码不正确")
    if new_password == current_password:
        raise InvalidInput("same_password", "choose a new password", "新密码不能与当前密码相同")
    _check_password(new_password)
    hashed = hash_password(new_password)

    def work(session: Session) -> None:
        account = session.get(m.Account, account_id)
        if account is not None:
            account.password_hash, account.session_epoch = hashed, account.session_epoch + 1
            audit.append(
                session,
                at=svc.clock(),
                actor=f"web-{account.username}",
                action="account.password",
                target=account.username,
                details={},
            )

    svc.retrying(work)
