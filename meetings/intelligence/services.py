"""Writes for report runs. The after-meeting pipeline itself is in ``pipeline``, meeting indexing in
``indexing`` and chat in ``chat``."""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.models import Company
from meetings.models import Meeting, MeetingReport
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)
REPORT_TASK = "intelligence.meeting_report_generate"


# --- report runs -----------------------------------------------------------------------------------


def report_for_update(meeting: Meeting) -> MeetingReport:
    """The meeting's report row, created when missing and locked for this transaction."""
    report, _ = MeetingReport.objects.get_or_create(meeting=meeting, defaults={"company_id": meeting.company_id})
    return MeetingReport.objects.select_for_update().get(pk=report.pk)


def report_mark(*, meeting: Meeting, status: str, error: str = "") -> MeetingReport:
    with transaction.atomic():
        report = report_for_update(meeting)
        report.status = status
        report.error = error[:2000]
        report.save(update_fields=["status", "error", "updated_at"])
    return report



def report_request(*, company: Company, meeting: Meeting, provider: str = "") -> MeetingReport:
    """Queue the after-meeting analysis of ``meeting`` (after commit). Safe to call repeatedly."""
    assert meeting.company_id == company.pk
    report = report_mark(meeting=meeting, status="pending")
    company_id, meeting_id = company.pk, meeting.pk

    def send() -> None:
        try:
            task_send(REPORT_TASK, company_id=company_id, meeting_id=meeting_id, provider=provider)
        except Exception:  # broker down: the report stays pending and the button can queue it again
            logger.exception("could not queue the report of meeting %s", meeting_id)

    transaction.on_commit(send)
    return report


def report_enqueue(*, company_id: int, meeting_id: int) -> None:
    """Queue the after-meeting pipeline after commit, without touching the database (signal receivers)."""
    def send() -> None:
        try:
            task_send(REPORT_TASK, company_id=company_id, meeting_id=meeting_id)
        except Exception:  # never break the end of a meeting; the report can be queued from its page
            logger.exception("could not queue the report of meeting %s", meeting_id)

    transaction.on_commit(send)
