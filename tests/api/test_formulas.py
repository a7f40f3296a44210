"""Text a spreadsheet would run as a formula is refused at the API with the error shape,
naming the field (a single certificate) or the row and column (a roster)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.builders import id17s, simple_roster, uploaded
from tests.conftest import Keys, auth
from tests.factories import issue_body


def test_a_holder_name_beginning_like_a_formula_is_a_422(client: FlaskClient, keys: Keys) -> None:
    response = client.post("/api/v1/certificates", json=issue_body(holder_name="@SUM(A1)"), headers=auth(keys.issuer))
    assert response.status_code == 422
    body = response.get_json()
    assert body == {
        "code": "formula_like_value",
        "message": "holder name must not begin with =, +, -, @, a tab or a carriage return "
        "(a spreadsheet would run it as a formula)",
        "message_zh": "持证人姓名不能以=、+、-、@、制表符或回车开头（电子表格会将其当作公式执行）",
        "errors": {"field": "holder_name"},
    }


def test_a_work_type_beginning_like_a_formula_is_a_422(client: FlaskClient, keys: Keys) -> None:
    response = client.post("/api/v1/certificates", json=issue_body(work_type="=1+1"), headers=auth(keys.issuer))
    assert response.status_code == 422
    assert response.get_json()["code"] == "formula_like_value"
    assert response.get_json()["errors"] == {"field": "work_type"}


def test_a_roster_with_a_formula_is_refused_naming_the_row_and_column(client: FlaskClient, keys: Keys) -> None:
    roster = simple_roster([("甲", id17s(2)[0], 3), ("=1+2", id17s(2)[1], 3)])
    body = uploaded(client, keys.issuer, roster)
    assert body["status"] == "rejected" and body["refusal"]["code"] == "roster_has_errors"
    assert [(p["row"], p["column"], p["code"], p["value"]) for p in body["report"]["problems"]] == [
        (3, "姓名", "formula_like_value", "=1+2")
    ]
