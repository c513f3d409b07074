from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class WebhookEndpointIn(Schema):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=20,
                              description="event types: meeting.ended, report.ready, action_item.created, "
                                          "action_item.updated, fact_check.alert, document.ready")
    description: str = Field(default="", max_length=200)


class WebhookEndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    secret_hint: str = Field(description="the first characters of the signing secret")
    enabled: bool
    created_at: datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(description="the signing secret: shown only in this response")


class WebhookDeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    redelivery_of_id: int | None
    created_at: datetime
    attempt_log: list[dict[str, Any]]
    payload: dict[str, Any]
