"""The scaffolding the fake provider servers share: a real HTTP server on 127.0.0.1 (a free port) in a daemon
thread, one ``respond`` method per fake, and JSON or text replies.

    class FakeThing(LocalServer):
        name = "fake-thing"

        def respond(self, method, path, headers, body):  # body: the raw request bytes
            return 200, {"ok": True}, {}                 # status, JSON-able or str payload, extra headers

    with FakeThing() as fake:
        httpx.get(fake.base + "/ping")
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Reply = tuple[int, Any, dict[str, str]]


class LocalServer:
    name = "fake-server"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> Reply:
        raise NotImplementedError

    def wait_until(self, ready: Callable[[], Any], *, what: Callable[[], str], timeout: float = 20.0) -> Any:
        """Poll ``ready`` (called under the lock) until it returns something truthy; fail saying ``what()``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = ready()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: {what()}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                status, payload, extra = fake.respond(self.command, self.path, self.headers, body)
                text = isinstance(payload, str)
                out = (payload if text else json.dumps(payload)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if text else "application/json")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
