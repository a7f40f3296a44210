"""What every command prints the same way: a failure as one line on stderr and an exit code,
progress bars, local files written whole or not at all."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from issuer.cli.client import ClientError, NotReady, ServiceError, Unreachable

EXIT_VALID, EXIT_NOT_VALID, EXIT_UNKNOWN = 0, 1, 2
EXIT_UNREACHABLE, EXIT_PENDING = 2, 3
"""Batch commands: 0 done, 1 refused or failed, 2 the service cannot be reached, 3 still being drawn."""


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def fail_with(error: ClientError) -> NoReturn:
    """A request to the service that failed: a roster's problems first, one line each, then
    the error's line; exit 2 when the service cannot be reached, 3 when a batch is not drawn
    in time, else 1."""
    if isinstance(error, ServiceError):
        for problem in error.problems:
            echo_problem(problem)
    if isinstance(error, Unreachable):
        fail(str(error), EXIT_UNREACHABLE)
    fail(str(error), EXIT_PENDING if isinstance(error, NotReady) else 1)


def echo_problem(p: dict[str, Any]) -> None:
    click.echo(f"{p['message_zh']} / {p['message']}")


def echo_all(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@contextmanager
def progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only its label when stderr is not a terminal); yields the
    function that advances it. A request that fails under way is reported before the bar
    ends."""
    with click.progressbar(length=max(length, 1), label=label, file=sys.stderr) as bar:
        try:
            yield bar.update
        except ClientError as exc:
            fail_with(exc)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """A local file that cannot be written ends the command with one line (exit 1)."""
    try:
        yield
    except OSError as exc:
        fail(f"cannot_write: 无法写入{path} / cannot write {path}: {exc.strerror or exc}")


def write_atomically(path: Path, data: Iterable[bytes]) -> None:
    """``data`` into ``path``: written to a temporary file beside it, then renamed over it,
    so that a reader sees the old file or the new one, never half of one."""
    import tempfile

    with writing(path):
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                for block in data:
                    fh.write(block)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
