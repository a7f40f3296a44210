"""The PKCS#11 key backend against SoftHSM2: keys are made in the token and never leave it,
what the token signs verifies with ``cryptography`` alone, and the session survives threads
and a fork."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from issuer.core import pki
from issuer.core.numbering import OrganizationCode
from issuer.service import bootstrap
from issuer.store.keystore import KeyStore, KeyStoreError
from issuer.store.pkcs11 import LOG_LABEL, ROOT_LABEL, TokenKey, TokenKeys, org_label
from issuer.store.pkcs11_session import Token
from tests.hsm import PIN, SoftHsm

TOKEN = "issuer-store"
CODE = "Y000123000001"
NOW = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture()
def token(softhsm: SoftHsm) -> Iterator[Token]:
    found = Token(softhsm.module, softhsm.fresh(TOKEN), PIN)
    yield found
    found.close()


@pytest.fixture()
def keys(token: Token, tmp_path: Path) -> TokenKeys:
    made = TokenKeys(KeyStore(tmp_path / "keys", "unused"), token)
    assert bootstrap.init_authority(made, "人力资源和社会保障部（令牌测试）", now=NOW)
    return made


def _verifies(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _organization_key(keys: TokenKeys) -> bytes:
    root_key, root = keys.authority()
    key = keys.new_organization_key(CODE)
    cert = pki.create_organization_certificate(
        root_key=root_key,
        root=root,
        public_key=key.public_key(),
        org_code=OrganizationCode.parse(CODE),
        org_name="黑龙江某某电力股份有限公司",
        not_before=NOW,
        not_after=NOW + timedelta(days=365),
    )
    return keys.save_organization_key(key, cert)


def test_the_root_is_made_in_the_token_and_its_certificate_signed_there(keys: TokenKeys, tmp_path: Path) -> None:
    key, root = keys.authority()
    assert isinstance(key, TokenKey) and key.label == ROOT_LABEL
    root.verify_directly_issued_by(root)
    assert keys.has_authority()
    assert not bootstrap.init_authority(keys, "又一个", now=NOW), "made once"
    assert sorted(p.name for p in (tmp_path / "keys").rglob("*") if p.is_file()) == ["root.crt.pem"]


def test_an_organization_key_is_labelled_by_its_kid_and_signs_under_its_certificate(
    keys: TokenKeys, token: Token, tmp_path: Path
) -> None:
    kid = _organization_key(keys)
    signer = keys.signer(CODE, kid.hex())
    assert signer.kid == kid and signer.certificate.issued_by(keys.root_certificate())
    assert token.find(org_label(CODE, kid.hex())) is not None
    assert _verifies(signer.certificate.public_key, signer.key.sign(b"bytes"), b"bytes")
    files = sorted(p.name for p in (tmp_path / "keys").rglob("*") if p.is_file())
    assert files == sorted(["root.crt.pem", f"{kid.hex()}.crt.pem"]), "no private key file is written"


def test_private_keys_are_sensitive_and_cannot_be_read(keys: TokenKeys, token: Token) -> None:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    kid = _organization_key(keys)
    keys.log_key()
    with token.session() as session:
        private = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
        assert sorted(k.label for k in private) == [LOG_LABEL, org_label(CODE, kid.hex()), ROOT_LABEL]
        for key in private:
            assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
            assert key[Attribute.NEVER_EXTRACTABLE] and key[Attribute.ALWAYS_SENSITIVE]
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[Attribute.VALUE]


def test_the_log_key_is_made_once_and_a_probe_makes_none(keys: TokenKeys) -> None:
    assert keys.existing_log_key() is None
    made = keys.log_key()
    assert keys.existing_log_key() is not None
    assert keys.log_key().public_key().public_bytes_raw() == made.public_key().public_bytes_raw()


def test_a_certificate_of_another_key_is_refused(keys: TokenKeys) -> None:
    root_key, root = keys.authority()
    key = keys.new_organization_key(CODE)
    stranger = pki.create_organization_certificate(
        root_key=root_key,
        root=root,
        public_key=Ed25519PrivateKey.generate().public_key(),
        org_code=OrganizationCode.parse(CODE),
        org_name="某机构",
        not_before=NOW,
        not_after=NOW + timedelta(days=1),
    )
    with pytest.raises(KeyStoreError) as caught:
        keys.save_organization_key(key, stranger)
    assert caught.value.code == "key_certificate_mismatch"


def test_a_root_key_without_its_certificate_is_reported_not_replaced(keys: TokenKeys, tmp_path: Path) -> None:
    keys.files.authority_cert_path.unlink()
    assert not keys.has_authority()
    with pytest.raises(KeyStoreError) as caught:
        bootstrap.init_authority(keys, "又一个", now=NOW)
    assert caught.value.code == "authority_incomplete"


def test_threads_sign_through_one_session(keys: TokenKeys) -> None:
    signer = keys.signer(CODE, _organization_key(keys).hex())
    messages = [f"credential {i}".encode() for i in range(64)]
    with ThreadPoolExecutor(8) as pool:
        signatures = list(pool.map(signer.key.sign, messages))
    assert all(_verifies(signer.certificate.public_key, s, m) for s, m in zip(signatures, messages, strict=True))


def test_a_forked_child_opens_its_own_session(keys: TokenKeys) -> None:
    """What a gunicorn or drawing worker does when its parent had the token open already."""
    kid = _organization_key(keys).hex()
    keys.signer(CODE, kid).key.sign(b"the parent signs first")
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(read)
            os.write(write, pickle.dumps(keys.token.sign(org_label(CODE, kid), b"signed in the child")))
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        signature = pickle.loads(pipe.read())
    assert os.waitpid(child, 0)[1] == 0
    public = keys.signer(CODE, kid).certificate.public_key
    assert _verifies(public, signature, b"signed in the child")
    assert _verifies(public, keys.signer(CODE, kid).key.sign(b"and after"), b"and after"), "the parent's still works"


def test_a_refused_pin_is_one_error_that_does_not_show_it(softhsm: SoftHsm) -> None:
    wrong = Token(softhsm.module, TOKEN, "not-the-pin-4242")
    with pytest.raises(KeyStoreError) as caught:
        wrong.find(ROOT_LABEL)
    assert caught.value.code == "token_pin"
    assert "4242" not in caught.value.line() and "4242" not in repr(wrong)


def test_a_missing_token_is_named(softhsm: SoftHsm) -> None:
    with pytest.raises(KeyStoreError) as caught:
        Token(softhsm.module, "no-such-token", PIN).find(ROOT_LABEL)
    assert caught.value.code == "token_missing" and "no-such-token" in caught.value.message
