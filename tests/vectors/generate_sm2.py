"""Produce the test vectors of the 国密 profile (``tests/vectors/sm2/``): a trust bundle whose
root, organization keys, trust list and status list are SM2, and QR texts with their expected
verdicts. SM2 signatures take a fresh random k each time, so these files are not reproduced
byte for byte: they are checked by verification (``test_vectors_sm2.py``), and by ``openssl``
for the typical credential's signature. Run on purpose only: ``make vectors``
(``python -m tests.vectors.generate_sm2``)."""

from __future__ import annotations

import json
from pathlib import Path

from issuer.core import pki, suites, trust
from tests import factories as f
from tests.vectors.generate import AT, _flip_signature

HERE = Path(__file__).parent / "sm2"
REVOKED_INDEX = 777


def render() -> dict[str, bytes]:
    auth = f.authority("sm2 vectors", suite=suites.SM2_SM3)
    signer = f.org_signer(auth, seed="sm2 vectors org")
    org = f.organization([signer])
    signed_list = f.trust_list([org]).sign(auth.key, auth.root)
    status = f.status_list(signer, [REVOKED_INDEX])
    bundle = trust.make_bundle(auth.root_der, signed_list, [status])
    outsider = f.org_signer(f.authority("sm2 vectors, another root", suite=suites.SM2_SM3), seed="sm2 outsider")
    typical = signer.qr_text(f.credential(), f.HOST)
    vectors = [
        ("valid-typical", typical, "valid", None, None, "3-character name, 工种 present, SM2 over SM3"),
        (
            "revoked",
            signer.qr_text(f.credential(number="Y000123000001263000002", status_index=REVOKED_INDEX), f.HOST),
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
    }


def main() -> None:
    HERE.mkdir(exist_ok=True)
    files = render()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files to {HERE} (SM2: new signatures each run)")


if __name__ == "__main__":
    main()
