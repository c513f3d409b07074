"""Linear's GraphQL API over plain httpx (a personal API key in ``Authorization``).

Operations used: ``viewer`` and ``teams`` (test, team id), ``issueCreate`` with an id we choose (so a
retry asks for that id instead of creating a second issue), ``issues`` (read, poll), ``issueUpdate``
(title, assignee, due date, state), ``workflowStates`` (the team's done / open state), ``users`` (by email).
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from integrations.spec import ProviderError
from integrations.ticketing import RemoteTicket, TicketClient, TicketDraft, http_call, register_client

ISSUE = "id identifier url title dueDate updatedAt assignee { id email name } state { type }"
PRIORITY = {"high": 2, "medium": 3, "low": 4}  # Linear: 1 urgent, 2 high, 3 medium, 4 low


def _message(response: httpx.Response) -> str:
    body = response.json()
    return "; ".join(str(e.get("message", "")) for e in body.get("errors") or []) or str(body.get("message", ""))


@register_client
class LinearClient(TicketClient):
    provider = "linear"
    _team_id: str | None = None

    def _query(self, query: str, variables: dict[str, Any] | None = None, *, what: str) -> dict[str, Any]:
        key = self.secrets.get("api_key")
        if not key:
            raise ProviderError("Linear is not fully set up: an API key is needed")
        url = str(getattr(settings, "LINEAR_API_URL", "https://api.linear.app/graphql"))
        body = http_call("POST", url, what=what, message_of=_message, headers={"Authorization": str(key)},
                         json={"query": query, "variables": variables or {}}).json()
        errors = body.get("errors") or []
        if errors:
            codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in errors}
            limited = "RATELIMITED" in codes
            raise ProviderError(f"{what}: {'; '.join(str(e.get('message', '')) for e in errors)}"[:1000],
                                status=429 if limited else 400, transient=limited)
        return body.get("data") or {}

    def team_id(self) -> str:
        if self._team_id is None:
            key = str(self.config.get("team_key") or "")
            nodes = self._query("query($key: String!) { teams(filter: {key: {eq: $key}}) { nodes { id name } } }",
                                {"key": key}, what=f"Reading team {key}")["teams"]["nodes"]
            if not nodes:
                raise ProviderError(f"Linear has no team with the key {key!r} that this API key can see")
            self._team_id = str(nodes[0]["id"])
        return self._team_id

    def test(self) -> str:
        viewer = self._query("query { viewer { id name email } }", what="Signing in to Linear")["viewer"]
        self.team_id()
        return f"Connected as {viewer.get('name') or viewer.get('email')}; team {self.config.get('team_key')}."

    def ticket(self, issue: dict[str, Any]) -> RemoteTicket:
        assignee = issue.get("assignee") or {}
        state = str((issue.get("state") or {}).get("type") or "")
        return RemoteTicket(
            id=str(issue["id"]), key=str(issue.get("identifier") or ""), url=str(issue.get("url") or ""),
            title=str(issue.get("title") or ""), assignee=assignee.get("id") or issue.get("assigneeId") or None,
            assignee_email=assignee.get("email") or None, assignee_name=str(assignee.get("name") or ""),
            due_date=issue.get("dueDate") or None, done=state in ("completed", "canceled"),
            cancelled=state == "canceled", updated=str(issue.get("updatedAt") or ""))

    def _input(self, draft: TicketDraft) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if draft.title is not None:
            values["title"] = draft.title
        if draft.description is not None:
            values["description"] = draft.description + (
                f"\n\n[Open the meeting in MeetPilot]({draft.link})" if draft.link else "")
        if draft.assignee is not None:
            values["assigneeId"] = draft.assignee or None
        if draft.due_date is not None:
            values["dueDate"] = draft.due_date or None
        if draft.priority in PRIORITY:
            values["priority"] = PRIORITY[draft.priority]
        return values

    def create(self, draft: TicketDraft) -> RemoteTicket:
        values = {"id": draft.marker, "teamId": self.team_id(), **self._input(draft)}
        mutation = ("mutation($input: IssueCreateInput!) "
                    f"{{ issueCreate(input: $input) {{ success issue {{ {ISSUE} }} }} }}")
        data = self._query(mutation, {"input": values}, what="Creating the Linear issue")["issueCreate"]
        if not data.get("success") or not data.get("issue"):
            raise ProviderError("Linear did not create the issue", transient=True)
        return self.ticket(data["issue"])

    def _issues(self, issue_filter: dict[str, Any], *, what: str) -> list[RemoteTicket]:
        query = f"query($filter: IssueFilter) {{ issues(filter: $filter, first: 100) {{ nodes {{ {ISSUE} }} }} }}"
        return [self.ticket(n) for n in self._query(query, {"filter": issue_filter}, what=what)["issues"]["nodes"]]

    def get(self, ticket_id: str) -> RemoteTicket | None:
        found = self._issues({"id": {"eq": ticket_id}}, what="Reading the Linear issue")
        return found[0] if found else None

    def find(self, marker: str) -> RemoteTicket | None:
        return self.get(marker)

    def update(self, ticket_id: str, draft: TicketDraft) -> None:
        values = self._input(draft)
        if values:
            self._update(ticket_id, values)

    def _update(self, ticket_id: str, values: dict[str, Any]) -> None:
        mutation = ("mutation($id: String!, $input: IssueUpdateInput!) "
                    "{ issueUpdate(id: $id, input: $input) { success } }")
        self._query(mutation, {"id": ticket_id, "input": values}, what="Updating the Linear issue")

    def set_done(self, ticket_id: str, done: bool) -> None:
        kind = "completed" if done else "unstarted"
        query = ("query($team: ID!, $type: String!) { workflowStates(filter: {team: {id: {eq: $team}}, "
                 "type: {eq: $type}}) { nodes { id name } } }")
        states = self._query(query, {"team": self.team_id(), "type": kind}, what="Reading the team's states")
        nodes = states["workflowStates"]["nodes"]
        if not nodes:
            raise ProviderError(f"The Linear team has no {kind} state")
        self._update(ticket_id, {"stateId": nodes[0]["id"]})

    def recently_updated(self, ticket_ids: list[str], minutes: int) -> list[RemoteTicket]:
        if not ticket_ids:
            return []
        return self._issues({"id": {"in": ticket_ids}, "updatedAt": {"gt": f"-PT{int(minutes)}M"}},
                            what="Polling Linear")

    def user_for_email(self, email: str | None) -> str | None:
        if not email:
            return None
        query = "query($email: String!) { users(filter: {email: {eq: $email}}) { nodes { id } } }"
        nodes = self._query(query, {"email": email}, what="Finding the assignee in Linear")["users"]["nodes"]
        return str(nodes[0]["id"]) if nodes else None

    def ticket_from_webhook(self, payload: dict[str, Any]) -> RemoteTicket | None:
        data = payload.get("data")
        if payload.get("type") != "Issue" or not isinstance(data, dict) or not data.get("id"):
            return None
        return self.ticket(data)
