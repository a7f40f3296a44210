"""Trust lists and bundles: nothing is read before the root's signature is checked."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date

import pytest

from issuer.core import pki, trust
from issuer.core.errors import TrustError
from tests import factories as f


def _bundle() -> tuple[f.Authority, dict[str, str]]:
    auth = f.authority()
    signer = f.org_signer(auth)
    return auth, json.loads(f.bundle_json(auth, f.trust_list([f.organization([signer])])))


def test_a_bundle_round_trips_its_trust_list() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    tl = f.trust_list([f.organization([signer])])
    store = trust.load_bundle(f.bundle_json(auth, tl))
    assert store.trust_list == tl
    assert store.key(signer.kid) is not None
    assert store.occupation_name("6-31-01-03") == "电工"


def test_a_tampered_trust_list_is_refused() -> None:
    _, bundle = _bundle()
    raw = bytearray(base64.b64decode(bundle["trust_list"]))
    raw[len(raw) // 2] ^= 0x20
    bundle["trust_list"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle))


def test_a_trust_list_signed_by_another_root_is_refused() -> None:
    _, bundle = _bundle()
    other = f.authority("impostor")
    bundle["root_certificate"] = base64.b64encode(other.root_der).decode()
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle))


def test_a_pinned_root_must_be_the_bundle_root() -> None:
    auth, bundle = _bundle()
    assert trust.load_bundle(json.dumps(bundle), pinned_root=auth.root).root == auth.root
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle), pinned_root=f.authority("impostor").root)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{}",
        '{"format": "issuer-trust-bundle", "version": 2}',
        "\xff",
        '{"format": "issuer-trust-bundle", "version": 1, "root_certificate": "!!", "trust_list": ""}',
    ],
)
def test_malformed_bundles_are_a_trust_error(text: str) -> None:
    with pytest.raises(TrustError):
        trust.load_bundle(text)


def test_the_json_view_carries_certificates_in_base64() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    view = f.trust_list([f.organization([signer])]).to_json()
    cert = view["organizations"][0]["keys"][0]["certificate"]
    assert base64.b64decode(cert) == signer.certificate.der


def test_status_on_a_date_follows_the_history() -> None:
    org = replace(
        f.organization([]),
        status_history=(
            trust.StatusChange("active", date(2025, 1, 1)),
            trust.StatusChange("suspended", date(2026, 6, 1)),
        ),
    )
    assert org.status_on(date(2024, 12, 31)) is None
    assert org.status_on(date(2026, 5, 31)) == "active"
    assert org.status_on(date(2026, 6, 1)) == "suspended"


def test_organization_certificates_carry_the_organization_code() -> None:
    auth = f.authority()
    signer = f.org_signer(auth, code="S000044000002")
    parsed = pki.parse_organization_certificate(signer.certificate.der)
    assert parsed.org_code == "S000044000002"
    assert parsed.issued_by(auth.root)
    assert not parsed.issued_by(f.authority("impostor").root)
