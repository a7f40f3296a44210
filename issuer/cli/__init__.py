"""The ``issuer`` command. Errors become one line on stderr and an exit code, here only.

The commands live in one module per group: ``serving`` (run, serve, worker), ``numbers``,
``verifying`` (verify), ``admin`` (db, dev, keys, apikey, account), ``trust``, ``log``
(log export, audit), ``batches`` and ``upkeep`` (scheduler, publish); ``client`` is the HTTP client they use, usable
without click.
"""

from __future__ import annotations

from typing import Any

import click

from issuer.cli import admin, batches, log, numbers, serving, trust, upkeep, verifying
from issuer.cli.client import ClientError
from issuer.cli.output import EXIT_UNKNOWN, fail, fail_with
from issuer.config import ConfigError
from issuer.core.errors import IssuerError, TrustError

__all__ = ["main"]


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IssuerError as exc:
            fail(exc.line(), EXIT_UNKNOWN if isinstance(exc, TrustError) else 1)
        except ConfigError as exc:
            fail(f"configuration: {exc} / 配置错误")
        except ClientError as exc:
            fail_with(exc)


@click.group(cls=_Group)
@click.version_option(package_name="issuer")
def main() -> None:
    """职业技能等级证书签发与验证 / Issue and verify vocational skill level certificates."""


main.add_command(serving.run)
main.add_command(serving.serve)
main.add_command(serving.worker)
main.add_command(numbers.number)
main.add_command(verifying.verify)
main.add_command(admin.db)
main.add_command(admin.dev)
main.add_command(admin.keys)
main.add_command(admin.apikey)
main.add_command(admin.account)
main.add_command(upkeep.publish)
main.add_command(upkeep.scheduler)
main.add_command(trust.trust)
main.add_command(log.log_group)
main.add_command(log.audit_command)
main.add_command(batches.batch)
