"""The topology test starts the whole deployment (minutes of CPU): only when asked, with
``ISSUER_TOPOLOGY=1`` (``make topology``, ``.ci/run``); ``make test`` shows it skipped."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "topology: starts the whole deployment on 127.0.0.1 (PostgreSQL, Redis, issuer serve, workers, "
        "scheduler); runs only with ISSUER_TOPOLOGY=1 (make topology)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("ISSUER_TOPOLOGY") == "1":
        return
    skip = pytest.mark.skip(reason="the deployment topology test runs with ISSUER_TOPOLOGY=1 (make topology)")
    for item in items:
        if item.get_closest_marker("topology"):
            item.add_marker(skip)
