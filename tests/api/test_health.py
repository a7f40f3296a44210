"""The probes: ``/healthz`` says the process answers; ``/readyz`` says whether it can serve
(database, keys, a published trust list, Redis when configured) and, when it cannot, every
reason in the one error shape with a 503; asking changes nothing."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import redis
from flask import Flask
from flask.testing import FlaskClient

from issuer.store import migrate
from tests.conftest import register, worker_redis


def test_a_fresh_database_is_not_ready_until_a_trust_list_is_published(client: FlaskClient, app: Flask) -> None:
    before = client.get("/readyz")
    assert before.status_code == 503
    body = before.get_json()
    assert set(body) == {"code", "message", "message_zh", "errors"}
    assert (body["code"], set(body["errors"])) == ("not_ready", {"trust_list"})
    assert "信任列表" in body["message_zh"] and "trust list" in body["message"]

    register(app.extensions["issuer.use_cases"])  # registering publishes a trust list
    after = client.get("/readyz")
    assert after.status_code == 200
    assert after.get_json()["status"] == "ready"


def test_an_unreadable_database_is_a_reason(app_with: Callable[..., Flask], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "issuer.sqlite3"
    answer = app_with(DATABASE_URL=f"sqlite:///{missing}").test_client().get("/readyz")
    assert answer.status_code == 503
    assert set(answer.get_json()["errors"]) == {"database"}


def test_keys_that_cannot_be_read_are_a_reason(
    client: FlaskClient, app: Flask, app_with: Callable[..., Flask], keys_dir: Path, tmp_path: Path
) -> None:
    register(app.extensions["issuer.use_cases"])
    assert client.get("/readyz").status_code == 200
    elsewhere = tmp_path / "keys"
    shutil.copytree(keys_dir, elsewhere)
    wrong = app_with(KEYS_DIR=str(elsewhere), KEY_PASSPHRASE="not the passphrase").test_client().get("/readyz")
    assert wrong.status_code == 503
    assert set(wrong.get_json()["errors"]) == {"keys"}
    assert client.get("/healthz").status_code == 200


REDIS_URL = worker_redis(os.environ.get("TEST_READINESS_REDIS_URL", "redis://127.0.0.1:6379/0"))


def test_redis_is_a_reason_when_configured_and_unreachable(app: Flask, app_with: Callable[..., Flask]) -> None:
    register(app.extensions["issuer.use_cases"])
    closed = app_with(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    started = time.monotonic()
    answer = closed.get("/readyz")
    assert time.monotonic() - started < 5
    assert answer.status_code == 503
    body = answer.get_json()
    assert set(body["errors"]) == {"redis"}
    assert "Redis" in body["message"] and "Redis" in body["message_zh"]


def test_redis_that_answers_is_ready_and_asking_writes_nothing_to_it(
    app: Flask, app_with: Callable[..., Flask]
) -> None:
    register(app.extensions["issuer.use_cases"])
    client = redis.Redis.from_url(REDIS_URL)
    with client:
        before = set(client.keys())  # not emptied: no other test writes there, a developer might
        answer = app_with(REDIS_URL=REDIS_URL, QUEUE="redis").test_client().get("/readyz")
        assert answer.status_code == 200, answer.get_json()
        assert set(client.keys()) <= before


def test_asking_makes_no_log_key(
    client: FlaskClient, app: Flask, app_with: Callable[..., Flask], keys_dir: Path, tmp_path: Path
) -> None:
    """The log key is made with the first trust list. Before one, its absence is expected
    and not a reason; after one, a missing key is lost, a reason. Neither probe makes it."""
    register(app.extensions["issuer.use_cases"])
    elsewhere = tmp_path / "keys"
    shutil.copytree(keys_dir, elsewhere)
    log_key = elsewhere / "log" / "log.key.pem"
    log_key.unlink()
    fresh = app_with(KEYS_DIR=str(elsewhere))
    answer = fresh.test_client().get("/readyz")
    assert answer.status_code == 503 and set(answer.get_json()["errors"]) == {"keys"}
    assert not log_key.exists()

    unpublished = app_with(KEYS_DIR=str(elsewhere), DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    migrate.upgrade(unpublished.config["DATABASE_URL"])
    answer = unpublished.test_client().get("/readyz")
    assert answer.status_code == 503 and set(answer.get_json()["errors"]) == {"trust_list"}
    assert not log_key.exists()
