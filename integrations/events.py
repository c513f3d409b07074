"""Company events that leave the product: webhooks, Slack, email and ticket syncs listen to them.

Lower layers publish (``company_event_publish`` in meetings and knowledge services); the listeners live in
the apps that deliver them and connect to ``company_event`` in their AppConfig.ready, so no publisher
imports a delivery channel. Receivers run after the publisher's transaction commits and must only
enqueue work (a Celery task), never call a remote service inline.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "meeting.ended",
    "report.ready",
    "action_item.created",
    "action_item.updated",
    "fact_check.alert",
    "document.ready",
)

# Keyword arguments: event (dict: id, type, company_id, occurred_at ISO 8601, data).
company_event = Signal()


def company_event_publish(*, company_id: int, type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Announce ``type`` for the company once the current transaction commits; returns the event.

    ``data`` holds ids and the fields a receiver needs, JSON-serialisable, never secrets.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = {"id": str(uuid.uuid4()), "type": type, "company_id": company_id,
             "occurred_at": timezone.now().isoformat(), "data": data}

    def send() -> None:
        for receiver, result in company_event.send_robust(sender=None, event=event):
            if isinstance(result, Exception):  # one channel failing must not stop the others
                logger.error("event %s receiver %r failed: %r", type, receiver, result)

    transaction.on_commit(send)
    return event
