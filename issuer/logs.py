"""Log records without identity document numbers: every record made in the process — the
app's own, werkzeug's request log, a WSGI server's access log, a library's — has its
message, traceback and stack text passed through ``core.redaction.redact`` when it is
made, before any handler, filter or formatter sees it. A record factory rather than a
filter, because a filter on one logger misses records of the others, and a filter on a
handler misses handlers added later."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from issuer.core.redaction import redact

_MARK = "_issuer_redacts"


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: keep both, redacted
        message = f"{record.msg} {record.args!r}"
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Pass every log record of the process through ``redact`` (once, however many apps
    are built)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted(previous(*args, **kwargs))

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
