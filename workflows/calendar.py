"""Scheduled meetings from members' Google calendars.

For a company with an enabled Google Calendar connection (and ``GOOGLE_CALENDAR_SYNC`` on), every member who
signed in with Google has their upcoming events read (``integrations.google_calendar``); each timed event with
a Meet, Zoom or Teams link becomes one scheduled meeting, however many members' calendars it is in (the
event's iCalUID is the ``calendar_event_id``). Attendees become participants, linked to the member with that
email. A later sync updates the title, times and link of meetings that have not started, and adds new
attendees; it never removes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from integrations.google_calendar.client import CalendarClient, CalendarEvent
from integrations.google_calendar.tokens import google_access_token
from integrations.models import Provider
from integrations.selectors import connection_get
from integrations.services import connection_health_record
from integrations.spec import ProviderError
from meetings import selectors as meetings
from meetings import services as meeting_services
from meetings.models import Meeting

_LOCK_NAMESPACE = 7_301  # pg_advisory_xact_lock(namespace, company id): one sync per company at a time


@dataclass
class CalendarSyncResult:
    calendars: int = 0
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _days_ahead(config: dict) -> int:
    value = str(config.get("days_ahead") or "7")
    return min(30, max(1, int(value))) if value.isdigit() else 7


def _collect(members: list[User], *, now: datetime, days: int,
             result: CalendarSyncResult) -> dict[str, tuple[CalendarEvent, User]]:
    events: dict[str, tuple[CalendarEvent, User]] = {}
    for user in members:
        token = google_access_token(user=user)
        if token is None:
            continue
        try:
            found = CalendarClient(access_token=token).upcoming_events(time_min=now,
                                                                       time_max=now + timedelta(days=days))
        except ProviderError as exc:
            result.errors.append(f"{user.email}: {exc}")
            continue
        result.calendars += 1
        for event in found:
            events.setdefault(event.key, (event, user))
    return events


def _participants_add(company: Company, meeting: Meeting, event: CalendarEvent, by_email: dict[str, User]) -> None:
    known = {p.email.lower() for p in meetings.participant_list(company=company, meeting=meeting) if p.email}
    for attendee in event.attendees:
        if attendee.email in known:
            continue
        member = by_email.get(attendee.email)
        name = attendee.name or (member.display_name if member else attendee.email.split("@")[0])
        meeting_services.participant_create(company=company, meeting=meeting, name=name[:200], email=attendee.email,
                                            user_id=member.pk if member else None)
        known.add(attendee.email)


def _upsert(company: Company, event: CalendarEvent, owner: User, by_email: dict[str, User],
            result: CalendarSyncResult) -> None:
    meeting = Meeting.objects.for_company(company).filter(calendar_event_id=event.key).first()
    fields = {"title": event.title, "scheduled_start": event.start, "scheduled_end": event.end,
              "meeting_url": event.meeting_url, "platform": event.platform}
    if meeting is None:
        meeting = meeting_services.meeting_create(company=company, created_by=owner, calendar_event_id=event.key,
                                                  **fields)
        result.created += 1
    elif meeting.status == Meeting.Status.SCHEDULED:
        changed = {name: value for name, value in fields.items() if getattr(meeting, name) != value}
        if changed:
            meeting = meeting_services.meeting_update(company=company, meeting=meeting, data=changed)
            result.updated += 1
    _participants_add(company, meeting, event, by_email)


def calendar_sync_company(*, company: Company, now: datetime | None = None) -> CalendarSyncResult | None:
    """Read the members' calendars and create or update the company's scheduled meetings; None when calendar
    sync is off for the company. Failures of single calendars are recorded on the connection for admins."""
    connection = connection_get(company=company, provider=Provider.GOOGLE_CALENDAR)
    if not settings.GOOGLE_CALENDAR_SYNC or connection is None or not connection.enabled:
        return None
    now = now or timezone.now()
    result = CalendarSyncResult()
    members = meetings.company_member_list(company=company)
    events = _collect(members, now=now, days=_days_ahead(connection.config), result=result)
    by_email = {u.email.lower(): u for u in members}
    with transaction.atomic():
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, company.pk])
        for event, owner in sorted(events.values(), key=lambda pair: pair[0].start):
            try:
                with transaction.atomic():
                    _upsert(company, event, owner, by_email, result)
            except ValidationError as exc:  # e.g. a link Django's URL validator refuses: skip that event
                result.errors.append(f"event {event.title!r}: {'; '.join(exc.messages)}")
    connection_health_record(company=company, connection=connection, ok=not result.errors,
                             error="; ".join(result.errors))
    return result
