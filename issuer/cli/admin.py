"""Commands run on the service's machine against its database and keys: ``db``, ``dev``,
``keys``, ``apikey`` and ``account``; ``local`` gives any such command the service's use
cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from issuer.cli.output import echo_all, fail
from issuer.service.wiring import UseCases


def local() -> tuple[Any, UseCases]:
    """The app (configured as the service is) and its use cases for one command; the
    database connections are closed when the command ends (an in-process caller, such as a
    test, may run many commands)."""
    from issuer.app import create_app

    app = create_app()
    found: UseCases = app.extensions["issuer.use_cases"]
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(found.close)
    return app, found


@click.group()
def db() -> None:
    """The database / 数据库."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision (Alembic)."""
    from issuer.store import migrate

    _, use = local()
    migrate.upgrade(use.database.url)
    click.echo(f"database at revision {migrate.current_revision(use.database.url)}")


@click.group()
def dev() -> None:
    """Development set-up / 开发环境."""


@dev.command("init")
def dev_init() -> None:
    """Migrate the database; create a development authority, organization and API keys where missing."""
    from issuer.service import bootstrap

    app, use = local()
    done = bootstrap.init_dev(use, app.instance_path)
    echo_all(done or ["development set-up already present"])


@click.group()
def keys() -> None:
    """Authority keys under keys/ / 密钥管理."""


@keys.command("init-authority")
@click.option("--name", required=True, help="Authority name, e.g. 黑龙江省人力资源和社会保障厅.")
def keys_init_authority(name: str) -> None:
    """Create the authority root key (in the configured key backend: an encrypted file, or
    the PKCS#11 token) and its certificate, in the signature suite ISSUER_CRYPTO_PROFILE
    names (ed25519, or sm2 for the 国密 profile); every later key follows the root's."""
    from issuer.service import bootstrap

    _, use = local()
    if not bootstrap.init_authority(use.ctx.keys, name, now=datetime.now(UTC), suite=use.ctx.crypto_suite):
        fail(f"exists: the authority root key (certificate {use.keystore.authority_cert_path}) / 根密钥已存在")
    click.echo(f"created {use.keystore.authority_cert_path}")


@click.group()
def apikey() -> None:
    """API keys / API密钥."""


@apikey.command("create")
@click.option("--role", required=True, type=click.Choice(["authority_admin", "org_issuer", "auditor"]))
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option("--org", "organization", help="Organization code (org_issuer keys only).")
def apikey_create(role: str, name: str, organization: str | None) -> None:
    """Create an API key and print it once."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    new = use.api_keys.create(OPERATOR, role=role, name=name, organization=organization)
    click.echo(new.secret)
    click.echo(f"key {new.info.id} ({role}); store it now, it is not shown again / 请立即保存，之后不再显示", err=True)


@apikey.command("list")
def apikey_list() -> None:
    """List API keys (never their secrets)."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    for k in use.api_keys.list(OPERATOR):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{k.id}  {k.role:<16} {k.organization or '-':<14} {state:<18} {k.name}")


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke an API key by its id."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    use.api_keys.revoke(OPERATOR, key_id)
    click.echo(f"revoked {key_id}")


@click.group()
def account() -> None:
    """Web console accounts / 工作台账号."""


@account.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name, as shown in the console.")
@click.option("--role", required=True, type=click.Choice(["org_issuer", "authority_admin"]))
@click.option("--org", "organization", help="Organization code (org_issuer accounts only).")
@click.password_option(help="At least 10 characters (asked for when not given).")
def account_create(username: str, display_name: str, role: str, organization: str | None, password: str) -> None:
    """Create a console account for one person (its password is stored as a scrypt hash)."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    created = use.accounts.create(
        OPERATOR,
        username=username,
        display_name=display_name,
        role=role,
        password=password,
        organization=organization,
    )
    click.echo(f"account {created.username} ({role}) created / 账号已创建")


@account.command("list")
def account_list() -> None:
    """Every console account: username, name, role, organization, state (active, locked,
    disabled) and when it was created."""
    from issuer.core.clock import CST
    from issuer.service.principal import OPERATOR

    _, use = local()
    now = use.ctx.clock()
    states = {"active": "启用", "locked": "已锁定", "disabled": "已停用"}
    for a in use.accounts.list(OPERATOR):
        state = a.state(now)
        click.echo(
            "\t".join(
                [
                    a.username,
                    a.display_name,
                    a.role,
                    a.organization_code or "-",
                    f"{state}/{states[state]}",
                    f"{a.created_at.astimezone(CST):%Y-%m-%d %H:%M}",
                ]
            )
        )


@account.command("disable")
@click.argument("username")
def account_disable(username: str) -> None:
    """Stop an account signing in (its sessions end now)."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    use.accounts.disable(OPERATOR, username)
    click.echo(f"account {username} disabled / 账号已停用")


@account.command("enable")
@click.argument("username")
def account_enable(username: str) -> None:
    """Let a disabled or locked account sign in again."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    use.accounts.enable(OPERATOR, username)
    click.echo(f"account {username} enabled / 账号已启用")


@account.command("reset")
@click.argument("username")
@click.password_option(help="The new password, at least 10 characters (asked for when not given).")
def account_reset(username: str, password: str) -> None:
    """Set a new password for a person who forgot theirs (their sessions end, a lockout is lifted)."""
    from issuer.service.principal import OPERATOR

    _, use = local()
    use.accounts.reset_password(OPERATOR, username, password)
    click.echo(f"password of {username} reset / 密码已重置")
