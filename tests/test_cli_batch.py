"""``issuer batch submit`` against a real service over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from werkzeug.serving import make_server

from issuer.cli import main
from tests.conftest import ORG_CODE, Keys
from tests.service.test_batches import _csv, _ids


@pytest.fixture()
def server(app: Flask, keys: Keys) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def test_submit_issues_and_writes_the_numbers(server: str, keys: Keys, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    roster.write_bytes(_csv([(f"学员{i}", id17, 3) for i, id17 in enumerate(_ids(3))]))
    out = tmp_path / "numbers.csv"
    result = CliRunner().invoke(
        main, ["batch", "submit", str(roster), "--url", server, "--key", keys.issuer, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "有效3行" in result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "行号,证书编号" and lines[1] == f"2,{ORG_CODE}263000001" and len(lines) == 4


def test_submit_prints_every_problem_and_exits_1(server: str, keys: Keys, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    bad = "\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75".encode("gbk")
    roster.write_bytes(_csv([("甲", _ids(1)[0], 3)]) + bad)
    result = CliRunner().invoke(main, ["batch", "submit", str(roster), "--url", server, "--key", keys.issuer])
    assert result.exit_code == 1
    assert "第3行" in result.output and "roster_has_errors" in result.output


def test_an_unreachable_service_exits_2(keys: Keys, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    roster.write_bytes(_csv([("甲", _ids(1)[0], 3)]))
    result = CliRunner().invoke(
        main, ["batch", "submit", str(roster), "--url", "http://127.0.0.1:9", "--key", keys.issuer]
    )
    assert result.exit_code == 2 and "unreachable" in result.output
