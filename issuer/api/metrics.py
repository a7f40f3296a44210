"""``GET /metrics``: the Prometheus text format (``service.metrics``), to the addresses
``ISSUER_METRICS_ALLOW`` names only (a 403 in the one error shape to any other); and the
time every request takes, per endpoint. The address checked is the client's as the app
sees it: behind a proxy, the one ``ISSUER_TRUSTED_PROXIES`` lets it read from
X-Forwarded-For (without it, the proxy's own, which would let anyone through a proxy on
an allowed address)."""

from __future__ import annotations

import ipaddress
import time

from flask import Blueprint, Flask, Response, current_app, g, request

from issuer import config as settings
from issuer.api.auth import use_cases
from issuer.core.errors import Forbidden
from issuer.service.metrics import CONTENT_TYPE

bp = Blueprint("metrics", __name__)
_ALLOW = "issuer.metrics_allow"


@bp.get("/metrics")
def metrics() -> Response:
    if not allowed(request.remote_addr, current_app.extensions[_ALLOW]):
        raise Forbidden(
            "metrics_not_allowed",
            "metrics are served to the addresses of ISSUER_METRICS_ALLOW only",
            "仅向ISSUER_METRICS_ALLOW所列地址提供监控指标",
        )
    return Response(use_cases().metrics.exposition(), content_type=CONTENT_TYPE)


def allowed(address: str | None, networks: tuple[settings.IPNetwork, ...]) -> bool:
    """Whether ``address`` is in one of ``networks`` (an IPv4 address written as IPv6,
    ``::ffff:127.0.0.1``, as the IPv4 one)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _answered(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "none"  # no route matched: one label for every such path
        use_cases().metrics.answered(endpoint, request.method, response.status_code, time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.extensions[_ALLOW] = settings.metrics_allow(app.config)
    app.register_blueprint(bp)
    # First of the app's before_request functions: the time counts from before any of them
    # (another may answer the request itself).
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request(_answered)
