"""SoftHSM2 for the tests: a token directory and configuration of the test process's own.
SoftHSM reads ``SOFTHSM2_CONF`` and the tokens there when the module is first initialized
in a process and sees no token made after that, so every token the tests use is made at
once, first; a test empties the one it takes (``SoftHsm.fresh``)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246810"
SO_PIN = "97531864"
TOKENS = ("issuer-store", "issuer-service")


@dataclass(frozen=True)
class SoftHsm:
    module: str

    def settings(self, token: str) -> dict[str, Any]:
        """The app settings of the key backend in ``token`` (whose keys are Ed25519, whatever
        profile the rest of the suite runs in)."""
        token_settings = {"PKCS11_MODULE": self.module, "PKCS11_TOKEN": token, "PKCS11_PIN": PIN}
        return {"KEY_BACKEND": "pkcs11", "CRYPTO_PROFILE": "ed25519", **token_settings}

    def fresh(self, token: str) -> str:
        """``token`` with nothing in it (what an earlier test made is destroyed)."""
        import pkcs11

        found = pkcs11.lib(self.module).get_token(token_label=token)
        try:
            session = found.open(rw=True, user_pin=PIN)
        except pkcs11.exceptions.UserAlreadyLoggedIn:  # a session of this process is open
            session = found.open(rw=True)
        with session:
            for obj in list(session.get_objects()):
                obj.destroy()
        return token


def softhsm_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """The test process's SoftHSM with the tokens of ``TOKENS``; skipped where SoftHSM2 or
    python-pkcs11 is not installed (``.ci/run`` installs both)."""
    if shutil.which("softhsm2-util") is None or not Path(MODULE).is_file():
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    if importlib.util.find_spec("pkcs11") is None:
        pytest.skip("python-pkcs11 is not installed (pip install -e '.[hsm]')")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label in TOKENS:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
        )
    yield SoftHsm(MODULE)
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before
