"""Bad input is a 4xx, always: every kind of damaged or hostile input below gets a 4xx in
the one error shape ``{code, message, message_zh, errors}``, never a 500, and stores
nothing. ``BAD_INPUTS`` and ``DAMAGED_ROSTERS`` are the table the security note counts."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import DAMAGED_XLSX, damaged_xlsx
from tests.conftest import Keys, auth

DAMAGED_ROSTERS = [*DAMAGED_XLSX, "not a zip"]


def _certificates(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(m.Certificate)) or 0)


def assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"code", "message", "message_zh", "errors"}
    assert body["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", body["message_zh"]) and body["message"].isascii()
    return body


# --- damaged rosters --------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", ["false", "true"], ids=["upload", "dry run"])
@pytest.mark.parametrize("kind", DAMAGED_ROSTERS)
def test_a_damaged_xlsx_roster_is_a_422_unreadable_roster(
    client: FlaskClient, keys: Keys, svc: UseCases, kind: str, dry_run: str
) -> None:
    response = client.post(
        "/api/v1/batches",
        data={"roster": (io.BytesIO(damaged_xlsx(kind)), "名单.xlsx"), "dry_run": dry_run},
        headers=auth(keys.issuer),
        content_type="multipart/form-data",
    )
    body = assert_error_shape(response, 422, "unreadable_roster")
    assert body["message_zh"].startswith("无法读取花名册")
    assert _certificates(svc) == 0
