"""Ending a live session turns leftover interim captions final, and tells connected pages so."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_scope
from meetings.live import events as live_events
from meetings.live.session import session_end
from meetings.models import Meeting, MeetingEvent, TranscriptSegment
from tests.meetings.factories import meeting_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(company):
    return meeting_make(company=company, status=Meeting.Status.SCHEDULED, title="Pipeline review")


def post(actor, path, body=None):
    return actor.api().post(path, body or {}, content_type="application/json")


def test_session_end_publishes_the_interims_it_finalises(manager, company, meeting, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    base = f"/api/v1/meetings/{meeting.pk}/"
    assert post(manager, base + "session/start").status_code == 200
    captions = {"client_id": "rest-1", "captions": [
        {"sequence": 1, "speaker": "Dana", "text": "We ship on Friday.", "is_final": True},
        {"sequence": 2, "speaker": "Lee", "text": "And the pricing page is still", "is_final": False},
    ]}
    assert post(manager, base + "captions", captions).status_code == 200
    with tenant_scope(company):
        interim = TranscriptSegment.objects.get(meeting=meeting, is_final=False)
        before = MeetingEvent.objects.filter(meeting=meeting).count()

    published: list[dict] = []
    monkeypatch.setattr(live_events, "event_publish", lambda frame, *, groups: published.append(frame))
    with tenant_scope(company), django_capture_on_commit_callbacks(execute=True):
        session_end(company=company, meeting=Meeting.objects.get(pk=meeting.pk))

    # The page sees the caption become final before the meeting's end, in the logged order.
    assert [(f["type"], f["data"].get("segment_id")) for f in published] == [
        ("transcript", interim.pk), ("status", None)]
    update = published[0]["data"]
    assert update["is_final"] is True and update["update"] is True
    assert update["text"] == "And the pricing page is still" and update["speaker"] == "Lee"
    assert published[1]["data"]["meeting_status"] == "ended"

    # The same update is in the replay log for pages that reconnect later.
    replay = manager.api().get(base + f"events?after={before}").json()["events"]
    assert [(e["type"], e["data"].get("segment_id"), e["data"].get("is_final")) for e in replay] == [
        ("transcript", interim.pk, True), ("status", None, None)]


def test_session_end_without_interims_emits_only_the_status(manager, company, meeting, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    base = f"/api/v1/meetings/{meeting.pk}/"
    post(manager, base + "session/start")
    post(manager, base + "captions", {"client_id": "rest-1", "captions": [
        {"sequence": 1, "speaker": "Dana", "text": "All final.", "is_final": True}]})
    published: list[dict] = []
    monkeypatch.setattr(live_events, "event_publish", lambda frame, *, groups: published.append(frame))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(manager, base + "session/end").json()["status"] == "ended"
        post(manager, base + "session/end")  # idempotent: nothing more
    assert [f["type"] for f in published] == ["status"]
