"""Services and selectors of meetings: renames, assignment rules, edited fields, filters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings import selectors, services
from meetings.models import ActionItem, Meeting, Participant, TranscriptSegment
from meetings.signals import transcript_completed
from tests import factories as base
from tests.meetings.factories import (
    action_item_make,
    meeting_make,
    participant_make,
    segment_make,
)

pytestmark = pytest.mark.django_db


# --- meetings ------------------------------------------------------------------------------


def test_meeting_create_rejects_an_end_before_the_start(scope, admin):
    start = timezone.now()
    with pytest.raises(ValidationError):
        services.meeting_create(company=scope, created_by=admin.user, title="Sync", scheduled_start=start,
                                scheduled_end=start - timedelta(hours=1))
    meeting = services.meeting_create(company=scope, created_by=admin.user, title="  Sync  ")
    assert meeting.title == "Sync" and meeting.status == Meeting.Status.SCHEDULED


def test_meeting_update_changes_only_editable_fields(scope):
    meeting = meeting_make(company=scope, title="Old")
    services.meeting_update(company=scope, meeting=meeting, data={"title": "New", "kind": "sales"})
    meeting.refresh_from_db()
    assert (meeting.title, meeting.kind) == ("New", "sales")
    with pytest.raises(ValueError):
        services.meeting_update(company=scope, meeting=meeting, data={"status": "ended"})


def test_meeting_end_sends_transcript_completed_once_after_commit(scope, django_capture_on_commit_callbacks):
    received = []

    def on_completed(sender, **kwargs):
        received.append(kwargs)

    transcript_completed.connect(on_completed)
    try:
        meeting = meeting_make(company=scope, status=Meeting.Status.ACTIVE)
        with django_capture_on_commit_callbacks(execute=True):
            services.meeting_end(company=scope, meeting=meeting)
        with django_capture_on_commit_callbacks(execute=True):
            services.meeting_end(company=scope, meeting=meeting)  # already ended: nothing new
    finally:
        transcript_completed.disconnect(on_completed)
    assert received == [{"company_id": scope.pk, "meeting_id": meeting.pk, "signal": transcript_completed}]
    assert meeting.ended_at is not None and meeting.status == Meeting.Status.ENDED


# --- renames -------------------------------------------------------------------------------


def test_participant_rename_relabels_every_segment_of_that_meeting_only(scope):
    meeting = meeting_make(company=scope)
    other_meeting = meeting_make(company=scope)
    speaker = participant_make(meeting=meeting, name="Speaker 2", speaker_label="Speaker 2")
    linked = segment_make(meeting=meeting, participant=speaker, speaker_label="Speaker 2")
    unlinked = segment_make(meeting=meeting, speaker_label="Speaker 2")
    someone_else = segment_make(meeting=meeting, speaker_label="Speaker 1")
    elsewhere = segment_make(meeting=other_meeting, speaker_label="Speaker 2")
    keys_before = {s.pk: s.content_key for s in TranscriptSegment.objects.all()}
    item = action_item_make(meeting=meeting, assignee_participant=speaker, assignee_name="Speaker 2")

    renamed = services.participant_rename(company=scope, participant=speaker, name="Dana")

    assert renamed.pk == speaker.pk and renamed.name == "Dana"
    labels = dict(TranscriptSegment.objects.values_list("pk", "speaker_label"))
    assert labels[linked.pk] == labels[unlinked.pk] == "Dana"
    assert labels[someone_else.pk] == "Speaker 1"
    assert labels[elsewhere.pk] == "Speaker 2"
    assert TranscriptSegment.objects.get(pk=unlinked.pk).participant_id == speaker.pk
    # content keys keep recognising resends that still carry the old label
    assert {s.pk: s.content_key for s in TranscriptSegment.objects.all()} == keys_before
    item.refresh_from_db()
    assert item.assignee_name == "Dana"


def test_participant_rename_to_an_existing_name_merges_the_two(scope):
    meeting = meeting_make(company=scope)
    alice = participant_make(meeting=meeting, name="Alice", speaking_seconds=60)
    voice = participant_make(meeting=meeting, name="Speaker 3", speaker_label="Speaker 3", speaking_seconds=30)
    segment_make(meeting=meeting, participant=alice)
    moved = segment_make(meeting=meeting, participant=voice)
    item = action_item_make(meeting=meeting, assignee_participant=voice, assignee_name="Speaker 3")

    survivor = services.participant_rename(company=scope, participant=voice, name="Alice")

    assert survivor.pk == alice.pk
    assert not Participant.objects.filter(pk=voice.pk).exists()
    assert survivor.speaking_seconds == 90
    assert survivor.speaker_label == "Speaker 3"
    moved.refresh_from_db()
    assert (moved.participant_id, moved.speaker_label) == (alice.pk, "Alice")
    item.refresh_from_db()
    assert (item.assignee_participant_id, item.assignee_name) == (alice.pk, "Alice")
    assert set(TranscriptSegment.objects.filter(meeting=meeting).values_list("speaker_label", flat=True)) == {"Alice"}


def test_participant_rename_needs_a_name(scope):
    speaker = participant_make(meeting=meeting_make(company=scope), name="Bo")
    with pytest.raises(ValidationError):
        services.participant_rename(company=scope, participant=speaker, name="   ")


def test_speaker_rename_without_a_participant_creates_one_and_links_the_lines(scope):
    meeting = meeting_make(company=scope)
    for _ in range(3):
        segment_make(meeting=meeting, speaker_label="Speaker 4")
    segment_make(meeting=meeting, speaker_label="Speaker 5")

    count = services.speaker_rename(company=scope, meeting=meeting, old_label="Speaker 4", new_name="Erin")

    assert count == 3
    erin = Participant.objects.get(meeting=meeting, name="Erin")
    assert erin.speaker_label == "Speaker 4"
    assert list(TranscriptSegment.objects.filter(participant=erin).values_list("speaker_label", flat=True)) == [
        "Erin"] * 3
    assert TranscriptSegment.objects.filter(speaker_label="Speaker 5").count() == 1
    with pytest.raises(Http404):
        services.speaker_rename(company=scope, meeting=meeting, old_label="Nobody", new_name="X")


def test_speaker_rename_of_a_participants_voice_label_is_a_participant_rename(scope):
    meeting = meeting_make(company=scope)
    person = participant_make(meeting=meeting, name="Guest", speaker_label="Speaker 1")
    segment_make(meeting=meeting, participant=person, speaker_label="Guest")
    segment_make(meeting=meeting, speaker_label="Speaker 1")  # arrived before the participant existed
    assert services.speaker_rename(company=scope, meeting=meeting, old_label="Speaker 1", new_name="Finn") == 2
    person.refresh_from_db()
    assert person.name == "Finn"
    assert set(TranscriptSegment.objects.values_list("speaker_label", flat=True)) == {"Finn"}


# --- action items --------------------------------------------------------------------------


def test_action_item_create_links_only_members_and_this_meetings_participants(company, other_company, member):
    outsider_user = base.admin_of(other_company)
    with tenant_scope(other_company):
        foreign_participant = participant_make(meeting=meeting_make(company=other_company))
    with tenant_scope(company):
        meeting = meeting_make(company=company)
        other_meeting = meeting_make(company=company)
        stranger = participant_make(meeting=other_meeting)
        with pytest.raises(services.InvalidReference) as err:
            services.action_item_create(company=company, meeting=meeting, description="x",
                                        assignee_user_id=outsider_user.pk)
        assert err.value.field == "assignee_user_id"
        with pytest.raises(services.InvalidReference):
            services.action_item_create(company=company, meeting=meeting, description="x",
                                        assignee_participant_id=stranger.pk)
        with pytest.raises(Http404):
            services.action_item_create(company=company, meeting=meeting, description="x",
                                        assignee_participant_id=foreign_participant.pk)
        assert ActionItem.objects.count() == 0

        linked = participant_make(meeting=meeting, name="Bob", user=member.user)
        item = services.action_item_create(company=company, meeting=meeting, description="Send the deck.",
                                           assignee_participant_id=linked.pk)
    assert item.assignee_user_id == member.user.pk  # "mine" finds it through the participant
    assert item.assignee_name == "Bob"
    assert item.origin == ActionItem.Origin.MANUAL
    assert set(item.edited_fields) == set(services.ACTION_ITEM_EDITABLE)
    assert item.dedupe_key == services.dedupe_key("send  the DECK")


def test_action_item_update_records_only_fields_that_changed(scope, member):
    item = action_item_make(meeting=meeting_make(company=scope), status="pending", priority="medium")
    services.action_item_update(company=scope, action_item=item, data={"status": "done", "priority": "medium"})
    item.refresh_from_db()
    assert item.status == "done"
    assert item.edited_fields == ["status"]

    services.action_item_update(company=scope, action_item=item, data={"assignee_user_id": member.user.pk})
    item.refresh_from_db()
    assert item.assignee_user_id == member.user.pk
    assert item.edited_fields == ["status", *services.ASSIGNEE_FIELDS]

    services.action_item_update(company=scope, action_item=item, data={"due_date": date(2030, 1, 2)},
                                by_person=False)
    item.refresh_from_db()
    assert item.due_date == date(2030, 1, 2) and "due_date" not in item.edited_fields


def test_action_item_update_with_free_text_replaces_the_member(scope, member):
    item = action_item_make(meeting=meeting_make(company=scope), assignee_user=member.user)
    services.action_item_update(company=scope, action_item=item, data={"assignee_name": "Legal team"})
    item.refresh_from_db()
    assert (item.assignee_user_id, item.assignee_participant_id, item.assignee_name) == (None, None, "Legal team")


# --- selectors -----------------------------------------------------------------------------


def test_action_item_list_filters(scope, member, manager):
    meeting = meeting_make(company=scope)
    today = timezone.localdate()
    through_participant = participant_make(meeting=meeting, name="Bob", user=member.user)
    mine_direct = action_item_make(meeting=meeting, assignee_user=member.user, due_date=today - timedelta(days=2))
    mine_linked = action_item_make(meeting=meeting, assignee_participant=through_participant)
    overdue_done = action_item_make(meeting=meeting, assignee_user=manager.user, status="done",
                                    due_date=today - timedelta(days=3))
    due_today = action_item_make(meeting=meeting, priority="high", due_date=today)

    def ids(**filters):
        return {i.pk for i in selectors.action_item_list(company=scope, **filters)}

    assert ids(assigned_to=member.user) == {mine_direct.pk, mine_linked.pk}
    assert ids(overdue=True) == {mine_direct.pk}
    assert ids(status="done") == {overdue_done.pk}
    assert ids(priority="high") == {due_today.pk}
    assert ids(due_from=today, due_to=today) == {due_today.pk}
    assert ids(assignee_user_id=manager.user.pk) == {overdue_done.pk}


def test_meeting_list_filters_and_date_ranges(scope):
    now = timezone.now()
    old = meeting_make(company=scope, title="Quarterly review", status="ended", started_at=now - timedelta(days=40),
                       created_at=now - timedelta(days=41))
    recent = meeting_make(company=scope, title="Standup", status="active", platform="zoom", kind="sales",
                          started_at=now - timedelta(hours=1))
    scheduled = meeting_make(company=scope, title="Planning review")

    def ids(**filters):
        return {m.pk for m in selectors.meeting_list(company=scope, **filters)}

    assert ids(q="REVIEW") == {old.pk, scheduled.pk}
    assert ids(status="active") == {recent.pk}
    assert ids(platform="zoom", kind="sales") == {recent.pk}
    assert ids(started_from=(now - timedelta(days=2)).date()) == {recent.pk}
    assert ids(started_to=(now - timedelta(days=30)).date()) == {old.pk}
    assert ids(created_to=(now - timedelta(days=30)).date()) == {old.pk}
    counted = selectors.meeting_list(company=scope, with_counts=True).get(pk=recent.pk)
    assert counted.segment_count == 0 and counted.open_action_item_count == 0


# --- the one writer of action items and decisions ----------------------------------------------


def test_manual_live_and_after_meeting_items_share_one_dedupe_key_and_limits(scope):
    meeting = meeting_make(company=scope)
    other = meeting_make(company=scope)
    segment = segment_make(meeting=meeting, text="Let's send the deck.")
    manual = services.action_item_create(company=scope, meeting=meeting, description="Send the deck.")
    # The same task heard live is not a second item, whatever its spacing and case.
    assert services.action_item_create(company=scope, meeting=meeting, description="send  the DECK",
                                       origin=ActionItem.Origin.LIVE, confidence=0.4, source_segment=segment) is None
    live = services.action_item_create(company=scope, meeting=meeting, description="x" * 6000, priority="urgent",
                                       origin=ActionItem.Origin.LIVE, confidence=0.42, source_segment=segment)
    assert len(live.description) == services.TEXT_MAX and live.priority == ActionItem.Priority.MEDIUM
    assert live.confidence == 0.42 and live.edited_fields == [] and live.source_segment_id == segment.pk
    # After the meeting: found again, merged into the person's item without touching what they wrote.
    counts = services.action_item_merge(company=scope, meeting=meeting, provider="local", drafts=[
        services.ActionItemDraft(description="Send the deck", due_date=date(2030, 1, 1), confidence=0.9)])
    assert counts == {"created": 0, "updated": 0, "removed": 0}
    manual.refresh_from_db()
    assert manual.due_date is None and manual.description == "Send the deck."
    assert ActionItem.objects.filter(meeting=meeting).count() == 2

    first = services.decision_create(company=scope, meeting=meeting, text="Go with the pilot.",
                                     origin=ActionItem.Origin.LIVE, confidence=0.6,
                                     source_segment_ids=[segment.pk, segment_make(meeting=other).pk])
    assert [s.pk for s in first.source_segments.all()] == [segment.pk]  # another meeting's segment is not linked
    assert services.decision_create(company=scope, meeting=meeting, text="go with the PILOT",
                                    origin=ActionItem.Origin.LIVE, confidence=0.5) is None  # not surer: nothing
    # The same decision found after the meeting: no second row; the surer whole-meeting score lifts the live one.
    assert services.decision_merge(company=scope, meeting=meeting, provider="local", drafts=[
        services.DecisionDraft(text="Go with the pilot", confidence=0.8)]) == {"created": 0, "updated": 1,
                                                                              "removed": 0}
    first.refresh_from_db()
    assert first.confidence == 0.8 and first.text == "Go with the pilot."
