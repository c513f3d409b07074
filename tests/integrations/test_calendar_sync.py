"""Google Calendar: members' upcoming online meetings become scheduled meetings, once per event, with the
attendees as participants; against a fake Google Calendar on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.utils import timezone

from accounts.tenancy import tenant_scope
from integrations import services as connections
from integrations.models import Connection
from meetings.models import Meeting, Participant
from meetpilot.tasks import task_send
from tests.fakes.google_calendar_server import FakeGoogleCalendar
from workflows.calendar import calendar_sync_company

NOW = datetime(2031, 3, 10, 7, 0, tzinfo=UTC)


def _event(uid, title, start, *, attendees=(), **extra):
    return {"id": uid.split("@")[0], "iCalUID": uid, "status": "confirmed", "summary": title,
            "start": {"dateTime": start.isoformat()}, "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            "attendees": [{"email": e, "displayName": n} for e, n in attendees], **extra}


ROADMAP = _event("roadmap-1@google.com", "Roadmap review", NOW + timedelta(days=1),
                 attendees=[("alice@acme.test", "Alice Admin"), ("bob@acme.test", ""),
                            ("guest@partner.test", "Gina Guest")],
                 hangoutLink="https://meet.google.com/abc-defg-hij")
ROADMAP["attendees"].append({"email": "room-4@resource.calendar.google.com", "resource": True})
STANDUP = _event("standup@google.com", "Standup", NOW + timedelta(days=2), recurringEventId="standup",
                 originalStartTime={"dateTime": (NOW + timedelta(days=2)).isoformat()},
                 location="Zoom: https://acme.zoom.us/j/123456789?pwd=xyz", attendees=[("bob@acme.test", "Bob")])
LUNCH = _event("lunch@google.com", "Lunch", NOW + timedelta(hours=5))  # no video link
HOLIDAY = {"id": "h", "iCalUID": "h@google.com", "summary": "Holiday", "start": {"date": "2031-03-12"},
           "end": {"date": "2031-03-13"}, "hangoutLink": "https://meet.google.com/zzz-zzzz-zzz"}
CANCELLED = _event("gone@google.com", "Gone", NOW + timedelta(days=3), status="cancelled",
                   hangoutLink="https://meet.google.com/qqq-qqqq-qqq")


def _google_account(user, *, token, refresh="", expired=False):
    account = SocialAccount.objects.create(user=user, provider="google", uid=f"uid-{user.pk}")
    SocialToken.objects.create(account=account, token="stale" if expired else token, token_secret=refresh,
                               expires_at=timezone.now() + timedelta(minutes=-5 if expired else 50))


@pytest.fixture
def calendar(settings):
    with FakeGoogleCalendar() as fake:
        settings.GOOGLE_CALENDAR_SYNC = True
        settings.GOOGLE_CALENDAR_API_URL = fake.api_url
        settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS, "google": {
            **settings.SOCIALACCOUNT_PROVIDERS["google"], "ACCESS_TOKEN_URL": f"{fake.url}/token",
            "APPS": [{"client_id": "cid", "secret": "csecret", "key": ""}]}}
        yield fake


def _enable(company, user, **config):
    with tenant_scope(company):
        return connections.connection_save(company=company, provider="google_calendar", by_user=user,
                                           config=config)


def _meetings(company):
    with tenant_scope(company):
        return {m.calendar_event_id: (m, sorted((p.name, p.email, p.user_id) for p in
                                                Participant.objects.filter(meeting=m)))
                for m in Meeting.objects.all()}


@pytest.mark.django_db
def test_events_become_scheduled_meetings_once_with_attendees(calendar, company, admin, member):
    _enable(company, admin.user)
    calendar.add_calendar(token="tok-alice", events=[ROADMAP, LUNCH, HOLIDAY, CANCELLED])
    calendar.add_calendar(token="tok-bob", refresh_token="refresh-bob", events=[ROADMAP, STANDUP])
    _google_account(admin.user, token="tok-alice")
    _google_account(member.user, token="tok-bob", refresh="refresh-bob", expired=True)  # renewed first
    with tenant_scope(company):
        result = calendar_sync_company(company=company, now=NOW)
    assert (result.calendars, result.created, result.updated, result.errors) == (2, 2, 0, [])
    found = _meetings(company)
    assert set(found) == {"roadmap-1@google.com", f"standup@google.com@{(NOW + timedelta(days=2)).isoformat()}"}
    roadmap, people = found["roadmap-1@google.com"]
    assert (roadmap.title, roadmap.platform, roadmap.meeting_url, roadmap.status) == (
        "Roadmap review", "google_meet", "https://meet.google.com/abc-defg-hij", "scheduled")
    assert roadmap.scheduled_start == NOW + timedelta(days=1)
    assert people == sorted([("Alice Admin", "alice@acme.test", admin.user.pk),
                             (member.user.display_name, "bob@acme.test", member.user.pk),
                             ("Gina Guest", "guest@partner.test", None)])
    standup, _ = found[f"standup@google.com@{(NOW + timedelta(days=2)).isoformat()}"]
    assert standup.platform == "zoom" and standup.meeting_url == "https://acme.zoom.us/j/123456789?pwd=xyz"
    assert SocialToken.objects.get(account__user=member.user).token == "tok-bob"
    assert [q["pageToken"] for _, path, q in calendar.requests if "pageToken" in q] == [["2"]]  # paged
    # The next sync: a renamed event is updated, nothing is duplicated.
    ROADMAP_RENAMED = {**ROADMAP, "summary": "Roadmap review (moved)"}
    calendar.add_calendar(token="tok-alice", events=[ROADMAP_RENAMED])
    calendar.add_calendar(token="tok-bob", events=[ROADMAP_RENAMED, STANDUP])
    with tenant_scope(company):
        result = calendar_sync_company(company=company, now=NOW)
        assert (result.created, result.updated) == (0, 1)
        assert Meeting.objects.count() == 2 and Participant.objects.count() == 4
        assert Meeting.objects.get(calendar_event_id="roadmap-1@google.com").title == "Roadmap review (moved)"


@pytest.mark.django_db
def test_nothing_is_read_without_an_enabled_connection(calendar, company, admin):
    calendar.add_calendar(token="tok-alice", events=[ROADMAP])
    _google_account(admin.user, token="tok-alice")
    with tenant_scope(company):
        assert calendar_sync_company(company=company, now=NOW) is None
    connection = _enable(company, admin.user)
    with tenant_scope(company):
        connections.connection_save(company=company, provider="google_calendar", by_user=admin.user, config={},
                                    enabled=False)
        assert calendar_sync_company(company=company, now=NOW) is None
    assert calendar.requests == [] and connection.pk


@pytest.mark.django_db
def test_a_revoked_token_is_reported_and_other_companies_keep_their_own_meetings(
        calendar, company, admin, member, other_company, outsider):
    _enable(company, admin.user)
    _enable(other_company, outsider.user)
    calendar.add_calendar(token="tok-charlie", events=[ROADMAP])
    _google_account(outsider.user, token="tok-charlie")
    _google_account(admin.user, token="revoked-token")  # Google answers 401
    with tenant_scope(company):
        result = calendar_sync_company(company=company, now=NOW)
        assert result.created == 0 and "sign in with Google again" in result.errors[0]
        assert Connection.objects.get(provider="google_calendar").health == "failed"
    with tenant_scope(other_company):
        assert calendar_sync_company(company=other_company, now=NOW).created == 1
    assert _meetings(company) == {}
    [(meeting, people)] = _meetings(other_company).values()
    assert meeting.company_id == other_company.pk
    assert all(user_id is None for _, _, user_id in people)  # Acme's people are not Globex members


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_syncs_through_the_worker(celery_worker, calendar, company, admin):
    _enable(company, admin.user)
    soon = _event("soon@google.com", "Customer call", timezone.now() + timedelta(hours=3),
                  attendees=[("alice@acme.test", "Alice")],
                  conferenceData={"entryPoints": [{"entryPointType": "video",
                                                   "uri": "https://teams.microsoft.com/l/meetup-join/19%3ameeting"}]})
    calendar.add_calendar(token="tok-alice", events=[soon])
    _google_account(admin.user, token="tok-alice")
    task_send("workflows.calendar_sync_run")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _meetings(company):
        time.sleep(0.1)
    [(meeting, people)] = _meetings(company).values()
    assert meeting.title == "Customer call" and meeting.platform == "teams"
    assert people == [("Alice", "alice@acme.test", admin.user.pk)]
