"""The live session of a meeting: start, end, status, and who joins and leaves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Company, User
from meetings import services as meeting_services
from meetings.live import presence
from meetings.live.events import event_emit, lock_meeting
from meetings.live.ingest import participant_for, status_payload
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
from meetpilot.apikit import ApiError


def session_start(*, company: Company, meeting: Meeting) -> Meeting:
    """Make the meeting live (idempotent). An ended meeting stays ended (409)."""
    assert meeting.company_id == company.pk
    with transaction.atomic():
        status, _ = lock_meeting(meeting.pk)
        meeting.refresh_from_db(fields=["status", "started_at", "ended_at", "last_event_id"])
        if status == Meeting.Status.ENDED:
            raise ApiError(409, "meeting_ended", "This meeting has ended.")
        if status != Meeting.Status.ACTIVE:
            meeting_services.meeting_start(company=company, meeting=meeting)
            event_emit(meeting=meeting, type="status", payload=status_payload(meeting))
    return meeting


def session_end(*, company: Company, meeting: Meeting) -> Meeting:
    """End the meeting (idempotent): interims left by clients become final and are analysed."""
    assert meeting.company_id == company.pk
    from meetings.live.ingest import segment_finalised, transcript_payload

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

