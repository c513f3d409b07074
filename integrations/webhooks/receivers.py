"""Company events become webhook deliveries: the receiver only queues the fan-out task."""

from __future__ import annotations

from typing import Any

from accounts.tenancy import tenant_scope
from integrations.events import company_event
from integrations.webhooks import selectors
from meetpilot.tasks import task_send


def on_company_event(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    # Most companies have no endpoint for most events: one read here costs less than a task per event (a
    # message, and a worker's run), and live analysis emits several events a minute per meeting.
    with tenant_scope(event["company_id"]):
        if not selectors.webhook_endpoints_for_event(company=event["company_id"], event_type=event["type"]):
            return
    task_send("integrations.webhook_fanout", company_id=event["company_id"], event=event)


def connect() -> None:
    company_event.connect(on_company_event, dispatch_uid="integrations.webhooks.fanout")
