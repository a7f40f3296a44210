"""``python -m bench.server CONFIG.json``: serve the app on 127.0.0.1 on a free port for the
service benchmark. Prints the port on the first line of stdout once it listens; stops by
itself after ``--lifetime`` seconds in case its parent never does."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from werkzeug.serving import make_server

from issuer.app import create_app

HOST = "127.0.0.1"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("config", type=Path, help="JSON file of app settings")
    parser.add_argument("--lifetime", type=float, default=600.0, help="shut down after this many seconds")
    args = parser.parse_args(argv)
    # No access log line per request: it would time the terminal, not the service.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(json.loads(args.config.read_text(encoding="utf-8")))
    server = make_server(HOST, 0, app, threaded=True)
    watchdog = threading.Timer(args.lifetime, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    print(server.server_port, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
