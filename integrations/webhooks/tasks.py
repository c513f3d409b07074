"""Celery tasks of outgoing webhooks: thin wrappers that take ids and call one service.

The delivery task schedules its own next attempt (``services.retry_delay``, within the 24 h window), so
Celery's own retries only cover our transient failures (database, broker), never the receiver's answers.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from accounts.tenancy import TenantTask
from integrations.selectors import company_get
from integrations.webhooks import services
from meetpilot.tasks import retry_policy


# Idempotent: a delivery row exists once per endpoint and event.
@shared_task(bind=True, base=TenantTask, name="integrations.webhook_fanout", **retry_policy())
def webhook_fanout_task(self, *, company_id: int, event: dict[str, Any]) -> int:
    company = company_get(company_id=company_id)
    if company is None:
        return 0
    return len(services.webhook_event_fanout(company=company, event=event))


# Idempotent enough: the row is locked while it is tried and an attempt that is not due is skipped, so a
# redelivered message does not post twice (a crash between the POST and the commit may: receivers dedupe on id).
@shared_task(bind=True, base=TenantTask, name="integrations.webhook_deliver", **retry_policy())
def webhook_deliver_task(self, *, company_id: int, delivery_id: int) -> str | None:
    company = company_get(company_id=company_id)
    if company is None:
        return None
    delivery = services.webhook_deliver(company=company, delivery_id=delivery_id)
    return delivery.status if delivery else None
