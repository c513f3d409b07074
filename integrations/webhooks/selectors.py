"""Reads of webhook endpoints and deliveries. The company comes first; a foreign id is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Company
from integrations.crypto import SecretsUnreadable, secrets_decrypt
from integrations.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, company: Company) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_company(company)


def webhook_endpoint_get(*, company: Company, endpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.for_company(company), pk=endpoint_id)


def webhook_endpoints_for_event(*, company: Company | int, event_type: str) -> list[WebhookEndpoint]:
    return [e for e in WebhookEndpoint.objects.for_company(company).filter(enabled=True) if event_type in e.events]


def webhook_delivery_list(*, company: Company, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    assert endpoint.company_id == company.pk
    return WebhookDelivery.objects.for_company(company).filter(endpoint=endpoint)


def webhook_delivery_get(*, company: Company, delivery_id: int) -> WebhookDelivery:
    return get_object_or_404(WebhookDelivery.objects.for_company(company).select_related("endpoint"), pk=delivery_id)


def webhook_secret(*, company: Company, endpoint: WebhookEndpoint) -> str:
    """The signing secret, for the delivery client only (never a response or a log); "" if unreadable."""
    assert endpoint.company_id == company.pk
    try:
        return str(secrets_decrypt(endpoint.secret_encrypted).get("secret", ""))
    except SecretsUnreadable:
        return ""
