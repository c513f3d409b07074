"""Company events the ticket sync listens to. Receivers only queue a task (integrations/events.py)."""

from __future__ import annotations

from typing import Any

from meetpilot.tasks import task_send

ITEM_EVENTS = ("action_item.created", "action_item.updated")


def on_company_event(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    if event["type"] not in ITEM_EVENTS:
        return
    data = event["data"]
    task_send("workflows.item_changed", company_id=event["company_id"], action_item_id=data["action_item_id"],
              event=event["type"], changed=list(data.get("changed") or []))
