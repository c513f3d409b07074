"""Messages to people (Slack posts, emails) sent at most once per natural key: the only writer of
``Notification``. The row is claimed and locked, the message sent, and ``sent_at`` set in one transaction,
so a task that runs twice (a retry, a beat that fires twice, a duplicate event) sends once, and a send that
fails leaves nothing behind for the next try."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from integrations.models import Notification
from meetpilot.metrics import NOTIFICATIONS_SENT


def notification_send_once(*, company: Company, kind: str, key: str, send: Callable[[], Any],
                           user: User | None = None) -> bool:
    """Call ``send()`` unless ``(kind, key)`` was already sent for the company; True when it sent now."""
    with transaction.atomic():
        rows = Notification.objects.for_company(company)
        rows.get_or_create(company=company, kind=kind, key=key[:120], defaults={"user": user})
        row = rows.select_for_update().get(kind=kind, key=key[:120])
        if row.sent_at is not None:
            return False
        send()
        row.sent_at = timezone.now()
        row.save(update_fields=["sent_at"])
    NOTIFICATIONS_SENT.labels(kind=kind).inc()
    return True


def notification_sent(*, company: Company, kind: str, key: str) -> bool:
    return Notification.objects.for_company(company).filter(kind=kind, key=key[:120], sent_at__isnull=False).exists()
