from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer.app import create_app


@pytest.fixture()
def app(tmp_path: Path) -> Flask:
    return create_app({"TESTING": True, "KEYS_DIR": str(tmp_path / "keys")})


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()
