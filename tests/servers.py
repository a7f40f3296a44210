"""A real HTTP server on 127.0.0.1 for tests that talk to the service as a client would."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

WSGI = Callable[[dict[str, Any], Any], Iterable[bytes]]


@contextmanager
def serving(app: WSGI) -> Iterator[str]:
    """Serve ``app`` (threaded) on a free port; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
