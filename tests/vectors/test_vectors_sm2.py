"""The 国密 profile's test vectors (``sm2/``): each gives its verdict, the verifier names the
SM2 suite, and ``openssl`` checks the typical credential's signature over its Sig_structure;
the log behind the bundle's tree head hashes with SM3, which ``gmssl`` recomputes.
SM2 signatures are not deterministic: these files are checked, not regenerated."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import segno
from gmssl import func, sm3

from issuer.core import auditor, cose, merkle, pki, qrtext, trust
from issuer.core.clock import parse_instant
from issuer.core.sm2 import Sm2PublicKey
from issuer.core.verify import verify
from tests.core.test_merkle import reference_mth
from tests.core.test_sm2 import _openssl_verifies

HERE = Path(__file__).parent / "sm2"
MANIFEST = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
STORE = trust.load_bundle((HERE / MANIFEST["bundle"]).read_bytes())


def test_the_bundle_is_of_the_sm2_suite_and_loads_whole() -> None:
    assert MANIFEST["suite"] == "sm2-sm3" and not STORE.problems
    assert isinstance(pki.root_public_key(STORE.root), Sm2PublicKey)
    assert {"valid", "revoked", "not_valid"} <= {v["status"] for v in MANIFEST["vectors"]}


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["name"])
def test_each_sm2_vector_gives_its_expected_verdict(vector: dict[str, Any]) -> None:
    verdict = verify(vector["qr_text"], STORE, at=parse_instant(vector["at"]))
    assert (verdict.status.value, verdict.failed_check, verdict.reason) == (
        vector["status"],
        vector["failed_check"],
        vector["reason"],
    )
    assert verdict.suite == ("sm2-sm3" if vector["failed_check"] != "known_key" else None)


def test_the_typical_sm2_credential_fits_version_10_at_m() -> None:
    typical = next(v for v in MANIFEST["vectors"] if v["name"] == "valid-typical")
    assert segno.make(typical["qr_text"], error="m", boost_error=False).version == 10


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_openssl_verifies_the_typical_credentials_signature(tmp_path: Path) -> None:
    typical = next(v for v in MANIFEST["vectors"] if v["name"] == "valid-typical")
    message = cose.parse(qrtext.decode(typical["qr_text"]))
    key = STORE.key(message.kid)
    assert key is not None and isinstance(key.certificate.public_key, Sm2PublicKey)
    signed = cose.to_be_signed(message.protected, message.payload)
    assert _openssl_verifies(tmp_path, key.certificate.public_key, message.signature, signed, ident=b"1234567812345678")


LOG = json.loads((HERE / "log.json").read_text(encoding="utf-8"))
ENTRIES = [base64.b64decode(e) for e in LOG["entries"]]


def _gmssl_sm3(data: bytes) -> bytes:
    """SM3 by ``gmssl``, a pure-Python implementation of its own (not hashlib's OpenSSL)."""
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def test_the_bundles_tree_head_and_manifest_are_sm2_over_an_sm3_tree() -> None:
    assert STORE.tree_head is not None and STORE.manifest is not None
    assert STORE.tree_head.suite.name == STORE.manifest.suite.name == "sm2-sm3"
    assert STORE.tree_head.root_hash.hex() == LOG["roots"][-1] == reference_mth(ENTRIES, _gmssl_sm3).hex()
    assert STORE.manifest.tree_head == _gmssl_sm3(STORE.tree_head_signed)


def test_the_logs_hashes_are_sm3_by_a_second_implementation() -> None:
    assert LOG["tree_hash"] == "sm3"
    assert LOG["leaf_hashes"] == [_gmssl_sm3(b"\x00" + e).hex() for e in ENTRIES]
    assert LOG["roots"] == [reference_mth(ENTRIES[:n], _gmssl_sm3).hex() for n in range(len(ENTRIES) + 1)]
    proof = LOG["inclusion"]
    merkle.verify_inclusion(
        bytes.fromhex(LOG["leaf_hashes"][proof["leaf_index"]]),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(LOG["roots"][-1]),
        merkle.SM3,
    )


def test_the_auditor_finds_the_sm2_log_whole() -> None:
    assert STORE.tree_head_signed is not None
    report = auditor.audit(STORE, STORE.tree_head_signed, enumerate(ENTRIES))
    assert report.findings == [] and report.entries == len(ENTRIES) == 3
    tampered = [*ENTRIES[:1], ENTRIES[1][:-1] + bytes([ENTRIES[1][-1] ^ 1]), *ENTRIES[2:]]
    assert "log_root_mismatch" in {
        f.code for f in auditor.audit(STORE, STORE.tree_head_signed, enumerate(tampered)).findings
    }
