"""``issuer run``, the development server, as ``make run`` starts it: its QR codes point at
the address it is reachable at (``http://``, its host and port), so that a phone on the same
network opens a development certificate; ``ISSUER_QR_HOST`` still decides when it is set."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from issuer.cli.serving import reachable
from issuer.core import qrtext
from issuer.service.wiring import UseCases
from tests.builders import issue_request
from tests.conftest import Clock, Keys, auth
from tests.factories import ID_NUMBER, photo
from tests.servers import serve_environment

START_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def issuer_run(env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    command = [sys.executable, "-m", "issuer.cli", "run", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log.read_text(encoding="utf-8", errors="replace")) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _qr_text_of_issued(url: str, key: str) -> str:
    """Issue one certificate over HTTP and return the QR text the service gives it."""
    request = issue_request()
    body = {
        "holder_name": request.holder_name,
        "document_type": request.document_type,
        "document_number": ID_NUMBER,
        "occupation": request.occupation,
        "level": request.level,
        "scores": {k: str(v) for k, v in request.scores.items()},
        "photo": base64.b64encode(photo()).decode(),
    }
    headers = {"Content-Type": "application/json", **auth(key)}
    http = urllib.request.Request(f"{url}/api/v1/certificates", json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(http, timeout=30) as response:
        assert response.status == 201
        return str(json.loads(response.read())["qr_text"])


def test_the_qr_codes_of_make_run_point_at_the_server_itself(
    app: Flask, clock: Clock, keys: Keys, svc: UseCases, tmp_path: Path
) -> None:
    env = serve_environment(app, clock.now, tmp_path)
    del env["ISSUER_QR_HOST"]
    port = _free_port()
    with issuer_run(env, tmp_path / "run.log", port) as url:
        qr_text = _qr_text_of_issued(url, keys.issuer)
        assert qr_text.startswith(f"HTTP://127.0.0.1:{port}/V/")
        with urllib.request.urlopen(qr_text, timeout=30) as page:  # as a phone opens it
            assert page.status == 200 and "证书有效" in page.read().decode()
    assert f"QR codes point at http://127.0.0.1:{port}" in (tmp_path / "run.log").read_text(encoding="utf-8")


def test_a_qr_host_set_for_the_deployment_is_kept(
    app: Flask, clock: Clock, keys: Keys, svc: UseCases, tmp_path: Path
) -> None:
    env = serve_environment(app, clock.now, tmp_path, QR_HOST="cert.hrss.example.cn")
    with issuer_run(env, tmp_path / "run.log", _free_port()) as url:
        assert _qr_text_of_issued(url, keys.issuer).startswith("HTTPS://CERT.HRSS.EXAMPLE.CN/V/")


def test_listening_on_every_interface_the_codes_name_this_machines_address() -> None:
    address = reachable("0.0.0.0")
    assert address != "0.0.0.0" and socket.inet_aton(address)
    assert reachable("192.168.1.20") == "192.168.1.20"
    assert reachable("::") == address


@pytest.mark.parametrize("value", ["ftp://x.example", "http://", "a b", "http://[::1]:5000"])
def test_a_qr_host_that_cannot_be_printed_stops_start_up(value: str) -> None:
    from issuer import config

    with pytest.raises(config.ConfigError, match="ISSUER_QR_HOST"):
        config.check({**config.DEFAULTS, "QR_HOST": value})


def test_an_http_qr_host_is_for_development_only() -> None:
    from issuer import config

    production = {
        **config.DEFAULTS,
        "ENV": "production",
        "KEY_PASSPHRASE": "x" * 20,
        "SECRET_KEY": "y" * 40,
        "DATA_KEY": "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        "QR_HOST": "http://10.0.0.5:5000",
    }
    with pytest.raises(config.ConfigError, match="development"):
        config.check(production)
    config.check({**production, "QR_HOST": "cert.hrss.example.cn"})
    assert qrtext.encode(b"\x01", "http://10.0.0.5:5000") == "HTTP://10.0.0.5:5000/V/AE"
