"""``issuer account``: an administrator creates, lists, disables, enables and resets console
accounts from the command line, and the console agrees at once."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from issuer.cli import main
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.conftest import ORG_CODE, Clock, Keys, point_the_cli_at

PASSWORD = "console-password-1"
NEW_PASSWORD = "a-new-password-2"
SAME_SITE = {"Origin": "http://localhost"}


def _sign_in(client: FlaskClient, username: str, password: str) -> int:
    form = {"username": username, "password": password}
    return client.post("/console/sign-in", data=form, headers=SAME_SITE).status_code


@pytest.fixture()
def cli(app: Flask, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    point_the_cli_at(app, monkeypatch)
    runner = CliRunner()
    created = runner.invoke(
        main,
        ["account", "create", "zhang", "--name", "张发证", "--role", "org_issuer", "--org", ORG_CODE],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    return runner


def test_accounts_are_listed_with_their_state_and_no_password(cli: CliRunner, svc: UseCases) -> None:
    listed = cli.invoke(main, ["account", "list"])
    assert listed.exit_code == 0
    line = next(row for row in listed.output.splitlines() if row.startswith("zhang\t"))
    assert line.split("\t")[:5] == ["zhang", "张发证", "org_issuer", ORG_CODE, "active/启用"]
    assert "scrypt" not in listed.output and "$" not in listed.output


def test_a_disabled_account_cannot_sign_in_and_its_session_ends_until_it_is_enabled(
    cli: CliRunner, app: Flask, client: FlaskClient
) -> None:
    assert _sign_in(client, "zhang", PASSWORD) == 302
    assert client.get("/console/certificates").status_code == 200
    assert cli.invoke(main, ["account", "disable", "zhang"]).exit_code == 0
    assert client.get("/console/certificates").status_code == 302  # the open session ended
    assert _sign_in(app.test_client(), "zhang", PASSWORD) == 401
    assert "disabled/已停用" in cli.invoke(main, ["account", "list"]).output
    assert cli.invoke(main, ["account", "enable", "zhang"]).exit_code == 0
    assert _sign_in(app.test_client(), "zhang", PASSWORD) == 302


def test_a_reset_password_replaces_the_old_one_and_lifts_a_lockout(cli: CliRunner, app: Flask, clock: Clock) -> None:
    for _ in range(5):
        _sign_in(app.test_client(), "zhang", "wrong-password-0")
    assert _sign_in(app.test_client(), "zhang", PASSWORD) == 401  # locked, even with the right one
    reset = cli.invoke(main, ["account", "reset", "zhang"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert reset.exit_code == 0, reset.output
    assert _sign_in(app.test_client(), "zhang", PASSWORD) == 401
    assert _sign_in(app.test_client(), "zhang", NEW_PASSWORD) == 302


def test_an_unknown_account_or_a_short_password_is_one_line_and_exit_1(cli: CliRunner) -> None:
    for args, words in (
        (["account", "disable", "nobody"], "没有账号nobody"),
        (["account", "reset", "zhang", "--password", "short"], "10"),
    ):
        result = cli.invoke(main, args)
        assert result.exit_code == 1 and result.output.count("\n") == 1 and words in result.output, result.output


def test_every_change_is_in_the_audit_trail(cli: CliRunner, svc: UseCases) -> None:
    cli.invoke(main, ["account", "disable", "zhang"])
    cli.invoke(main, ["account", "enable", "zhang"])
    cli.invoke(main, ["account", "reset", "zhang", "--password", NEW_PASSWORD])
    events = svc.audit.read(OPERATOR, after_id=0, limit=1000).events
    actions = [e.action for e in events if e.target == "zhang"]
    assert actions[-3:] == ["account.disable", "account.enable", "account.reset"]


def test_an_account_is_locked_until_its_lockout_ends() -> None:
    from datetime import UTC, datetime, timedelta

    from issuer.service.accounts import AccountView

    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    view = AccountView("zhang", "张发证", "org_issuer", ORG_CODE, now, None, now + timedelta(minutes=15))
    assert view.state(now) == "locked" and view.state(now + timedelta(minutes=15)) == "active"
    assert AccountView("li", "李", "org_issuer", ORG_CODE, now, now, None).state(now) == "disabled"
