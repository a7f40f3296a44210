from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from issuer.app import create_app
from issuer.config import ConfigError


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_unknown_paths_get_the_json_error_shape(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert set(response.get_json()) == {"code", "message", "message_zh", "errors"}


def test_production_refuses_the_development_passphrase() -> None:
    with pytest.raises(ConfigError):
        create_app({"ENV": "production", "SECRET_KEY": "a real secret"})


def test_production_refuses_the_development_secret_key() -> None:
    with pytest.raises(ConfigError):
        create_app({"ENV": "production", "KEY_PASSPHRASE": "a real passphrase"})


def test_production_refuses_the_development_data_key() -> None:
    with pytest.raises(ConfigError):
        create_app({"ENV": "production", "SECRET_KEY": "s3cret", "KEY_PASSPHRASE": "p4ss"})


def test_an_idempotency_retention_under_an_hour_is_refused() -> None:
    with pytest.raises(ConfigError, match="ISSUER_IDEMPOTENCY_HOURS"):
        create_app({"IDEMPOTENCY_HOURS": 0})


def test_production_starts_with_real_secrets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    real = {
        "SECRET_KEY": "s3cret",
        "KEY_PASSPHRASE": "p4ss",
        "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    }
    app = create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", **real})
    assert app.test_client().get("/healthz").status_code == 200


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUER_QR_HOST", "cert.example.cn")
    monkeypatch.setenv("ISSUER_LOOKUP_RATE_LIMIT", "3")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["QR_HOST"] == "cert.example.cn"
    assert app.config["LOOKUP_RATE_LIMIT"] == 3


def test_fonts_can_be_configured_by_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from issuer.render import default_renderer
    from issuer.render.errors import FontNotFound

    with pytest.raises(FontNotFound):
        create_app({"DATABASE_URL": "sqlite://", "FONTS": f"serif={tmp_path / 'missing.ttf'}"})
    serif = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    create_app({"DATABASE_URL": "sqlite://", "FONTS": f"serif={serif}"})
    try:
        assert default_renderer().fonts.face("serif").path == serif
    finally:
        from issuer.render import FontSet, use_fonts

        use_fonts(FontSet.system())
