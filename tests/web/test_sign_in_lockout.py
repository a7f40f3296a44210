"""The sign-in lockout under concurrent guesses (issue 14, the console): failures are
counted in the database, every one of them, and the lockout is decided from the count
in the transaction that makes it, so a burst of wrong passwords cannot be raced — not
even by the right password sent in the same burst. Real threads against the app, on the
test database (a SQLite file, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from issuer.service.accounts import LOCKOUT, MAX_FAILURES
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.conftest import ORG_CODE, Clock, Keys

SAME_SITE = {"Origin": "http://localhost"}
PASSWORD = "correct-horse-42"
WRONG = "wrong-horse-42"
BURST = 15


def account(svc: UseCases) -> None:
    svc.accounts.create(
        OPERATOR, username="issuer1", display_name="李四", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )


def attempt(app: Flask, password: str) -> int:
    """One sign-in from its own browser; 302 signed in, 401 refused."""
    response = app.test_client().post(
        "/console/sign-in", data={"username": "issuer1", "password": password}, headers=SAME_SITE
    )
    return int(response.status_code)


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once, each in its own thread, released by one barrier."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def failures(svc: UseCases) -> int:
    with svc.ctx.reading() as uow:
        record = uow.accounts.by_username("issuer1")
    assert record is not None
    return record.failed_logins


def lockouts(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        query = select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.action == "account.locked")
        return int(session.scalar(query) or 0)


def test_a_burst_of_wrong_passwords_locks_the_account_and_every_failure_counts(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    account(svc)
    assert together([lambda: attempt(app, WRONG)] * BURST) == [401] * BURST
    assert failures(svc) == BURST
    assert lockouts(svc) == 1
    assert attempt(app, PASSWORD) == 401
    clock.advance(seconds=LOCKOUT.total_seconds() - 1)
    assert attempt(app, PASSWORD) == 401
    clock.advance(seconds=1)
    assert attempt(app, PASSWORD) == 302
    assert failures(svc) == 0


def test_the_right_password_inside_the_burst_cannot_unlock_the_account(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    """Whether the right password came before the fifth failure (signed in) or after (refused),
    the wrong ones after it lock the account: it stays locked for the lockout period."""
    account(svc)
    for round_ in range(1, 4):
        outcomes = together([lambda: attempt(app, PASSWORD)] + [lambda: attempt(app, WRONG)] * BURST)
        assert outcomes[1:] == [401] * BURST
        assert outcomes[0] in (302, 401)
        counted = failures(svc)
        if outcomes[0] == 401:
            assert counted == BURST  # refused: every wrong password came before it or counts
        else:
            assert BURST - MAX_FAILURES < counted <= BURST  # fewer than five came before it
        assert lockouts(svc) == round_
        assert attempt(app, PASSWORD) == 401
        clock.advance(seconds=LOCKOUT.total_seconds())
        assert attempt(app, PASSWORD) == 302


def test_after_a_lockout_runs_out_five_new_failures_lock_again(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    account(svc)
    for _ in range(MAX_FAILURES):
        assert attempt(app, WRONG) == 401
    clock.advance(seconds=LOCKOUT.total_seconds())
    for n in range(1, MAX_FAILURES):
        assert attempt(app, WRONG) == 401
        assert failures(svc) == n  # counted afresh once the lockout ran out
    assert attempt(app, PASSWORD) == 302
    for _ in range(MAX_FAILURES):
        assert attempt(app, WRONG) == 401
    assert attempt(app, PASSWORD) == 401
    assert lockouts(svc) == 2
