"""The key backend settings: ``file`` by default, ``pkcs11`` with a module, a token label
and a PIN (given, or in a file). A bad one is one line naming the setting, never the PIN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer import config
from issuer.cli import main
from issuer.config import ConfigError, token_settings

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
SECRET_PIN = "pin-8642"


def _settings(**changed: Any) -> dict[str, Any]:
    return {**config.DEFAULTS, **changed}


def _token(**changed: Any) -> dict[str, Any]:
    return _settings(**{"KEY_BACKEND": "pkcs11", "PKCS11_TOKEN": "issuer", "PKCS11_PIN": SECRET_PIN, **changed})


@pytest.fixture()
def a_module(tmp_path: Path) -> str:
    """A file where the module is looked for (the settings check that it is there, no more)."""
    path = tmp_path / "libpkcs11.so"
    path.write_bytes(b"\x7fELF")
    return str(path)


def test_the_encrypted_files_are_the_default() -> None:
    assert token_settings(_settings()) is None
    assert config.DEFAULTS["PKCS11_MODULE"] == SOFTHSM


def test_a_token_is_named_by_module_label_and_pin(a_module: str, tmp_path: Path) -> None:
    found = token_settings(_token(PKCS11_MODULE=a_module))
    assert found is not None and (found.module, found.label, found.pin) == (a_module, "issuer", SECRET_PIN)
    assert SECRET_PIN not in repr(found)
    pin_file = tmp_path / "pin"
    pin_file.write_text("from-a-file\n")
    found = token_settings(_token(PKCS11_MODULE=a_module, PKCS11_PIN="", PKCS11_PIN_FILE=str(pin_file)))
    assert found is not None and found.pin == "from-a-file"


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"KEY_BACKEND": "vault"}, "ISSUER_KEY_BACKEND is file or pkcs11, not 'vault'"),
        ({"PKCS11_MODULE": "/nowhere/lib.so"}, "ISSUER_PKCS11_MODULE=/nowhere/lib.so: no such PKCS#11 library"),
        ({"PKCS11_TOKEN": " "}, "ISSUER_KEY_BACKEND=pkcs11 needs ISSUER_PKCS11_TOKEN, the label of the token"),
        ({"PKCS11_PIN": ""}, "ISSUER_KEY_BACKEND=pkcs11 needs the user PIN in one of ISSUER_PKCS11_PIN or _PIN_FILE"),
        ({"PKCS11_PIN_FILE": "/pin"}, "needs the user PIN in one of ISSUER_PKCS11_PIN or _PIN_FILE"),
        ({"PKCS11_PIN": "", "PKCS11_PIN_FILE": "/nowhere/pin"}, "ISSUER_PKCS11_PIN_FILE=/nowhere/pin: cannot be read"),
    ],
)
def test_a_bad_key_setting_is_one_line_without_the_pin(a_module: str, changed: dict[str, Any], message: str) -> None:
    settings = _token(PKCS11_MODULE=a_module)
    settings.update(changed)
    with pytest.raises(ConfigError) as caught:
        config.check(settings)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert SECRET_PIN not in str(caught.value)


def test_the_development_passphrase_is_no_concern_of_a_token(a_module: str) -> None:
    production = {
        "ENV": "production",
        "QR_HOST": "cert.example.cn",
        "SECRET_KEY": "a-real-secret",
        "DATA_KEY": "cmVhbC1kYXRhLWtleS1vZi0zMi1ieXRlcy0xMjM0NTY=",
    }
    config.check(_token(PKCS11_MODULE=a_module, **production))
    with pytest.raises(ConfigError, match="ISSUER_KEY_PASSPHRASE"):
        config.check(_settings(**production))


def test_the_command_line_says_it_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, a_module: str) -> None:
    monkeypatch.setenv("ISSUER_KEY_BACKEND", "pkcs11")
    monkeypatch.setenv("ISSUER_PKCS11_MODULE", a_module)  # SoftHSM2's may not be installed
    monkeypatch.setenv("ISSUER_PKCS11_PIN", SECRET_PIN)
    monkeypatch.setenv("ISSUER_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["keys", "init-authority", "--name", "某省人社厅"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "configuration: ISSUER_KEY_BACKEND=pkcs11 needs ISSUER_PKCS11_TOKEN, the label of the token / 配置错误"
    ]
