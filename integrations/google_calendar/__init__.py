"""Google Calendar: upcoming meetings of members who signed in with Google become scheduled meetings."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.models import Provider
from integrations.spec import Field, ProviderError, ProviderSpec, register


def connection_test(config: dict[str, Any], secrets: dict[str, Any]) -> str:
    if not settings.GOOGLE_CALENDAR_SYNC:
        raise ProviderError("Calendar sync is off on this server (GOOGLE_CALENDAR_SYNC): ask your operator.")
    days = str(config.get("days_ahead") or "7")
    if not days.isdigit() or not 1 <= int(days) <= 30:
        raise ProviderError("Days ahead must be a whole number from 1 to 30.")
    return (f"Meetings with a Meet, Zoom or Teams link in the next {days} days are read from the calendars of "
            "members who sign in with Google.")


SPEC = register(ProviderSpec(
    provider=Provider.GOOGLE_CALENDAR,
    label="Google Calendar",
    help="Members who sign in with Google share their upcoming online meetings: each becomes a scheduled "
         "meeting (once, however many members are invited), with its attendees as participants.",
    fields=(Field("days_ahead", "Days ahead", help="How far ahead to look (1-30, default 7)."),),
    test=connection_test,
))
