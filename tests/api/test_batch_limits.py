"""What a roster may cost (issue 14, the console): an organization validates at most
``ISSUER_MAX_VALIDATIONS_PER_ORG`` rosters at once — dry runs and uploads, from the upload
until its validation ends — and hears so with a 429 ``too_many_validations`` and
Retry-After; another organization is not held up; the slot is given back however a
validation ends; a roster over ``ISSUER_MAX_ROSTER_ROWS`` rows is a 422
``roster_too_large``, at once."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from issuer.service.certificates import Search
from issuer.service.wiring import UseCases
from issuer.store.models import ValidationLease
from tests.builders import PHOTO, follow, id17s, photos_zip, simple_roster
from tests.conftest import Keys, auth, issuer_principal

ROSTER = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))])


def post(
    client: FlaskClient, key: str, data: bytes = ROSTER, headers: dict[str, str] | None = None, **form: str
) -> Any:
    return client.post(
        "/api/v1/batches",
        data={"roster": (io.BytesIO(data), "名单.csv"), "photos": (io.BytesIO(photos_zip()), "照片.zip"), **form},
        headers={**auth(key), **(headers or {})},
        content_type="multipart/form-data",
    )


def issued(svc: UseCases) -> int:
    return svc.certificates.search(issuer_principal(svc), Search()).total


def test_while_the_organization_validates_a_roster_another_is_429_with_retry_after(
    client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    with svc.validations.held(issuer_principal(svc)):
        for form in ({"dry_run": "true"}, {}):
            refused = post(client, keys.issuer, **form)
            assert refused.status_code == 429, refused.get_json()
            assert refused.headers["Retry-After"] == "30"
            body = refused.get_json()
            assert body["code"] == "too_many_validations"
            assert body["message_zh"] == "本机构已有1份花名册正在校验（同时最多1份），请30秒后再试"
            assert "try again in 30 s" in body["message"]
        assert issued(svc) == 0
    dry = post(client, keys.issuer, dry_run="true")
    assert dry.status_code == 202 and follow(client, keys.issuer, dry.get_json()["id"])["status"] == "checked"
    real = post(client, keys.issuer)
    assert real.status_code == 202 and follow(client, keys.issuer, real.get_json()["id"])["status"] == "rendering"


def test_an_upload_holds_its_slot_from_its_answer_until_its_validation_ends(
    client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    from issuer.service.jobs import InProcessQueue

    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()
    waiting = post(client, keys.issuer)
    assert waiting.status_code == 202
    assert post(client, keys.issuer, dry_run="true").status_code == 429
    svc.batches.run_validation(waiting.get_json()["id"])  # the job runs and ends
    assert post(client, keys.issuer, dry_run="true").status_code == 202


def test_rosters_sent_at_once_by_one_organization_are_validated_one_at_a_time(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    """Real concurrent requests: one is accepted, the others are told to come back;
    afterwards no slot is left taken."""
    roster = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(100))])
    start = threading.Barrier(3)

    def dry_run() -> tuple[int, str | None, str | None]:
        start.wait()
        response = post(app.test_client(), keys.issuer, roster, dry_run="true")
        answer = response.get_json()
        return response.status_code, response.headers.get("Retry-After"), answer.get("id")

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda _: dry_run(), range(3)))
    assert sorted((status, wait) for status, wait, _ in outcomes) == [(202, None), (429, "30"), (429, "30")]
    [accepted] = [batch for status, _, batch in outcomes if status == 202]
    assert accepted is not None and follow(app.test_client(), keys.issuer, accepted)["status"] == "checked"
    with svc.database.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(ValidationLease)) == 0


def test_one_organization_at_its_cap_does_not_hold_up_another(client: FlaskClient, keys: Keys, svc: UseCases) -> None:
    with svc.validations.held(issuer_principal(svc)):
        assert post(client, keys.issuer, dry_run="true").status_code == 429
        other = post(client, keys.other_issuer, simple_roster([("甲", id17s(1)[0], 3)]))
        assert other.status_code == 202, other.get_json()
        done = follow(client, keys.other_issuer, other.get_json()["id"])
        assert (done["status"], done["issued"]) == ("rendering", 1)


def test_the_cap_is_a_setting(app_with: Callable[..., Flask], keys: Keys) -> None:
    two = app_with(MAX_VALIDATIONS_PER_ORG=2)
    svc: UseCases = two.extensions["issuer.use_cases"]
    principal = issuer_principal(svc)
    with svc.validations.held(principal):
        accepted = post(two.test_client(), keys.issuer, dry_run="true")
        assert accepted.status_code == 202
        follow(two.test_client(), keys.issuer, accepted.get_json()["id"])
        with svc.validations.held(principal):
            refused = post(two.test_client(), keys.issuer, dry_run="true")
            assert refused.status_code == 429 and "最多2份" in refused.get_json()["message_zh"]


def test_a_validation_that_fails_gives_its_slot_back(client: FlaskClient, keys: Keys, svc: UseCases) -> None:
    """An unreadable file, a roster with a bad row, one issued already: each refusal
    leaves the slot free for the next upload (the cap is 1)."""
    unreadable = post(client, keys.issuer, b"\x00\x01 not a roster")
    assert unreadable.status_code == 422
    bad_row = post(
        client, keys.issuer, ROSTER + f"\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75,{PHOTO}".encode("gbk")
    )
    assert bad_row.status_code == 202
    assert follow(client, keys.issuer, bad_row.get_json()["id"])["refusal"]["code"] == "roster_has_errors"
    issued_now = post(client, keys.issuer)
    assert issued_now.status_code == 202 and follow(client, keys.issuer, issued_now.get_json()["id"])["issued"] == 3
    again = post(client, keys.issuer)
    assert again.status_code == 202
    assert follow(client, keys.issuer, again.get_json()["id"])["report"]["problems"][0]["code"] == "already_certified"
    assert post(client, keys.issuer, dry_run="true").status_code == 202


def test_a_retried_upload_is_answered_even_while_the_cap_is_reached(
    client: FlaskClient, keys: Keys, svc: UseCases
) -> None:
    """Replaying the first answer validates nothing, so it needs no slot."""
    once = {"Idempotency-Key": "exam-2026-11-29"}
    first = post(client, keys.issuer, headers=once)
    assert first.status_code == 202
    follow(client, keys.issuer, first.get_json()["id"])
    with svc.validations.held(issuer_principal(svc)):
        again = post(client, keys.issuer, headers=once)
        assert again.status_code == 202 and again.headers["Idempotency-Replayed"] == "true"
        assert again.get_json()["id"] == first.get_json()["id"]


def test_a_roster_over_the_row_limit_is_refused_at_once_with_a_clear_422(
    app_with: Callable[..., Flask], keys: Keys
) -> None:
    small = app_with(MAX_ROSTER_ROWS=3)
    client = small.test_client()
    four = simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(4))])
    for form in ({"dry_run": "true"}, {}):
        refused = post(client, keys.issuer, four, **form)
        assert refused.status_code == 422
        body = refused.get_json()
        assert body["code"] == "roster_too_large"
        assert body["message_zh"] == "花名册最多3行，请拆分后上传"
    assert client.get("/api/v1/batches", headers=auth(keys.issuer)).get_json()["items"] == []
    assert post(client, keys.issuer, ROSTER).status_code == 202


def test_the_openapi_document_names_the_429(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert "429" in spec["paths"]["/api/v1/batches"]["post"]["responses"]
