"""Behind a reverse proxy: the forwarded client address, as many hops as configured."""

from __future__ import annotations

import pytest


def test_behind_a_proxy_the_rate_limit_counts_the_forwarded_client(
    monkeypatch: pytest.MonkeyPatch, database_url: str, keys_dir: object
) -> None:
    from issuer.app import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keys_dir),
            "KEY_PASSPHRASE": "test-passphrase",
            "TRUSTED_PROXIES": 1,
            "LOOKUP_RATE_LIMIT": 1,
        }
    )
    client = app.test_client()
    query = {"number": "Y000123000001263000001", "name": "某", "document_number": "11010519491231002X"}
    try:
        first = client.get("/api/v1/lookup", query_string=query, headers={"X-Forwarded-For": "203.0.113.7"})
        other = client.get("/api/v1/lookup", query_string=query, headers={"X-Forwarded-For": "203.0.113.8"})
        again = client.get("/api/v1/lookup", query_string=query, headers={"X-Forwarded-For": "203.0.113.7"})
    finally:
        app.extensions["issuer.use_cases"].close()
    assert (first.status_code, other.status_code, again.status_code) == (404, 404, 429)
