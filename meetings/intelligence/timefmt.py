"""Times as people read them, and the day a meeting belongs to."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone


def clock(seconds: Any) -> str:
    """Seconds from the start of a meeting as ``mm:ss`` or ``h:mm:ss`` ("" when not a number)."""
    try:
        total = int(max(0.0, float(seconds)))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def meeting_day(meeting: Any) -> date:
    """The local date the meeting was held (or scheduled, or created)."""
    moment = meeting.started_at or meeting.scheduled_start or meeting.created_at or timezone.now()
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()
