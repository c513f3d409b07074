"""A real HTTP server on 127.0.0.1 that answers enough of Linear's GraphQL API for tests.

Queries are recognised by the operation they call (``viewer``, ``teams``, ``issueCreate``, ``issues``,
``issueUpdate``, ``workflowStates``, ``users``), issues are kept in memory and every request is recorded:

    with FakeLinear() as linear:
        settings.LINEAR_API_URL = linear.url
        linear.fail_next(1, status=429, retry_after=1)
        payload = linear.complete_issue(issue_id)      # what Linear's webhook would POST
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.fakes.jira_server import RecordingServer, now_iso

STATES = {"unstarted": {"id": "state-todo", "type": "unstarted"},
          "completed": {"id": "state-done", "type": "completed"},
          "canceled": {"id": "state-cancel", "type": "canceled"}}


class FakeLinear(RecordingServer):
    name = "fake-linear"

    def __init__(self, *, api_key: str = "lin_api_test", team_key: str = "ENG") -> None:
        super().__init__()
        self.api_key, self.team_key = api_key, team_key
        self.issues: dict[str, dict[str, Any]] = {}
        self.users = {"bob@acme.test": {"id": "lin-user-bob", "email": "bob@acme.test", "name": "Bob"}}

    @property
    def url(self) -> str:
        return f"{self.base_url}/graphql"

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"team_key": self.team_key, **extra}

    def is_write(self, record: dict[str, Any]) -> bool:
        return "mutation" in (record["body"] or {}).get("query", "")

    def creates(self) -> list[dict[str, Any]]:
        return [r for r in self.writes() if "issueCreate" in (r["body"] or {}).get("query", "")]

    def updates(self) -> list[dict[str, Any]]:
        return [r for r in self.writes() if "issueUpdate" in (r["body"] or {}).get("query", "")]

    def _payload(self, issue: dict[str, Any], action: str = "update") -> dict[str, Any]:
        return {"action": action, "type": "Issue", "data": json.loads(json.dumps(issue)), "url": issue["url"],
                "webhookTimestamp": int(time.time() * 1000)}

    def complete_issue(self, issue_id: str) -> dict[str, Any]:
        with self.lock:
            self.issues[issue_id].update(state=STATES["completed"], updatedAt=now_iso())
            return self._payload(self.issues[issue_id])

    def edit_issue(self, issue_id: str, **values: Any) -> dict[str, Any]:
        with self.lock:
            self.issues[issue_id].update(values, updatedAt=now_iso())
            return self._payload(self.issues[issue_id])

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if headers.get("authorization") != self.api_key:
            return 400, {"errors": [{"message": "Authentication required, not authenticated",
                                     "extensions": {"code": "AUTHENTICATION_ERROR"}}]}, {}
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "viewer" in query:
            return 200, {"data": {"viewer": {"id": "u-bot", "name": "MeetPilot Bot", "email": "bot@acme.test"}}}, {}
        if "teams(" in query:
            nodes = [{"id": "team-1", "name": "Engineering"}] if variables.get("key") == self.team_key else []
            return 200, {"data": {"teams": {"nodes": nodes}}}, {}
        if "issueCreate" in query:
            return self._create(variables["input"])
        if "issueUpdate" in query:
            issue = self.issues.get(variables["id"])
            if issue is None:
                return 200, {"errors": [{"message": "Entity not found: Issue"}]}, {}
            self._apply(issue, variables["input"])
            return 200, {"data": {"issueUpdate": {"success": True}}}, {}
        if "workflowStates" in query:
            return 200, {"data": {"workflowStates": {"nodes": [STATES[variables["type"]]]}}}, {}
        if "users(" in query:
            user = self.users.get(variables.get("email", ""))
            return 200, {"data": {"users": {"nodes": [user] if user else []}}}, {}
        if "issues(" in query:
            wanted = variables["filter"]["id"]
            ids = wanted.get("in") or [wanted.get("eq")]
            return 200, {"data": {"issues": {"nodes": [self.issues[i] for i in ids if i in self.issues]}}}, {}
        return 400, {"errors": [{"message": "unknown query"}]}, {}

    def _apply(self, issue: dict[str, Any], values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "stateId":
                issue["state"] = next(s for s in STATES.values() if s["id"] == value)
            elif key == "assigneeId":
                issue["assignee"] = next((u for u in self.users.values() if u["id"] == value), None)
            elif key in ("title", "dueDate", "description", "priority"):
                issue[key] = value
        issue["updatedAt"] = now_iso()

    def _create(self, values: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        issue_id = values.get("id") or f"gen-{len(self.issues) + 1}"
        if issue_id in self.issues:
            return 200, {"errors": [{"message": "Issue with this id already exists"}]}, {}
        number = len(self.issues) + 1
        issue = {"id": issue_id, "identifier": f"{self.team_key}-{number}",
                 "url": f"https://linear.app/acme/issue/{self.team_key}-{number}", "title": "", "dueDate": None,
                 "assignee": None, "state": STATES["unstarted"], "updatedAt": now_iso()}
        self.issues[issue_id] = issue
        self._apply(issue, {k: v for k, v in values.items() if k not in ("id", "teamId")})
        return 200, {"data": {"issueCreate": {"success": True, "issue": issue}}}, {}
