"""Access logs without personal data: the public lookup may carry a document number in
its query string (``GET /api/v1/lookup?document_number=…``); it is redacted before any
handler of the ``werkzeug`` logger sees the line."""

from __future__ import annotations

import logging
import re

_SENSITIVE = re.compile(r"((?:document_number|name)=)[^&\s\"]*", re.IGNORECASE)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(_SENSITIVE.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _SENSITIVE.sub(r"\1[redacted]", record.msg)
        return True


def install() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactPersonalData) for f in logger.filters):
        logger.addFilter(RedactPersonalData())
