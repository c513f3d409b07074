"""Jira Cloud: action items become issues, and issue changes come back (see docs/integrations.md)."""

from __future__ import annotations

from typing import Any

from integrations.jira.client import JiraClient
from integrations.spec import Field, ProviderSpec, register

PRIORITIES = ("high", "medium", "low")


def connection_test(config: dict[str, Any], secrets: dict[str, Any]) -> str:
    return JiraClient(config, secrets).test()


SPEC = register(ProviderSpec(
    provider="jira", label="Jira Cloud", test=connection_test,
    help="Action items become Jira issues; closing the issue completes the item and the other way round.",
    fields=(
        Field("site_url", "Site URL", kind="url", required=True, help="https://your-company.atlassian.net"),
        Field("email", "Account email", kind="email", required=True,
              help="The Atlassian account the API token belongs to."),
        Field("api_token", "API token", secret=True, required=True,
              help="Create one at id.atlassian.com → Security → API tokens."),
        Field("project_key", "Project key", required=True, help="Issues are created in this project, e.g. OPS."),
        Field("issue_type", "Issue type", help="Task when empty."),
        Field("priority_map", "Priority mapping", kind="mapping",
              help='Our priority to Jira\'s, e.g. {"high": "High", "medium": "Medium", "low": "Low"}. '
                   "Empty: issues get the project's default priority."),
        Field("assignee_map", "Assignees", kind="mapping",
              help='Member email to Jira accountId, e.g. {"bob@acme.com": "5b10ac8d82e05b22cc7d4ef5"}.'),
        Field("auto_sync", "Create issues automatically for", kind="list", choices=PRIORITIES,
              help="Priorities whose confirmed action items become issues by themselves, e.g. high."),
        Field("webhook_secret", "Webhook secret", secret=True,
              help="The secret set on the Jira webhook; requests are checked against it (X-Hub-Signature)."),
    ),
))

__all__ = ["SPEC", "JiraClient"]
