"""A stand-in for the Google Calendar API v3 on 127.0.0.1: ``GET /calendars/primary/events`` answers the
events of the person whose bearer token is sent (paginated two at a time, as Google pages), and
``POST /token`` renews an access token from a refresh token.

    with FakeGoogleCalendar() as calendar:
        calendar.add_calendar(token="tok-alice", refresh_token="r-alice", events=[...])
        settings.GOOGLE_CALENDAR_API_URL = calendar.api_url
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.local_server import LocalServer, Reply

PAGE_SIZE = 2


class FakeGoogleCalendar(LocalServer):
    name = "fake-calendar"

    def __init__(self) -> None:
        self.calendars: dict[str, list[dict[str, Any]]] = {}  # access token -> events
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> access token it renews
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []  # (method, path, query)
        super().__init__()

    @property
    def url(self) -> str:
        return self.base

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

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> Reply:
        parsed = urlparse(path)
        query = parse_qs(parsed.query) if method == "GET" else parse_qs(body.decode())
        with self._lock:
            self.requests.append((method, parsed.path if method == "GET" else path, query))
        if method == "GET" and parsed.path == "/calendar/v3/calendars/primary/events":
            return *self._events(headers, query), {}
        if method == "POST" and path == "/token":
            return *self._token(query), {}
        return 404, {"error": {"code": 404, "message": "Not Found"}}, {}
