"""The service end to end over HTTP: register, issue, read, verify offline, revoke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import ORG_CODE, Keys, auth
from tests.factories import issue_body

ID_NUMBER = "11010519491231002X"


def test_an_organization_issues_reads_and_the_holder_is_verified_offline(
    client: FlaskClient, keys: Keys, tmp_path: Path
) -> None:
    response = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer))
    assert response.status_code == 201, response.get_json()
    cert = response.get_json()
    assert cert["number"] == f"{ORG_CODE}263000001"
    assert cert["level_label"] == "三级/高级工"
    assert cert["issue_date_zh"] == "2026年11月29日"
    assert cert["document_number"] == ID_NUMBER  # the issuing organization sees it in full
    assert cert["qr_text"].startswith("HTTPS://CERT.HRSS.EXAMPLE.CN/V/")

    own = client.get(f"/api/v1/certificates/{cert['number']}", headers=auth(keys.issuer)).get_json()
    assert own["holder_name"] == "张三丰"

    bundle = client.get("/api/v1/trust-bundle")
    assert bundle.status_code == 200
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle.get_json()))
    run = subprocess.run(
        [sys.executable, "-m", "issuer.cli", "verify", cert["qr_text"], "--trust", str(path), "--at", "2026-11-30"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "张三丰" in run.stdout


def test_after_revocation_the_api_says_revoked(client: FlaskClient, keys: Keys) -> None:
    cert = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer)).get_json()
    before = client.post("/api/v1/verify", json={"qr_text": cert["qr_text"]}).get_json()
    assert before["status"] == "valid" and before["recorded"] is True

    revoked = client.post(
        f"/api/v1/certificates/{cert['number']}/revoke",
        json={"reason": "fraud", "note": "理论考试替考"},
        headers=auth(keys.issuer),
    )
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"

    after = client.post("/api/v1/verify", json={"qr_text": cert["qr_text"]}).get_json()
    assert after["status"] == "revoked" and after["status_zh"] == "已撤销"
    assert after["revocation_reason"] == "fraud"
    again = client.post(
        f"/api/v1/certificates/{cert['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer)
    )
    assert again.status_code == 409 and again.get_json()["code"] == "already_revoked"


def test_the_public_lookup_needs_all_three_and_masks_the_document(client: FlaskClient, keys: Keys) -> None:
    cert = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer)).get_json()
    query = {"number": cert["number"], "name": "张三丰", "document_number": ID_NUMBER.lower()}
    found = client.get("/api/v1/lookup", query_string=query)
    assert found.status_code == 200
    assert found.get_json()["document_number"] == "1101**********002X"
    assert client.post("/api/v1/lookup", json=query).status_code == 200
    wrong = client.get("/api/v1/lookup", query_string={**query, "name": "张三"})
    assert wrong.status_code == 404 and wrong.get_json()["code"] == "no_matching_certificate"
    missing = client.get("/api/v1/lookup", query_string={"number": cert["number"], "name": "张三丰"})
    assert missing.status_code == 422


def test_the_lookup_is_rate_limited_per_client(client: FlaskClient, keys: Keys) -> None:
    query = {"number": f"{ORG_CODE}263000001", "name": "某", "document_number": ID_NUMBER}
    statuses = [client.get("/api/v1/lookup", query_string=query).status_code for _ in range(11)]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429
    limited = client.get("/api/v1/lookup", query_string=query)
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["code"] == "rate_limited"


def test_search_filters_the_organizations_own_certificates(client: FlaskClient, keys: Keys) -> None:
    for person, name, level in [(None, "张三丰", 3), (1, "李四", 4), (2, "王五", 3)]:
        body = issue_body(person, holder_name=name, level=level)
        assert client.post("/api/v1/certificates", json=body, headers=auth(keys.issuer)).status_code == 201
    client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.other_issuer))
    everything = client.get("/api/v1/certificates", headers=auth(keys.issuer)).get_json()
    assert everything["total"] == 3
    level3 = client.get("/api/v1/certificates", query_string={"level": 3}, headers=auth(keys.issuer)).get_json()
    assert {c["holder_name"] for c in level3["items"]} == {"张三丰", "王五"}
    by_id = client.get("/api/v1/certificates", query_string={"document_number": ID_NUMBER}, headers=auth(keys.issuer))
    assert [c["holder_name"] for c in by_id.get_json()["items"]] == ["张三丰"]
    page = client.get("/api/v1/certificates", query_string={"per_page": 2, "page": 2}, headers=auth(keys.issuer))
    assert len(page.get_json()["items"]) == 1


def test_search_by_part_of_a_name_or_the_last_characters_of_a_document_number(client: FlaskClient, keys: Keys) -> None:
    for person, name in [(None, "欧阳明月"), (1, "欧阳娜娜"), (3, "明月")]:
        assert client.post("/api/v1/certificates", json=issue_body(person, holder_name=name), headers=auth(keys.issuer))

    def names(**query: object) -> set[str]:
        found = client.get("/api/v1/certificates", query_string=query, headers=auth(keys.issuer)).get_json()
        return {c["holder_name"] for c in found["items"]}

    assert names(name="欧阳") == {"欧阳明月", "欧阳娜娜"}
    assert names(name="明月") == {"欧阳明月", "明月"}
    assert names(name="%") == set()  # a LIKE wildcard is a character, not "anything"
    assert names(document_number=ID_NUMBER[-4:].lower()) == {"欧阳明月"}
    assert names(document_number=ID_NUMBER[-3:]) == {"欧阳明月"}
    assert names(document_number=ID_NUMBER[-6:]) == set()  # more than the masked form shows: the whole number
    refused = client.get("/api/v1/certificates", query_string={"batch": "not-a-batch"}, headers=auth(keys.issuer))
    assert refused.status_code == 422


def test_the_same_person_twice_is_a_409_with_the_existing_number_and_re_issue_is_the_way(
    client: FlaskClient, keys: Keys
) -> None:
    first = client.post("/api/v1/certificates", json=issue_body(holder_name="张三风"), headers=auth(keys.issuer))
    number = first.get_json()["number"]
    again = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer))
    assert again.status_code == 409
    assert again.get_json()["code"] == "already_certified" and again.get_json()["errors"] == {"number": number}
    reissued = client.post("/api/v1/certificates", json=issue_body(replaces=number), headers=auth(keys.issuer))
    assert reissued.status_code == 201, reissued.get_json()
    new = reissued.get_json()
    assert new["replaces"] == number and new["holder_name"] == "张三丰"
    old = client.get(f"/api/v1/certificates/{number}", headers=auth(keys.issuer)).get_json()
    assert (old["status"], old["revocation_reason"], old["replaced_by"]) == ("revoked", "reissued", new["number"])
    verdict = client.post("/api/v1/verify", json={"qr_text": old["qr_text"]}).get_json()
    assert (verdict["status"], verdict["replaced_by"]) == ("revoked", new["number"])
    assert verdict["explanation"]["kind"] == "reissued" and new["number"] in verdict["explanation"]["headline_zh"]
    valid = client.post("/api/v1/verify", json={"qr_text": new["qr_text"]}).get_json()
    assert valid["status"] == "valid" and valid["explanation"]["headline_zh"] == "证书有效"
    assert valid["certificate"]["issued_at"] == "2026-11-29T02:00:00Z" and valid["certificate"]["version"] == 2


def test_registration_refuses_a_scope_that_can_never_be_issued(client: FlaskClient, keys: Keys) -> None:
    body = {
        "type": "S",
        "authority_code": "0000",
        "province": "37",
        "site_code": "000008",
        "name": "山东某某消防培训学校",
        "scope": [{"occupation": "4-07-05-03", "levels": [5, 4]}],
        "registered_from": "2026-01-01",
    }
    refused = client.post("/api/v1/organizations", json=body, headers=auth(keys.admin))
    assert refused.status_code == 422 and refused.get_json()["code"] == "licensed_occupation"
    assert "准入类" in refused.get_json()["message_zh"]
