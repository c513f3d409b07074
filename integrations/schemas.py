"""API shapes of the Integrations settings. Saved secrets appear only as names (``secrets_saved``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ProviderFieldOut(Schema):
    name: str
    label: str
    secret: bool
    required: bool
    kind: str
    choices: list[str]
    help: str


class IntegrationOut(Schema):
    provider: str
    label: str
    help: str
    fields: list[ProviderFieldOut]
    connected: bool
    enabled: bool
    config: dict[str, Any]
    secrets_saved: list[str]
    health: str
    last_error: str
    last_checked_at: datetime | None
    # Where to point the provider's webhook (Jira, Linear); empty for providers without one.
    webhook_url: str


class IntegrationIn(Schema):
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    # A non-empty value replaces the saved secret, "" (or leaving it out) keeps it, null removes it.
    secrets: dict[str, str | None] = Field(default_factory=dict)


class IntegrationTestOut(Schema):
    ok: bool
    message: str
    health: str
