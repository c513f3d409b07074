"""A stand-in for the Google Calendar API v3 on 127.0.0.1: ``GET /calendars/primary/events`` answers the
events of the person whose bearer token is sent (paginated two at a time, as Google pages), and
``POST /token`` renews an access token from a refresh token.

    with FakeGoogleCalendar() as calendar:
        calendar.add_calendar(token="tok-alice", refresh_token="r-alice", events=[...])
        settings.GOOGLE_CALENDAR_API_URL = calendar.api_url
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PAGE_SIZE = 2


class FakeGoogleCalendar:
    def __init__(self) -> None:
        self.calendars: dict[str, list[dict[str, Any]]] = {}  # access token -> events
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> access token it renews
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []  # (method, path, query)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-calendar", daemon=True)

    def __enter__(self) -> FakeGoogleCalendar:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/calendar/v3"

    def add_calendar(self, *, token: str, events: list[dict[str, Any]], refresh_token: str = "") -> None:
        self.calendars[token] = events
        if refresh_token:
            self.refresh_tokens[refresh_token] = token

    def _events(self, headers: Any, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in self.calendars:
            return 401, {"error": {"code": 401, "message": "Invalid Credentials"}}
        if query.get("singleEvents") != ["true"] or not query.get("timeMin"):
            return 400, {"error": {"code": 400, "message": "expected singleEvents and timeMin"}}
        start = int(query.get("pageToken", ["0"])[0])
        items = self.calendars[token][start:start + PAGE_SIZE]
        page: dict[str, Any] = {"kind": "calendar#events", "items": items}
        if start + PAGE_SIZE < len(self.calendars[token]):
            page["nextPageToken"] = str(start + PAGE_SIZE)
        return 200, page

    def _token(self, body: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        refresh = body.get("refresh_token", [""])[0]
        if body.get("grant_type") != ["refresh_token"] or refresh not in self.refresh_tokens:
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": self.refresh_tokens[refresh], "expires_in": 3599, "token_type": "Bearer"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = parse_qs(parsed.query)
                with fake._lock:
                    fake.requests.append(("GET", parsed.path, query))
                if parsed.path == "/calendar/v3/calendars/primary/events":
                    self._reply(*fake._events(self.headers, query))
                else:
                    self._reply(404, {"error": {"code": 404, "message": "Not Found"}})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with fake._lock:
                    fake.requests.append(("POST", self.path, parse_qs(raw)))
                if self.path == "/token":
                    self._reply(*fake._token(parse_qs(raw)))
                else:
                    self._reply(404, {"error": "not_found"})

        return Handler
