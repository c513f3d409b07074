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
import time
from typing import Any

from tests.fakes.local_server import LocalServer, Reply

BOT_TOKEN = "xoxb-test-bot-token"
WEBHOOK_PATH = "/services/T000/B000/fakewebhooksecret"


class FakeSlack(LocalServer):
    name = "fake-slack"

    def __init__(self, *, token: str = BOT_TOKEN, channels: tuple[str, ...] = ("#meetings", "C0123")) -> None:
        self.token = token
        self.channels = set(channels)
        self.messages: list[dict[str, Any]] = []  # accepted chat.postMessage / webhook bodies
        self.requests: list[tuple[str, int]] = []  # (path, status answered)
        self._rate_limited: list[float] = []
        super().__init__()

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
        return self.wait_until(lambda: list(self.messages) if len(self.messages) >= count else None,
                               what=lambda: f"expected {count} messages, got {len(self.messages)}: {self.requests}",
                               timeout=timeout)

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> Reply:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = {}
        status, answer, extra = self._answer(path, headers, payload)
        with self._lock:
            self.requests.append((path, status))
        return status, answer, extra

    def _answer(self, path: str, headers: Any, body: dict[str, Any]) -> Reply:
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
