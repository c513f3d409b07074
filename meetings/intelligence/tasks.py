"""Celery tasks of the after-meeting pipeline: thin wrappers that take ids and call one service.

Both tasks are idempotent (the report and the chunks are replaced, action items merge), so
``acks_late`` is safe: a run redelivered after a worker crash does the work again.
"""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.tenancy import TenantTask
from meetings.intelligence import selectors
from meetpilot.tasks import retry_policy

logger = logging.getLogger(__name__)

# Transient failures are retried; provider failures never get here (they fall back to local).
_RETRY = retry_policy()


@shared_task(bind=True, base=TenantTask, name="intelligence.meeting_report_generate", **_RETRY)
def meeting_report_generate(self, *, company_id: int, meeting_id: int, provider: str = "") -> str | None:
    from meetings.intelligence import pipeline  # the analysis stack loads on first use, not at worker boot

    meeting = selectors.meeting_find(company_id=company_id, meeting_id=meeting_id)
    if meeting is None:
        return None
    try:
        # Indexes the meeting for search before the report says done.
        report = pipeline.report_generate(company=meeting.company, meeting=meeting, provider=provider)
    except Exception:
        meeting_index.delay(company_id=company_id, meeting_id=meeting_id)  # searchable even if analysis failed
        raise
    return report.status


@shared_task(bind=True, base=TenantTask, name="intelligence.meeting_index", **_RETRY)
def meeting_index(self, *, company_id: int, meeting_id: int) -> dict[str, int] | None:
    from meetings.intelligence import indexing

    meeting = selectors.meeting_find(company_id=company_id, meeting_id=meeting_id)
    if meeting is None:
        return None
    return indexing.meeting_index(company=meeting.company, meeting=meeting)
