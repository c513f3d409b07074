"""The meetings' numbers on the Overview page (registered from ``MeetingsConfig.ready``)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.auth import Principal
from accounts.dashboard import Stat, home_stat
from meetings import selectors


@home_stat(order=10)
def meetings_this_week(principal: Principal) -> Stat:
    """Meetings held since Monday (site time zone), and how many are live right now."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    held = selectors.meeting_list(company=principal.company, started_from=monday).count()
    live = selectors.meeting_list(company=principal.company, status="active").count()
    return Stat(label="Meetings this week", value=held, url=reverse("meetings:list"),
                hint=f"{live} live now" if live else "since Monday")


@home_stat(order=20)
def open_action_items(principal: Principal) -> Stat:
    """Open work across the company, with the caller's own share and what is overdue."""
    counts = selectors.action_item_status_counts(company=principal.company)
    open_total = sum(counts[s] for s in selectors.OPEN_ACTION_ITEM_STATUSES)
    mine = selectors.action_item_list(company=principal.company, assigned_to=principal.user).filter(
        status__in=selectors.OPEN_ACTION_ITEM_STATUSES).count()
    overdue = selectors.action_item_list(company=principal.company, overdue=True).count()
    return Stat(label="Open action items", value=open_total, url=reverse("meetings:action_items"),
                hint=f"{mine} yours · {overdue} overdue")
