"""Inbound webhooks from Jira and Linear: find the company from the path, check the signature, queue the work.

A webhook request carries no user and no token, so no tenant scope is active. The path names the company
(``integrations.ticketing.hook_id``: its id and a server-made token), and only after that token checks out
is one connection of that one company read, in that company's ``tenant_scope`` (a documented place, like the
request middleware: the verified path names the company, as a token does). The signature is checked against
that company's webhook secret; the ticket itself is applied by a Celery task in the company's scope.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from accounts.tenancy import tenant_scope
from integrations import selectors as integration_selectors
from integrations.ticketing import hook_company_id, signature_valid, ticket_providers
from meetpilot.errors import Forbidden, Invalid, NotFound
from meetpilot.tasks import task_send
from workflows import selectors

SIGNATURE_HEADERS = {"jira": "X-Hub-Signature", "linear": "Linear-Signature"}


def _webhook_secret(company_id: int, provider: str) -> str | None:
    """The company's webhook secret for ``provider``; None when it has no enabled connection."""
    with tenant_scope(company_id):
        company = selectors.company_get(company_id=company_id)
        connection = integration_selectors.connection_get(company=company, provider=provider)
        if connection is None or not connection.enabled:
            return None
        return str(integration_selectors.connection_secrets(company=company, connection=connection)
                   .get("webhook_secret") or "")


def hook_receive(*, provider: str, hook: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Verify one webhook request and queue it; raises NotFound (unknown path), Forbidden (bad signature)."""
    company_id = hook_company_id(provider, hook) if provider in ticket_providers() else None
    secret = _webhook_secret(company_id, provider) if company_id is not None else None
    if secret is None:
        raise NotFound("No such webhook.")
    if not signature_valid(secret, body, headers.get(SIGNATURE_HEADERS[provider], "")):
        raise Forbidden("The webhook signature does not match the secret saved for this integration.",
                        code="bad_signature")
    try:
        payload = json.loads(body)
    except ValueError:
        raise Invalid("The webhook body is not JSON.", code="bad_payload") from None
    if not isinstance(payload, dict):
        raise Invalid("The webhook body is not a JSON object.", code="bad_payload")
    sent_at = payload.get("webhookTimestamp")
    if provider == "linear" and (not isinstance(sent_at, int | float)
                                 or abs(time.time() - sent_at / 1000) > settings.INTEGRATIONS_WEBHOOK_MAX_AGE):
        raise Forbidden("The webhook is too old (or has no timestamp): refused as a possible replay.",
                        code="stale_webhook")
    task_send("workflows.ticket_hook", company_id=company_id, provider=provider, payload=payload)
    return {"accepted": True}
