"""The "send to Jira / Linear" and "retry" buttons on action items: the ticket providers the viewer's
company has connected (looked up once per request)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.permissions import can_edit_action_item
from integrations import selectors as integration_selectors
from integrations.spec import spec_for
from integrations.ticketing import ticket_providers as registered

register = template.Library()


@register.simple_tag(takes_context=True)
def ticket_providers(context: template.Context) -> list[dict[str, str]]:
    principal = context.get("principal")
    if principal is None or not getattr(principal, "company", None):
        return []
    # Once per request (row partials are rendered as templates of their own, each with a fresh render context).
    request = context.get("request")
    cache = request.__dict__ if request is not None else context.render_context
    if "_ticket_providers" not in cache:
        rows = {r.provider: r for r in integration_selectors.connection_list(company=principal.company)}
        cache["_ticket_providers"] = [{"provider": p, "label": spec_for(p).label} for p in registered()
                                      if p in rows and rows[p].enabled]
    return cache["_ticket_providers"]


@register.simple_tag(takes_context=True)
def ticket_buttons(context: template.Context, item: Any) -> list[dict[str, str]]:
    """The "send to" / "retry" buttons for one item: connected providers without a working ticket, for
    people who may edit the item."""
    principal = context.get("principal")
    if principal is None or not can_edit_action_item(principal, assignee_user_id=item.assignee_user_id):
        return []
    buttons = []
    for p in ticket_providers(context):
        state = ((item.sync_state or {}).get(p["provider"]) or {}).get("state")
        if state in (None, "failed", "retrying"):
            buttons.append({**p, "text": f"Retry {p['label']}" if state else f"→ {p['label']}"})
    return buttons


@register.filter
def sync_in_flight(item: Any) -> bool:
    """Whether one of the item's tickets is still on its way (the badge then refreshes itself)."""
    return any((s or {}).get("state") in ("pending", "creating", "retrying") for s in (item.sync_state or {}).values())
