"""Factories for meeting data. Every argument is a keyword with a default, so a test names only
what it cares about: ``segment_make(meeting=m, text="Q3 revenue was $18.7M")``.

They work inside or outside a tenant scope (each enters the owning company's scope itself).
A child object takes its company from its parent; with no parent a fresh company is made.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from accounts.models import Company, User
from accounts.tenancy import tenant_scope
from meetings.models import (
    ActionItem,
    Decision,
    FactCheck,
    Meeting,
    MeetingReport,
    Participant,
    Suggestion,
    TranscriptSegment,
)
from tests import factories as base

_seq = itertools.count(1)


def meeting_make(
    *,
    company: Company | None = None,
    title: str | None = None,
    status: str = Meeting.Status.SCHEDULED,
    platform: str = Meeting.Platform.GOOGLE_MEET,
    kind: str = Meeting.Kind.INTERNAL,
    language: str = "",
    meeting_url: str = "",
    created_by: User | None = None,
    scheduled_start: datetime | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    created_at: datetime | None = None,
) -> Meeting:
    """A meeting; ``status`` active/ended fills in plausible start/end times unless given."""
    company = company or base.company_make()
    now = timezone.now()
    if status in (Meeting.Status.ACTIVE, Meeting.Status.ENDED) and started_at is None:
        started_at = now - timedelta(minutes=30)
    if status == Meeting.Status.ENDED and ended_at is None:
        ended_at = (started_at or now) + timedelta(minutes=25)
    with tenant_scope(company):
        meeting = Meeting.objects.create(
            company=company, title=title or f"Meeting {next(_seq)}", status=status, platform=platform, kind=kind,
            language=language, meeting_url=meeting_url, created_by=created_by, scheduled_start=scheduled_start,
            started_at=started_at, ended_at=ended_at,
        )
        if created_at is not None:  # auto_now_add ignores a value given to create()
            Meeting.objects.filter(pk=meeting.pk).update(created_at=created_at)
            meeting.created_at = created_at
    return meeting


def participant_make(
    *,
    meeting: Meeting | None = None,
    name: str | None = None,
    email: str = "",
    user: User | None = None,
    role: str = Participant.Role.UNKNOWN,
    speaker_label: str = "",
    speaking_seconds: float = 0,
) -> Participant:
    meeting = meeting or meeting_make()
    with tenant_scope(meeting.company_id):
        return Participant.objects.create(
            company_id=meeting.company_id, meeting=meeting, name=name or f"Person {next(_seq)}", email=email,
            user=user, role=role, speaker_label=speaker_label, speaking_seconds=speaking_seconds,
        )


def segment_make(
    *,
    meeting: Meeting | None = None,
    text: str | None = None,
    speaker_label: str = "Speaker 1",
    participant: Participant | None = None,
    start_time: float | None = None,
    end_time: float | None = None,
    sequence: int | None = None,
    is_final: bool = True,
    confidence: float | None = None,
    source: str = TranscriptSegment.Source.CAPTION,
    client_id: str = "",
    client_sequence: int | None = None,
) -> TranscriptSegment:
    """A transcript line; ``sequence`` and times continue after the meeting's last segment."""
    meeting = meeting or (participant.meeting if participant else meeting_make())
    with tenant_scope(meeting.company_id):
        last = TranscriptSegment.objects.filter(meeting=meeting).aggregate(seq=Max("sequence"), end=Max("end_time"))
        if sequence is None:
            sequence = (last["seq"] or 0) + 1
        if start_time is None:
            start_time = float(last["end"] or 0.0)
        if end_time is None:
            end_time = start_time + 3.0
        return TranscriptSegment.objects.create(
            company_id=meeting.company_id, meeting=meeting, sequence=sequence, text=text or f"Line {sequence}.",
            speaker_label=participant.name if participant and speaker_label == "Speaker 1" else speaker_label,
            participant=participant, start_time=start_time, end_time=end_time, is_final=is_final,
            confidence=confidence, source=source, client_id=client_id, client_sequence=client_sequence,
        )


def action_item_make(
    *,
    meeting: Meeting | None = None,
    description: str | None = None,
    assignee_user: User | None = None,
    assignee_participant: Participant | None = None,
    assignee_name: str = "",
    due_date: date | None = None,
    priority: str = ActionItem.Priority.MEDIUM,
    status: str = ActionItem.Status.PENDING,
    origin: str = ActionItem.Origin.LIVE,
    confidence: float = 0.9,
    provider: str = "local",
    dedupe_key: str = "",
    edited_fields: list[str] | None = None,
    source_segment: TranscriptSegment | None = None,
) -> ActionItem:
    meeting = meeting or meeting_make()
    with tenant_scope(meeting.company_id):
        return ActionItem.objects.create(
            company_id=meeting.company_id, meeting=meeting, description=description or f"Task {next(_seq)}",
            assignee_user=assignee_user, assignee_participant=assignee_participant, assignee_name=assignee_name,
            due_date=due_date, priority=priority, status=status, origin=origin, confidence=confidence,
            provider=provider, dedupe_key=dedupe_key, edited_fields=list(edited_fields or []),
            source_segment=source_segment,
        )


def decision_make(
    *,
    meeting: Meeting | None = None,
    text: str | None = None,
    confidence: float = 0.9,
    origin: str = ActionItem.Origin.LIVE,
    provider: str = "local",
    source_segments: list[TranscriptSegment] | None = None,
) -> Decision:
    meeting = meeting or meeting_make()
    with tenant_scope(meeting.company_id):
        decision = Decision.objects.create(
            company_id=meeting.company_id, meeting=meeting, text=text or f"Decision {next(_seq)}",
            confidence=confidence, origin=origin, provider=provider,
        )
        if source_segments:
            decision.source_segments.set(source_segments)
    return decision


def fact_check_make(
    *,
    meeting: Meeting | None = None,
    claim: str = "Q3 revenue was $20 million",
    claimed_value: str = "$20 million",
    verdict: str = FactCheck.Verdict.INCORRECT,
    corrected_value: str = "$18.7 million",
    confidence: float = 0.9,
    source: dict[str, Any] | None = None,
    segment: TranscriptSegment | None = None,
    provider: str = "local",
) -> FactCheck:
    meeting = meeting or (segment.meeting if segment else meeting_make())
    with tenant_scope(meeting.company_id):
        return FactCheck.objects.create(
            company_id=meeting.company_id, meeting=meeting, segment=segment, claim=claim,
            claimed_value=claimed_value, verdict=verdict, corrected_value=corrected_value, confidence=confidence,
            source=source if source is not None else {"title": "Q3 report", "page": 2,
                                                      "snippet": "Revenue for Q3 was $18.7 million."},
            provider=provider,
        )


def suggestion_make(
    *,
    meeting: Meeting | None = None,
    question: str = "What does the enterprise plan cost?",
    answer: str = "The enterprise plan is $40 per seat per month.",
    kind: str = Suggestion.Kind.SUGGESTION,
    sources: list[Any] | None = None,
    confidence: str = "high",
    latency_ms: float | None = 850.0,
    segment: TranscriptSegment | None = None,
    asked_by: User | None = None,
    provider: str = "local",
) -> Suggestion:
    meeting = meeting or (segment.meeting if segment else meeting_make())
    with tenant_scope(meeting.company_id):
        return Suggestion.objects.create(
            company_id=meeting.company_id, meeting=meeting, segment=segment, kind=kind, question=question,
            answer=answer, sources=sources if sources is not None else [{"title": "Pricing", "page": 1}],
            confidence=confidence, latency_ms=latency_ms, asked_by=asked_by, provider=provider,
        )


def report_make(
    *,
    meeting: Meeting | None = None,
    short_summary: str = "The team agreed on the Q4 plan.",
    status: str = "done",
    **fields: Any,
) -> MeetingReport:
    meeting = meeting or meeting_make(status=Meeting.Status.ENDED)
    with tenant_scope(meeting.company_id):
        return MeetingReport.objects.create(company_id=meeting.company_id, meeting=meeting,
                                            short_summary=short_summary, status=status, **fields)
