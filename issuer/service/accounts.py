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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from issuer.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from issuer.service import audit
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.principal import Principal, Role, require_role
from issuer.store.records import AccountRecord
from issuer.store.uow import UnitOfWork

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""About 50 ms and 32 MiB a guess (OWASP's minimum for scrypt is N=2^17 with r=8 at
p=1, or an equivalent cost; 2^15 keeps sign-in quick on small servers: raise it freely,
old hashes carry their own parameters)."""
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
"""A console session ends this long after sign-in (a working day), even while in use."""
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
    def of(cls, record: AccountRecord) -> AccountInfo:
        return cls(
            record.id,
            record.username,
            record.display_name,
            Role(record.role),
            record.organization_code,
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


class Accounts:
    def __init__(self, ctx: Context, log: TransparencyLog) -> None:
        self._ctx = ctx
        self._log = log

    def create(
        self,
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
            raise InvalidInput(
                "invalid_role", "role must be org_issuer or authority_admin", "角色应为机构发证员或管理员"
            )
        assert chosen is not None
        if (chosen is Role.ORG_ISSUER) != bool(organization):
            raise InvalidInput(
                "organization_required", "an issuer account belongs to one organization", "发证员账号须属于一个机构"
            )
        if not 1 <= len(display_name.strip()) <= 64:
            raise InvalidInput("invalid_display_name", "the name needs 1-64 characters", "姓名应为1至64个字符")
        _check_password(password)
        hashed = hash_password(password)

        def work(uow: UnitOfWork) -> AccountInfo:
            if uow.accounts.by_username(name) is not None:
                raise Conflict("username_taken", f"username {name} is taken", f"用户名{name}已被使用")
            org_id = _organization_id(uow, organization) if organization else None
            now = self._ctx.clock()
            record = uow.accounts.add(
                username=name,
                display_name=display_name.strip(),
                role=chosen.value,
                organization_id=org_id,
                password_hash=hashed,
                created_at=now,
            )
            audit.append(
                uow,
                self._log,
                at=now,
                actor=actor,
                action="account.create",
                target=name,
                details={"role": record.role, "organization": organization},
            )
            uow.commit()
            return AccountInfo.of(record)

        return self._ctx.run(work)

    def sign_in(self, username: str, password: str) -> AccountInfo:
        """The account, or ``SignInRefused``. ``MAX_FAILURES`` wrong passwords since the
        last sign-in lock the account for ``LOCKOUT``; during it even the right password is
        refused, and once it has run out failures are counted afresh.

        Every wrong password is counted in the database (``failed_logins + 1``), and the
        decision — signed in, refused, locked — is taken on the account as it stands in
        that same transaction (its row held until commit), never on what was read before
        the ~50 ms password check: a burst of concurrent guesses, even with the right
        password among them, counts exactly and cannot open a locked account."""
        name = username.strip().lower()[:64]
        with self._ctx.reading() as uow:
            record = uow.accounts.by_username(name)
        # Checked against a dummy hash when there is no such account: both take as long.
        matches = password_matches(password, record.password_hash if record else _dummy_hash())
        if record is None:
            raise _refused()

        def work(uow: UnitOfWork) -> AccountRecord | SignInRefused:
            now = self._ctx.clock()
            current = uow.accounts.locked_for_update(record.id)
            if current is None:
                return _refused()
            locked = current.locked_until is not None and current.locked_until > now
            # The hash compared is the one checked: a password changed meanwhile refuses.
            good = matches and current.password_hash == record.password_hash and current.disabled_at is None
            if good and not locked:
                uow.accounts.update(current.id, failed_logins=0, locked_until=None)
                uow.commit()
                return current
            if not good:
                if current.locked_until is not None and not locked:  # the lockout has run out
                    uow.accounts.update(current.id, failed_logins=0, locked_until=None)
                if uow.accounts.count_failure(current.id) >= MAX_FAILURES and not locked:
                    uow.accounts.update(current.id, locked_until=now + LOCKOUT)
                    audit.append(
                        uow,
                        self._log,
                        at=now,
                        actor="system",
                        action="account.locked",
                        target=current.username,
                        details={},
                    )
                uow.commit()
            return _refused(locked=locked)

        outcome = self._ctx.run(work)
        if isinstance(outcome, SignInRefused):
            raise outcome
        return AccountInfo.of(outcome)

    def current(self, account_id: int, epoch: int, signed_in_at: datetime) -> AccountInfo | None:
        """The signed-in account behind a session, if the session is still good: the
        account enabled, not signed out since, and signed in less than ``SESSION_LIFETIME``
        ago."""
        if self._ctx.clock() - signed_in_at >= SESSION_LIFETIME:
            return None
        with self._ctx.reading() as uow:
            record = uow.accounts.get(account_id)
        if record is None or record.disabled_at is not None or record.session_epoch != epoch:
            return None
        return AccountInfo.of(record)

    def sign_out(self, account_id: int) -> None:
        """End every session of the account (the cookie's epoch no longer matches)."""

        def work(uow: UnitOfWork) -> None:
            uow.accounts.next_epoch(account_id)
            uow.commit()

        self._ctx.run(work)

    def list(self, principal: Principal | None) -> list[AccountView]:
        """Every console account, by username (authority administrators)."""
        require_role(principal, Role.AUTHORITY_ADMIN)
        with self._ctx.reading() as uow:
            records = uow.accounts.all()
        return [
            AccountView(
                r.username, r.display_name, r.role, r.organization_code, r.created_at, r.disabled_at, r.locked_until
            )
            for r in records
        ]

    def disable(self, principal: Principal | None, username: str) -> None:
        """Stop an account signing in (a person who left): its sessions end now; nothing it
        did is undone, and its name stays in the audit trail."""
        self._administer(principal, username, "account.disable", lambda now: {"disabled_at": now})

    def enable(self, principal: Principal | None, username: str) -> None:
        """Let a disabled or locked account sign in again (its failed sign-ins forgotten)."""
        self._administer(
            principal,
            username,
            "account.enable",
            lambda now: {"disabled_at": None, "failed_logins": 0, "locked_until": None},
        )

    def reset_password(self, principal: Principal | None, username: str, new_password: str) -> None:
        """An administrator sets a new password for a person who forgot theirs: every
        session of the account ends and a lockout is lifted."""
        _check_password(new_password)
        hashed = hash_password(new_password)
        self._administer(
            principal,
            username,
            "account.reset",
            lambda now: {"password_hash": hashed, "failed_logins": 0, "locked_until": None},
        )

    def _administer(
        self, principal: Principal | None, username: str, action: str, changes: Callable[[datetime], dict[str, Any]]
    ) -> None:
        actor = require_role(principal, Role.AUTHORITY_ADMIN).actor
        name = username.strip().lower()

        def work(uow: UnitOfWork) -> None:
            record = uow.accounts.by_username(name)
            if record is None:
                raise NotFound("account_not_found", f"no account {name}", f"没有账号{name}")
            now = self._ctx.clock()
            uow.accounts.update(record.id, **changes(now))
            uow.accounts.next_epoch(record.id)
            audit.append(uow, self._log, at=now, actor=actor, action=action, target=name, details={})
            uow.commit()

        self._ctx.run(work)

    def change_password(self, account_id: int, current_password: str, new_password: str) -> None:
        """A person changes their own password: the current one is asked again, and every
        session of the account ends (sign in again with the new one)."""
        with self._ctx.reading() as uow:
            record = uow.accounts.get(account_id)
        stored = record.password_hash if record else _dummy_hash()
        if record is None or not password_matches(current_password, stored):
            raise SignInRefused("wrong_password", "the current password is wrong", "当前密码不正确")
        if new_password == current_password:
            raise InvalidInput("same_password", "choose a new password", "新密码不能与当前密码相同")
        _check_password(new_password)
        hashed = hash_password(new_password)

        def work(uow: UnitOfWork) -> None:
            uow.accounts.update(account_id, password_hash=hashed)
            uow.accounts.next_epoch(account_id)
            audit.append(
                uow,
                self._log,
                at=self._ctx.clock(),
                actor=f"web-{record.username}",
                action="account.password",
                target=record.username,
                details={},
            )
            uow.commit()

        self._ctx.run(work)


@dataclass(frozen=True)
class AccountView:
    """An account as an administrator lists it: never its password hash."""

    username: str
    display_name: str
    role: str
    organization_code: str | None
    created_at: datetime
    disabled_at: datetime | None
    locked_until: datetime | None

    def state(self, now: datetime) -> str:
        """``disabled``, ``locked`` (too many wrong passwords, until ``locked_until``) or ``active``."""
        if self.disabled_at is not None:
            return "disabled"
        return "locked" if self.locked_until is not None and self.locked_until > now else "active"


def _organization_id(uow: UnitOfWork, code: str) -> int:
    org = uow.organizations.get(code.strip().upper())
    if org is None:
        raise NotFound("organization_not_found", f"no organization {code}", f"没有机构{code}")
    return org.id
