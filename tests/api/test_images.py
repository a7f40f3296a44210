"""Certificate images through the API: for the issuing organization, cached, readable."""

from __future__ import annotations

import base64
import io
from urllib.parse import unquote

import zxingcpp
from flask.testing import FlaskClient
from PIL import Image

from tests.conftest import ORG_CODE, Keys, auth
from tests.factories import issue_body


def _issue(client: FlaskClient, keys: Keys) -> dict[str, str]:
    response = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer))
    assert response.status_code == 201
    return dict(response.get_json())


def test_the_png_carries_the_credential_in_a_readable_qr_code(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    response = client.get(f"/api/v1/certificates/{cert['number']}/image", headers=auth(keys.issuer))
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (2480, 3508)  # A4 at 300 dpi
    assert [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)] == [cert["qr_text"]]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'inline; filename="{cert["number"]}.png"')
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == f"{cert['number']}_{cert['holder_name']}.png"


def test_the_same_certificate_renders_the_same_bytes_and_answers_304(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    url = f"/api/v1/certificates/{cert['number']}/image?dpi=150"
    first = client.get(url, headers=auth(keys.issuer))
    second = client.get(url, headers=auth(keys.issuer))
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    cached = client.get(url, headers={**auth(keys.issuer), "If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304


def test_a_pdf_is_one_a4_page(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    response = client.get(
        f"/api/v1/certificates/{cert['number']}/image", query_string={"format": "pdf"}, headers=auth(keys.issuer)
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (
        response.data.startswith(b"%PDF")
        and response.data.count(b"/Type /Page\n")
        + response.data.count(b"/Type /Page\r")
        + response.data.count(b"/Type /Page ")
        <= 1
    )


def test_only_the_issuing_organization_gets_the_image(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    url = f"/api/v1/certificates/{cert['number']}/image"
    assert client.get(url, headers=auth(keys.other_issuer)).status_code == 404
    assert client.get(url, headers=auth(keys.admin)).status_code == 403
    assert client.get(url, headers=auth(keys.auditor)).status_code == 403
    assert client.get(url).status_code == 401


def test_bad_format_or_dpi_is_a_422(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    for query in ({"format": "gif"}, {"dpi": 5000}, {"dpi": 100}, {"dpi": 250}, {"dpi": "x"}):
        response = client.get(
            f"/api/v1/certificates/{cert['number']}/image", query_string=query, headers=auth(keys.issuer)
        )
        assert response.status_code == 422


def test_a_revoked_certificate_is_not_printed(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    client.post(f"/api/v1/certificates/{cert['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer))
    response = client.get(f"/api/v1/certificates/{cert['number']}/image", headers=auth(keys.issuer))
    assert response.status_code == 409 and response.get_json()["code"] == "certificate_revoked"


def _png(color: str, size: tuple[int, int] = (400, 400), mode: str = "RGBA") -> str:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_an_organization_chooses_its_layout_and_seal(client: FlaskClient, keys: Keys) -> None:
    cert = _issue(client, keys)
    url = f"/api/v1/certificates/{cert['number']}/image?dpi=150"
    plain = client.get(url, headers=auth(keys.issuer)).data
    response = client.put(
        f"/api/v1/organizations/{ORG_CODE}/appearance",
        json={"layout": "landscape", "seal": _png("#c0000080")},
        headers=auth(keys.issuer),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["layout"] == "landscape" and response.get_json()["has_seal"] is True
    styled = Image.open(io.BytesIO(client.get(url, headers=auth(keys.issuer)).data))
    assert styled.width > styled.height
    assert styled.tobytes() != Image.open(io.BytesIO(plain)).tobytes()


def test_appearance_is_refused_for_unknown_layouts_bad_images_and_other_organizations(
    client: FlaskClient, keys: Keys
) -> None:
    url = f"/api/v1/organizations/{ORG_CODE}/appearance"
    assert client.put(url, json={"layout": "fancy"}, headers=auth(keys.issuer)).status_code == 422
    bad = base64.b64encode(b"\x89PNG not an image").decode()
    response = client.put(url, json={"layout": "portrait", "logo": bad}, headers=auth(keys.issuer))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_logo"
    assert client.put(url, json={"layout": "portrait"}, headers=auth(keys.other_issuer)).status_code == 404
    assert client.put(url, json={"layout": "portrait"}, headers=auth(keys.auditor)).status_code == 403
