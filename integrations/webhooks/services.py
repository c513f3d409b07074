"""Writes of webhook endpoints and deliveries (their only writer), and the delivery itself.

An event becomes one ``WebhookDelivery`` per subscribed endpoint (``webhook_event_fanout``); each delivery is
tried by the ``integrations.webhook_deliver`` task, which calls ``webhook_deliver`` once per attempt. After a
failure the next attempt is scheduled by ``retry_delay`` (exponential, capped, jittered) until
``WEBHOOK_RETRY_WINDOW_SECONDS`` after the first attempt; then the delivery is ``failed`` and an admin may
redeliver it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Company, User
from accounts.services import audit_record
from integrations.crypto import SecretsUnreadable, secrets_encrypt, secrets_rotate
from integrations.events import EVENT_TYPES
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.netguard import url_check
from integrations.webhooks import selectors
from integrations.webhooks.client import webhook_post
from integrations.webhooks.signing import secret_generate
from meetpilot.errors import Conflict, Invalid
from meetpilot.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES_FAILED

logger = logging.getLogger(__name__)

DELIVER_TASK = "integrations.webhook_deliver"
MAX_ENDPOINTS_PER_COMPANY = 20
ATTEMPT_LOG_KEEP = 50


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, capped, with jitter."""
    ceiling = min(settings.WEBHOOK_RETRY_MAX_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return ceiling * (rng or random).uniform(0.5, 1.0)


def _enqueue(delivery: WebhookDelivery, *, countdown: float | None = None) -> None:
    kwargs = {"company_id": delivery.company_id, "delivery_id": delivery.pk}
    transaction.on_commit(lambda: current_app.send_task(DELIVER_TASK, kwargs=kwargs, countdown=countdown))


def _events_check(events: list[str]) -> list[str]:
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown or not chosen:
        raise Invalid(f"Choose one or more of: {', '.join(EVENT_TYPES)}" + (f" (unknown: {', '.join(unknown)})"
                                                                             if unknown else ""),
                      code="invalid_events")
    return chosen


@transaction.atomic
def webhook_endpoint_create(*, company: Company, by_user: User | None, url: str, events: list[str],
                            description: str = "") -> CreatedEndpoint:
    url = url_check(url)
    events = _events_check(events)
    if selectors.webhook_endpoint_list(company=company).count() >= MAX_ENDPOINTS_PER_COMPANY:
        raise Conflict(f"A company can have at most {MAX_ENDPOINTS_PER_COMPANY} webhook endpoints.",
                       code="too_many_endpoints")
    secret = secret_generate()
    endpoint = WebhookEndpoint(company=company, url=url, events=events, description=description.strip()[:200],
                               secret_encrypted=secrets_encrypt({"secret": secret}), secret_hint=secret[:10],
                               created_by=by_user)
    endpoint.full_clean()
    endpoint.save()
    audit_record(company=company, actor=by_user, action="webhook.created", target_type="webhook_endpoint",
                 target_id=endpoint.pk, detail={"events": events})
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_delete(*, company: Company, endpoint: WebhookEndpoint, by_user: User | None) -> None:
    assert endpoint.company_id == company.pk
    audit_record(company=company, actor=by_user, action="webhook.deleted", target_type="webhook_endpoint",
                 target_id=endpoint.pk)
    endpoint.delete()


def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> bool:
    """Re-encrypt one endpoint's secret with the newest key; False when no configured key reads it.
    Cross-company maintenance: the caller (``integrations_rotate_keys``) runs it under ``scopes_disabled()``."""
    try:
        token = secrets_rotate(endpoint.secret_encrypted)
    except SecretsUnreadable:
        return False
    if token != endpoint.secret_encrypted:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=token)
    return True


def event_payload(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON body receivers get: the event id and time, its type and data (never the company's secrets)."""
    return {"id": event["id"], "type": event["type"], "created_at": event["occurred_at"],
            "api_version": "1", "data": event.get("data") or {}}


def webhook_event_fanout(*, company: Company, event: dict[str, Any]) -> list[WebhookDelivery]:
    """One delivery per enabled endpoint subscribed to the event; running twice creates nothing new."""
    if event.get("company_id") != company.pk or event.get("type") not in EVENT_TYPES:
        raise Invalid("event of another company or of an unknown type")
    created = []
    for endpoint in selectors.webhook_endpoints_for_event(company=company, event_type=event["type"]):
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    company=company, endpoint=endpoint, event_id=str(event["id"])[:64], event_type=event["type"],
                    payload=event_payload(event), next_attempt_at=timezone.now())
                _enqueue(delivery)
        except IntegrityError:
            continue  # already fanned out (the task ran twice)
        created.append(delivery)
    return created


@transaction.atomic
def webhook_redeliver(*, company: Company, delivery: WebhookDelivery, by_user: User | None) -> WebhookDelivery:
    """A new attempt series with the same body (same event id: receivers deduplicate on it)."""
    assert delivery.company_id == company.pk
    again = WebhookDelivery.objects.create(
        company=company, endpoint=delivery.endpoint, event_id=delivery.event_id, event_type=delivery.event_type,
        payload=delivery.payload, redelivery_of=delivery, requested_by=by_user, next_attempt_at=timezone.now())
    audit_record(company=company, actor=by_user, action="webhook.redelivered", target_type="webhook_delivery",
                 target_id=delivery.pk, detail={"new_delivery_id": again.pk})
    _enqueue(again)
    return again


def webhook_deliver(*, company: Company, delivery_id: int) -> WebhookDelivery | None:
    """One attempt of a delivery, then the next one scheduled or the series closed. Returns None when there was
    nothing to do: the delivery is gone, finished, held by another worker, or its next try is not due yet (a
    duplicate message)."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.for_company(company).select_for_update(skip_locked=True, of=("self",))
                    .select_related("endpoint").filter(pk=delivery_id).first())
        if delivery is None or delivery.status in (WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED):
            return None
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return None
        secret = selectors.webhook_secret(company=company, endpoint=delivery.endpoint)
        headers = {"MeetPilot-Event-Id": delivery.event_id, "MeetPilot-Event-Type": delivery.event_type,
                   "MeetPilot-Delivery-Id": str(delivery.pk)}
        result = webhook_post(url=delivery.endpoint.url, secret=secret, payload=delivery.payload, headers=headers)
        if not secret:
            result = type(result)(ok=False, status=None, duration_ms=0,
                                  error="The signing secret cannot be read (its encryption key was removed); "
                                        "create the endpoint again.")
        _attempt_record(delivery, result=result, now=now)
        return delivery


def _attempt_record(delivery: WebhookDelivery, *, result: Any, now) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.last_error = result.status, result.error
    delivery.attempt_log = [*delivery.attempt_log, {
        "at": now.isoformat(), "status": result.status, "duration_ms": result.duration_ms, "error": result.error,
        "response": result.response_body[:200]}][-ATTEMPT_LOG_KEEP:]
    window_end = delivery.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    WEBHOOK_ATTEMPTS.labels(outcome="delivered" if result.ok else "http_error" if result.status else "no_answer").inc()
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (WebhookDelivery.Status.SUCCEEDED, now,
                                                                            None)
    else:
        delay = retry_delay(delivery.attempts)
        if now + timedelta(seconds=delay) > window_end:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            WEBHOOK_DELIVERIES_FAILED.inc()
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            _enqueue(delivery, countdown=delay)
    delivery.save(update_fields=["attempts", "last_attempt_at", "response_status", "last_error", "attempt_log",
                                 "status", "delivered_at", "next_attempt_at"])
    logger.info("webhook delivery attempt", extra={"delivery_id": delivery.pk, "status": delivery.status,
                                                   "response_status": result.status})
