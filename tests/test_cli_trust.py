"""``issuer trust pull`` against a real service over HTTP on 127.0.0.1, and ``issuer log
export`` from the service's own database, checked with the trust bundle alone."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from issuer.cli import main
from issuer.core import merkle
from issuer.core.transparency import decode_entry, open_tree_head
from issuer.core.trust import load_bundle
from issuer.service.wiring import UseCases
from tests.conftest import ORG_CODE, TREE_HASH, Keys, auth
from tests.factories import issue_body
from tests.servers import WSGI, serving


def _answering(status: str, body: bytes) -> WSGI:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


@pytest.fixture()
def issued(client: FlaskClient, keys: Keys) -> list[dict[str, Any]]:
    """Two certificates, the first revoked: a status list with a bit set, a log of six."""
    certs = [
        client.post("/api/v1/certificates", json=issue_body(person=n), headers=auth(keys.issuer)).get_json()
        for n in range(2)
    ]
    revoked = client.post(
        f"/api/v1/certificates/{certs[0]['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer)
    )
    assert revoked.status_code == 200
    return certs


@pytest.fixture()
def server(app: Any, issued: list[dict[str, Any]]) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _pull(*args: str) -> Result:
    return CliRunner().invoke(main, ["trust", "pull", *args])


def _only(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_pull_saves_the_bundle_the_api_serves_once_checked(
    server: str, client: FlaskClient, svc: UseCases, issued: list[dict[str, Any]], tmp_path: Path
) -> None:
    target = tmp_path / "bundle.json"
    target.write_text("old")
    result = _pull(server + "/", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_bytes()) == client.get("/api/v1/trust-bundle").get_json()
    store = load_bundle(target.read_bytes())
    listed = store.status_list(ORG_CODE)
    assert listed is not None and listed.revoked_indexes() == [issued[0]["status_index"]]
    [line] = result.stdout.splitlines()
    assert line.startswith(f"saved {target}: trust list ")
    size = client.get("/api/v1/log/tree-head").get_json()["tree_size"]  # with the audit checkpoints
    assert f"2 organizations, 2 status lists, tree size {size}" in line and "use --root" in line
    assert _only(tmp_path) == ["bundle.json"]  # no temporary file left beside it

    pinned = _pull(server, str(target), "--root", str(svc.keystore.authority_cert_path))
    assert pinned.exit_code == 0, pinned.output
    assert "use --root" not in pinned.stdout


def test_a_bundle_under_another_root_is_refused_and_nothing_written(
    server: str, client: FlaskClient, keys: Keys, tmp_path: Path
) -> None:
    org = client.get(f"/api/v1/organizations/{ORG_CODE}", headers=auth(keys.admin)).get_json()
    not_the_root = tmp_path / "org.pem"
    not_the_root.write_text(org["keys"][0]["certificate_pem"])
    target = tmp_path / "bundle.json"
    result = _pull(server, str(target), "--root", str(not_the_root))
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("untrusted_bundle: ")
    assert not target.exists() and _only(tmp_path) == ["org.pem"]


def _tampered(bundle: dict[str, Any], how: str) -> dict[str, Any]:
    changed = dict(bundle)
    if how == "tree head":  # a status list where the tree head should be: not signed by the log key
        changed["tree_head"] = bundle["status_lists"][0]
    elif how == "status list":
        signed = bytearray(base64.b64decode(bundle["status_lists"][0]))
        signed[-1] ^= 1
        changed["status_lists"] = [base64.b64encode(signed).decode(), *bundle["status_lists"][1:]]
    else:
        changed["trust_list"] = bundle["status_lists"][0]
    return changed


@pytest.mark.parametrize(
    ("how", "code"),
    [("tree head", "invalid_log_record"), ("trust list", "untrusted_bundle")],
)
def test_a_tampered_bundle_is_one_line_exit_1_and_the_old_file_stays(
    client: FlaskClient, issued: list[dict[str, Any]], tmp_path: Path, how: str, code: str
) -> None:
    body = json.dumps(_tampered(client.get("/api/v1/trust-bundle").get_json(), how)).encode()
    target = tmp_path / "bundle.json"
    target.write_text("old")
    with serving(_answering("200 OK", body)) as url:
        result = _pull(url, str(target))
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith(f"{code}: ")
    assert " / " in result.output  # Chinese, then English
    assert target.read_text() == "old" and _only(tmp_path) == ["bundle.json"]


def test_a_bad_status_list_is_saved_with_a_warning_and_touches_only_its_organization(
    client: FlaskClient, issued: list[dict[str, Any]], tmp_path: Path
) -> None:
    """One organization's broken list must not stop everyone's bundle from being refreshed."""
    body = json.dumps(_tampered(client.get("/api/v1/trust-bundle").get_json(), "status list")).encode()
    target = tmp_path / "bundle.json"
    with serving(_answering("200 OK", body)) as url:
        result = CliRunner().invoke(main, ["trust", "pull", url, str(target)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: ") and "状态列表" in result.stderr
    store = load_bundle(target.read_bytes())
    assert [p.part for p in store.problems] == ["status_list"] and len(store.status_lists) == 1


@pytest.mark.parametrize(
    ("status", "body", "exit_code", "start"),
    [
        (
            "404 NOT FOUND",
            b'{"code":"not_found","message":"no","message_zh":"\\u672a\\u627e\\u5230"}',
            1,
            "not_found: ",
        ),
        ("200 OK", b"<html>hello</html>", 1, "untrusted_bundle: "),
        ("503 SERVICE UNAVAILABLE", b"busy", 2, "unreachable: "),
    ],
)
def test_an_answer_that_is_not_a_bundle(tmp_path: Path, status: str, body: bytes, exit_code: int, start: str) -> None:
    with serving(_answering(status, body)) as url:
        result = _pull(url, str(tmp_path / "bundle.json"))
    assert result.exit_code == exit_code, result.output
    assert result.output.count("\n") == 1 and result.output.startswith(start)
    assert _only(tmp_path) == []


def test_an_unreachable_service_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _pull(f"http://127.0.0.1:{port}", str(tmp_path / "bundle.json"))
    assert result.exit_code == 2
    assert result.output.startswith("unreachable: ") and "无法连接服务" in result.output
    assert _only(tmp_path) == []


def test_pull_wants_an_http_url(tmp_path: Path) -> None:
    result = _pull("ftp://127.0.0.1/", str(tmp_path / "bundle.json"))
    assert result.exit_code == 2 and "http(s)" in result.output


# --- log export --------------------------------------------------------------------------------


@pytest.fixture()
def deployment(database_url: str, keys_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's environment names the test service's database and keys."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ISSUER_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("ISSUER_KEY_PASSPHRASE", "test-passphrase")
    monkeypatch.setenv("ISSUER_INSTANCE_PATH", str(tmp_path / "instance"))


def test_log_export_rebuilds_the_signed_root(
    client: FlaskClient, issued: list[dict[str, Any]], deployment: None, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "log.jsonl"
    result = CliRunner().invoke(main, ["log", "export", str(target)])
    assert result.exit_code == 0, result.output
    [header, *lines] = [json.loads(line) for line in target.read_text().splitlines()]
    size = client.get("/api/v1/log/tree-head").get_json()["tree_size"]
    assert {k: header[k] for k in ("format", "version", "tree_size")} == {
        "format": "issuer-log",
        "version": 1,
        "tree_size": size,
    }
    store = load_bundle(json.dumps(client.get("/api/v1/trust-bundle").get_json()))
    head = open_tree_head(base64.b64decode(header["tree_head"]), store)
    assert head.tree_size == header["tree_size"] == len(lines)
    assert [line["index"] for line in lines] == list(range(head.tree_size))
    data = [base64.b64decode(line["entry"]) for line in lines]
    types = [decode_entry(d).type for d in data]
    assert [t for t in types if t != "audit"] == ["key", "key", "issue", "issue", "revoke"]
    assert types[-2:] == ["revoke", "audit"]  # every audit event is followed by its checkpoint
    assert merkle.MemoryTree((TREE_HASH.leaf(d) for d in data), TREE_HASH).root() == head.root_hash
    assert result.stdout.strip().startswith(f"wrote {size} log entries to {target} (root {head.root_hash.hex()})")
    assert _only(tmp_path / "out") == ["log.jsonl"]


def test_log_export_pages_through_more_than_one_page(
    client: FlaskClient, issued: list[dict[str, Any]], deployment: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from issuer.service import log

    monkeypatch.setattr(log, "MAX_ENTRIES_PER_PAGE", 2)
    target = tmp_path / "log.jsonl"
    assert CliRunner().invoke(main, ["log", "export", str(target)]).exit_code == 0
    [header, *lines] = [json.loads(line) for line in target.read_text().splitlines()]
    assert header["tree_size"] > 2 and [line["index"] for line in lines] == list(range(header["tree_size"]))


def test_an_empty_log_is_not_exported(app: Any, deployment: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["log", "export", str(tmp_path / "log.jsonl")])
    assert result.exit_code == 1 and result.output.startswith("log_empty: ")
    assert not (tmp_path / "log.jsonl").exists()


def test_a_later_pull_must_not_go_back(server: str, client: FlaskClient, keys: Keys, tmp_path: Path) -> None:
    target = tmp_path / "bundle.json"
    assert _pull(server, str(target)).exit_code == 0
    first = target.read_bytes()
    issued = client.post("/api/v1/certificates", json=issue_body(holder_name="王二"), headers=auth(keys.issuer))
    assert issued.status_code == 201
    later = _pull(server, str(target))
    assert later.exit_code == 0, later.output  # the service proved its log extends the saved one
    newer = target.read_bytes()
    assert newer != first
    with serving(_answering("200 OK", first)) as url:
        back = _pull(url, str(target))
    assert back.exit_code == 1 and back.output.startswith("rollback: ")
    assert target.read_bytes() == newer
    with serving(_answering("200 OK", first)) as url:
        assert _pull(url, str(target), "--force").exit_code == 0
    assert target.read_bytes() == first


def _manifest_signed_again(bundle: dict[str, Any], svc: UseCases) -> dict[str, Any]:
    """``bundle`` with a manifest naming its parts as they now are, signed by the log key:
    what only the service itself (or whoever holds its log key) can produce."""
    from issuer.core import cose, suites
    from issuer.core.manifest import Manifest
    from issuer.core.statuslist import parse_payload

    lists = [base64.b64decode(s) for s in bundle["status_lists"]]
    manifest = Manifest.of(
        svc.ctx.clock().replace(microsecond=0),
        base64.b64decode(bundle["trust_list"]),
        base64.b64decode(bundle["tree_head"]) if bundle["tree_head"] else None,
        {parse_payload(cose.parse(signed).payload).organization: signed for signed in lists},
        suites.of_signer(svc.ctx.keys.log_key()),
    )
    signed = manifest.sign(svc.ctx.keys.log_key(), svc.log.public_key().kid)
    return {**bundle, "manifest": base64.b64encode(signed).decode()}


def test_an_older_status_list_with_the_current_trust_list_is_refused(
    server: str, client: FlaskClient, keys: Keys, svc: UseCases, clock: Any, tmp_path: Path
) -> None:
    """Swapping one organization's list for an older one (from before a revocation) while
    keeping everything else current: the manifest does not name it, and it is older than the
    one saved."""
    target = tmp_path / "bundle.json"
    old = client.get("/api/v1/trust-bundle").get_json()
    clock.advance(minutes=5)
    number = client.post("/api/v1/certificates", json=issue_body(person=8), headers=auth(keys.issuer)).get_json()
    assert (
        client.post(
            f"/api/v1/certificates/{number['number']}/revoke", json={"reason": "fraud"}, headers=auth(keys.issuer)
        ).status_code
        == 200
    )
    assert _pull(server, str(target)).exit_code == 0
    current = client.get("/api/v1/trust-bundle").get_json()
    store = load_bundle(json.dumps(current))
    old_store = load_bundle(json.dumps(old))
    older = old_store.signed_status_lists[ORG_CODE]
    assert older != store.signed_status_lists[ORG_CODE]
    swapped = {
        **current,
        "status_lists": [base64.b64encode(older).decode()]
        + [base64.b64encode(s).decode() for code, s in store.signed_status_lists.items() if code != ORG_CODE],
    }
    saved = target.read_bytes()
    for body in (swapped, {k: v for k, v in swapped.items() if k != "manifest"}, _manifest_signed_again(swapped, svc)):
        with serving(_answering("200 OK", json.dumps(body).encode())) as url:
            refused = _pull(url, str(target))
        assert refused.exit_code == 1 and refused.output.startswith("rollback: "), refused.output
        assert target.read_bytes() == saved
    verdict = load_bundle(json.dumps(swapped))
    assert verdict.status_list(ORG_CODE) is None  # set aside: the manifest names another list


def test_a_bundle_without_the_tree_head_the_saved_one_had_is_refused(
    server: str, client: FlaskClient, tmp_path: Path
) -> None:
    target = tmp_path / "bundle.json"
    assert _pull(server, str(target)).exit_code == 0
    headless = {**client.get("/api/v1/trust-bundle").get_json(), "tree_head": None}
    headless.pop("manifest")
    with serving(_answering("200 OK", json.dumps(headless).encode())) as url:
        refused = _pull(url, str(target))
    assert refused.exit_code == 1 and refused.output.startswith("rollback: ")


def test_a_log_the_service_cannot_prove_to_extend_the_saved_one_is_refused(
    app: Any, server: str, client: FlaskClient, svc: UseCases, tmp_path: Path
) -> None:
    from issuer.core.transparency import TreeHead

    target = tmp_path / "bundle.json"
    assert _pull(server, str(target)).exit_code == 0
    saved = target.read_bytes()
    forked = client.get("/api/v1/trust-bundle").get_json()
    head = TreeHead(1000, bytes(32), svc.ctx.clock().replace(microsecond=0)).sign(
        svc.ctx.keys.log_key(), svc.log.public_key().kid
    )
    forked["tree_head"] = base64.b64encode(head.signed).decode()
    body = json.dumps(_manifest_signed_again(forked, svc)).encode()  # a service forking its own log

    def routed(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/api/v1/trust-bundle":
            return _answering("200 OK", body)(environ, start_response)
        return app(environ, start_response)  # type: ignore[no-any-return]

    with serving(routed) as url:
        result = _pull(url, str(target))
    assert result.exit_code == 1 and "does not prove" in result.output
    assert target.read_bytes() == saved
