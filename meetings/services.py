"""Writes for meetings."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Company
from meetings.models import Meeting
from meetings.signals import transcript_completed


def meeting_start(*, company: Company, meeting: Meeting) -> Meeting:
    """Mark a meeting active (idempotent)."""
    assert meeting.company_id == company.pk
    if meeting.status != Meeting.Status.ACTIVE:
        meeting.status = Meeting.Status.ACTIVE
        meeting.started_at = meeting.started_at or timezone.now()
        meeting.save(update_fields=["status", "started_at", "updated_at"])
    return meeting


@transaction.atomic
def meeting_end(*, company: Company, meeting: Meeting) -> Meeting:
    """Mark a meeting ended (idempotent)."""
    assert meeting.company_id == company.pk
    if meeting.status != Meeting.Status.ENDED:
        meeting.status = Meeting.Status.ENDED
        meeting.started_at = meeting.started_at or timezone.now()
        meeting.ended_at = timezone.now()
        meeting.save(update_fields=["status", "started_at", "ended_at", "updated_at"])
        transaction.on_commit(
            lambda: transcript_completed.send(sender=Meeting, company_id=company.pk, meeting_id=meeting.pk)
        )
    return meeting
