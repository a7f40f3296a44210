"""The probes: ``/healthz`` says the process answers; ``/readyz`` says whether it can serve
(database, keys, a published trust list) and, when it cannot, every reason in the one
error shape with a 503."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import register


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
