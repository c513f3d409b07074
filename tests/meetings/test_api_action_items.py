"""REST API for action items: permissions per role and assignee, edited fields, filters, references."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.models import ActionItem
from tests.meetings.factories import action_item_make, meeting_make, participant_make

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _patch(client, item_id: int, body: dict):
    return client.patch(f"{API}/action-items/{item_id}", body, content_type="application/json")


def _post(client, path: str, body: dict):
    return client.post(f"{API}{path}", body, content_type="application/json")


@pytest.fixture
def meeting(company):
    return meeting_make(company=company, title="Planning")


def test_manager_creates_with_each_kind_of_assignee(manager, member, meeting):
    client = manager.api()
    bob = participant_make(meeting=meeting, name="Bob (guest)")
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    by_member = _post(client, f"/meetings/{meeting.pk}/action-items",
                      {"description": "Send the deck", "assignee_user_id": member.user.pk, "due_date": due,
                       "priority": "high"})
    assert by_member.status_code == 201
    body = by_member.json()
    assert (body["assignee_user_id"], body["assignee_label"], body["due_date"], body["priority"]) == (
        member.user.pk, member.user.display_name, due, "high")
    assert body["origin"] == "manual" and body["meeting_title"] == "Planning" and body["is_overdue"] is False

    by_participant = _post(client, f"/meetings/{meeting.pk}/action-items",
                           {"description": "Review contract", "assignee_participant_id": bob.pk}).json()
    assert (by_participant["assignee_participant_id"], by_participant["assignee_label"]) == (bob.pk, "Bob (guest)")

    free_text = _post(client, f"/meetings/{meeting.pk}/action-items",
                      {"description": "Legal sign-off", "assignee_name": "Legal team"}).json()
    assert (free_text["assignee_user_id"], free_text["assignee_label"]) == (None, "Legal team")
    assert client.get(f"{API}/meetings/{meeting.pk}/action-items").json()["count"] == 3


def test_assignee_must_be_a_member_and_participant_of_this_meeting(manager, outsider, meeting, company):
    client = manager.api()
    stranger = participant_make(meeting=meeting_make(company=company))
    response = _post(client, f"/meetings/{meeting.pk}/action-items",
                     {"description": "x", "assignee_user_id": outsider.user.pk})
    assert response.status_code == 422 and "assignee_user_id" in response.json()["detail"]
    response = _post(client, f"/meetings/{meeting.pk}/action-items",
                     {"description": "x", "assignee_participant_id": stranger.pk})
    assert response.status_code == 422 and "assignee_participant_id" in response.json()["detail"]
    response = _post(client, f"/meetings/{meeting.pk}/action-items",
                     {"description": "x", "assignee_participant_id": 999999})
    assert response.status_code == 404
    item = action_item_make(meeting=meeting)
    assert _patch(client, item.pk, {"assignee_user_id": outsider.user.pk}).status_code == 422
    assert _patch(client, item.pk, {"assignee_participant_id": stranger.pk}).status_code == 422
    with tenant_scope(company):
        assert ActionItem.objects.get(pk=item.pk).assignee_user_id is None


def test_member_edits_only_items_assigned_to_them(member, manager, meeting):
    theirs = action_item_make(meeting=meeting, assignee_user=member.user)
    someone_elses = action_item_make(meeting=meeting, assignee_user=manager.user)
    unassigned = action_item_make(meeting=meeting)
    client = member.api()

    response = _patch(client, theirs.pk, {"status": "in_progress"})
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    for item in (someone_elses, unassigned):
        response = _patch(client, item.pk, {"status": "done"})
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client.delete(f"{API}/action-items/{theirs.pk}").status_code == 403  # deleting needs ACTION_ITEM_EDIT
    assert _post(client, f"/meetings/{meeting.pk}/action-items", {"description": "x"}).status_code == 403
    # managers edit anything
    assert _patch(manager.api(), someone_elses.pk, {"status": "done"}).status_code == 200
    assert manager.api().delete(f"{API}/action-items/{unassigned.pk}").status_code == 204


def test_edits_by_a_person_are_recorded_in_edited_fields(manager, member, meeting):
    item = action_item_make(meeting=meeting, origin="summary", description="Draft the plan", priority="medium")
    client = manager.api()
    body = _patch(client, item.pk, {"description": "Draft the Q4 plan", "priority": "medium"}).json()
    assert body["edited_fields"] == ["description"]  # priority was sent but did not change
    body = _patch(client, item.pk, {"due_date": "2031-05-01", "assignee_user_id": member.user.pk}).json()
    assert body["edited_fields"] == ["description", "due_date", "assignee_user", "assignee_participant",
                                     "assignee_name"]
    body = _patch(client, item.pk, {"due_date": None}).json()
    assert body["due_date"] is None
    assert _patch(client, item.pk, {"status": None}).status_code == 422
    assert _patch(client, item.pk, {"priority": "urgent"}).status_code == 422


def test_list_filters(member, manager, meeting, company):
    today = timezone.localdate()
    other_meeting = meeting_make(company=company, title="Other")
    linked = participant_make(meeting=meeting, name="Bob", user=member.user)
    mine_overdue = action_item_make(meeting=meeting, assignee_user=member.user, due_date=today - timedelta(days=1))
    mine_via_participant = action_item_make(meeting=meeting, assignee_participant=linked, priority="high")
    done_overdue = action_item_make(meeting=other_meeting, assignee_user=manager.user, status="done",
                                    due_date=today - timedelta(days=5))
    later = action_item_make(meeting=other_meeting, priority="low", due_date=today + timedelta(days=10))
    client = member.api()

    def ids(**params):
        response = client.get(f"{API}/action-items", params)
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["items"]}

    assert ids() == {mine_overdue.pk, mine_via_participant.pk, done_overdue.pk, later.pk}
    assert ids(mine="true") == {mine_overdue.pk, mine_via_participant.pk}
    assert ids(overdue="true") == {mine_overdue.pk}
    assert ids(status="done") == {done_overdue.pk}
    assert ids(meeting=other_meeting.pk) == {done_overdue.pk, later.pk}
    assert ids(assignee=manager.user.pk) == {done_overdue.pk}
    assert ids(priority="high") == {mine_via_participant.pk}
    assert ids(due_from=today.isoformat()) == {later.pk}
    assert ids(due_to=(today - timedelta(days=2)).isoformat()) == {done_overdue.pk}
    assert ids(mine="true", overdue="true") == {mine_overdue.pk}
    overdue_item = client.get(f"{API}/action-items/{mine_overdue.pk}").json()
    assert overdue_item["is_overdue"] is True
    assert client.get(f"{API}/action-items", {"meeting": 999999}).status_code == 404


def test_list_paginates(member, meeting):
    for n in range(5):
        action_item_make(meeting=meeting, description=f"Item {n}")
    page = member.api().get(f"{API}/action-items", {"page_size": 2, "page": 3}).json()
    assert page["count"] == 5 and [i["description"] for i in page["items"]] == ["Item 0"]


def test_lists_do_not_query_per_row(member, meeting, company):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.meetings.factories import decision_make, segment_make

    client = member.api()
    client.get(f"{API}/me")  # the first use of a token also stamps last_used_at

    def count(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{API}{path}").status_code == 200
        return len(captured)

    speaker = participant_make(meeting=meeting, user=member.user)
    action_item_make(meeting=meeting, assignee_user=member.user, assignee_participant=speaker)
    decision_make(meeting=meeting, source_segments=[segment_make(meeting=meeting)])
    before = (count("/action-items"), count(f"/meetings/{meeting.pk}/decisions"))
    for _ in range(6):
        action_item_make(meeting=meeting_make(company=company), assignee_user=member.user,
                         assignee_participant=speaker)
        decision_make(meeting=meeting, source_segments=[segment_make(meeting=meeting)])
    assert (count("/action-items"), count(f"/meetings/{meeting.pk}/decisions")) == before
