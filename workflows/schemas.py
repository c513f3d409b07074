"""API shapes of the ticket sync."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class TicketLinkOut(Schema):
    provider: str
    state: str
    key: str
    url: str
    error: str
    attempts: int
    last_synced_at: datetime | None

    @staticmethod
    def resolve_key(obj) -> str:
        return obj.external_key

    @staticmethod
    def resolve_error(obj) -> str:
        return obj.last_error


class HookOut(Schema):
    accepted: bool
