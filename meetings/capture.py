"""What the transcript does not cover: capture gaps reported by clients, and long silences.

A client (the Chrome extension) reports a stretch it could not capture: captions switched off, a page
whose captions could not be read, nothing read while people talked (``capture_gap_report``, idempotent:
the same gap reported again updates its end). The server adds what it sees itself: a silence in the
transcript of at least ``CAPTURE_SILENCE_SECONDS`` while the meeting ran. ``meeting_coverage_gaps`` joins
both; the meeting page shows them and the report lists them instead of summarising as if complete.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Company
from meetings.models import CaptureGap, Meeting, TranscriptSegment
from meetpilot.errors import Invalid

SILENCE = "silence"
LABELS = {**dict(CaptureGap.Reason.choices), SILENCE: "no captions"}


@transaction.atomic
def capture_gap_report(*, company: Company, meeting: Meeting, client_id: str, reason: str, started_at: datetime,
                       ended_at: datetime | None = None) -> CaptureGap:
    """Record (or extend) a gap a client saw. The only writer of ``CaptureGap``."""
    assert meeting.company_id == company.pk
    if reason not in CaptureGap.Reason.values:
        raise Invalid(f"reason must be one of {', '.join(CaptureGap.Reason.values)}", code="invalid_reason")
    if ended_at is not None and ended_at < started_at:
        raise Invalid("ended_at is before started_at", code="invalid_gap")
    gap, created = CaptureGap.objects.for_company(company).select_for_update().get_or_create(
        company=company, meeting=meeting, client_id=client_id[:64], reason=reason, started_at=started_at,
        defaults={"ended_at": ended_at})
    if not created and ended_at is not None and gap.ended_at != ended_at:
        gap.ended_at = ended_at
        gap.save(update_fields=["ended_at", "updated_at"])
    return gap


def meeting_coverage_gaps(*, company: Company, meeting: Meeting) -> list[dict[str, Any]]:
    """Every stretch the transcript misses, in order: ``{start, end, reason, label, source}``, seconds from
    the meeting's start."""
    assert meeting.company_id == company.pk
    if meeting.started_at is None:
        return []
    until = meeting.ended_at or timezone.now()
    duration = max(0.0, (until - meeting.started_at).total_seconds())
    reported = [_reported(gap, meeting.started_at, duration) for gap in
                CaptureGap.objects.for_company(company).filter(meeting=meeting)]
    # A silence that overlaps a reported gap is that gap (the client knows why), not a second one.
    silences = [s for s in _silences(company, meeting, duration)
                if not any(r["start"] < s["end"] and s["start"] < r["end"] for r in reported)]
    return sorted(reported + silences, key=lambda g: (g["start"], g["end"]))


def capture_gap_view(*, meeting: Meeting, gap: CaptureGap) -> dict[str, Any]:
    """One reported gap as ``meeting_coverage_gaps`` lists it."""
    origin = meeting.started_at or gap.started_at
    until = meeting.ended_at or max(timezone.now(), gap.ended_at or gap.started_at)
    return _reported(gap, origin, max(0.0, (until - origin).total_seconds()))


def _reported(gap: CaptureGap, origin: datetime, duration: float) -> dict[str, Any]:
    start = max(0.0, (gap.started_at - origin).total_seconds())
    end = (gap.ended_at - origin).total_seconds() if gap.ended_at else duration
    return {"start": round(start, 1), "end": round(max(start, min(end, duration)), 1), "reason": gap.reason,
            "label": LABELS[gap.reason], "source": "client"}


def _silences(company: Company, meeting: Meeting, duration: float) -> list[dict[str, Any]]:
    minimum = settings.CAPTURE_SILENCE_SECONDS
    spans = TranscriptSegment.objects.for_company(company).filter(meeting=meeting, is_final=True).order_by(
        "start_time").values_list("start_time", "end_time")
    found, covered = [], 0.0
    for start, end in spans:
        if start - covered >= minimum:
            found.append((covered, start))
        covered = max(covered, end)
    if meeting.status == Meeting.Status.ENDED and duration - covered >= minimum:
        found.append((covered, duration))
    return [{"start": round(a, 1), "end": round(b, 1), "reason": SILENCE, "label": LABELS[SILENCE],
             "source": "server"} for a, b in found]


def gap_text(gap: dict[str, Any], meeting: Meeting) -> str:
    """``"no captions 10:14–10:19 (captions switched off)"`` in the server's time zone."""
    if meeting.started_at is None:
        return gap["label"]
    start = timezone.localtime(meeting.started_at + timedelta(seconds=gap["start"]))
    end = timezone.localtime(meeting.started_at + timedelta(seconds=gap["end"]))
    reason = "" if gap["reason"] == SILENCE else f" ({gap['label']})"
    return f"no captions {start:%H:%M}–{end:%H:%M}{reason}"


def meeting_gap_texts(*, company: Company, meeting: Meeting) -> list[str]:
    return [gap_text(gap, meeting) for gap in meeting_coverage_gaps(company=company, meeting=meeting)]
