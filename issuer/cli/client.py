"""The HTTP client of a running service, usable from Python without click: batches
(upload a roster, follow its validation and drawing, download the archive and check its
SHA-256) and the
trust bundle. Failures raise a ``ClientError`` whose text is one line, Chinese and English;
the commands print it (``issuer.cli.output.fail_with``). ``progress`` arguments take a
function like ``issuer.cli.output.progress``; by default nothing is shown."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BLOCK = 1 << 20
"""Bytes read, sent or written at a time when uploading or downloading."""
MAX_BUNDLE = 64 << 20
"""The largest trust bundle ``trust pull`` accepts."""
BATCHES = "/api/v1/batches"

Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]
"""``progress(length, label)``: a context whose value is the function that advances it."""


class ClientError(Exception):
    """A request that did not give what was asked; ``str(error)`` is the line to show."""


class Unreachable(ClientError):
    """The service cannot be reached, or the connection failed during a transfer."""


class ServiceError(ClientError):
    """The service refused: its answer's ``code``, ``message_zh`` and ``message``; for a
    roster, its ``problems`` (dicts with ``row``, ``column``, ``value``, the messages)."""

    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        errors = answer.get("errors")
        self.status = status
        self.answer = answer
        self.problems = errors.get("problems", []) if isinstance(errors, dict) else []
        code = answer.get("code", f"HTTP {status}")
        super().__init__(f"{code}: {answer.get('message_zh', '')} / {answer.get('message', '')}")


class UnexpectedAnswer(ClientError):
    """An answer the service does not give: not a JSON object, a wrong range, too large."""


class ChecksumMismatch(ClientError):
    """The downloaded archive's SHA-256 is not the batch's (the partial file is deleted)."""


class BatchFailed(ClientError):
    """The batch ended without being done: its roster rejected, or it failed."""


class NotReady(ClientError):
    """The batch was still being validated or drawn when the wait ran out."""


@contextmanager
def no_progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    yield lambda _: None


@dataclass(frozen=True)
class Service:
    """The running service. Every request carries the API key; a refusal raises
    ``ServiceError`` (``UnexpectedAnswer`` when it is not the service's), a connection that
    fails, before or during a transfer, ``Unreachable``."""

    url: str
    key: str

    def open(
        self,
        path: str,
        *,
        method: str = "GET",
        body: Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> http.client.HTTPResponse:
        request = urllib.request.Request(self.url.rstrip("/") + path, data=body, method=method, headers=headers or {})
        request.add_unredirected_header("Authorization", f"Bearer {self.key}")  # not sent on to a redirect
        with self.reaching():
            try:
                response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
                return response
            except urllib.error.HTTPError as exc:
                raise ServiceError(exc.code, json_object(exc.code, exc.read())) from exc

    def json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        with self.open(path, **kwargs) as response:
            return json_object(response.status, self.read(response))

    def read(self, response: http.client.HTTPResponse, size: int = -1) -> bytes:
        with self.reaching():
            return response.read(size)

    @contextmanager
    def reaching(self) -> Iterator[None]:
        """A connection that fails, before or during a transfer, raises ``Unreachable``."""
        try:
            yield
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise Unreachable(f"unreachable: {self.url}: {reason or type(exc).__name__} / 无法连接服务") from exc


def json_object(status: int, body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise UnexpectedAnswer(
            f"HTTP {status}: the answer is not a JSON object (is --url the issuer service?) / 服务返回内容无法识别"
        )
    return answer


def batch_path(batch_id: str, *rest: str) -> str:
    return "/".join([BATCHES, urllib.parse.quote(batch_id.strip(), safe=""), *rest])


# --- uploading a roster ----------------------------------------------------------------------


def multipart(fields: dict[str, str], files: dict[str, Path]) -> tuple[list[bytes | Path], str]:
    """A multipart/form-data body as its pieces: bytes, and the files to stream in between."""
    boundary = f"issuer-{uuid.uuid4().hex}"
    pieces: list[bytes | Path] = []
    for name, value in fields.items():
        pieces.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, path in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f"filename*=UTF-8''{urllib.parse.quote(path.name)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        pieces += [head.encode(), path, b"\r\n"]
    pieces.append(f"--{boundary}--\r\n".encode())
    return pieces, f"multipart/form-data; boundary={boundary}"


def _size(piece: bytes | Path) -> int:
    return piece.stat().st_size if isinstance(piece, Path) else len(piece)


def stream(pieces: list[bytes | Path], advance: Callable[[int], None]) -> Iterator[bytes]:
    """The body, a block at a time: a file is read as it is sent, never whole."""
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
            advance(len(piece))
            continue
        with piece.open("rb") as fh:
            while block := fh.read(BLOCK):
                yield block
                advance(len(block))


def upload(
    service: Service,
    fields: dict[str, str],
    files: dict[str, Path],
    headers: dict[str, str],
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """POST the roster (and photos) to the batches: the service's answer."""
    pieces, content_type = multipart(fields, files)
    length = sum(_size(p) for p in pieces)
    headers = {**headers, "Content-Type": content_type, "Content-Length": str(length)}
    with progress(length, "上传 / uploading") as advance:
        body = stream(pieces, advance)
        return service.json(BATCHES, method="POST", body=body, headers=headers, timeout=600)


# --- following a batch ------------------------------------------------------------------------

VALIDATING = ("validating", "issuing")
"""A batch whose roster is being validated, then issued."""


def wait(
    service: Service,
    batch_id: str,
    poll: float,
    timeout: float | None,
    progress: Progress = no_progress,
    *,
    drawn: bool = True,
) -> dict[str, Any]:
    """The batch's status once its roster is validated and issued (or rejected, or checked
    by a dry run); with ``drawn``, once its images are drawn too, and ``BatchFailed`` when
    the batch ended any other way than ``done``. ``NotReady`` at the end of ``timeout``
    seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    status = service.json(batch_path(batch_id))
    status = _follow(
        service, status, VALIDATING, ("rows", "checked"), "校验名单 / validating", poll, deadline, progress
    )
    if drawn:
        status = _follow(
            service, status, ("rendering",), ("issued", "rendered"), "生成证书 / drawing", poll, deadline, progress
        )
        if status["status"] != "done":
            raise BatchFailed(failure_line(status))
    return status


def failure_line(status: dict[str, Any]) -> str:
    """Why a batch ended without being done: one line, Chinese and English."""
    refusal = status.get("refusal")
    if refusal:
        return f"{refusal['code']}: {refusal['message_zh']} / {refusal['message']}"
    if status["status"] == "checked":
        return (
            f"batch_not_issued: 批次{status['id']}为试校验，未发证 / batch {status['id']} was a dry run: nothing issued"
        )
    return f"batch_failed: 批次{status['id']}处理失败 / batch {status['id']} failed: {status.get('error')}"


def _follow(
    service: Service,
    status: dict[str, Any],
    stages: tuple[str, ...],
    counts: tuple[str, str],
    label: str,
    poll: float,
    deadline: float | None,
    progress: Progress,
) -> dict[str, Any]:
    """Poll while the batch is in one of ``stages``, advancing a bar of ``counts`` (total,
    done so far)."""
    if status["status"] not in stages:
        return status
    total, done = counts
    shown = 0
    with progress(status[total], label) as advance:
        while True:
            advance(status[done] - shown)
            shown = status[done]
            if status["status"] not in stages:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise NotReady(
                    f"batch_not_ready: 等待超时，{status['status_zh']}（{shown}/{status[total]}） / "
                    f"timed out while {status['status']}: {shown} of {status[total]}"
                )
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
            status = service.json(batch_path(status["id"]))


def result(service: Service, batch_id: str) -> bytes:
    """The batch's result spreadsheet (XLSX): every roster row, its number or its problems."""
    with service.open(batch_path(batch_id, "result")) as response:
        return service.read(response)


# --- downloading the archive ----------------------------------------------------------------


def partial(target: Path) -> Path:
    """Where ``download`` receives the archive before checking it: ``target.part``."""
    return target.with_name(f"{target.name}.part")


def download(service: Service, status: dict[str, Any], target: Path, progress: Progress = no_progress) -> None:
    """The archive of a done batch into ``target``: received into ``target.part``
    (continuing a part left by an interrupted download), checked against its SHA-256, then
    renamed. ``ChecksumMismatch`` (the part deleted); ``OSError`` for a local file."""
    archive = status["archive"]
    part = partial(target)
    have = part.stat().st_size if part.exists() else 0
    if have > archive["bytes"]:
        part.unlink()
        have = 0
    if have < archive["bytes"]:
        _receive(service, batch_path(status["id"], "archive"), archive, part, have, progress)
    if file_sha256(part) != archive["sha256"]:
        part.unlink()
        raise ChecksumMismatch(
            f"checksum_mismatch: 下载的压缩包SHA-256不一致，已删除{part.name} / "
            f"the archive's SHA-256 is not {archive['sha256']}: {part.name} deleted, run again"
        )
    os.replace(part, target)


def _receive(service: Service, path: str, archive: dict[str, Any], part: Path, have: int, progress: Progress) -> None:
    """Append to ``part`` from byte ``have`` (a Range request, the whole file if the service
    answers 200 instead of 206)."""
    headers = {"Range": f"bytes={have}-", "If-Range": f'"{archive["sha256"]}"'} if have else {}
    with part.open("ab") as fh, service.open(path, headers=headers) as response:  # writable before asking
        if response.status != 206:
            fh.truncate(0)
            have = 0
        elif not response.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
            raise UnexpectedAnswer(
                f"bad_range: unexpected Content-Range {response.headers.get('Content-Range')} / 服务返回的范围有误"
            )
        with progress(archive["bytes"], "下载 / downloading") as advance:
            advance(have)
            while block := service.read(response, BLOCK):
                fh.write(block)
                advance(len(block))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


# --- the trust bundle -----------------------------------------------------------------------


def trust_bundle(url: str) -> bytes:
    """The trust bundle of the service at ``url`` (GET URL/api/v1/trust-bundle), unchecked:
    ``Unreachable`` (also for HTTP 5xx), ``ServiceError`` for a refusal, ``UnexpectedAnswer``
    for one larger than ``MAX_BUNDLE``."""
    address = url.rstrip("/") + "/api/v1/trust-bundle"
    request = urllib.request.Request(address, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            data: bytes = response.read(MAX_BUNDLE + 1)
    except urllib.error.HTTPError as exc:
        try:
            with exc:
                answer = exc.read(1 << 16)
        except (OSError, http.client.HTTPException):
            answer = b""
        if exc.code >= 500:
            raise Unreachable(f"unreachable: {address}: HTTP {exc.code} / 服务暂不可用") from exc
        raise ServiceError(exc.code, json_object(exc.code, answer)) from exc
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise Unreachable(f"unreachable: {address}: {reason or type(exc).__name__} / 无法连接服务") from exc
    if len(data) > MAX_BUNDLE:
        raise UnexpectedAnswer(f"untrusted_bundle: 信任包过大 / the answer is larger than {MAX_BUNDLE} bytes")
    return data


def consistency_proof(url: str, first: int, second: int) -> list[bytes]:
    """The service's proof that its log of ``second`` entries extends that of ``first``
    (GET URL/api/v1/log/proof/consistency), not checked. Raises what ``urllib`` raises
    (``urllib.error.HTTPError`` for a refusal), and ``ValueError``, ``KeyError`` or
    ``TypeError`` for an answer that is not a proof."""
    address = f"{url.rstrip('/')}/api/v1/log/proof/consistency?first={first}&second={second}"
    with urllib.request.urlopen(address, timeout=60) as response:
        return [bytes.fromhex(h) for h in json.loads(response.read())["proof"]]
