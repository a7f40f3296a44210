"""The published test vectors: reproducible byte for byte, and each gives its verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from issuer.core import trust
from issuer.core.clock import parse_instant
from issuer.core.verify import verify
from tests.vectors import generate

HERE = Path(__file__).parent
MANIFEST = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))


def test_regenerating_the_vectors_reproduces_the_committed_files() -> None:
    for name, text in generate.render().items():
        assert (HERE / name).read_text(encoding="utf-8") == text, f"{name} changed: run make vectors only on purpose"


def test_the_manifest_covers_the_required_cases() -> None:
    failed = {v["failed_check"] for v in MANIFEST["vectors"]}
    assert {"signature", "known_key", "scope", "number", "registration", "decodable"} <= failed
    assert any(v["status"] == "valid" for v in MANIFEST["vectors"])


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["name"])
def test_each_vector_gives_its_expected_verdict(vector: dict[str, str]) -> None:
    store = trust.load_bundle((HERE / MANIFEST["bundle"]).read_bytes())
    verdict = verify(vector["qr_text"], store, at=parse_instant(vector["at"]))
    assert verdict.status.value == vector["status"]
    assert verdict.failed_check == vector["failed_check"]
