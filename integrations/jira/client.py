"""Jira Cloud REST API v3 over plain httpx (basic auth: account email + API token).

Endpoints used: ``GET /rest/api/3/myself`` and ``GET /rest/api/3/project/{key}`` (test),
``POST /rest/api/3/issue`` (create), ``POST /rest/api/3/search/jql`` (find by label, poll),
``GET`` / ``PUT /rest/api/3/issue/{id}`` (read, edit), ``GET`` / ``POST /rest/api/3/issue/{id}/transitions``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from integrations.spec import ProviderError
from integrations.ticketing import RemoteTicket, TicketClient, TicketDraft, http_call, register_client

FIELDS = ["summary", "status", "assignee", "duedate", "updated", "labels"]
# Jira status categories: "new" (to do), "indeterminate" (in progress), "done".
COMMON_LABEL = "meetpilot"


def _message(response: httpx.Response) -> str:
    body = response.json()
    messages = list(body.get("errorMessages") or []) + [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
    return "; ".join(str(m) for m in messages) or str(body.get("message") or "")


def adf(paragraphs: list[str], link: str = "") -> dict[str, Any]:
    """Plain paragraphs as an Atlassian Document (the description format of API v3)."""
    content: list[dict[str, Any]] = [{"type": "paragraph", "content": [{"type": "text", "text": p}]}
                                     for p in paragraphs if p]
    if link:
        content.append({"type": "paragraph", "content": [
            {"type": "text", "text": "Open the meeting in MeetPilot",
             "marks": [{"type": "link", "attrs": {"href": link}}]}]})
    return {"type": "doc", "version": 1, "content": content}


@register_client
class JiraClient(TicketClient):
    provider = "jira"

    @property
    def site(self) -> str:
        return str(self.config.get("site_url") or "").rstrip("/")

    def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        if not self.site or not self.secrets.get("api_token") or not self.config.get("email"):
            raise ProviderError("Jira is not fully set up: site URL, account email and API token are needed")
        auth = (str(self.config["email"]), str(self.secrets["api_token"]))
        return http_call(method, f"{self.site}{path}", what=what, message_of=_message, auth=auth,
                         headers={"Accept": "application/json"}, **kwargs)

    def test(self) -> str:
        me = self._call("GET", "/rest/api/3/myself", what="Signing in to Jira").json()
        key = self.config.get("project_key", "")
        project = self._call("GET", f"/rest/api/3/project/{quote(str(key), safe='')}",
                             what=f"Reading project {key}").json()
        return f"Connected as {me.get('displayName') or me.get('emailAddress')}; project {project.get('name', key)}."

    def ticket(self, issue: dict[str, Any]) -> RemoteTicket:
        fields = issue.get("fields") or {}
        assignee = fields.get("assignee") or {}
        category = (((fields.get("status") or {}).get("statusCategory")) or {}).get("key", "")
        return RemoteTicket(
            id=str(issue.get("id", "")), key=str(issue.get("key", "")),
            url=f"{self.site}/browse/{issue.get('key', '')}",
            title=str(fields.get("summary") or ""), assignee=assignee.get("accountId") or None,
            assignee_email=assignee.get("emailAddress") or self._email_for(assignee.get("accountId")),
            assignee_name=str(assignee.get("displayName") or ""), due_date=fields.get("duedate") or None,
            done=category == "done", updated=str(fields.get("updated") or ""))

    def _email_for(self, account_id: str | None) -> str | None:
        mapping = self.config.get("assignee_map") or {}
        return next((email for email, acc in mapping.items() if account_id and acc == account_id), None)

    def user_for_email(self, email: str | None) -> str | None:
        mapping = {k.lower(): v for k, v in (self.config.get("assignee_map") or {}).items()}
        return mapping.get((email or "").lower()) or None

    def _fields(self, draft: TicketDraft) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if draft.title is not None:
            fields["summary"] = draft.title
        if draft.description is not None:
            fields["description"] = adf(draft.description.split("\n\n"), link=draft.link)
        if draft.assignee is not None:
            fields["assignee"] = {"accountId": draft.assignee} if draft.assignee else None
        if draft.due_date is not None:
            fields["duedate"] = draft.due_date or None
        # Only with a mapping: many projects' screens have no priority field, and Jira refuses unknown fields.
        mapping = self.config.get("priority_map") or {}
        if draft.priority is not None and mapping.get(draft.priority):
            fields["priority"] = {"name": mapping[draft.priority]}
        return fields

    def create(self, draft: TicketDraft) -> RemoteTicket:
        fields = {"project": {"key": self.config.get("project_key", "")},
                  "issuetype": {"name": self.config.get("issue_type") or "Task"},
                  "labels": [COMMON_LABEL, draft.marker], **self._fields(draft)}
        created = self._call("POST", "/rest/api/3/issue", what="Creating the Jira issue",
                             json={"fields": fields}).json()
        ticket = self.get(str(created["id"]))
        if ticket is None:
            raise ProviderError("Jira created the issue but cannot find it", transient=True)
        return ticket

    def _search(self, jql: str, limit: int = 50) -> list[RemoteTicket]:
        body = {"jql": jql, "fields": FIELDS, "maxResults": limit}
        found = self._call("POST", "/rest/api/3/search/jql", what="Searching Jira", json=body).json()
        return [self.ticket(issue) for issue in found.get("issues") or []]

    def find(self, marker: str) -> RemoteTicket | None:
        found = self._search(f'labels = "{marker}" ORDER BY created ASC', limit=1)
        return found[0] if found else None

    def get(self, ticket_id: str) -> RemoteTicket | None:
        try:
            issue = self._call("GET", f"/rest/api/3/issue/{quote(ticket_id, safe='')}", what="Reading the Jira issue",
                               params={"fields": ",".join(FIELDS)}).json()
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        return self.ticket(issue)

    def update(self, ticket_id: str, draft: TicketDraft) -> None:
        fields = self._fields(draft)
        if fields:
            self._call("PUT", f"/rest/api/3/issue/{ticket_id}", what="Updating the Jira issue", json={"fields": fields})

    def set_done(self, ticket_id: str, done: bool) -> None:
        path = f"/rest/api/3/issue/{ticket_id}/transitions"
        transitions = self._call("GET", path, what="Reading the issue's transitions").json().get("transitions") or []
        wanted = ("done",) if done else ("new", "indeterminate")
        for category in wanted:
            match = next((t for t in transitions
                          if ((t.get("to") or {}).get("statusCategory") or {}).get("key") == category), None)
            if match:
                self._call("POST", path, what="Moving the Jira issue", json={"transition": {"id": match["id"]}})
                return
        state = "done" if done else "open"
        raise ProviderError(f"The Jira workflow has no transition to a {state} status from the issue's status")

    def recently_updated(self, ticket_ids: list[str], minutes: int) -> list[RemoteTicket]:
        return self._search(f'labels = "{COMMON_LABEL}" AND updated >= -{int(minutes)}m ORDER BY updated DESC', 100)

    def ticket_from_webhook(self, payload: dict[str, Any]) -> RemoteTicket | None:
        issue = payload.get("issue")
        return self.ticket(issue) if isinstance(issue, dict) and issue.get("id") else None
