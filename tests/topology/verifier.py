"""The verification load of the topology test, in a process of its own:
``python -m tests.topology.verifier URL QR_FILE OUT_FILE STOP_FILE CLIENTS``. ``CLIENTS``
threads POST the QR texts of ``QR_FILE`` (one a line) to ``URL/api/v1/verify`` in turn, each
on a new connection (so that every gunicorn worker answers some), until ``STOP_FILE``
exists; then every answer (status or error, verdict, seconds) is written to ``OUT_FILE`` as
JSON."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def _one(url: str, qr_text: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/api/v1/verify",
        data=json.dumps({"qr_text": qr_text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    answer: dict[str, Any] = {"at": time.time()}
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer["status"] = response.status
            answer["verdict"] = json.loads(response.read()).get("status")
    except urllib.error.HTTPError as error:
        answer["status"] = error.code
        answer["body"] = error.read()[:300].decode(errors="replace")
    except Exception as error:  # recorded, so that no thread is lost
        # A connection reset (OSError), a cut answer (http.client.IncompleteRead) or its
        # body cut short (ValueError): the web process answering it was killed.
        answer["error"] = f"{type(error).__name__}: {error}"
    answer["seconds"] = time.monotonic() - started
    return answer


def main(url: str, qr_file: str, out_file: str, stop_file: str, clients: str) -> None:
    texts = [line for line in Path(qr_file).read_text(encoding="utf-8").splitlines() if line]
    stop = Path(stop_file)
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        i = index
        while not stop.exists():
            answer = _one(url, texts[i % len(texts)])
            with lock:
                answers.append(answer)
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(int(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    Path(out_file).write_text(json.dumps(answers), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
