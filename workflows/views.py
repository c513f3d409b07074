"""Dashboard actions of the ticket sync: the "send to Jira / Linear" and "retry" buttons on an action item."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm, can_edit_action_item
from meetings import selectors as meeting_selectors
from meetpilot.errors import DomainError
from workflows import services

FRAGMENT = "workflows/_item_sync.html"


@require_POST
@principal_required(perm=Perm.VIEW)
def item_sync(request: HttpRequest, action_item_id: int, provider: str) -> HttpResponse:
    p = request.principal
    item = meeting_selectors.action_item_get(company=p.company, action_item_id=action_item_id)
    if not can_edit_action_item(p, assignee_user_id=item.assignee_user_id):
        raise PermissionDenied("You may not change this action item.")
    error = ""
    try:
        services.ticket_sync_request(company=p.company, action_item=item, provider=provider, by_user=request.user)
    except DomainError as exc:
        error = str(exc.detail)
    if not request.htmx:
        return redirect("meetings:detail", meeting_id=item.meeting_id)
    return render(request, FRAGMENT, {"obj": item, "error": error})  # 200 either way: htmx swaps the message in


@principal_required(perm=Perm.VIEW)
def item_sync_state(request: HttpRequest, action_item_id: int) -> HttpResponse:
    """The item's ticket badges alone, polled while a sync is on its way."""
    item = meeting_selectors.action_item_get(company=request.principal.company, action_item_id=action_item_id)
    return render(request, FRAGMENT, {"obj": item})
