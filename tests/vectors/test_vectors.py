"""The published test vectors: reproducible byte for byte, and each gives its verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from issuer.core import trust
from issuer.core.clock import parse_instant
from issuer.core.errors import TrustError
from issuer.core.verify import verify
from tests import factories as f
from tests.vectors import generate

HERE = Path(__file__).parent
MANIFEST = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
V1 = HERE / "v1"
MANIFEST_V1 = json.loads((V1 / "manifest.json").read_text(encoding="utf-8"))


def test_regenerating_the_vectors_reproduces_the_committed_files() -> None:
    rendered = generate.render()
    for name, data in rendered.items():
        assert (HERE / name).read_bytes() == data, f"{name} changed: run make vectors only on purpose"
    assert {p.name for p in HERE.glob("*.json")} == set(rendered), "a vector file nobody writes"


def test_the_manifest_covers_the_required_cases() -> None:
    failed = {v["failed_check"] for v in MANIFEST["vectors"]}
    assert {"signature", "known_key", "scope", "number", "registration", "key_status", "decodable"} <= failed
    statuses = {v["status"] for v in MANIFEST["vectors"]}
    assert statuses == {"valid", "not_valid", "revoked", "unknown"}


def _check(directory: Path, manifest: dict[str, Any], vector: dict[str, str]) -> None:
    store = trust.load_bundle((directory / vector.get("bundle", manifest["bundle"])).read_bytes())
    verdict = verify(vector["qr_text"], store, at=parse_instant(vector["at"]))
    assert verdict.status.value == vector["status"]
    assert verdict.failed_check == vector["failed_check"]
    if "reason" in vector:
        assert verdict.reason == vector["reason"]


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["name"])
def test_each_vector_gives_its_expected_verdict(vector: dict[str, str]) -> None:
    _check(HERE, MANIFEST, vector)


@pytest.mark.parametrize("unusable", MANIFEST["unusable_bundles"], ids=lambda v: v["name"])
def test_each_unusable_bundle_is_refused_as_a_whole(unusable: dict[str, str]) -> None:
    with pytest.raises(TrustError):
        trust.load_bundle((HERE / unusable["bundle"]).read_bytes())


def test_every_vector_of_the_current_set_names_its_reason() -> None:
    assert all("reason" in v for v in MANIFEST["vectors"])


@pytest.mark.parametrize("vector", MANIFEST_V1["vectors"], ids=lambda v: v["name"])
def test_the_version_1_vectors_keep_their_documented_verdicts(vector: dict[str, str]) -> None:
    _check(V1, MANIFEST_V1, vector)


def test_what_is_set_aside_leaves_every_other_organization_verifiable() -> None:
    store = trust.load_bundle((HERE / MANIFEST["bundle"]).read_bytes())
    assert sorted((p.part, p.organization) for p in store.problems) == sorted(
        [
            ("key", generate.ORG_J),  # the certificate J and K both list
            ("status_list", generate.ORG_E),  # a broken signature
            ("status_list", generate.ORG_F),  # signed by a key compromised at an unknown time
            ("status_list", generate.ORG_G),  # signed after its certificate ended
        ]
    )
    valid = [v for v in MANIFEST["vectors"] if v["status"] == "valid" and "bundle" not in v]
    signers = [verify(v["qr_text"], store, at=parse_instant(v["at"])).signer for v in valid]
    codes = {s.organization.code for s in signers if s is not None}
    assert codes == {f.ORG_CODE, generate.ORG_B, generate.ORG_C, generate.ORG_D, generate.ORG_H}


def test_the_version_1_vectors_are_version_1_credentials() -> None:
    store = trust.load_bundle((V1 / MANIFEST_V1["bundle"]).read_bytes())
    first = verify(MANIFEST_V1["vectors"][0]["qr_text"], store, at=parse_instant(MANIFEST_V1["at"]))
    assert first.credential is not None and first.credential.version == 1
