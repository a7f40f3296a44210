"""Fixtures of the browser tests: headless Chromium (Debian's ``chromium``) driven by
Playwright, pages on it, the test app served over HTTP on 127.0.0.1, and the page that holds
nothing but ``offline.js``. Constants and helpers are in ``offline_check``.

Screenshots go to ``ISSUER_SCREENSHOTS`` when set (``make screenshots`` sets it to
``docs/screenshots``), else to the test's temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.offline_check import CHROMIUM, HOOK_PAGE, ORIGIN, PHONE, SCRIPT, playwright
from tests.conftest import Keys
from tests.servers import serving


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    """The folder for screenshots."""
    folder = Path(os.environ.get("ISSUER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture()
def server(app: Flask, keys: Keys) -> Iterator[str]:
    """The URL of the test app, served on 127.0.0.1."""
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module."""
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def phone(browser: Any) -> Iterator[Any]:
    """A page on a phone, in Chinese."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture()
def desktop(browser: Any) -> Iterator[Any]:
    """A page on a desktop screen, in Chinese."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def hook(browser: Any) -> Iterator[Any]:
    """A page that holds offline.js and nothing else, one per test module."""
    context = browser.new_context()
    page = context.new_page()
    page.route(
        ORIGIN + "/", lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=HOOK_PAGE)
    )
    page.route(
        ORIGIN + "/offline.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript; charset=utf-8", path=SCRIPT),
    )
    page.goto(ORIGIN + "/")
    assert page.evaluate("typeof window.issuerOfflineVerify") == "function"
    yield page
    context.close()
