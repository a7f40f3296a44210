"""What the browser tests share that is not a fixture: where Chromium and the files are, the
skip mark for a machine without Chromium or Playwright, and the helpers that run the scan
page's offline check (``issuer/static/offline.js``) through its test hook
``window.issuerOfflineVerify(payload, bundle, atMillis)`` and compare its verdicts with the
reference verifier's (``core/verify.py`` + ``core/explain.py``).

The fixtures built on these (``browser``, ``phone``, ``desktop``, ``server``, ``shots``,
``hook``) are in ``tests/browser/conftest.py``."""

from __future__ import annotations

import base64
import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from issuer.core import cose, qrtext, trust
from issuer.core.clock import parse_instant
from issuer.core.errors import TrustError
from issuer.core.explain import explain
from issuer.core.signing import Signer
from issuer.core.verify import verify
from tests import factories as f
from tests.conftest import PROFILE

playwright: Any
try:
    from playwright import sync_api as playwright
except ImportError:  # every browser test is skipped (needs_browser)
    playwright = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's Chromium, which Playwright drives; None when it is not installed."""

MISSING = (
    "Playwright is not installed (make browser)"
    if playwright is None
    else "Debian chromium is not installed (make browser)"
    if CHROMIUM is None
    else None
)
"""Why the browser tests cannot run here, or None when they can."""

needs_browser = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
"""Skips a test (or, as ``pytestmark``, a module) without Chromium or Playwright."""

checks_ed25519_on_the_device = pytest.mark.skipif(
    PROFILE == "sm2",
    reason="the scan page's in-browser check knows Ed25519 only (FORMAT.md §2.1): the 国密 profile's is the server's",
)
"""Skips, in the SM2 profile, a test of the page's own check of what the test service signs."""

PHONE = {"width": 390, "height": 844}
"""The viewport of the phone that scans codes."""

ROOT = Path(__file__).resolve().parents[2]
"""The repository."""
SCRIPT = ROOT / "issuer" / "static" / "offline.js"
"""The script under test."""
VECTORS = ROOT / "tests" / "vectors"
"""The published test vectors (``manifest.json`` and the bundle files it names)."""
ORIGIN = "http://localhost:9"
"""Never contacted: page.route answers every request of the hook page."""
HOOK_PAGE = '<!doctype html><html lang="zh-CN"><head><script src="/offline.js"></script></head><body></body></html>'
"""A page that holds offline.js and nothing else."""
CACHE_KEY = "issuer-trust-bundle"
"""Where the script keeps the bundle it downloaded (localStorage)."""
AT = "2026-11-29T04:00:00Z"
"""The instant the bundles built by the tests are judged at."""


def read_manifest(directory: Path) -> dict[str, Any]:
    """The ``manifest.json`` of a vector directory."""
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def millis(text: str) -> int:
    """An ISO 8601 instant as milliseconds since the epoch, as the hook takes it."""
    return int(parse_instant(text).timestamp() * 1000)


def in_browser(page: Any, qr_text: str, at: str, bundle: str | bytes | None = None) -> dict[str, Any]:
    """The script's verdict on ``qr_text`` at ``at`` with ``bundle`` (JSON text, or the bytes
    of a bundle file), or with the bundle already in localStorage."""
    return in_browser_all(page, [qr_text], at, bundle)[0]


def in_browser_all(page: Any, qr_texts: list[str], at: str, bundle: str | bytes | None = None) -> list[dict[str, Any]]:
    """The script's verdicts on ``qr_texts``, as ``in_browser``. The bundle goes to the script
    as the bytes of its file (UTF-8 for JSON text)."""
    data = None if bundle is None else base64.b64encode(encoded(bundle)).decode("ascii")
    results: list[dict[str, Any]] = page.evaluate(
        """async ([key, data, texts, at]) => {
            const bundle = data === null ? JSON.parse(localStorage.getItem(key))
              : Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const out = [];
            for (const text of texts) out.push(await window.issuerOfflineVerify(text, bundle, at));
            return out;
        }""",
        [CACHE_KEY, data, qr_texts, millis(at)],
    )
    return results


def encoded(bundle: str | bytes) -> bytes:
    """The bytes of a bundle file: JSON text in UTF-8, bytes as they are."""
    return bundle.encode("utf-8") if isinstance(bundle, str) else bundle


@functools.lru_cache(maxsize=4)
def reference_store(bundle: str | bytes) -> trust.TrustStore:
    """The reference's trust store for ``bundle`` (the last few are kept); raises
    ``TrustError`` when the reference refuses it."""
    return trust.load_bundle(bundle)


def agree(page: Any, qr_text: str, at: str, bundle: str | bytes) -> dict[str, Any]:
    """The script and the reference verifier give the same verdict, reason, headline and detail."""
    return agree_all(page, [qr_text], at, bundle)[0]


def agree_all(page: Any, qr_texts: list[str], at: str, bundle: str | bytes) -> list[dict[str, Any]]:
    """``agree`` for each of ``qr_texts`` (one call into the page); the script's verdicts."""
    results = in_browser_all(page, qr_texts, at, bundle)
    try:
        store = reference_store(bundle)
    except TrustError as exc:  # unusable, in the reference's words
        for got in results:
            assert (got["status"], got["failed_check"], got["reason"]) == ("unknown", None, "bundle_unusable"), got
            assert (got["detail"], got["detail_zh"]) == (exc.message, exc.message_zh), got
        return results
    for qr_text, got in zip(qr_texts, results, strict=True):
        verdict = verify(qr_text, store, at=parse_instant(at))
        plain = explain(verdict)
        expected = (verdict.status.value, verdict.failed_check, verdict.reason, plain.headline_zh, plain.headline_en)
        assert (got["status"], got["failed_check"], got["reason"], got["headline_zh"], got["headline"]) == expected, got
        assert [c["outcome"] for c in got["checks"]] == [c.outcome.value for c in verdict.checks], got
        deciding = verdict.deciding
        if deciding is not None:
            assert (got["detail"], got["detail_zh"]) == (deciding.detail, deciding.detail_zh), got
    return results


def qr(signer: Signer, payload: bytes, *, kid: bytes | None = None) -> str:
    """``payload`` signed by ``signer`` as it stands (under another ``kid`` if told)."""
    return qrtext.encode(cose.sign(payload, signer.key, kid or signer.kid), f.HOST)
