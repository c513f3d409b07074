"""REST control of a live session: captions batch, session start/end/status, event replay."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_scope
from meetings.models import Meeting, MeetingEvent, TranscriptSegment
from tests.meetings.factories import meeting_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(company):
    return meeting_make(company=company, status=Meeting.Status.SCHEDULED, title="Board prep")


def url(meeting_id, tail):
    return f"/api/v1/meetings/{meeting_id}/{tail}"


def post(actor, path, body=None):
    return actor.api().post(path, body or {}, content_type="application/json")


def batch(*captions, client_id="rest-1"):
    return {"client_id": client_id, "captions": [
        {"sequence": seq, "speaker": "Dana", "text": text, "is_final": final} for seq, text, final in captions]}


def test_captions_batch_is_idempotent_and_acks_each_caption(admin, company, meeting):
    body = batch((1, "Hello", False), (1, "Hello all.", True), (2, "Agenda first.", True))
    first = post(admin, url(meeting.pk, "captions"), body)
    assert first.status_code == 200, first.content
    acks = first.json()["acks"]
    assert [(a["sequence"], a["status"]) for a in acks] == [(1, "stored"), (1, "updated"), (2, "stored")]
    again = post(admin, url(meeting.pk, "captions"), body)  # the client timed out and resent
    assert [(a["sequence"], a["status"]) for a in again.json()["acks"]] == [(1, "stale"), (1, "duplicate"),
                                                                            (2, "duplicate")]
    with tenant_scope(company):
        assert list(TranscriptSegment.objects.filter(meeting=meeting).values_list("client_sequence", "text")) == [
            (1, "Hello all."), (2, "Agenda first.")]
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.ACTIVE  # the first caption started it


def test_captions_errors_are_reported_per_caption(admin, meeting):
    post(admin, url(meeting.pk, "captions"), batch((5, "five", True)))
    response = post(admin, url(meeting.pk, "captions"), batch((4, "four", True), (6, "six", True)))
    body = response.json()
    assert [a["sequence"] for a in body["acks"]] == [6]
    assert [(e["sequence"], e["code"]) for e in body["errors"]] == [(4, "out_of_order")]


def test_captions_default_client_id_is_per_token(admin, meeting):
    body = {"captions": [{"sequence": 1, "text": "hi"}]}
    response = post(admin, url(meeting.pk, "captions"), body)
    assert response.json()["client_id"].startswith("t")


def test_captions_validation_limits_and_rate(admin, meeting, settings):
    assert post(admin, url(meeting.pk, "captions"), {"captions": [{"sequence": 1}]}).status_code == 422
    assert post(admin, url(meeting.pk, "captions"), {"captions": []}).status_code == 422
    settings.LIVE_MAX_BATCH = 2
    too_many = batch((1, "a", True), (2, "b", True), (3, "c", True))
    assert post(admin, url(meeting.pk, "captions"), too_many).json()["code"] == "too_large"
    settings.LIVE_MAX_BATCH = 200
    settings.LIVE_COMPANY_BURST = 2
    settings.LIVE_COMPANY_RATE = 0.01
    response = post(admin, url(meeting.pk, "captions"), too_many)
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"


def test_members_may_read_the_session_but_not_control_it(member, meeting):
    assert post(member, url(meeting.pk, "captions"), batch((1, "x", True))).status_code == 403
    assert post(member, url(meeting.pk, "session/start")).status_code == 403
    assert post(member, url(meeting.pk, "session/end")).status_code == 403
    assert member.api().get(url(meeting.pk, "session")).status_code == 200
    assert member.api().get(url(meeting.pk, "events")).status_code == 200


def test_session_start_status_end_and_event_replay(manager, company, meeting):
    started = post(manager, url(meeting.pk, "session/start"))
    assert started.status_code == 200 and started.json()["status"] == "active"
    post(manager, url(meeting.pk, "session/start"))  # idempotent: no second status event
    post(manager, url(meeting.pk, "captions"), batch((1, "We ship Friday.", True)))
    status = manager.api().get(url(meeting.pk, "session")).json()
    assert status["counts"]["segments"] == 1 and status["last_event_id"] == 2
    assert status["connected_clients"] == []
    ended = post(manager, url(meeting.pk, "session/end")).json()
    assert ended["status"] == "ended" and ended["last_event_id"] == 3
    assert post(manager, url(meeting.pk, "session/start")).status_code == 409
    late = post(manager, url(meeting.pk, "captions"), batch((2, "too late", True)))
    assert late.json()["errors"][0]["code"] == "meeting_ended"

    replay = manager.api().get(url(meeting.pk, "events") + "?after=1").json()
    assert [(e["event_id"], e["type"]) for e in replay["events"]] == [(2, "transcript"), (3, "status")]
    assert replay["last_event_id"] == 3 and replay["has_more"] is False
    page = manager.api().get(url(meeting.pk, "events") + "?after=0&limit=1").json()
    assert [e["event_id"] for e in page["events"]] == [1] and page["has_more"] is True
    assert page["events"][0]["data"]["meeting_status"] == "active"
    assert manager.api().get(url(meeting.pk, "events") + "?after=-1").status_code == 422


def test_another_company_cannot_open_read_or_write_the_meeting_by_any_path(outsider, admin, company, meeting):
    post(admin, url(meeting.pk, "captions"), batch((1, "Acme's secret plan.", True)))
    for path in ("session", "events", "events?after=0"):
        response = outsider.api().get(url(meeting.pk, path))
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    for path in ("captions", "session/start", "session/end"):
        response = post(outsider, url(meeting.pk, path), batch((2, "injected", True)))
        assert response.status_code == 404
    # and the existing export endpoints of the meetings API
    for path in ("transcript", "transcript/export"):
        assert outsider.api().get(url(meeting.pk, path)).status_code == 404
    # the same answers as for a meeting that does not exist at all
    assert outsider.api().get(url(meeting.pk + 999, "session")).status_code == 404
    with tenant_scope(company):
        assert list(TranscriptSegment.objects.values_list("text", flat=True)) == ["Acme's secret plan."]
        assert MeetingEvent.objects.filter(meeting=meeting).count() == 2  # started + transcript


def test_session_cookie_works_for_the_dashboard(admin, meeting):
    response = admin.browser().get(url(meeting.pk, "session"))
    assert response.status_code == 200 and response.json()["status"] == "scheduled"


def test_unauthenticated_calls_are_refused(client, meeting):
    assert client.get(url(meeting.pk, "session")).status_code == 401
    assert client.post(url(meeting.pk, "captions"), batch((1, "x", True)),
                       content_type="application/json").status_code == 401
