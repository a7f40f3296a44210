"""``/metrics``: what a Prometheus scrape reads after certificates are issued, revoked and
verified (API and scan page), batches queued and drawn, lists signed; requests timed per
endpoint name, never per path; only the configured addresses may scrape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from issuer.config import ConfigError
from issuer.service.drawing import Chunk
from issuer.service.jobs import InProcessQueue
from issuer.service.wiring import UseCases
from tests.builders import id17s, simple_roster, submit
from tests.conftest import Clock, Keys, auth, register
from tests.factories import id_number, issue_body

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: FlaskClient, address: str = "127.0.0.1") -> Samples:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def issued(client: FlaskClient, keys: Keys, person: int) -> dict[str, str]:
    response = client.post("/api/v1/certificates", json=issue_body(person), headers=auth(keys.issuer))
    assert response.status_code == 201, response.get_json()
    body: dict[str, str] = response.get_json()
    return body


def test_a_scrape_counts_what_was_issued_revoked_and_verified(client: FlaskClient, keys: Keys) -> None:
    before = scrape(client)
    assert value(before, "issuer_certificates_issued_total") == 0
    assert value(before, "issuer_verifications_total", outcome="valid", check="") is None

    kept, revoked = issued(client, keys, 1), issued(client, keys, 2)
    answer = client.post(
        f"/api/v1/certificates/{revoked['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer)
    )
    assert answer.status_code == 200
    for qr_text in (
        kept["qr_text"],
        kept["qr_text"],
        revoked["qr_text"],
        "HTTPS://CERT.HRSS.EXAMPLE.CN/V/NOTACREDENTIAL",
    ):
        assert client.post("/api/v1/verify", json={"qr_text": qr_text}).status_code == 200
    assert client.get("/V/" + kept["qr_text"].split("/V/")[1]).status_code == 200  # the scan page counts too

    after = scrape(client)
    assert value(after, "issuer_certificates_issued_total") == 2
    assert value(after, "issuer_certificates_revoked_total") == 1
    assert value(after, "issuer_verifications_total", outcome="valid", check="") == 3
    assert value(after, "issuer_verifications_total", outcome="revoked", check="status") == 1
    assert value(after, "issuer_verifications_total", outcome="not_valid", check="decodable") == 1
    assert value(after, "issuer_database_up") == 1


def test_requests_are_timed_per_endpoint_name_never_per_path(client: FlaskClient, keys: Keys) -> None:
    numbers = [issued(client, keys, person)["number"] for person in (1, 2)]
    for number in numbers:
        assert client.get(f"/api/v1/certificates/{number}", headers=auth(keys.issuer)).status_code == 200
    assert client.get("/no/such/page/11010519491231002X").status_code == 404

    samples = scrape(client)
    view = {"endpoint": "v1.CertificateView", "method": "GET"}
    assert value(samples, "issuer_http_request_duration_seconds_count", **view) == 2
    assert value(samples, "issuer_http_request_duration_seconds_bucket", **view, le="+Inf") == 2
    assert value(samples, "issuer_http_requests_total", **view, status="200") == 2
    assert value(samples, "issuer_http_requests_total", endpoint="v1.Certificates", method="POST", status="201") == 2
    assert value(samples, "issuer_http_requests_total", endpoint="none", method="GET", status="404") == 1
    labels = {v for (_, pairs) in samples for _, v in pairs}
    assert not any(number in label for number in numbers for label in labels)
    assert not any("1101" in label or "/" in label for label in labels)


def test_only_the_configured_addresses_may_scrape(client: FlaskClient, app_with: Callable[..., Flask]) -> None:
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.status_code == 403
    body = refused.get_json()
    assert set(body) == {"code", "message", "message_zh", "errors"}
    assert body["code"] == "metrics_not_allowed" and "ISSUER_METRICS_ALLOW" in body["message"]
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        scrape(client, address)

    network = app_with(METRICS_ALLOW="10.0.0.0/8, 192.0.2.7").test_client()
    scrape(network, "10.20.30.40")
    scrape(network, "192.0.2.7")
    for address in ("127.0.0.1", "192.0.2.8", "not an address"):
        assert network.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 403

    nobody = app_with(METRICS_ALLOW="").test_client()
    assert nobody.get("/metrics").status_code == 403


def test_behind_a_proxy_the_clients_address_is_checked_not_the_proxys(app_with: Callable[..., Flask]) -> None:
    proxied = app_with(TRUSTED_PROXIES=1).test_client()
    outside = proxied.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert outside.status_code == 403
    inside = proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert inside.status_code == 200


def test_an_allow_list_that_cannot_be_read_refuses_to_start(app_with: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError, match="ISSUER_METRICS_ALLOW"):
        app_with(METRICS_ALLOW="127.0.0.1, localhost")


def test_batches_waiting_and_drawn_are_read_from_the_database(
    client: FlaskClient, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    assert isinstance(svc.queue, InProcessQueue)
    svc.queue.close()  # nothing runs by itself: each step is run below, as a worker would
    batch = submit(svc, simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(5))]))
    waiting = scrape(client)
    assert value(waiting, "issuer_batches_queued", status="validating") == 1
    assert value(waiting, "issuer_validation_leases", state="held") == 1
    assert value(waiting, "issuer_drawing_last_age_seconds") is None  # nothing drawn yet

    clock.advance(minutes=3)  # the lease's holder stopped renewing it
    stopped = scrape(client)
    assert value(stopped, "issuer_validation_leases", state="held") == 0
    assert value(stopped, "issuer_validation_leases", state="expired") == 1

    svc.batches.run_validation(batch.id)
    issued = scrape(client)
    assert value(issued, "issuer_batches_queued", status="validating") == 0
    assert value(issued, "issuer_batches_queued", status="rendering") == 1
    assert value(issued, "issuer_batch_items_waiting") == 5
    assert value(issued, "issuer_certificates_issued_total") == 5
    assert value(issued, "issuer_drawing_rate") == 0

    svc.drawing.run(Chunk(batch.id, 0, 3))
    clock.advance(seconds=30)
    drawing = scrape(client)
    assert value(drawing, "issuer_batch_items_waiting") == 2
    assert value(drawing, "issuer_drawing_rate") == pytest.approx(3 / 300)
    assert value(drawing, "issuer_drawing_last_age_seconds") == 30

    svc.drawing.run(Chunk(batch.id, 3, 2))
    clock.advance(minutes=10)
    done = scrape(client)
    assert value(done, "issuer_batches_queued", status="rendering") == 0
    assert value(done, "issuer_batch_items_waiting") == 0
    assert value(done, "issuer_drawing_rate") == 0  # nothing drawn in the last 5 minutes
    assert value(done, "issuer_drawing_last_age_seconds") == 600


def test_the_signed_lists_ages(client: FlaskClient, svc: UseCases, clock: Clock) -> None:
    before = scrape(client)
    assert value(before, "issuer_trust_list_age_seconds") is None
    register(svc)  # signs a trust list, the organization's status list and a tree head
    clock.advance(hours=2)
    aged = scrape(client)
    for name in ("issuer_trust_list_age_seconds", "issuer_status_list_age_seconds", "issuer_tree_head_age_seconds"):
        assert value(aged, name) == 7200, name


def test_a_database_that_cannot_be_read_still_gives_a_scrape(app_with: Callable[..., Flask], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "issuer.sqlite3"
    samples = scrape(app_with(DATABASE_URL=f"sqlite:///{missing}").test_client())
    assert value(samples, "issuer_database_up") == 0
    assert value(samples, "issuer_certificates_issued_total") is None


def test_certificates_waiting_for_the_log_and_for_how_long(
    app: Flask, keys: Keys, app_with: Callable[..., Flask], clock: Clock
) -> None:
    """An operator sees a sequencer that does not append: the count and the oldest's age."""
    delayed = app_with(LOG_DELAY_MS=60_000)  # its sequencer looks in a minute: not during this test
    client = delayed.test_client()
    assert value(scrape(client), "issuer_log_pending_certificates") == 0
    assert value(scrape(client), "issuer_log_pending_age_seconds") == 0
    for i in range(2):
        answer = client.post(
            "/api/v1/certificates", json=issue_body(document_number=id_number(i)), headers=auth(keys.issuer)
        )
        assert answer.status_code == 201 and answer.get_json()["log_index"] is None
    clock.advance(seconds=90)
    waiting = scrape(client)
    assert value(waiting, "issuer_log_pending_certificates") == 2
    assert value(waiting, "issuer_log_pending_age_seconds") == 90
    delayed.extensions["issuer.use_cases"].log.sequence()
    assert value(scrape(client), "issuer_log_pending_certificates") == 0
    assert value(scrape(client), "issuer_log_pending_age_seconds") == 0
