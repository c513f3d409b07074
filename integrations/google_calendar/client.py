"""Google Calendar API v3 (events.list on the primary calendar) over plain httpx, and the events parsed
into what a scheduled meeting needs. ``GOOGLE_CALENDAR_API_URL`` points it at Google (or a fake server)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime

from integrations.spec import ProviderError

MAX_PAGES = 10
_VIDEO_LINK = re.compile(
    r"https://(?:meet\.google\.com/[a-z0-9-]+|[\w.-]*zoom\.us/[jw]/[\w?=&.-]+|teams\.microsoft\.com/l/meetup-join/\S+"
    r"|teams\.live\.com/meet/\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""


@dataclass(frozen=True)
class CalendarEvent:
    key: str  # the same in every attendee's calendar: iCalUID (+ the instance's start for recurring events)
    title: str
    start: datetime
    end: datetime | None
    meeting_url: str
    platform: str  # a meetings.Meeting.Platform value
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)


def _platform(url: str) -> str:
    if "meet.google.com" in url:
        return "google_meet"
    if "zoom.us" in url:
        return "zoom"
    if "teams." in url:
        return "teams"
    return "other"


def _video_link(item: dict[str, Any]) -> str:
    if item.get("hangoutLink"):
        return str(item["hangoutLink"])
    for entry in (item.get("conferenceData") or {}).get("entryPoints") or []:
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    for text in (item.get("location") or "", item.get("description") or ""):
        found = _VIDEO_LINK.search(text)
        if found:
            return found.group(0).rstrip(").,>\"'")
    return ""


def event_parse(item: dict[str, Any]) -> CalendarEvent | None:
    """A timed, not cancelled event with a Meet, Zoom or Teams link; None for anything else."""
    if item.get("status") == "cancelled" or "dateTime" not in (item.get("start") or {}):
        return None
    url = _video_link(item)
    start = parse_datetime(item["start"]["dateTime"])
    if not url or start is None:
        return None
    end = parse_datetime((item.get("end") or {}).get("dateTime", "")) if item.get("end") else None
    key = str(item.get("iCalUID") or item["id"])
    if item.get("recurringEventId"):
        original = (item.get("originalStartTime") or {}).get("dateTime") or item["start"]["dateTime"]
        key = f"{key}@{original}"
    attendees = tuple(Attendee(email=str(a["email"]).lower(), name=str(a.get("displayName", "")))
                      for a in item.get("attendees") or []
                      if a.get("email") and not a.get("resource") and a.get("responseStatus") != "declined")
    return CalendarEvent(key=key[:300], title=(item.get("summary") or "Untitled meeting")[:300], start=start,
                         end=end if end and end >= start else None, meeting_url=url[:1000], platform=_platform(url),
                         attendees=attendees)


class CalendarClient:
    def __init__(self, *, access_token: str, base_url: str | None = None) -> None:
        self.access_token = access_token
        self.base_url = (base_url or settings.GOOGLE_CALENDAR_API_URL).rstrip("/")

    def _get(self, client: httpx.Client, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = client.get(f"{self.base_url}/calendars/primary/events", params=params,
                                  headers={"Authorization": f"Bearer {self.access_token}"})
        except httpx.HTTPError as exc:
            raise ProviderError(f"Could not reach Google Calendar ({exc.__class__.__name__}).", transient=True) from exc
        if response.status_code == 401:
            raise ProviderError("Google refused the calendar access: the person should sign in with Google again.",
                                status=401)
        if response.status_code == 403:
            raise ProviderError("Google did not allow reading the calendar (the calendar.readonly permission is "
                                "missing or the API is not enabled).", status=403)
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = float(response.headers.get("Retry-After", "60") or 60)
            raise ProviderError(f"Google Calendar is busy (HTTP {response.status_code}).",
                                status=response.status_code, retry_after=retry_after, transient=True)
        if response.status_code != 200:
            raise ProviderError(f"Google Calendar answered HTTP {response.status_code}.", status=response.status_code)
        return response.json()

    def upcoming_events(self, *, time_min: datetime, time_max: datetime) -> list[CalendarEvent]:
        params: dict[str, Any] = {"timeMin": time_min.isoformat(), "timeMax": time_max.isoformat(),
                                  "singleEvents": "true", "orderBy": "startTime", "maxResults": 250}
        events: list[CalendarEvent] = []
        timeout = httpx.Timeout(settings.GOOGLE_CALENDAR_TIMEOUT_SECONDS, connect=5.0)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for _ in range(MAX_PAGES):
                page = self._get(client, params)
                events.extend(e for e in map(event_parse, page.get("items") or []) if e is not None)
                if not page.get("nextPageToken"):
                    break
                params["pageToken"] = page["nextPageToken"]
        return events
