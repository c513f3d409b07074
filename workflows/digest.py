"""The daily digest: each member's open and overdue action items, by email, at DIGEST_HOUR in their own time
zone (``User.timezone``, else the site's TIME_ZONE).

Beat runs ``workflows.digest_run`` every hour; it queues ``workflows.digest_company`` per company, which
sends to the members whose local clock is in the digest hour. Nobody gets an empty digest, and nobody gets
two on the same local day, however often the task runs (one ``Notification`` row per person and day).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Company, User
from integrations.email.sending import company_email_send, email_settings
from integrations.notifications import notification_send_once
from meetings import selectors as meetings
from meetings.models import ActionItem

SHOW_AT_MOST = 20


@dataclass(frozen=True)
class Digest:
    user: User
    today: date
    overdue: list[ActionItem]
    open_items: list[ActionItem]
    more: int


def company_ids() -> list[int]:
    return list(Company.objects.order_by("pk").values_list("pk", flat=True))


def user_local_now(user: User, now: datetime) -> datetime:
    try:
        zone = zoneinfo.ZoneInfo(user.timezone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return now.astimezone(zone)


def digest_build(*, company: Company, user: User, today: date) -> Digest | None:
    """What the person should hear about today, or None when there is nothing to say."""
    items = [i for i in meetings.action_item_list(company=company, assigned_to=user).order_by("due_date", "pk")
             if i.status in meetings.OPEN_ACTION_ITEM_STATUSES]
    if not items:
        return None
    overdue = [i for i in items if i.due_date and i.due_date < today]
    open_items = [i for i in items if not (i.due_date and i.due_date < today)]
    shown_overdue = overdue[:SHOW_AT_MOST]
    shown_open = open_items[: max(0, SHOW_AT_MOST - len(shown_overdue))]
    return Digest(user=user, today=today, overdue=shown_overdue, open_items=shown_open,
                  more=len(items) - len(shown_overdue) - len(shown_open))


def digest_send(*, company: Company, user: User, digest: Digest) -> bool:
    context = {"user": user, "today": digest.today, "overdue": digest.overdue, "open_items": digest.open_items,
               "more": digest.more, "items_url": settings.SITE_URL.rstrip("/") + reverse("meetings:action_items")}
    total = len(digest.overdue) + len(digest.open_items) + digest.more
    subject = (f"Your action items: {len(digest.overdue)} overdue, {total} open in all" if digest.overdue
               else f"Your action items: {total} open")
    return notification_send_once(
        company=company, kind="email.digest", key=f"{user.pk}:{digest.today.isoformat()}", user=user,
        send=lambda: company_email_send(company=company, to=user.email, template="digest", context=context,
                                        subject=subject))


def digest_company_send(*, company: Company, now: datetime | None = None) -> int:
    """Send the digest to the company's members whose local time is in the digest hour; returns how many."""
    if not email_settings(company=company).enabled:
        return 0
    now = now or timezone.now()
    sent = 0
    for user in meetings.company_member_list(company=company):
        local = user_local_now(user, now)
        if local.hour != settings.DIGEST_HOUR or not user.is_active:
            continue
        digest = digest_build(company=company, user=user, today=local.date())
        if digest is not None:
            sent += digest_send(company=company, user=user, digest=digest)
    return sent
