"""Overload is shed, never a 500: when every database connection is in use and none comes
free in time, the request gets 503 ``service_busy`` with ``Retry-After`` in the one error
shape, and the service answers normally once connections come free."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from flask import Flask
from flask.testing import FlaskClient

from issuer.service.wiring import UseCases
from tests.api.test_errors import assert_error
from tests.conftest import Keys, auth
from tests.factories import issue_body


@contextmanager
def every_connection_held(use: UseCases, connections: int) -> Iterator[None]:
    """Another thread holds ``connections`` reading transactions, each with its connection
    checked out of the pool, until the block ends."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ExitStack() as stack:
            for _ in range(connections):
                stack.enter_context(use.ctx.reading()).trust_lists.latest_sequence()
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30), "the holder thread never got its connections"
        yield
    finally:
        release.set()
        holder.join(30)


def test_verify_is_shed_with_503_when_the_pool_is_exhausted(
    client: FlaskClient, keys: Keys, app_with: Callable[..., Flask]
) -> None:
    cert = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer)).get_json()
    busy = app_with(DATABASE_POOL=1, DATABASE_WAIT_MS=200)
    use: UseCases = busy.extensions["issuer.use_cases"]
    busy_client = busy.test_client()

    with every_connection_held(use, connections=2):  # a pool of 1 and 1 overflow connection
        shed = busy_client.post("/api/v1/verify", json={"qr_text": cert["qr_text"]})
        body = assert_error(shed, 503, "service_busy")
        assert shed.headers["Retry-After"] == "1"
        assert body["errors"] == {"retry_after": 1}

    answered = busy_client.post("/api/v1/verify", json={"qr_text": cert["qr_text"]})
    assert answered.status_code == 200
    assert (answered.get_json()["status"], answered.get_json()["recorded"]) == ("valid", True)
