"""Outgoing webhooks over the API (admins only): endpoints, their delivery log, redelivery."""

from __future__ import annotations

from ninja import Router, Status
from ninja.pagination import paginate

from accounts.permissions import Perm, require
from integrations.webhooks import selectors, services
from integrations.webhooks.schemas import (
    WebhookDeliveryOut,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
)
from meetpilot.apikit import ErrorOut, Pagination

router = Router(tags=["webhooks"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/webhooks", response={200: list[WebhookEndpointOut], **ERRORS})
@paginate(Pagination)
def webhook_list(request):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    return selectors.webhook_endpoint_list(company=request.auth.company)


@router.post("/webhooks", response={201: WebhookEndpointCreatedOut, **ERRORS})
def webhook_create(request, payload: WebhookEndpointIn):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    created = services.webhook_endpoint_create(company=request.auth.company, by_user=request.auth.user,
                                               url=payload.url, events=payload.events,
                                               description=payload.description)
    return Status(201, {**WebhookEndpointOut.from_orm(created.endpoint).dict(), "secret": created.secret})


@router.delete("/webhooks/{int:endpoint_id}", response={204: None, **ERRORS})
def webhook_delete(request, endpoint_id: int):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    endpoint = selectors.webhook_endpoint_get(company=request.auth.company, endpoint_id=endpoint_id)
    services.webhook_endpoint_delete(company=request.auth.company, endpoint=endpoint, by_user=request.auth.user)
    return Status(204, None)


@router.get("/webhooks/{int:endpoint_id}/deliveries", response={200: list[WebhookDeliveryOut], **ERRORS})
@paginate(Pagination)
def webhook_delivery_list(request, endpoint_id: int):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    endpoint = selectors.webhook_endpoint_get(company=request.auth.company, endpoint_id=endpoint_id)
    return selectors.webhook_delivery_list(company=request.auth.company, endpoint=endpoint)


@router.post("/webhooks/deliveries/{int:delivery_id}/redeliver", response={202: WebhookDeliveryOut, **ERRORS})
def webhook_redeliver(request, delivery_id: int):
    require(request.auth, Perm.INTEGRATIONS_MANAGE)
    delivery = selectors.webhook_delivery_get(company=request.auth.company, delivery_id=delivery_id)
    redelivered = services.webhook_redeliver(company=request.auth.company, delivery=delivery, by_user=request.auth.user)
    return Status(202, redelivered)
