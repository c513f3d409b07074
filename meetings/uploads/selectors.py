"""Reads for uploads: the company always comes first; a foreign id is a 404 like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Company
from meetings.models import Meeting, ProcessingJob, TranscriptSegment


def processing_get(*, company: Company, meeting_id: int) -> ProcessingJob:
    return get_object_or_404(ProcessingJob.objects.for_company(company).select_related("meeting"),
                             meeting_id=meeting_id)


def processing_recent(*, company: Company, limit: int = 10) -> QuerySet[ProcessingJob]:
    return ProcessingJob.objects.for_company(company).select_related("meeting").order_by("-created_at")[:limit]


def upload_meeting_get(*, company: Company, meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.for_company(company), pk=meeting_id)


def speaker_names(*, company: Company, meeting: Meeting) -> list[str]:
    names = (TranscriptSegment.objects.for_company(company).filter(meeting=meeting).order_by("sequence")
             .values_list("speaker_label", flat=True))
    return list(dict.fromkeys(names))


def segment_count(*, company: Company, meeting: Meeting) -> int:
    return TranscriptSegment.objects.for_company(company).filter(meeting=meeting).count()


def segment_list(*, company: Company, meeting: Meeting, limit: int = 500):
    return TranscriptSegment.objects.for_company(company).filter(meeting=meeting).order_by("sequence")[:limit]
