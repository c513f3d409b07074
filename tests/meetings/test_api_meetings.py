"""REST API: meetings, participants, speaker renames, transcript, findings; tenancy and roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.models import Meeting, MeetingEvent, Participant, TranscriptSegment
from meetings.signals import transcript_completed
from tests.meetings.factories import (
    action_item_make,
    decision_make,
    fact_check_make,
    meeting_make,
    participant_make,
    segment_make,
    suggestion_make,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _json(client, method: str, path: str, body: dict | None = None):
    return getattr(client, method)(f"{API}{path}", body, content_type="application/json") if body is not None \
        else getattr(client, method)(f"{API}{path}")


@pytest.fixture
def acme(company, member):
    """One Acme meeting with something in every table."""
    meeting = meeting_make(company=company, title="Acme secret roadmap", status=Meeting.Status.ACTIVE)
    participant = participant_make(meeting=meeting, name="Speaker 1", speaker_label="Speaker 1")
    segment = segment_make(meeting=meeting, participant=participant, speaker_label="Speaker 1", text="Acme only.")
    item = action_item_make(meeting=meeting, description="Acme task", assignee_user=member.user)
    decision_make(meeting=meeting, text="Acme decision", source_segments=[segment])
    fact_check_make(meeting=meeting, segment=segment)
    suggestion_make(meeting=meeting, segment=segment)
    return {"meeting": meeting, "participant": participant, "segment": segment, "item": item}


# --- cross-company: every endpoint ---------------------------------------------------------

FOREIGN_CALLS = [
    ("get", "/meetings/{m}", None),
    ("patch", "/meetings/{m}", {"title": "pwned"}),
    ("delete", "/meetings/{m}", None),
    ("post", "/meetings/{m}/start", None),
    ("post", "/meetings/{m}/end", None),
    ("get", "/meetings/{m}/participants", None),
    ("post", "/meetings/{m}/participants", {"name": "Mallory"}),
    ("patch", "/meetings/{m}/participants/{p}", {"name": "pwned"}),
    ("delete", "/meetings/{m}/participants/{p}", None),
    ("post", "/meetings/{m}/speakers/rename", {"old_label": "Speaker 1", "new_name": "pwned"}),
    ("get", "/meetings/{m}/transcript", None),
    ("get", "/meetings/{m}/transcript/export?format=srt", None),
    ("get", "/meetings/{m}/action-items", None),
    ("post", "/meetings/{m}/action-items", {"description": "pwned"}),
    ("get", "/meetings/{m}/decisions", None),
    ("get", "/meetings/{m}/fact-checks", None),
    ("get", "/meetings/{m}/suggestions", None),
    ("get", "/action-items?meeting={m}", None),
    ("get", "/action-items/{a}", None),
    ("patch", "/action-items/{a}", {"status": "done"}),
    ("delete", "/action-items/{a}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), FOREIGN_CALLS)
def test_outsider_gets_404_on_every_acme_id(outsider, acme, method, path, body):
    url = path.format(m=acme["meeting"].pk, p=acme["participant"].pk, a=acme["item"].pk)
    response = _json(outsider.api(), method, url, body)
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    with tenant_scope(acme["meeting"].company_id):
        meeting = Meeting.objects.get(pk=acme["meeting"].pk)
        assert meeting.title == "Acme secret roadmap" and meeting.status == Meeting.Status.ACTIVE
        assert Participant.objects.get(pk=acme["participant"].pk).name == "Speaker 1"
        assert TranscriptSegment.objects.get(pk=acme["segment"].pk).speaker_label == "Speaker 1"
        assert meeting.action_items.get().status == "pending"


def test_outsider_lists_never_include_acme_rows(outsider, acme, other_company):
    own = meeting_make(company=other_company, title="Globex weekly")
    own_item = action_item_make(meeting=own, description="Globex task")
    meetings = outsider.api().get(f"{API}/meetings").json()
    assert [m["id"] for m in meetings["items"]] == [own.pk] and meetings["count"] == 1
    items = outsider.api().get(f"{API}/action-items").json()
    assert [i["id"] for i in items["items"]] == [own_item.pk]
    assert outsider.api().get(f"{API}/meetings", {"q": "Acme"}).json()["count"] == 0


def test_outsider_cannot_reach_acme_rows_through_own_meeting(outsider, acme, other_company):
    own = meeting_make(company=other_company)
    client = outsider.api()
    assert _json(client, "patch", f"/meetings/{own.pk}/participants/{acme['participant'].pk}",
                 {"name": "x"}).status_code == 404
    response = _json(client, "post", f"/meetings/{own.pk}/action-items",
                     {"description": "x", "assignee_participant_id": acme["participant"].pk})
    assert response.status_code == 404
    member_of_acme = acme["item"].assignee_user_id
    response = _json(client, "post", f"/meetings/{own.pk}/action-items",
                     {"description": "x", "assignee_user_id": member_of_acme})
    assert response.status_code == 422 and response.json()["code"] == "invalid_reference"
    response = _json(client, "post", f"/meetings/{own.pk}/participants", {"name": "Bob", "user_id": member_of_acme})
    assert response.status_code == 422


def test_unauthenticated_is_401(acme):
    from django.test import Client

    assert Client().get(f"{API}/meetings").status_code == 401
    assert Client().get(f"{API}/meetings/{acme['meeting'].pk}/transcript").status_code == 401


# --- meetings CRUD, roles ------------------------------------------------------------------


def test_manager_creates_updates_and_deletes_a_meeting(manager):
    client = manager.api()
    response = _json(client, "post", "/meetings", {"title": "Kickoff", "platform": "zoom", "kind": "sales"})
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "scheduled" and created["created_by_id"] == manager.user.pk
    response = _json(client, "patch", f"/meetings/{created['id']}", {"title": "Kickoff v2", "language": "de"})
    assert response.status_code == 200 and response.json()["title"] == "Kickoff v2"
    assert response.json()["platform"] == "zoom"  # untouched by a partial update
    assert _json(client, "patch", f"/meetings/{created['id']}", {"title": None}).status_code == 422
    assert _json(client, "post", "/meetings", {"title": "x", "platform": "skype"}).status_code == 422
    assert _json(client, "delete", f"/meetings/{created['id']}").status_code == 204
    assert client.get(f"{API}/meetings/{created['id']}").status_code == 404


def test_schedule_end_before_start_is_rejected(manager):
    start = timezone.now()
    response = _json(manager.api(), "post", "/meetings", {
        "title": "x", "scheduled_start": start.isoformat(), "scheduled_end": (start - timedelta(hours=1)).isoformat()})
    assert response.status_code == 400 and "scheduled_end" in response.json()["detail"]


def test_member_can_read_but_not_create_or_control_meetings(member, acme):
    client = member.api()
    m = acme["meeting"].pk
    assert client.get(f"{API}/meetings/{m}").status_code == 200
    assert _json(client, "post", "/meetings", {"title": "Mine"}).status_code == 403
    assert _json(client, "patch", f"/meetings/{m}", {"title": "x"}).status_code == 403
    assert _json(client, "post", f"/meetings/{m}/end").status_code == 403
    assert _json(client, "delete", f"/meetings/{m}").status_code == 403
    assert _json(client, "post", f"/meetings/{m}/participants", {"name": "x"}).status_code == 403
    assert _json(client, "post", f"/meetings/{m}/speakers/rename",
                 {"old_label": "Speaker 1", "new_name": "x"}).status_code == 403
    assert _json(client, "post", f"/meetings/{m}/action-items", {"description": "x"}).status_code == 403


def _status_events(meeting) -> list[str]:
    with tenant_scope(meeting.company_id):
        return [e.payload["meeting_status"] for e in
                MeetingEvent.objects.filter(meeting=meeting, type="status").order_by("event_id")]


def test_start_and_end_go_through_the_live_session(manager, company, django_capture_on_commit_callbacks):
    meeting = meeting_make(company=company)
    interim = segment_make(meeting=meeting, text="and one more thing", is_final=False)
    response = _json(manager.api(), "post", f"/meetings/{meeting.pk}/start")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert response.json()["started_at"] is not None
    assert _status_events(meeting) == ["active"]  # connected clients hear of it
    assert _json(manager.api(), "post", f"/meetings/{meeting.pk}/start").status_code == 200
    assert _status_events(meeting) == ["active"]  # starting again changes nothing

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _json(manager.api(), "post", f"/meetings/{meeting.pk}/end")
    assert response.json()["status"] == "ended" and response.json()["duration_seconds"] >= 0
    assert _status_events(meeting) == ["active", "ended"]
    interim.refresh_from_db()
    assert interim.is_final  # the caption left half-typed is part of the transcript now
    # The after-meeting report is asked for once, after commit.
    [completed] = [c for c in callbacks if c.__qualname__.startswith("meeting_end.")]
    sent = []
    transcript_completed.connect(receiver := lambda sender, **kw: sent.append(kw["meeting_id"]), weak=False)
    try:
        completed()
    finally:
        transcript_completed.disconnect(receiver)
    assert sent == [meeting.pk]

    assert _json(manager.api(), "post", f"/meetings/{meeting.pk}/end").status_code == 200
    assert _status_events(meeting) == ["active", "ended"]
    again = _json(manager.api(), "post", f"/meetings/{meeting.pk}/start")
    assert again.status_code == 409 and again.json()["code"] == "meeting_ended"
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.ENDED


# --- list filters and pagination -----------------------------------------------------------


def test_meeting_list_paginates(admin, company):
    for n in range(7):
        meeting_make(company=company, title=f"M{n}")
    page1 = admin.api().get(f"{API}/meetings", {"page_size": 3}).json()
    page3 = admin.api().get(f"{API}/meetings", {"page_size": 3, "page": 3}).json()
    assert (page1["count"], len(page1["items"]), page1["page"]) == (7, 3, 1)
    assert [m["title"] for m in page1["items"]] == ["M6", "M5", "M4"]  # newest first
    assert [m["title"] for m in page3["items"]] == ["M0"]
    assert admin.api().get(f"{API}/meetings", {"page_size": 1000}).json()["page_size"] == 200


def test_meeting_list_filters(admin, company):
    now = timezone.now()
    zoom = meeting_make(company=company, title="Zoom sales call", platform="zoom", kind="sales", status="ended",
                        started_at=now - timedelta(days=10))
    meet = meeting_make(company=company, title="Team sync", status="active", started_at=now)
    client = admin.api()

    def ids(**params):
        return {m["id"] for m in client.get(f"{API}/meetings", params).json()["items"]}

    assert ids(status="active") == {meet.pk}
    assert ids(platform="zoom") == {zoom.pk}
    assert ids(kind="sales") == {zoom.pk}
    assert ids(q="SYNC") == {meet.pk}
    assert ids(started_from=(now - timedelta(days=1)).date().isoformat()) == {meet.pk}
    assert ids(started_to=(now - timedelta(days=5)).date().isoformat()) == {zoom.pk}
    assert ids(created_from=now.date().isoformat()) == {zoom.pk, meet.pk}
    assert client.get(f"{API}/meetings", {"status": "nope"}).status_code == 422


# --- participants and renames --------------------------------------------------------------


def test_participant_add_update_and_rename_applies_to_whole_meeting(manager, member, company, acme):
    client = manager.api()
    m = acme["meeting"]
    extra = segment_make(meeting=m, speaker_label="Speaker 1", text="More from the same voice.")
    response = _json(client, "post", f"/meetings/{m.pk}/participants",
                     {"name": "Bob", "email": "bob@acme.test", "role": "internal", "user_id": member.user.pk})
    assert response.status_code == 201 and response.json()["user_id"] == member.user.pk
    assert _json(client, "post", f"/meetings/{m.pk}/participants", {"name": "Bob"}).status_code == 400  # dup name
    assert _json(client, "post", f"/meetings/{m.pk}/participants", {"name": "Eve", "email": "nope"}).status_code == 400

    p = acme["participant"].pk
    response = _json(client, "patch", f"/meetings/{m.pk}/participants/{p}", {"name": "Carol", "role": "customer"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["role"]) == ("Carol", "customer")
    transcript = client.get(f"{API}/meetings/{m.pk}/transcript").json()["items"]
    assert {s["speaker_label"] for s in transcript} == {"Carol"}
    assert {s["id"] for s in transcript} >= {acme["segment"].pk, extra.pk}

    listed = client.get(f"{API}/meetings/{m.pk}/participants").json()
    assert [x["name"] for x in listed["items"]] == ["Bob", "Carol"]

    assert _json(client, "patch", f"/meetings/{m.pk}/participants/{p}", {"user_id": None}).status_code == 200
    assert _json(client, "delete", f"/meetings/{m.pk}/participants/{p}").status_code == 204


def test_speaker_rename_endpoint(manager, company):
    meeting = meeting_make(company=company)
    for _ in range(2):
        segment_make(meeting=meeting, speaker_label="Speaker 7")
    client = manager.api()
    response = _json(client, "post", f"/meetings/{meeting.pk}/speakers/rename",
                     {"old_label": "Speaker 7", "new_name": "Grace"})
    assert response.status_code == 200 and response.json() == {"renamed_segments": 2}
    labels = {s["speaker_label"] for s in client.get(f"{API}/meetings/{meeting.pk}/transcript").json()["items"]}
    assert labels == {"Grace"}
    # The voice label stays with the participant it named, so it still finds them.
    response = _json(client, "post", f"/meetings/{meeting.pk}/speakers/rename",
                     {"old_label": "Speaker 7", "new_name": "Grace Hopper"})
    assert response.json() == {"renamed_segments": 2}
    response = _json(client, "post", f"/meetings/{meeting.pk}/speakers/rename",
                     {"old_label": "Speaker 9", "new_name": "Nobody"})
    assert response.status_code == 404


# --- transcript and findings ---------------------------------------------------------------


def test_transcript_is_final_only_by_default_in_order_and_paginated(member, company):
    meeting = meeting_make(company=company)
    for n in range(5):
        segment_make(meeting=meeting, text=f"final {n}")
    segment_make(meeting=meeting, text="interim", is_final=False)
    client = member.api()
    final = client.get(f"{API}/meetings/{meeting.pk}/transcript").json()
    assert final["count"] == 5 and [s["text"] for s in final["items"]] == [f"final {n}" for n in range(5)]
    everything = client.get(f"{API}/meetings/{meeting.pk}/transcript", {"include_interim": "true"}).json()
    assert everything["count"] == 6 and everything["items"][-1]["is_final"] is False
    page = client.get(f"{API}/meetings/{meeting.pk}/transcript", {"page": 2, "page_size": 2}).json()
    assert [s["text"] for s in page["items"]] == ["final 2", "final 3"]


def test_findings_lists(member, acme, company):
    m = acme["meeting"].pk
    fact_check_make(meeting=acme["meeting"], verdict="correct", claim="Churn is 2%")
    suggestion_make(meeting=acme["meeting"], kind="answer", question="Asked of MeetPilot")
    client = member.api()
    decisions = client.get(f"{API}/meetings/{m}/decisions").json()
    assert decisions["items"][0]["text"] == "Acme decision"
    assert decisions["items"][0]["source_segment_ids"] == [acme["segment"].pk]
    facts = client.get(f"{API}/meetings/{m}/fact-checks").json()
    assert facts["count"] == 2 and facts["items"][0]["source"]["title"] == "Q3 report"
    assert client.get(f"{API}/meetings/{m}/fact-checks", {"verdict": "correct"}).json()["count"] == 1
    suggestions = client.get(f"{API}/meetings/{m}/suggestions", {"page_size": 1}).json()
    assert suggestions["count"] == 2 and len(suggestions["items"]) == 1
    assert client.get(f"{API}/meetings/{m}/suggestions", {"kind": "answer"}).json()["items"][0]["question"] == \
        "Asked of MeetPilot"
