"""A browsable page of the API, rendered on the server from the OpenAPI document so that
it needs no script or asset from elsewhere."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("docs", __name__)


@bp.get("/api/docs")
def api_docs() -> str:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "delete", "patch"}:
                operations.append((path, method.upper(), op))
    return render_template("api_docs.html", spec=spec, operations=operations)
