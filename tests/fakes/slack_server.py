"""A stand-in for Slack on 127.0.0.1: the Web API methods MeetPilot calls (``auth.test``,
``chat.postMessage``, under ``/api/``) and an incoming webhook (``/services/...``).

It checks the bot token and the channel like Slack does (``{"ok": false, "error": ...}``), records every
message, and can be told to answer 429 with ``Retry-After`` before succeeding.

    with FakeSlack() as slack:
        settings.SLACK_API_URL = slack.api_url
        slack.rate_limit_next(1, retry_after=1)
        ...
        slack.wait_for_messages(1)[0]["blocks"]
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_TOKEN = "xoxb-test-bot-token"
WEBHOOK_PATH = "/services/T000/B000/fakewebhooksecret"


class FakeSlack:
    def __init__(self, *, token: str = BOT_TOKEN, channels: tuple[str, ...] = ("#meetings", "C0123")) -> None:
        self.token = token
        self.channels = set(channels)
        self.messages: list[dict[str, Any]] = []  # accepted chat.postMessage / webhook bodies
        self.requests: list[tuple[str, int]] = []  # (path, status answered)
        self._rate_limited: list[float] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api"

    @property
    def webhook_url(self) -> str:
        return self.base + WEBHOOK_PATH

    def rate_limit_next(self, count: int, *, retry_after: float = 1) -> None:
        with self._lock:
            self._rate_limited.extend([retry_after] * count)

    def wait_for_messages(self, count: int, *, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} Slack messages, got {len(self.messages)}: {self.requests}")

    def _answer(self, path: str, headers: Any, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if self._rate_limited:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self._rate_limited.pop(0))}
        if path == WEBHOOK_PATH:
            if not body.get("text") and not body.get("blocks"):
                return 400, "no_text", {}
            self.messages.append(body)
            return 200, "ok", {}
        if not path.startswith("/api/"):
            return 404, "no_service", {}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        method = path.removeprefix("/api/")
        if method == "auth.test":
            return 200, {"ok": True, "team": "Acme HQ", "user": "meetpilot", "team_id": "T000"}, {}
        if method == "chat.postMessage":
            if body.get("channel") not in self.channels:
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            self.messages.append(body)
            return 200, {"ok": True, "channel": body["channel"], "ts": f"{time.time():.6f}"}, {}
        return 200, {"ok": False, "error": "unknown_method"}, {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                status, answer, extra = slack._answer(self.path, self.headers, body)
                with slack._lock:
                    slack.requests.append((self.path, status))
                out = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(answer, str) else "application/json")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        return Handler
