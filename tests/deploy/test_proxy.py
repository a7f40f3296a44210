"""``deploy/nginx/issuer.conf`` in front of a real ``issuer serve`` on 127.0.0.1, where nginx
is installed: TLS ends in nginx; a body over the service's limit is refused there in the
service's shape (JSON for the API, a page for the pages), one under it and a large roster
reach the service; ``/metrics`` is not served through the proxy; its access log keeps no
query (the lookup's name and ID number); and with
``ISSUER_TRUSTED_PROXIES=1`` each client is known by its own address, which it cannot
choose with a header of its own (nginx connects from another address, 127.0.0.2, so that
the proxy and its clients differ)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Clock, Keys
from tests.deploy.files import NGINX, nginx_binary, self_signed, with_certificate
from tests.servers import issuer_serve, serve_environment, stop

MiB = 1024 * 1024
LOOKUP = "/api/v1/lookup?number=Y000123000001263000001&name=%E5%BC%A0%E4%B8%89&document_number=11010519491231002X"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def nginx_in_front(upstream: str, folder: Path) -> Iterator[int]:
    """nginx with the deployment's file, its upstream ``upstream``, on a free port (HTTPS)."""
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed")
    https, plain = _free_port(), _free_port()
    text = with_certificate(NGINX.read_text(encoding="utf-8"), *self_signed(folder))
    text = re.sub(r"(?m)^    server 10\.\S+ .*\n", "", text).replace(
        "keepalive 32;", f"server {upstream};\n    keepalive 32;"
    )
    text = re.sub(r"(?m)^    listen \[::\].*\n", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{plain};").replace("listen 443 ", f"listen 127.0.0.1:{https} ")
    text = text.replace("proxy_http_version 1.1;", "proxy_http_version 1.1;\n    proxy_bind 127.0.0.2;")
    text = text.replace("/var/log/nginx/issuer.access.log", str(folder / "logs" / "access.log"))
    (folder / "issuer.conf").write_text(text, encoding="utf-8")
    (folder / "logs").mkdir()
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # the workers read the test's folder
        + f"pid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {folder}/issuer.conf;\n}}\n",
        encoding="utf-8",
    )
    log = folder / "logs" / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            try:
                socket.create_connection(("127.0.0.1", https), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx does not answer"
                time.sleep(0.05)
        yield https
    finally:
        stop(process, signal.SIGQUIT, 10)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
) -> tuple[int, Any]:
    """One HTTPS request to nginx from ``source``: the status and the answer (JSON read,
    anything else as text)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, source_address=(source, 0), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        is_json = (response.getheader("Content-Type") or "").startswith("application/json")
        return response.status, json.loads(data) if is_json else data.decode("utf-8", "replace")
    finally:
        connection.close()


def _roster(size: int, key: str) -> tuple[bytes, dict[str, str]]:
    """A multipart upload of a roster of ``size`` bytes (not a readable one: the service
    reads it whole, then refuses it in its JSON shape)."""
    head = b'--x\r\nContent-Disposition: form-data; name="roster"; filename="roster.csv"\r\n\r\n'
    body = head + b"#" * size + b"\r\n--x--\r\n"
    return body, {"Content-Type": "multipart/form-data; boundary=x", "Authorization": f"Bearer {key}"}


def test_nginx_passes_what_the_service_answers_and_the_clients_own_address(
    app: Flask, keys: Keys, clock: Clock, tmp_path: Path
) -> None:
    env = serve_environment(
        app, clock.now, tmp_path, TRUSTED_PROXIES="1", LOOKUP_RATE_LIMIT="2", LOOKUP_RATE_WINDOW="86400"
    )
    with (
        issuer_serve(env, tmp_path / "serve.log", "--workers", "1") as served,
        nginx_in_front(served.url.removeprefix("http://"), tmp_path / "nginx") as port,
    ):
        status, body = request(port, "GET", "/healthz")
        assert (status, body["status"]) == (200, "ok")
        json_type = {"Content-Type": "application/json"}

        too_large = {"code": "payload_too_large", "message_zh": "请求体过大"}
        status, body = request(port, "POST", "/api/v1/verify", b"{" + b" " * (2 * MiB) + b"}", json_type)
        assert status == 413 and too_large.items() <= body.items()  # the service's limit, in its shape
        status, page = request(port, "POST", "/lookup", b"x" * (2 * MiB), {"Content-Type": "text/plain"})
        assert status == 413 and "上传的文件过大" in page  # a page's refusal is a page
        status, body = request(port, "POST", "/api/v1/verify", b"{" + b" " * (MiB - 1000) + b"}", json_type)
        assert (status, body["code"]) == (422, "invalid_input")  # just under the limit: the service reads it
        status, body = request(port, "POST", "/api/v1/batches", *_roster(17 * MiB, keys.issuer))
        assert (status, body["code"]) == (422, "unreadable_roster")  # 17 MiB reached the service, which read it

        assert request(port, "GET", "/metrics")[0] == 404

        # Two lookups each a window allows; a header of the client's own changes nothing.
        for spoofed in ("10.1.1.1", "10.2.2.2"):
            assert request(port, "GET", LOOKUP, headers={"X-Forwarded-For": spoofed})[0] != 429
        assert request(port, "GET", LOOKUP, headers={"X-Forwarded-For": "10.3.3.3"})[0] == 429
        # Another client, another window: the service does not take the proxy's address.
        assert request(port, "GET", LOOKUP, source="127.0.0.3")[0] != 429

    # The lookups' names and ID numbers were in their queries; nginx's access log kept none.
    logged = (tmp_path / "nginx" / "logs" / "access.log").read_text(encoding="utf-8")
    lookups = [line for line in logged.splitlines() if '"GET /api/v1/lookup HTTP/' in line]
    assert len(lookups) == 4
    for withheld in ("张三", "%E5%BC%A0", "11010519491231002X", "document_number", "name="):
        assert withheld not in logged
