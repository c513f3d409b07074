"""Helpers shared by the Jira and Linear sync tests: a connected company, an action item, waiting on the worker."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date
from typing import Any

from accounts.models import Company, User
from accounts.tenancy import tenant_scope
from integrations import services as integration_services
from meetings import services as meeting_services
from meetings.models import ActionItem, TranscriptSegment
from workflows.models import TicketLink

WEBHOOK_SECRET = "whsec-acme-1"


def fast_sync(settings) -> None:
    """Short timeouts and backoff so failure tests take seconds."""
    settings.INTEGRATIONS_HTTP_TIMEOUT = 0.5
    settings.INTEGRATIONS_SYNC_RETRY_BASE = 0.05
    settings.INTEGRATIONS_SYNC_RETRY_MAX = 0.5


def connect(company: Company, provider: str, config: dict[str, Any], secrets: dict[str, str]) -> None:
    with tenant_scope(company):
        integration_services.connection_save(company=company, provider=provider, by_user=None, config=config,
                                             secrets={**secrets, "webhook_secret": WEBHOOK_SECRET})


def item_make(company: Company, *, assignee: User | None = None, priority: str = "medium",
              description: str = "Send the revised budget to finance") -> ActionItem:
    with tenant_scope(company):
        meeting = meeting_services.meeting_create(company=company, created_by=None, title="Budget review")
        segment = TranscriptSegment.objects.create(
            company=company, meeting=meeting, sequence=1, speaker_label="Alice", start_time=125.0, end_time=129.0,
            text="Bob, can you send the revised budget to finance by Friday?")
        return meeting_services.action_item_create(
            company=company, meeting=meeting, description=description, priority=priority,
            assignee_user_id=assignee.pk if assignee else None, due_date=date(2030, 5, 17), source_segment=segment)


def item_get(company: Company, pk: int) -> ActionItem:
    with tenant_scope(company):
        return ActionItem.objects.select_related("assignee_user").get(pk=pk)


def item_update(company: Company, pk: int, **data: Any) -> ActionItem:
    with tenant_scope(company):
        item = ActionItem.objects.get(pk=pk)
        return meeting_services.action_item_update(company=company, action_item=item, data=data)


def link_of(company: Company, item_pk: int, provider: str) -> TicketLink | None:
    with tenant_scope(company):
        return TicketLink.objects.filter(action_item_id=item_pk, provider=provider).first()


def wait(predicate, timeout: float = 30.0, what: str = "the worker"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def settle(seconds: float = 1.5) -> None:
    """Give the worker time to do anything it would still do (to show that it does nothing more)."""
    time.sleep(seconds)


def signature_of(raw: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signed(body: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """The raw body and its HMAC-SHA256 signature (hex), as Linear and Jira send them."""
    raw = json.dumps(body).encode()
    return raw, signature_of(raw, secret)
