"""Options of the commands that talk to a running service: ``--url`` and ``--key``, the
batch id, ``--poll`` and ``--timeout``."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

import click

_Command = TypeVar("_Command", bound=Callable[..., Any])


def clean_batch_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("a batch id is required / 请提供批次编号")
    return value.strip()


def service_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if urllib.parse.urlsplit(value).scheme not in ("http", "https"):
        raise click.BadParameter(f"{value!r} is not an http(s) URL / 应为http(s)地址")
    return value


def service_options(command: _Command) -> _Command:
    """``--url`` and ``--key``, the same on every batch command."""
    command = click.option(
        "--key", required=True, envvar="ISSUER_API_KEY", help="An org_issuer API key (or ISSUER_API_KEY)."
    )(command)
    return click.option(
        "--url",
        default="http://127.0.0.1:5000",
        show_default=True,
        envvar="ISSUER_URL",
        callback=service_url,
        help="The service (or ISSUER_URL).",
    )(command)


def wait_options(command: _Command) -> _Command:
    """``--poll`` and ``--timeout``, for commands that wait for the drawing to finish."""
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        help="Give up waiting after this many seconds (exit 3). Default: wait as long as it takes.",
    )(command)
    return click.option(
        "--poll",
        type=click.FloatRange(min=0.05),
        default=2.0,
        show_default=True,
        help="Seconds between two looks at the batch's progress.",
    )(command)
