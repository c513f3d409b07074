"""caption_ingest and the event log: exactly once, in order, deduplicated across clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.live.events import event_emit, events_since
from meetings.live.ingest import caption_ingest, content_key, parse_timestamp
from meetings.live.protocol import ErrorCode
from meetings.live.session import session_end, session_start, session_status
from meetings.models import AnalyticsEvent, Meeting, MeetingEvent, Participant, TranscriptSegment
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(scope, company):
    return meeting_make(company=company, status=Meeting.Status.ACTIVE)


def ingest(company, meeting, cap, client_id="ext-a", **kwargs):
    return caption_ingest(company=company, meeting=meeting, client_id=client_id, caption=cap, **kwargs)


def test_final_caption_is_stored_once_and_a_resend_is_acked_as_duplicate(company, meeting):
    first = ingest(company, meeting, caption(1, "Hello everyone"))
    again = ingest(company, meeting, caption(1, "Hello everyone"))
    assert first.status == "stored" and first.segment_id
    assert again.status == "duplicate" and again.segment_id == first.segment_id
    assert again.ack() == {"type": "ack", "sequence": 1, "segment_id": first.segment_id, "status": "duplicate",
                           "duplicate": True}
    assert TranscriptSegment.objects.filter(meeting=meeting).count() == 1
    # one transcript event, not two
    assert list(MeetingEvent.objects.filter(meeting=meeting).values_list("type", flat=True)) == ["transcript"]


def test_interims_are_replaced_in_place_until_the_final(company, meeting):
    a = ingest(company, meeting, caption(7, "We should", is_final=False))
    b = ingest(company, meeting, caption(7, "We should ship", is_final=False))
    c = ingest(company, meeting, caption(7, "We should ship on Friday.", is_final=True))
    late = ingest(company, meeting, caption(7, "We should", is_final=False))
    assert [a.status, b.status, c.status, late.status] == ["stored", "updated", "updated", "stale"]
    assert a.segment_id == b.segment_id == c.segment_id == late.segment_id
    segment = TranscriptSegment.objects.get(meeting=meeting)
    assert segment.is_final and segment.text == "We should ship on Friday." and segment.client_sequence == 7
    payloads = [e.payload for e in MeetingEvent.objects.filter(meeting=meeting, type="transcript")]
    assert [(p["is_final"], p["update"]) for p in payloads] == [(False, False), (False, True), (True, True)]


def test_same_caption_from_two_extensions_is_stored_once(company, meeting):
    a = ingest(company, meeting, caption(3, "Our price is fifty dollars.", speaker="Dana"), client_id="ext-a")
    # the other extension sees it with different punctuation/case, half a second later
    b_interim = ingest(company, meeting, caption(40, "our price is", speaker="dana", is_final=False),
                       client_id="ext-b")
    b = ingest(company, meeting, caption(40, "Our price is fifty dollars", speaker="dana"), client_id="ext-b")
    assert a.status == "stored" and b_interim.status == "stored"
    assert b.status == "duplicate" and b.segment_id == a.segment_id
    assert list(TranscriptSegment.objects.filter(meeting=meeting).values_list("pk", flat=True)) == [a.segment_id]
    removed = MeetingEvent.objects.filter(meeting=meeting, type="transcript").order_by("-event_id").first().payload
    assert removed["removed"] and removed["duplicate_of"] == a.segment_id
    # ...and resending it later is still a duplicate (the window is on caption time, not arrival)
    assert ingest(company, meeting, caption(40, "Our price is fifty dollars", speaker="dana"),
                  client_id="ext-b").status == "duplicate"


def test_same_words_far_apart_in_time_are_two_captions(company, meeting):
    a = ingest(company, meeting, caption(1, "Yes.", start=10.0), client_id="ext-a")
    b = ingest(company, meeting, caption(1, "Yes.", start=200.0), client_id="ext-b")
    assert a.status == b.status == "stored" and a.segment_id != b.segment_id


def test_out_of_order_and_conflicting_sequences_are_refused(company, meeting):
    assert ingest(company, meeting, caption(5, "five")).status == "stored"
    low = ingest(company, meeting, caption(4, "four"))
    assert low.status == "rejected" and low.error == ErrorCode.OUT_OF_ORDER
    assert low.error_frame()["sequence"] == 4
    conflict = ingest(company, meeting, caption(5, "something else entirely"))
    assert conflict.error == ErrorCode.SEQUENCE_CONFLICT
    assert TranscriptSegment.objects.filter(meeting=meeting).count() == 1


def test_ended_meeting_refuses_captions(company, scope):
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED)
    result = ingest(company, meeting, caption(1, "too late"))
    assert result.error == ErrorCode.MEETING_ENDED and not TranscriptSegment.objects.exists()


def test_first_caption_starts_a_scheduled_meeting_with_a_status_event(company, scope):
    meeting = meeting_make(company=company, status=Meeting.Status.SCHEDULED)
    ingest(company, meeting, caption(1, "Let's begin"))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.ACTIVE and meeting.started_at
    types = list(MeetingEvent.objects.filter(meeting=meeting).order_by("event_id").values_list("type", flat=True))
    assert types == ["status", "transcript"]


def test_event_ids_are_dense_and_match_the_meeting_counter(company, meeting):
    for i in range(1, 6):
        ingest(company, meeting, caption(i, f"line {i}"))
    meeting.refresh_from_db()
    ids = list(MeetingEvent.objects.filter(meeting=meeting).order_by("event_id").values_list("event_id", flat=True))
    assert ids == [1, 2, 3, 4, 5] and meeting.last_event_id == 5
    assert [e.event_id for e in events_since(company=company, meeting=meeting, after_event_id=2)] == [3, 4, 5]
    assert [e.event_id for e in events_since(company=company, meeting=meeting, after_event_id=1,
                                             until_event_id=3)] == [2, 3]


def test_event_ids_survive_a_stale_meeting_save(company, meeting):
    stale = Meeting.objects.get(pk=meeting.pk)
    ingest(company, meeting, caption(1, "one"))
    stale.save()  # writes last_event_id=0 back
    event = event_emit(meeting=meeting, type="status", payload={"kind": "meeting", "meeting_status": "active"})
    assert event.event_id == 2


def test_participants_speaking_time_and_turns(company, meeting):
    ingest(company, meeting, caption(1, "one two three four five six seven eight nine ten", speaker="Dana",
                                     start=0.0, end=4.0))
    ingest(company, meeting, caption(2, "and more", speaker="Dana", start=4.0, end=5.0))
    ingest(company, meeting, caption(3, "my turn now", speaker="Sam", start=6.0, end=7.5))
    dana, sam = Participant.objects.get(name="Dana"), Participant.objects.get(name="Sam")
    assert dana.speaking_seconds == pytest.approx(5.0) and sam.speaking_seconds == pytest.approx(1.5)
    kinds = list(AnalyticsEvent.objects.filter(meeting=meeting).order_by("pk")
                 .values_list("kind", "participant__name", "offset_seconds"))
    assert kinds == [("speak_start", "Dana", 0.0), ("speak_end", "Dana", 5.0), ("speak_start", "Sam", 6.0)]


def test_you_is_the_connection_owner(company, meeting, admin):
    ingest(company, meeting, caption(1, "I'll send it", speaker="You"), self_name="Alice Admin", user=admin.user)
    segment = TranscriptSegment.objects.get(meeting=meeting)
    assert segment.speaker_label == "Alice Admin" and segment.participant.user == admin.user


def test_timestamps_in_seconds_millis_iso_and_offsets(company, meeting):
    started = meeting.started_at
    at = started + timedelta(seconds=42)
    for seq, stamp in enumerate([at.timestamp(), at.timestamp() * 1000, at.isoformat()], start=1):
        result = ingest(company, meeting, caption(seq, f"stamp {seq}", timestamp=stamp))
        assert TranscriptSegment.objects.get(pk=result.segment_id).start_time == pytest.approx(42, abs=0.01)
    assert parse_timestamp(12.5) == 12.5 and parse_timestamp("nonsense") is None


def test_content_key_normalises_case_punctuation_and_space():
    assert content_key("Dana", "Our price is $50.") == content_key(" dana ", "our  price is $50")
    assert content_key("Dana", "yes") != content_key("Sam", "yes")


def test_session_end_finalises_interims_and_is_idempotent(company, meeting):
    ingest(company, meeting, caption(1, "half a sente", is_final=False))
    session_end(company=company, meeting=meeting)
    session_end(company=company, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.ENDED
    assert TranscriptSegment.objects.get(meeting=meeting).is_final
    statuses = [e.payload["meeting_status"] for e in MeetingEvent.objects.filter(meeting=meeting, type="status")]
    assert statuses == ["ended"]
    status = session_status(company=company, meeting=meeting)
    assert status["status"] == "ended" and status["counts"]["segments"] == 1
    assert status["last_event_id"] == meeting.last_event_id


def test_session_start_refuses_an_ended_meeting(company, scope):
    from meetpilot.errors import Conflict

    meeting = meeting_make(company=company, status=Meeting.Status.ENDED, started_at=timezone.now())
    with pytest.raises(Conflict) as exc:  # a domain error; the API answers it with 409
        session_start(company=company, meeting=meeting)
    assert exc.value.code == "meeting_ended"
