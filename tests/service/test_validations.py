"""An organization's validation slots on the real database: one more validation than the
cap is refused at once; a slot is given back however the validation ends, renewed while
it runs, and taken over once a killed process's lease has expired."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask

from issuer import config as settings
from issuer.service.principal import Principal
from issuer.service.validations import LEASE, TooManyValidations, ValidationSlots
from issuer.service.wiring import UseCases
from issuer.store.models import ValidationLease
from tests.conftest import OTHER_CODE, Clock, Keys, issuer_principal


def validate_nothing(slots: ValidationSlots, principal: Principal) -> None:
    """Take a slot and give it back at once (or be refused)."""
    with slots.held(principal):
        pass


def test_one_validation_more_than_the_cap_is_refused_at_once(keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    with svc.validations.held(principal):
        started = time.monotonic()
        with pytest.raises(TooManyValidations) as refused:
            validate_nothing(svc.validations, principal)
        assert time.monotonic() - started < 1
        assert refused.value.errors == {"retry_after": 30, "limit": 1}
        validate_nothing(svc.validations, issuer_principal(svc, OTHER_CODE))  # another organization's


def test_a_slot_is_given_back_when_the_validation_raises(keys: Keys, svc: UseCases) -> None:
    principal = issuer_principal(svc)
    with pytest.raises(ZeroDivisionError), svc.validations.held(principal):
        _ = 1 / 0
    validate_nothing(svc.validations, principal)


def test_a_held_lease_is_renewed_while_the_validation_runs(keys: Keys, svc: UseCases, clock: Clock) -> None:
    """Past its first expiry, a lease still renewed is not taken over."""
    principal = issuer_principal(svc)
    eager = ValidationSlots(svc.ctx, 1, renew_every=0.01)
    with eager.held(principal):
        clock.advance(seconds=LEASE.total_seconds() + 60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _expiry(svc) <= clock.now:
            time.sleep(0.01)
        assert _expiry(svc) > clock.now
        with pytest.raises(TooManyValidations):
            validate_nothing(svc.validations, principal)
    validate_nothing(svc.validations, principal)


def _expiry(svc: UseCases) -> datetime:
    with svc.database.read_sessions() as session:
        found = session.query(ValidationLease).one()
        return found.expires_at


KILLED = """
import json, os, signal, sys
from datetime import datetime
from issuer import config
from issuer.service.principal import Principal, Role
from issuer.service.wiring import build

given = json.loads(sys.argv[1])
now = datetime.fromisoformat(given.pop("now"))
use_cases = build({**config.DEFAULTS, **given.pop("config")}, given.pop("instance"), clock=lambda: now)
with use_cases.validations.held(Principal(Role.ORG_ISSUER, "killed", given["id"], given["code"])):
    print("holding", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_process_killed_while_validating_holds_its_slot_only_until_the_lease_expires(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    principal = issuer_principal(svc)
    given = {
        "now": clock.now.isoformat(),
        "instance": str(tmp_path / "killed"),
        "id": principal.organization_id,
        "code": principal.organization_code,
        "config": {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keys_dir),
            "KEY_PASSPHRASE": "test-passphrase",
            "BATCH_DIR": str(tmp_path / "batches"),
        },
    }
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, json.dumps(given)], capture_output=True, text=True, timeout=60, check=False
    )
    assert killed.stdout == "holding\n" and killed.returncode == -9, killed.stderr
    with pytest.raises(TooManyValidations):
        validate_nothing(svc.validations, principal)
    clock.advance(seconds=LEASE.total_seconds() - 1)
    with pytest.raises(TooManyValidations):
        validate_nothing(svc.validations, principal)
    clock.advance(seconds=1)
    validate_nothing(svc.validations, principal)


@pytest.mark.parametrize("setting", ["MAX_VALIDATIONS_PER_ORG", "MAX_ROSTER_ROWS"])
def test_a_cap_below_one_refuses_to_start(setting: str) -> None:
    with pytest.raises(settings.ConfigError, match=f"ISSUER_{setting}"):
        settings.check({**settings.DEFAULTS, setting: 0})
