"""A stand-in for a customer's webhook endpoint on 127.0.0.1: it records every request and verifies the
signature the way a receiver following docs/integrations-outbound.md would.

    with WebhookReceiver(secret=None) as receiver:
        receiver.fail_next(2, status=500)   # answer 500 twice, then 200
        ...
        receiver.wait_for(1)
        receiver.requests[0].json, receiver.requests[0].verified
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integrations.webhooks.signing import SIGNATURE_HEADER, signature_verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None  # None when the receiver was not given the secret yet
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, *, secret: str | None = None) -> None:
        self.secret = secret
        self.requests: list[Received] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-webhook", daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/meetpilot"

    def fail_next(self, count: int, *, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = receiver._failures.pop(0) if receiver._failures else 200
                    verified = (None if receiver.secret is None else
                                signature_verify(receiver.secret, body, self.headers.get(SIGNATURE_HEADER, "")))
                    if verified is False:
                        status = 400
                    receiver.requests.append(Received(path=self.path, headers=dict(self.headers.items()),
                                                      body=body, verified=verified, answered=status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                out = json.dumps({"received": status == 200}).encode()
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        return Handler
