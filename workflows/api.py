"""REST API of the ticket sync: send an action item to Jira or Linear, read its tickets, and the providers'
webhooks (``/hooks/<provider>/<company hook id>``, signed, no token)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status

from accounts.permissions import Perm, can_edit_action_item, require
from meetings import selectors as meeting_selectors
from meetpilot.apikit import ApiError, ErrorOut
from workflows import hooks, selectors, services
from workflows.schemas import HookOut, TicketLinkOut

router = Router(tags=["tickets"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class SyncQuery(Schema):
    provider: str


def _item(request: HttpRequest, action_item_id: int):
    require(request.auth, Perm.VIEW)
    return meeting_selectors.action_item_get(company=request.auth.company, action_item_id=action_item_id)


@router.post("/action-items/{int:action_item_id}/sync", response={202: TicketLinkOut, **ERRORS})
def action_item_sync(request, action_item_id: int, query: Query[SyncQuery]):
    item = _item(request, action_item_id)
    if not can_edit_action_item(request.auth, assignee_user_id=item.assignee_user_id):
        raise ApiError(403, "permission_denied", "You may not change this action item.")
    link = services.ticket_sync_request(company=request.auth.company, action_item=item, provider=query.provider,
                                        by_user=request.auth.user)
    return Status(202, link)


@router.get("/action-items/{int:action_item_id}/tickets", response={200: list[TicketLinkOut], **ERRORS})
def action_item_tickets(request, action_item_id: int):
    item = _item(request, action_item_id)
    return selectors.ticket_links_of_item(company=request.auth.company, action_item_id=item.pk)


@router.post("/hooks/{provider}/{hook}", auth=None, response={202: HookOut, **ERRORS})
def ticket_webhook(request, provider: str, hook: str):
    return Status(202, hooks.hook_receive(provider=provider, hook=hook, body=request.body, headers=request.headers))
