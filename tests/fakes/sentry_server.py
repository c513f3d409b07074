"""A stand-in Sentry on 127.0.0.1: accepts envelopes (``POST /api/<project>/envelope/``) and keeps them.

It keeps any POST, so it also stands in for an OpenTelemetry collector (OTLP/HTTP ``POST /v1/traces``):
``sentry.url`` is its base URL, ``sentry.paths`` and ``sentry.raw`` what arrived.

    with FakeSentry() as sentry:
        env = {"SENTRY_DSN": sentry.dsn}        # the real sentry-sdk sends here
        ...
        event = sentry.wait_for_event()          # the first error event, as a dict
        sentry.raw                               # every envelope, decompressed bytes
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeSentry:
    public_key = "0123456789abcdef0123456789abcdef"
    project = "42"

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                with fake._lock:
                    fake.raw.append(body)
                    fake.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": "0"}')

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.dsn = f"http://{self.public_key}@127.0.0.1:{self.port}/{self.project}"

    def __enter__(self) -> FakeSentry:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self) -> list[dict[str, Any]]:
        """Items of type ``event`` from every envelope (header line, then item header + payload pairs)."""
        found = []
        with self._lock:
            envelopes = list(self.raw)
        for envelope in envelopes:
            lines = envelope.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                try:
                    if json.loads(header).get("type") == "event":
                        found.append(json.loads(payload))
                except ValueError:
                    continue
        return found

    def wait_for_event(self, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if events:
                return events[0]
            time.sleep(0.1)
        raise AssertionError(f"no event reached the fake Sentry in {timeout} s ({len(self.raw)} envelopes)")
