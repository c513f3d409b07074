"""Company events become webhook deliveries: the receiver only queues the fan-out task."""

from __future__ import annotations

from typing import Any

from integrations.events import company_event
from meetpilot.tasks import task_send


def on_company_event(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    task_send("integrations.webhook_fanout", company_id=event["company_id"], event=event)


def connect() -> None:
    company_event.connect(on_company_event, dispatch_uid="integrations.webhooks.fanout")
