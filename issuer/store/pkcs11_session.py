"""One session with a PKCS#11 token per process (``issuer.store.pkcs11`` keeps the keys in
it): log in once, open again after a fork, one thread at a time, and the token's refusals
as ``KeyStoreError``. python-pkcs11 is imported when the token is first opened, so that the
file key store runs without the ``hsm`` extra installed."""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer.store.keystore import KeyStoreError

_ED25519_PARAMS = bytes.fromhex("06032b6570")  # CKA_EC_PARAMS: the OID id-Ed25519 (1.3.101.112)

_initialized_in: dict[str, int] = {}
_library_lock = threading.Lock()
_logged_in: dict[tuple[str, str], tuple[int, str]] = {}
"""(module, token label) → (process, PIN) of the login that succeeded: a login is the whole
process's, and the token answers another one with "already logged in", whatever its PIN."""


def _library(module: str) -> Any:
    """The loaded module, initialized in this process: python-pkcs11 keeps one per path,
    and one a parent process initialized must be initialized again in a forked child."""
    import pkcs11

    with _library_lock:
        lib = pkcs11.lib(module)
        pid = os.getpid()
        if _initialized_in.setdefault(module, pid) != pid:
            lib.reinitialize()
            _initialized_in[module] = pid
        return lib


def _public_key(ec_point: bytes) -> Ed25519PublicKey:
    """``CKA_EC_POINT``: the 32 bytes, DER-wrapped in an OCTET STRING (SoftHSM2, PKCS#11
    2.40 practice) or bare (some tokens under PKCS#11 3.0)."""
    raw = ec_point[2:] if len(ec_point) == 34 and ec_point[:2] == b"\x04\x20" else ec_point
    if len(raw) != 32:
        raise KeyStoreError("token_key_type", "a token key is not Ed25519", "令牌中的密钥不是Ed25519密钥")
    return Ed25519PublicKey.from_public_bytes(raw)


class Token:
    """One logged-in session per process, opened on first use, and again in a forked child
    (a gunicorn or drawing worker), which cannot use its parent's. A lock serializes the
    calls: credentials are signed from several threads. The PIN is never shown."""

    def __init__(self, module: str, label: str, pin: str) -> None:
        self.module = module
        self.label = label
        self._pin = pin
        self._pid = 0
        self._lock = threading.Lock()
        self._session: Any = None
        self._private: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Token({self.label!r} in {self.module})"

    @contextmanager
    def session(self) -> Iterator[Any]:
        """The session, with the lock held (the tests read attributes through it); a token's
        refusal becomes a ``KeyStoreError``."""
        if self._pid != os.getpid():  # first use, or a forked child: the parent's session is not ours
            self._pid, self._lock, self._session, self._private = os.getpid(), threading.Lock(), None, {}
        import pkcs11.exceptions as failed

        with self._lock:
            try:
                if self._session is None:
                    self._session = self._login()
                yield self._session
            except failed.PKCS11Error as e:
                raise self._error(e) from None

    def _login(self) -> Any:
        import pkcs11.exceptions as failed

        token = _library(self.module).get_token(token_label=self.label)
        try:
            session = token.open(rw=True, user_pin=self._pin)
        except failed.UserAlreadyLoggedIn:
            # Another session of this process logged in, so this one is too: only with the
            # PIN that did it, or a wrong PIN would pass unnoticed.
            pid, pin = _logged_in.get((self.module, self.label), (0, ""))
            if pid != os.getpid() or not hmac.compare_digest(pin.encode(), self._pin.encode()):
                raise failed.PinIncorrect() from None
            return token.open(rw=True)
        _logged_in[(self.module, self.label)] = (os.getpid(), self._pin)
        return session

    def _error(self, e: Exception) -> KeyStoreError:
        import pkcs11.exceptions as failed

        if isinstance(e, failed.NoSuchToken):
            return KeyStoreError(
                "token_missing",
                f"no PKCS#11 token labelled {self.label!r} in {self.module}",
                f"{self.module}中没有标签为“{self.label}”的PKCS#11令牌",
            )
        if isinstance(e, failed.PinIncorrect | failed.PinLenRange | failed.PinInvalid):
            return KeyStoreError(
                "token_pin", f"the token {self.label!r} refused the PIN", f"令牌“{self.label}”拒绝了PIN码"
            )
        if isinstance(e, failed.NoSuchKey):
            return KeyStoreError("key_missing", "a key is missing from the token", "令牌中缺少密钥")
        if isinstance(e, failed.PinLocked):
            return KeyStoreError("token_pin_locked", f"the token {self.label!r} is locked", f"令牌“{self.label}”已锁定")
        return KeyStoreError(
            "token_error",
            f"the PKCS#11 token {self.label!r} failed: {type(e).__name__}",
            f"PKCS#11令牌“{self.label}”出错：{type(e).__name__}",
        )

    def find(self, label: str) -> Ed25519PublicKey | None:
        """The public key of the key pair labelled ``label``, if there is one."""
        from pkcs11 import Attribute, ObjectClass

        with self.session() as session:
            found = list(session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.LABEL: label}))
            if len(found) > 1:
                raise KeyStoreError(
                    "token_duplicate", f"the token holds {len(found)} keys labelled {label}", f"令牌中有多个{label}密钥"
                )
            return _public_key(found[0][Attribute.EC_POINT]) if found else None

    def generate(self, label: str) -> Ed25519PublicKey:
        """A new Ed25519 key pair labelled ``label``; its private half cannot leave the token."""
        from pkcs11 import Attribute, KeyType, Mechanism

        with self.session() as session:
            public, _ = session.generate_keypair(
                KeyType.EC_EDWARDS,
                mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                store=True,
                label=label,
                id=os.urandom(16),
                public_template={Attribute.EC_PARAMS: _ED25519_PARAMS, Attribute.VERIFY: True},
                private_template={
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.SIGN: True,
                },
            )
            return _public_key(public[Attribute.EC_POINT])

    def relabel(self, old: str, new: str) -> None:
        from pkcs11 import Attribute

        with self.session() as session:
            for obj in list(session.get_objects({Attribute.LABEL: old})):
                obj[Attribute.LABEL] = new
            self._private.pop(old, None)

    def sign(self, label: str, data: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass

        with self.session() as session:
            key = self._private.get(label)
            if key is None:
                key = self._private[label] = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            signature: bytes = key.sign(data, mechanism=Mechanism.EDDSA)
            return signature

    def close(self) -> None:
        with self._lock:
            if self._session is not None and self._pid == os.getpid():
                self._session.close()
            self._session, self._private = None, {}
