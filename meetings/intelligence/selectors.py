"""Reads for reports. The company always comes first."""

from __future__ import annotations

from django.db.models import QuerySet

from meetings.models import Meeting, MeetingReport, TranscriptSegment

# --- reports -----------------------------------------------------------------------------------


def meeting_find(*, company_id: int, meeting_id: int) -> Meeting | None:
    """For tasks: the meeting, or None when it is gone (the task then exits quietly)."""
    return Meeting.objects.for_company(company_id).filter(pk=meeting_id).first()


def report_get(*, meeting: Meeting) -> MeetingReport | None:
    return MeetingReport.objects.for_company(meeting.company_id).filter(meeting=meeting).first()


def segments_final(*, meeting: Meeting) -> QuerySet[TranscriptSegment]:
    return (TranscriptSegment.objects.for_company(meeting.company_id)
            .filter(meeting=meeting, is_final=True).select_related("participant").order_by("start_time", "sequence"))
