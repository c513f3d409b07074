"""The live session of a meeting, shared by the WebSocket consumer and the REST control endpoints.

Start, end and status; a connection's hello (who joins, where its replay starts) and leaving;
captions and asks under the company's rate limit; the replay of the event log. Services raise
``meetpilot.errors`` domain errors; the interfaces map them (HTTP status, ``error`` frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Company, User
from meetings import services as meeting_services
from meetings.live import presence, ratelimit
from meetings.live.events import event_emit, events_since, lock_meeting
from meetings.live.ingest import IngestResult, caption_ingest, participant_for, segment_finalised
from meetings.live.payloads import event_frame, status_payload, transcript_payload
from meetings.live.pipeline import analysis_resume, ask_enqueue
from meetings.live.protocol import CaptionIn
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Decision,
    FactCheck,
    Meeting,
    Participant,
    Suggestion,
    TranscriptSegment,
)
from meetpilot.errors import Conflict, RateLimited

ASK_COST = 5  # an ask costs the company's bucket as much as five captions: it may reach an LLM


def session_start(*, company: Company, meeting: Meeting) -> Meeting:
    """Make the meeting live (idempotent). An ended meeting stays ended (409)."""
    assert meeting.company_id == company.pk
    with transaction.atomic():
        status, _ = lock_meeting(meeting.pk)
        meeting.refresh_from_db(fields=["status", "started_at", "ended_at", "last_event_id"])
        if status == Meeting.Status.ENDED:
            raise Conflict("This meeting has ended.", code="meeting_ended")
        if status != Meeting.Status.ACTIVE:
            meeting_services.meeting_start(company=company, meeting=meeting)
            event_emit(meeting=meeting, type="status", payload=status_payload(meeting))
    return meeting


def session_end(*, company: Company, meeting: Meeting) -> Meeting:
    """End the meeting (idempotent): interims left by clients become final and are analysed."""
    assert meeting.company_id == company.pk
    with transaction.atomic():
        status, _ = lock_meeting(meeting.pk)
        meeting.refresh_from_db(fields=["status", "started_at", "ended_at", "last_event_id"])
        if status == Meeting.Status.ENDED:
            return meeting
        for segment in (TranscriptSegment.objects.select_related("participant")
                        .filter(meeting=meeting, is_final=False).order_by("sequence")):
            segment.is_final = True
            segment.save(update_fields=["is_final", "updated_at"])
            segment_finalised(meeting=meeting, segment=segment)
            # Connected pages (and the replay log) must see the caption turn final, or they keep
            # showing it as still being typed.
            event_emit(meeting=meeting, type="transcript", payload=transcript_payload(segment, update=True))
        last = (TranscriptSegment.objects.filter(meeting=meeting, is_final=True).order_by("-sequence").first())
        if last is not None and last.participant_id:
            AnalyticsEvent.objects.create(company_id=company.pk, meeting=meeting, participant_id=last.participant_id,
                                          kind=AnalyticsEvent.Kind.SPEAK_END, at=timezone.now(),
                                          offset_seconds=last.end_time, data={"segment_id": last.pk})
        meeting_services.meeting_end(company=company, meeting=meeting)
        event_emit(meeting=meeting, type="status", payload=status_payload(meeting))
    return meeting


def session_status(*, company: Company, meeting: Meeting) -> dict[str, Any]:
    """Status, counts, last event id and (when known) the connected clients."""
    assert meeting.company_id == company.pk
    meeting.refresh_from_db(fields=["status", "started_at", "ended_at", "last_event_id"])
    segments = dict(TranscriptSegment.objects.filter(meeting=meeting).values_list("is_final")
                    .annotate(n=Count("pk")).order_by().values_list("is_final", "n"))
    suggestions = dict(Suggestion.objects.filter(meeting=meeting).values_list("kind").annotate(n=Count("pk"))
                       .order_by().values_list("kind", "n"))
    try:
        clients: list[dict[str, Any]] | None = presence.presence_list(meeting_id=meeting.pk)
    except Exception:
        clients = None
    return {
        "meeting_id": meeting.pk,
        "status": meeting.status,
        "started_at": meeting.started_at,
        "ended_at": meeting.ended_at,
        "last_event_id": meeting.last_event_id,
        "counts": {
            "segments": segments.get(True, 0),
            "interim_segments": segments.get(False, 0),
            "participants": Participant.objects.filter(meeting=meeting).count(),
            "action_items": ActionItem.objects.filter(meeting=meeting).count(),
            "decisions": Decision.objects.filter(meeting=meeting).count(),
            "fact_checks": FactCheck.objects.filter(meeting=meeting).count(),
            "suggestions": suggestions.get(Suggestion.Kind.SUGGESTION, 0),
            "answers": suggestions.get(Suggestion.Kind.ANSWER, 0),
        },
        "connected_clients": clients,
    }


def connection_joined(*, company: Company, meeting: Meeting, name: str, email: str = "",
                      user: User | None = None) -> int:
    """A client that says who is behind it joined: its participant row and a ``join`` analytics event."""
    assert meeting.company_id == company.pk
    with transaction.atomic():
        lock_meeting(meeting.pk)
        participant = participant_for(meeting=meeting, name=name, user=user, email=email)
        assert participant is not None
        participant.joined_at = participant.joined_at or timezone.now()
        participant.left_at = None
        participant.save(update_fields=["joined_at", "left_at"])
        AnalyticsEvent.objects.create(company_id=company.pk, meeting=meeting, participant=participant,
                                      kind=AnalyticsEvent.Kind.JOIN, at=timezone.now(),
                                      data={"user_id": user.pk if user else None})
    return participant.pk


def connection_left(*, company: Company, meeting: Meeting, participant_id: int) -> None:
    assert meeting.company_id == company.pk
    now = timezone.now()
    Participant.objects.filter(meeting=meeting, pk=participant_id).update(left_at=now)
    AnalyticsEvent.objects.create(company_id=company.pk, meeting=meeting, participant_id=participant_id,
                                  kind=AnalyticsEvent.Kind.LEAVE, at=now, data={})



# --- a connection's hello, its captions and asks, and replay -------------------------------------


@dataclass(frozen=True)
class Hello:
    meeting: Meeting  # fresh from the database
    participant_id: int | None  # who the client said it is, when it did
    replay_from: int  # replay the events after this id


def session_hello(*, company: Company, meeting: Meeting, user: User | None, participant_name: str = "",
                  participant_email: str = "", last_event_id: int | None = None) -> Hello:
    """A client said hello: record who joined, and where its event stream resumes.

    The resume point is never beyond the log, or the events written after it would be skipped."""
    assert meeting.company_id == company.pk
    participant_id = None
    if participant_name:
        participant_id = connection_joined(company=company, meeting=meeting, name=participant_name,
                                           email=participant_email, user=user)
    meeting.refresh_from_db()
    analysis_resume(company_id=company.pk, meeting_id=meeting.pk)  # whatever a crashed process left owed
    replay_from = meeting.last_event_id
    if last_event_id is not None:
        replay_from = min(last_event_id, meeting.last_event_id)
    return Hello(meeting=meeting, participant_id=participant_id, replay_from=replay_from)


def rate_take(*, company: Company, cost: float = 1.0, message: str = "Too many requests; retry later.") -> None:
    """Take ``cost`` from the company's shared bucket (all its connections and requests), or raise RateLimited."""
    allowed, wait = ratelimit.company_take(company.pk, cost=cost)
    if not allowed:
        raise RateLimited(message, retry_after=float(wait))


def caption_submit(*, company: Company, meeting: Meeting, client_id: str, caption: CaptionIn,
                   self_name: str | None = None, user: User | None = None) -> IngestResult:
    """One caption from a connection: the company's bucket first, then ``caption_ingest``."""
    rate_take(company=company, message="Your company is sending too many captions; resend from this sequence.")
    return caption_ingest(company=company, meeting=meeting, client_id=client_id, caption=caption,
                          self_name=self_name, user=user)


def captions_submit(*, company: Company, meeting: Meeting, client_id: str, captions: list[CaptionIn],
                    self_name: str | None = None, user: User | None = None) -> list[IngestResult]:
    """A batch of captions (REST): the bucket pays for the whole batch at once."""
    rate_take(company=company, cost=len(captions), message="Too many captions; retry later.")
    return [caption_ingest(company=company, meeting=meeting, client_id=client_id, caption=caption,
                           self_name=self_name, user=user) for caption in captions]


def ask_submit(*, company: Company, meeting: Meeting, user: User | None, question: str, ask_id: str | None,
               participant_id: int | None = None) -> None:
    """Queue a question for the knowledge base; its answer arrives as an ``answer`` event."""
    assert meeting.company_id == company.pk
    rate_take(company=company, cost=ASK_COST, message="Too many questions; try again shortly.")
    ask_enqueue(company_id=company.pk, meeting_id=meeting.pk, question=question, ask_id=ask_id,
                user_id=user.pk if user else None, participant_id=participant_id)


def replay_cursor(*, company: Company, meeting: Meeting, after: int | None) -> int:
    """Where a stream starts: after event ``after`` (never beyond the log), or from now on when None."""
    assert meeting.company_id == company.pk
    meeting.refresh_from_db(fields=["last_event_id"])
    return meeting.last_event_id if after is None else min(after, meeting.last_event_id)


def events_replay(*, company: Company, meeting: Meeting, after_event_id: int, limit: int,
                  until_event_id: int | None = None) -> list[dict[str, Any]]:
    """The frames of the logged events after ``after_event_id`` (up to ``until_event_id``), oldest first."""
    events = events_since(company=company, meeting=meeting, after_event_id=after_event_id, limit=limit,
                          until_event_id=until_event_id)
    return [event_frame(event) for event in events]
