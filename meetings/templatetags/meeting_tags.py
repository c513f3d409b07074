"""Small display helpers for meeting pages and the fragments pushed over the WebSocket.

Fragments rendered for the live socket get only ``obj``/``meeting`` in their context, so every
helper here works without a request and falls back to a read-only rendering.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import template
from django.utils import timezone

from accounts.permissions import Perm, can_edit_action_item, has_perm
from meetings import selectors
from meetings.exports import clock as _clock
from meetings.models import ActionItem, Meeting

register = template.Library()

# Hues far enough apart that two speakers rarely look alike.
_HUES = (215, 340, 28, 150, 265, 190, 5, 95, 300, 45)


@register.filter
def clock(seconds: Any) -> str:
    """Seconds from the meeting start as ``m:ss`` (``h:mm:ss`` past an hour)."""
    try:
        return _clock(float(seconds))
    except (TypeError, ValueError):
        return ""


@register.filter
def assignee_label(item: ActionItem) -> str:
    return selectors.action_item_assignee_label(item)


@register.filter
def is_overdue(item: ActionItem) -> bool:
    return selectors.action_item_is_overdue(item)


@register.filter
def can_edit_item(principal: Any, item: ActionItem) -> bool:
    """``{% if principal|can_edit_item:obj %}``; False without a principal (live fragments)."""
    if not principal:
        return False
    return can_edit_action_item(principal, assignee_user_id=item.assignee_user_id)


@register.filter
def can(principal: Any, perm: str) -> bool:
    """``{% if principal|can:"meeting.edit" %}``."""
    return bool(principal) and has_perm(principal, Perm(perm))


@register.filter
def meeting_duration(meeting: Meeting) -> str:
    if not meeting.started_at:
        return ""
    end = meeting.ended_at or timezone.now()
    minutes = max(0, int((end - meeting.started_at).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@register.filter
def initials(name: str) -> str:
    parts = (name or "?").replace("@", " ").split()
    return "".join(p[0] for p in parts[:2]).upper() or "?"


@register.filter
def speaker_hue(name: str) -> int:
    """A stable colour per speaker name (hue in degrees), so a voice keeps its colour."""
    digest = hashlib.md5((name or "").encode(), usedforsecurity=False).digest()
    return _HUES[digest[0] % len(_HUES)]


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""
