"""Company events become webhook deliveries: the receiver only queues the fan-out task."""

from __future__ import annotations

import logging
from typing import Any

from accounts.tenancy import tenant_scope
from integrations.events import company_event
from integrations.webhooks import selectors
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)


def on_company_event(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    # Most companies have no endpoint for most events: one read here costs less than a task per event (a
    # message, and a worker's run), and live analysis emits several events a minute per meeting.
    try:
        with tenant_scope(event["company_id"]):
            if not selectors.webhook_endpoints_for_event(company=event["company_id"], event_type=event["type"]):
                return
    except Exception:  # fail open: the task reads again, and retries where the database is away
        logger.exception("checking webhook endpoints for event %s failed; queueing its fan-out", event["id"])
    task_send("integrations.webhook_fanout", company_id=event["company_id"], event=event)


def connect() -> None:
    company_event.connect(on_company_event, dispatch_uid="integrations.webhooks.fanout")
