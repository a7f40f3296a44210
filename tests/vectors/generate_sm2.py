"""Produce the test vectors of the 国密 profile (``tests/vectors/sm2/``): a trust bundle whose
root, organization keys, trust list, status list, log key and manifest are SM2, QR texts with
their expected verdicts, and the log behind the bundle's tree head (``log.json``: its entries,
their SM3 leaf hashes, the SM3 root at every size and an inclusion proof). SM2 signatures take
a fresh random k each time, so these files are not reproduced byte for byte: they are checked
by verification (``test_vectors_sm2.py``), and by ``openssl`` for the typical credential's
signature. Run on purpose only: ``make vectors`` (``python -m tests.vectors.generate_sm2``)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from issuer.core import merkle, pki, qrtext, suites, transparency, trust
from issuer.core.manifest import Manifest
from issuer.core.signing import Signer
from issuer.core.sm2 import Sm2PrivateKey
from issuer.core.transparency import TreeHead
from tests import factories as f
from tests.vectors.generate import AT, _flip_signature

HERE = Path(__file__).parent / "sm2"
REVOKED_INDEX = 777
REVOKED_NUMBER = "Y000123000001263000002"
LOGGED = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def _log(signer: Signer, credentials: list[bytes], log_key: Sm2PrivateKey, log: trust.LogKey) -> tuple[bytes, dict]:
    """The log of ``credentials`` and the revocation of the second, its SM2 tree head, and
    what ``log.json`` says of it."""
    statement = transparency.revoke_statement(REVOKED_NUMBER, REVOKED_INDEX, "data_error", LOGGED)
    entries = [transparency.issue_entry(c, LOGGED).encode() for c in credentials]
    entries.append(transparency.signed_entry("revoke", statement, signer.key, signer.kid, LOGGED).encode())
    tree = merkle.MemoryTree((merkle.SM3.leaf(e) for e in entries), merkle.SM3)
    head = TreeHead(tree.size, tree.root(), LOGGED).sign(log_key, log.kid)
    return head.signed, {
        "tree_hash": "sm3",
        "entries": [base64.b64encode(e).decode() for e in entries],
        "leaf_hashes": [tree.leaf(i).hex() for i in range(tree.size)],
        "roots": [tree.root(n).hex() for n in range(tree.size + 1)],
        "inclusion": {
            "leaf_index": 0,
            "tree_size": tree.size,
            "proof": [h.hex() for h in merkle.inclusion_proof(tree, 0, tree.size)],
        },
    }


def render() -> dict[str, bytes]:
    auth = f.authority("sm2 vectors", suite=suites.SM2_SM3)
    signer = f.org_signer(auth, seed="sm2 vectors org")
    org = f.organization([signer])
    log_key = Sm2PrivateKey.generate()
    log = trust.LogKey.of("国密测试日志", log_key)
    signed_list = f.trust_list([org], logs=[log]).sign(auth.key, auth.root)
    status = f.status_list(signer, [REVOKED_INDEX])
    typical_credential = signer.sign(f.credential())
    revoked_credential = signer.sign(f.credential(number=REVOKED_NUMBER, status_index=REVOKED_INDEX))
    tree_head, log_json = _log(signer, [typical_credential, revoked_credential], log_key, log)
    named = {org.code: status}
    manifest_signed = Manifest.of(f.STATUS_AT, signed_list, tree_head, named, suites.SM2_SM3).sign(log_key, log.kid)
    bundle = trust.make_bundle(auth.root_der, signed_list, [status], tree_head, manifest_signed)
    outsider = f.org_signer(f.authority("sm2 vectors, another root", suite=suites.SM2_SM3), seed="sm2 outsider")
    typical = qrtext.encode(typical_credential, f.HOST)
    vectors = [
        ("valid-typical", typical, "valid", None, None, "3-character name, 工种 present, SM2 over SM3"),
        (
            "revoked",
            qrtext.encode(revoked_credential, f.HOST),
            "revoked",
            "status",
            "revoked",
            "its index is set in the organization's SM2-signed status list",
        ),
        ("wrong-signature", _flip_signature(typical), "not_valid", "signature", "bad_signature", "last byte flipped"),
        (
            "unknown-key",
            outsider.qr_text(f.credential(), f.HOST),
            "not_valid",
            "known_key",
            "unknown_key",
            "signed by an SM2 key of another root: its kid is in no trust list here",
        ),
    ]
    manifest = {
        "suite": "sm2-sm3",
        "at": AT,
        "bundle": "bundle.json",
        "root_public_key": pki.root_public_key(auth.root).raw().hex(),  # type: ignore[union-attr]
        "vectors": [
            {"name": n, "qr_text": t, "at": AT, "status": s, "failed_check": c, "reason": r, "description": d}
            for n, t, s, c, r, d in vectors
        ],
    }
    return {
        "bundle.json": (json.dumps(bundle, indent=1, ensure_ascii=False) + "\n").encode(),
        "manifest.json": (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode(),
        "log.json": (json.dumps(log_json, indent=1) + "\n").encode(),
    }


def main() -> None:
    HERE.mkdir(exist_ok=True)
    files = render()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files to {HERE} (SM2: new signatures each run)")


if __name__ == "__main__":
    main()
