"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (it can serve: database,
keys, a published trust list; 503 in the one error shape, with every reason, otherwise)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from issuer.api.auth import use_cases

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": current_app.extensions["issuer.version"]}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    problems = use_cases().readiness.problems()
    if not problems:
        return {"status": "ready", "version": current_app.extensions["issuer.version"]}, 200
    body = {
        "code": "not_ready",
        "message": "not ready: " + "; ".join(p.message for p in problems),
        "message_zh": "服务未就绪：" + "；".join(p.message_zh for p in problems),
        "errors": {p.part: {"message": p.message, "message_zh": p.message_zh} for p in problems},
    }
    return body, 503
