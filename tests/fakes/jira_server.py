"""A real HTTP server on 127.0.0.1 that speaks enough of Jira Cloud's REST API v3 for tests.

It keeps issues in memory and records every request, so tests drive the real client code (httpx,
a socket, the Celery worker) and then assert on what Jira received:

    with FakeJira() as jira:
        config = jira.config(project_key="OPS")        # connection config pointing at the fake
        jira.fail_next(2, status=500)                  # the next two requests answer 500
        jira.fail_next(1, status=429, retry_after=1)   # ... or 429 with Retry-After
        jira.hang_next(1, seconds=2)                   # ... or do the work but answer after the timeout
        payload = jira.close_issue("OPS-1")            # what Jira's webhook would POST
        jira.writes()                                  # the POST/PUT requests received

``RecordingServer`` is the shared base (the Linear fake uses it too).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Planned:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class RecordingServer:
    name = "fake"

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.planned: list[Planned] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, times: int = 1, *, status: int = 500, retry_after: float | None = None,
                  body: Any = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self.lock:
            self.planned += [Planned(status, body if body is not None else {"errorMessages": [f"fake {status}"]},
                                     headers) for _ in range(times)]

    def pass_next(self, times: int = 1) -> None:
        """The next requests are answered normally (to aim a planned failure at a later request)."""
        with self.lock:
            self.planned += [Planned(0, None) for _ in range(times)]

    def hang_next(self, times: int = 1, *, seconds: float = 2.0) -> None:
        with self.lock:
            self.planned += [Planned(0, None, delay=seconds) for _ in range(times)]

    def is_write(self, record: dict[str, Any]) -> bool:
        return record["method"] in ("POST", "PUT", "DELETE")

    def writes(self) -> list[dict[str, Any]]:
        """The requests that changed something (answered below 400, or not answered yet)."""
        return [r for r in self.requests if self.is_write(r) and r["answered"] < 400]

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def _respond(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        record = {"method": method, "path": handler.path, "body": body, "headers": headers, "answered": 0}
        with self.lock:
            self.requests.append(record)
            planned = self.planned.pop(0) if self.planned else None
        if planned is not None and planned.status:
            status, payload, extra = planned.status, planned.body, planned.headers
        else:
            with self.lock:
                status, payload, extra = self.handle(method, handler.path, body, headers)
        if planned is not None and planned.delay:
            time.sleep(planned.delay)  # the work is done, but the answer comes after the client's timeout
        record["answered"] = record["answered"] or status
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            handler.send_response(status)
            for key, value in {"Content-Type": "application/json", **extra}.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._respond(self, "GET")

            def do_POST(self) -> None:
                fake._respond(self, "POST")

            def do_PUT(self) -> None:
                fake._respond(self, "PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name=self.name, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class FakeJira(RecordingServer):
    name = "fake-jira"
    STATUSES = {"new": {"name": "To Do", "statusCategory": {"key": "new"}},
                "indeterminate": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "done": {"name": "Done", "statusCategory": {"key": "done"}}}
    TRANSITIONS = [{"id": "11", "name": "To Do", "to": STATUSES["new"]},
                   {"id": "21", "name": "In Progress", "to": STATUSES["indeterminate"]},
                   {"id": "31", "name": "Done", "to": STATUSES["done"]}]

    def __init__(self, *, email: str = "bot@acme.test", token: str = "jira-token-1", project: str = "OPS") -> None:
        super().__init__()
        self.email, self.token, self.project = email, token, project
        self.issues: dict[str, dict[str, Any]] = {}
        self.next_id = 10000

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"site_url": self.base_url, "email": self.email, "project_key": self.project, **extra}

    def issue(self, id_or_key: str) -> dict[str, Any] | None:
        return self.issues.get(id_or_key) or next((i for i in self.issues.values() if i["key"] == id_or_key), None)

    def is_write(self, record: dict[str, Any]) -> bool:
        return super().is_write(record) and not record["path"].startswith("/rest/api/3/search")

    def creates(self) -> list[dict[str, Any]]:
        return [r for r in self.writes() if r["path"] == "/rest/api/3/issue"]

    def close_issue(self, key: str) -> dict[str, Any]:
        """Someone closes the issue in Jira: its status becomes Done; returns the webhook's payload."""
        with self.lock:
            issue = self.issue(key)
            issue["fields"].update(status=self.STATUSES["done"], updated=now_iso())
            return {"webhookEvent": "jira:issue_updated", "timestamp": int(time.time() * 1000),
                    "issue": json.loads(json.dumps(issue))}

    def edit_issue(self, key: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            issue = self.issue(key)
            issue["fields"].update(fields, updated=now_iso())
            return {"webhookEvent": "jira:issue_updated", "issue": json.loads(json.dumps(issue))}

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return headers.get("authorization") == f"Basic {expected}"

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if not self._authorised(headers):
            return 401, {"errorMessages": ["Client must be authenticated to access this resource."]}, {}
        path = path.split("?", 1)[0]
        if path == "/rest/api/3/myself":
            return 200, {"accountId": "bot-1", "displayName": "MeetPilot Bot", "emailAddress": self.email}, {}
        if m := re.fullmatch(r"/rest/api/3/project/([^/]+)", path):
            if m.group(1) != self.project:
                return 404, {"errorMessages": [f"No project could be found with key '{m.group(1)}'."]}, {}
            return 200, {"key": self.project, "name": "Operations"}, {}
        if path == "/rest/api/3/issue" and method == "POST":
            return self._create(body["fields"])
        if path == "/rest/api/3/search/jql":
            return 200, {"issues": self._search(body["jql"])}, {}
        if m := re.fullmatch(r"/rest/api/3/issue/([^/]+)(/transitions)?", path):
            issue = self.issue(m.group(1))
            if issue is None:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}, {}
            if m.group(2):
                return self._transition(issue, method, body)
            if method == "PUT":
                issue["fields"].update({k: v for k, v in body["fields"].items() if k != "description"},
                                       updated=now_iso())
                return 204, None, {}
            return 200, issue, {}
        return 404, {"errorMessages": [f"no route {method} {path}"]}, {}

    def _create(self, fields: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if fields.get("project", {}).get("key") != self.project:
            return 400, {"errors": {"project": "valid project is required"}}, {}
        self.next_id += 1
        key = f"{self.project}-{len(self.issues) + 1}"
        assignee = fields.get("assignee")
        self.issues[str(self.next_id)] = {"id": str(self.next_id), "key": key, "fields": {
            **fields, "assignee": {"accountId": assignee["accountId"], "displayName": assignee["accountId"]}
            if assignee else None, "status": self.STATUSES["new"], "updated": now_iso()}}
        link = f"{self.base_url}/rest/api/3/issue/{self.next_id}"
        return 201, {"id": str(self.next_id), "key": key, "self": link}, {}

    def _search(self, jql: str) -> list[dict[str, Any]]:
        label = re.search(r'labels = "([^"]+)"', jql)
        return [i for i in self.issues.values() if label and label.group(1) in (i["fields"].get("labels") or [])]

    def _transition(self, issue: dict[str, Any], method: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if method == "GET":
            return 200, {"transitions": self.TRANSITIONS}, {}
        chosen = next(t for t in self.TRANSITIONS if t["id"] == body["transition"]["id"])
        issue["fields"].update(status=chosen["to"], updated=now_iso())
        return 204, None, {}
