"""Company events the ticket sync listens to. Receivers only queue a task (integrations/events.py)."""

from __future__ import annotations

import logging
from typing import Any

from accounts.tenancy import tenant_scope
from meetpilot.tasks import task_send
from workflows.selectors import ticket_sync_possible

logger = logging.getLogger(__name__)

ITEM_EVENTS = ("action_item.created", "action_item.updated")


def on_company_event(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    if event["type"] not in ITEM_EVENTS:
        return
    data = event["data"]
    try:
        with tenant_scope(event["company_id"]):  # no task per item where no ticket could be concerned
            if not ticket_sync_possible(company=event["company_id"], action_item_id=data["action_item_id"]):
                return
    except Exception:  # fail open: the task reads again, and retries where the database is away
        logger.exception("checking ticket sync for item %s failed; queueing it", data["action_item_id"])
    task_send("workflows.item_changed", company_id=event["company_id"], action_item_id=data["action_item_id"],
              event=event["type"], changed=list(data.get("changed") or []))
