"""Configuration: defaults in one place, overridden by ``ISSUER_*`` environment variables,
then by the mapping given to ``create_app``. Nothing is read at import time."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from issuer.core.catalogue import Catalogue, default_catalogue
from issuer.core.errors import ReferenceDataError
from issuer.core.identity import DocumentTypes, default_document_types
from issuer.core.suites import ED25519, SM2_SM3, Suite

T = TypeVar("T")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEV_PASSPHRASE = "development-only-passphrase"
DEV_SECRET_KEY = "development-only-secret-key"
DEV_DATA_KEY = "ZGV2ZWxvcG1lbnQtb25seS1kYXRhLWtleS0zMmJ5dGU="

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": DEV_SECRET_KEY,
    "KEY_PASSPHRASE": DEV_PASSPHRASE,
    "DATA_KEY": DEV_DATA_KEY,
    "DATABASE_URL": "",
    "DATABASE_POOL": 10,
    "DATABASE_WAIT_MS": 2000,
    "KEYS_DIR": "keys",
    "KEY_BACKEND": "file",
    "CRYPTO_PROFILE": "",
    "PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
    "PKCS11_TOKEN": "",
    "PKCS11_PIN": "",
    "PKCS11_PIN_FILE": "",
    "LOOKUP_RATE_LIMIT": 10,
    "LOOKUP_RATE_WINDOW": 60,
    "REDIS_URL": "",
    "TRUSTED_PROXIES": 0,
    "FONTS": "",
    "QR_HOST": "127.0.0.1:5000",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "QUEUE": "inprocess",
    "QUEUE_HEARTBEAT_MS": 60_000,
    "QUEUE_MAINTENANCE": 100_000,
    "BATCH_DIR": "",
    "BATCH_CHUNK": 25,
    "MAX_BACKDATE_DAYS": 30,
    "IDEMPOTENCY_HOURS": 24,
    "CLOCK": "",
    "SCHEDULER": 1,
    "TREE_HEAD_HOURS": 24,
    "LOG_DELAY_MS": 100,
    "TRUST_LIST_DAYS": 7,
    "ARCHIVE_DAYS": 30,
    "SECURE_COOKIES": "",
    "MAX_VALIDATIONS_PER_ORG": 1,
    "MAX_ROSTER_ROWS": 50_000,
    "VALIDATION_THREADS": 0,
    "MIN_HOLDER_AGE": 16,
    "DOCUMENT_TYPES_FILE": "",
    "OCCUPATION_LEVELS_FILE": "",
    "LOG_FORMAT": "text",
    "METRICS_ALLOW": "127.0.0.1,::1",
}


class ConfigError(Exception):
    """Configuration that must not be run with."""


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        value = env.get(f"ISSUER_{key}")
        if key == "DATABASE_URL":
            value = env.get("DATABASE_URL", value)
        if value is not None:
            config[key] = int(value) if isinstance(default, int) else value
    return config


def check(config: Mapping[str, Any]) -> None:
    """Refuse development secrets outside development, and settings that cannot be read
    (reference data files included: nothing starts half-configured)."""
    secure_cookies(config)
    for key in (
        "MAX_VALIDATIONS_PER_ORG",
        "MAX_ROSTER_ROWS",
        "IDEMPOTENCY_HOURS",
        "DATABASE_POOL",
        "TREE_HEAD_HOURS",
        "TRUST_LIST_DAYS",
    ):
        if int(config[key]) < 1:
            raise ConfigError(f"ISSUER_{key} must be at least 1")
    if not 0 <= int(config["LOG_DELAY_MS"]) <= 60_000:
        raise ConfigError("ISSUER_LOG_DELAY_MS is milliseconds, 0 (logged in the request) to 60000")
    if int(config["ARCHIVE_DAYS"]) < 0:
        raise ConfigError("ISSUER_ARCHIVE_DAYS is days a batch archive is kept (0: kept for good)")
    if int(config["SCHEDULER"]) not in (0, 1):
        raise ConfigError("ISSUER_SCHEDULER is 1 (issuer run runs the upkeep jobs) or 0 (issuer scheduler does)")
    if int(config["VALIDATION_THREADS"]) < 0:
        raise ConfigError("ISSUER_VALIDATION_THREADS must be 0 (one a core) or more")
    if not 0 <= int(config["MIN_HOLDER_AGE"]) <= 100:
        raise ConfigError("ISSUER_MIN_HOLDER_AGE is an age in years, 0 (no minimum) to 100")
    _check_qr_host(str(config["QR_HOST"]))
    if config["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError("ISSUER_LOG_FORMAT is text or json")
    metrics_allow(config)
    token = token_settings(config)
    if crypto_profile(config) is SM2_SM3 and token is not None:
        raise ConfigError(
            "ISSUER_CRYPTO_PROFILE=sm2 needs ISSUER_KEY_BACKEND=file: the PKCS#11 backend makes Ed25519 keys"
        )
    reference_data(config)
    if config["ENV"] == "development":
        return
    if config["CLOCK"]:
        raise ConfigError("ISSUER_CLOCK moves the service's clock: development only")
    if str(config["QR_HOST"]).strip().lower().startswith("http://"):
        raise ConfigError("ISSUER_QR_HOST with http:// is for a development server; certificates say HTTPS")
    for secret in ("SECRET_KEY", "DATA_KEY", *(("KEY_PASSPHRASE",) if token is None else ())):
        if not str(config[secret] or "").strip():
            raise ConfigError(f"ISSUER_{secret} is empty; set it")
    if token is None and config["KEY_PASSPHRASE"] == DEV_PASSPHRASE:
        raise ConfigError("ISSUER_KEY_PASSPHRASE is the development passphrase; set a real one")
    if config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise ConfigError("ISSUER_SECRET_KEY is the development secret; set a real one")
    if config["DATA_KEY"] == DEV_DATA_KEY:
        raise ConfigError("ISSUER_DATA_KEY is the development data key; set base64 of 32 random bytes")


def _check_qr_host(value: str) -> None:
    from issuer.core.errors import InvalidInput
    from issuer.core.qrtext import check_host, split_scheme

    try:
        check_host(split_scheme(value)[1])
    except InvalidInput:
        raise ConfigError(
            f"ISSUER_QR_HOST={value}: a host name with an optional :port (http://host:port for a development server)"
        ) from None


PROFILES = {"ed25519": ED25519, "sm2": SM2_SM3}
"""``ISSUER_CRYPTO_PROFILE``: the signature suite of the authority root made by ``issuer keys
init-authority`` (and ``issuer dev init``); every later key follows the root's suite."""


def crypto_profile(config: Mapping[str, Any]) -> Suite | None:
    """The suite ``ISSUER_CRYPTO_PROFILE`` names, or ``None`` when it is not set (a new root
    is then Ed25519, and an existing one keeps its suite)."""
    name = str(config.get("CRYPTO_PROFILE") or "").strip().lower()
    if not name:
        return None
    if name not in PROFILES:
        raise ConfigError(f"ISSUER_CRYPTO_PROFILE is ed25519 or sm2 (国密), not {name!r}")
    return PROFILES[name]


def secure_cookies(config: Mapping[str, Any]) -> bool:
    """Whether cookies carry ``Secure`` (sent over HTTPS only): ``ISSUER_SECURE_COOKIES``
    ``1`` or ``0``; unset, on everywhere but in development, whose server speaks plain HTTP."""
    value = str(config["SECURE_COOKIES"]).strip().lower()
    if not value:
        return bool(config["ENV"] != "development")
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    raise ConfigError("ISSUER_SECURE_COOKIES is 1 or 0 (unset: on outside development)")


def metrics_allow(config: Mapping[str, Any]) -> tuple[IPNetwork, ...]:
    """Who may read ``/metrics``: ``ISSUER_METRICS_ALLOW``, addresses and networks
    (``10.0.0.0/8``) separated by commas; empty: no one."""
    value = str(config["METRICS_ALLOW"])
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
    except ValueError as e:
        raise ConfigError(f"ISSUER_METRICS_ALLOW={value}: {e}") from None


def font_settings(value: str) -> dict[str, str]:
    """``serif=/srv/fonts/FangSong.ttf;sans=/srv/fonts/x.ttc#2`` → ``{"serif": …, "sans": …}``."""
    pairs = [part.split("=", 1) for part in value.split(";") if part.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ConfigError("ISSUER_FONTS is role=path pairs separated by ';'")
    return {role.strip(): path.strip() for role, path in pairs}


def keys_dir(config: Mapping[str, Any]) -> Path:
    return Path(config["KEYS_DIR"]).resolve()


@dataclass(frozen=True)
class TokenSettings:
    """The PKCS#11 token the keys are in. The PIN is never shown."""

    module: str
    label: str
    pin: str = field(repr=False)


def token_settings(config: Mapping[str, Any]) -> TokenSettings | None:
    """The token of ``ISSUER_KEY_BACKEND=pkcs11``, or ``None`` for ``file`` (the default:
    encrypted files under ``ISSUER_KEYS_DIR``). Nothing is opened here: a process forked
    later opens the token itself. Raises ``ConfigError``, which never shows the PIN."""
    backend = str(config["KEY_BACKEND"]).strip().lower()
    if backend == "file":
        return None
    if backend != "pkcs11":
        raise ConfigError(f"ISSUER_KEY_BACKEND is file or pkcs11, not {backend!r}")
    module = str(config["PKCS11_MODULE"]).strip()
    if not Path(module).is_file():
        raise ConfigError(f"ISSUER_PKCS11_MODULE={module}: no such PKCS#11 library")
    label = str(config["PKCS11_TOKEN"]).strip()
    if not label:
        raise ConfigError("ISSUER_KEY_BACKEND=pkcs11 needs ISSUER_PKCS11_TOKEN, the label of the token")
    pin, pin_file = str(config["PKCS11_PIN"]), str(config["PKCS11_PIN_FILE"]).strip()
    if bool(pin) == bool(pin_file):
        raise ConfigError("ISSUER_KEY_BACKEND=pkcs11 needs the user PIN in one of ISSUER_PKCS11_PIN or _PIN_FILE")
    if pin_file:
        pin = _read_pin(pin_file)
    if importlib.util.find_spec("pkcs11") is None:
        raise ConfigError("ISSUER_KEY_BACKEND=pkcs11 needs python-pkcs11: pip install 'issuer[hsm]'")
    return TokenSettings(module, label, pin)


def _read_pin(path: str) -> str:
    where = f"ISSUER_PKCS11_PIN_FILE={path}"
    try:
        pin = Path(path).read_text(encoding="utf-8").strip("\r\n")
    except OSError as e:
        raise ConfigError(f"{where}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    if not pin:
        raise ConfigError(f"{where}: the file is empty")
    return pin


def batch_dir(config: Mapping[str, Any], instance_path: str) -> Path:
    """Where batches' images and archives are written (shared by the service and its
    workers): ``ISSUER_BATCH_DIR``, else ``batches`` in the instance folder."""
    return Path(config["BATCH_DIR"] or Path(instance_path) / "batches").resolve()


@dataclass(frozen=True)
class ReferenceData:
    """What issuing is checked against: the document types and the catalogue (levels and
    work types per occupation)."""

    document_types: DocumentTypes
    catalogue: Catalogue


def reference_data(config: Mapping[str, Any]) -> ReferenceData:
    """The packaged document types and catalogue, overridden by the operator's files:
    ``ISSUER_DOCUMENT_TYPES_FILE`` (JSON, the form of ``issuer/core/data/document-types.json``:
    a type replaces the packaged one of its code or is added) and
    ``ISSUER_OCCUPATION_LEVELS_FILE`` (CSV, the form of ``occupation-levels.csv``: a row
    replaces the packaged levels and work types of its occupation). Raises ``ConfigError``:
    one line naming the setting, the file, the line and the problem."""
    document_types = default_document_types()
    catalogue = default_catalogue()
    path = str(config.get("DOCUMENT_TYPES_FILE") or "")
    if path:
        document_types = _read_reference("DOCUMENT_TYPES_FILE", path, document_types.overridden_by)
    path = str(config.get("OCCUPATION_LEVELS_FILE") or "")
    if path:
        catalogue = _read_reference("OCCUPATION_LEVELS_FILE", path, catalogue.with_occupation_levels)
    return ReferenceData(document_types, catalogue)


def _read_reference(setting: str, path: str, apply: Callable[[str], T]) -> T:
    where = f"ISSUER_{setting}={path}"
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"{where}: cannot be read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{where}, line {line}: not UTF-8 text") from None
    try:
        return apply(text)
    except ReferenceDataError as e:
        raise ConfigError(f"{where}, line {e.line}: {e.problem}" if e.line else f"{where}: {e.problem}") from None
