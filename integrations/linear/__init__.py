"""Linear: action items become issues, and issue changes come back (see docs/integrations.md)."""

from __future__ import annotations

from typing import Any

from integrations.linear.client import LinearClient
from integrations.spec import Field, ProviderSpec, register


def connection_test(config: dict[str, Any], secrets: dict[str, Any]) -> str:
    return LinearClient(config, secrets).test()


SPEC = register(ProviderSpec(
    provider="linear", label="Linear", test=connection_test,
    help="Action items become Linear issues; completing the issue completes the item and the other way round.",
    fields=(
        Field("api_key", "API key", secret=True, required=True,
              help="Linear → Settings → Security & access → Personal API keys (lin_api_…)."),
        Field("team_key", "Team key", required=True, help="Issues are created in this team, e.g. ENG."),
        Field("auto_sync", "Create issues automatically for", kind="list", choices=("high", "medium", "low"),
              help="Priorities whose confirmed action items become issues by themselves, e.g. high."),
        Field("webhook_secret", "Webhook signing secret", secret=True,
              help="Shown by Linear when the webhook is created; requests are checked against it (Linear-Signature)."),
    ),
))

__all__ = ["SPEC", "LinearClient"]
