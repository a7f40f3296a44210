"""Where an auditor reads a transparency log from: an export file (``issuer log export``:
JSON Lines, a header with the signed tree head, then one entry per line) or a running
service's public API (``/api/v1/log/…``), a page at a time. Either way: the signed tree
head, its size, and the entries streamed in order, never all held at once."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer.core.errors import TrustError

EXPORT_FORMAT = "issuer-log"
PAGE = 1000


class LogSourceError(TrustError):
    """A log that cannot be read at all (unreachable, not an export, malformed)."""

    code_default = "log_unreadable"


@dataclass(frozen=True)
class LogSource:
    tree_head: bytes
    tree_size: int
    entries: Iterator[tuple[int, bytes]]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise LogSourceError(f"{what} is missing", f"缺少{what}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise LogSourceError(f"{what} is not base64", f"{what}不是base64编码") from None


def _size(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise LogSourceError("tree_size is not a count", "tree_size不是非负整数")
    return value


def open_log(where: str) -> LogSource:
    """An ``http(s)://`` service address or an export file."""
    if where.startswith(("http://", "https://")):
        return _from_service(where.rstrip("/"))
    return _from_export(Path(where))


def _from_export(path: Path) -> LogSource:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise LogSourceError(f"cannot read {path}: {exc.strerror}", f"无法读取日志文件{path}") from None
    try:
        header = json.loads(handle.readline() or "null")
    except ValueError:
        handle.close()
        raise LogSourceError(f"{path} is not a log export", f"{path}不是日志导出文件") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT or header.get("version") != 1:
        handle.close()
        raise LogSourceError(f"{path} is not a log export (version 1)", f"{path}不是第1版日志导出文件")
    return LogSource(_b64(header.get("tree_head"), "tree_head"), _size(header.get("tree_size")), _lines(handle))


def _lines(handle: Any) -> Iterator[tuple[int, bytes]]:
    with handle:
        for number, line in enumerate(handle, start=2):
            try:
                row = json.loads(line)
                yield int(row["index"]), _b64(row["entry"], "entry")
            except (ValueError, KeyError, TypeError):
                raise LogSourceError(f"line {number} is not an entry", f"第{number}行不是日志条目") from None


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise LogSourceError(f"{url}: HTTP {exc.code}", f"{url}：HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise LogSourceError(f"unreachable: {url}: {exc}", f"无法连接{url}") from None
    except ValueError:
        raise LogSourceError(f"{url}: the answer is not JSON", f"{url}：返回内容不是JSON") from None
    if not isinstance(body, dict):
        raise LogSourceError(f"{url}: unexpected answer", f"{url}：返回内容无法识别")
    return body


def _from_service(base: str) -> LogSource:
    head = _get(f"{base}/api/v1/log/tree-head")
    size = _size(head.get("tree_size"))
    return LogSource(_b64(head.get("signed"), "tree head"), size, _pages(base, size))


def _pages(base: str, size: int) -> Iterator[tuple[int, bytes]]:
    for start in range(0, size, PAGE):
        end = min(start + PAGE, size)
        page = _get(f"{base}/api/v1/log/entries?start={start}&end={end}")
        for row in page.get("entries", []):
            yield int(row["index"]), _b64(row.get("entry"), "entry")
