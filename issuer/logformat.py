"""How log records are written: ``ISSUER_LOG_FORMAT=text`` (the default: each command's
own lines) or ``json``, one JSON object a line for a log collector: ``time`` (ISO 8601,
UTC), ``level``, ``logger``, ``message``, ``process``, ``exception`` and ``stack`` when the
record has them, and the fields a record was given with ``extra=`` (``batch_timing``).

Identity document numbers are masked in every record as it is made (``issuer.logs``);
the ``extra`` fields are set on a record after that, so they are masked here."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from issuer import logs
from issuer.core.redaction import redact

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
_HANDLER_MARK = "_issuer_log_format"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = _masked(value)
        return json.dumps(line, ensure_ascii=False, default=lambda v: redact(str(v)))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(v) for v in value]
    return value


def configure(log_format: str, *, text: str | None = None) -> None:
    """Write every record of the process (INFO and above) to stderr: one JSON object a line
    (``json``), or lines of the ``text`` format; ``text`` without one leaves logging as
    it is. Records are masked either way (``issuer.logs``). Once: a second call replaces
    the handler the first added."""
    logs.install()
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
    elif text is not None:
        formatter = logging.Formatter(text)
    else:
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def say(line: str, log_format: str) -> None:
    """A line for whoever started the command (``listening on …``): a record of the
    ``issuer`` logger in JSON, so that every line is an object; else as it is, on stderr."""
    if log_format == "json":
        logging.getLogger("issuer").info(line)
    else:
        print(line, file=sys.stderr, flush=True)
