"""Demo data for meetings: one finished sales call with its transcript and after-meeting report.

``manage.py seed_demo --with-data`` (run by ``make run`` on every start) sends
``accounts.signals.seed_demo_data``; ``MeetingsConfig.ready`` connects ``on_seed_demo_data`` to it.
Idempotent: the call is found again by its calendar event id, so a second run adds nothing. The
report is written in the command itself (local analysis, no worker or LLM needed) so the dashboard
shows it as soon as the server is up; a report that is missing or failed is written again.

Tenancy: a documented bypass (see ``accounts/tenancy.py``). The receiver runs inside the
``seed_demo`` management command, where no request or task has switched a scope on, so the seed
function enters ``tenant_scope(company)`` itself for the one company it was handed.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from accounts.tenancy import tenant_scope
from meetings import selectors, services
from meetings.models import ActionItem, Decision, Meeting, TranscriptSegment
from meetings.speech.types import SttSegment

logger = logging.getLogger(__name__)

DEMO_DATA = Path(__file__).resolve().parent / "demo_data" / "sales_call.json"
# The natural key of the demo call inside the demo company.
DEMO_CALENDAR_EVENT_ID = "meetpilot-demo:sales-call"
# Local analysis: fast, offline and the same on every machine; "Regenerate" can use an LLM later.
DEMO_REPORT_PROVIDER = "local"


def on_seed_demo_data(sender: object, *, company: Company, admin: User, **kwargs: Any) -> None:
    demo_meeting_seed(company=company, admin=admin)


def _demo_start(length_seconds: float) -> datetime:
    """Two hours ago, on the quarter hour, so that the call counts as this week's; early on a Monday (site time
    zone) that would be last week, so it starts at the week's first moment instead, if it has ended by now."""
    now = timezone.now()
    moment = now - timedelta(hours=2)
    moment = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    from meetings.intelligence.analytics import week_start_moment

    week_start = week_start_moment()
    if moment < week_start:
        moment = min(week_start, now - timedelta(seconds=length_seconds))
    return moment


def _find(company: Company) -> Meeting | None:
    return Meeting.objects.for_company(company).filter(calendar_event_id=DEMO_CALENDAR_EVENT_ID).first()


def demo_meeting_seed(*, company: Company, admin: User, data_file: Path = DEMO_DATA) -> Meeting:
    """The demo sales call of ``company`` (created once), with segments, participants and a report."""
    with tenant_scope(company):
        with transaction.atomic():
            # Two seeds at once must not both create the call.
            Company.objects.select_for_update().filter(pk=company.pk).first()
            meeting = _find(company)
            if meeting is None:
                meeting = _meeting_create(company=company, admin=admin,
                                          data=json.loads(data_file.read_text(encoding="utf-8")))
        report = selectors.meeting_report_get(company=company, meeting=meeting)
        if report is None or report.status != "done":
            _report_write(company=company, meeting=meeting)
    return meeting


def _meeting_create(*, company: Company, admin: User, data: dict[str, Any]) -> Meeting:
    meeting = services.meeting_create(
        company=company, created_by=admin, title=data["title"], kind=data.get("kind", Meeting.Kind.SALES),
        platform=data.get("platform", Meeting.Platform.OTHER), language=data.get("language", ""),
        calendar_event_id=DEMO_CALENDAR_EVENT_ID,
    )
    for person in data.get("participants", []):
        services.participant_create(
            company=company, meeting=meeting, name=person["name"], role=person.get("role", "unknown"),
            email=person.get("email", "").replace("{domain}", company.email_domain or "example.com"),
            user_id=admin.pk if person.get("is_demo_admin") else None, speaker_label=person["name"],
        )
    segments = [SttSegment(start=float(u["start"]), end=float(u["end"]), text=u["text"], speaker=u["speaker"])
                for u in data["utterances"]]
    from meetings.uploads.services import segments_store

    # segments_store ends the meeting at started_at + the transcript's length.
    meeting.started_at = _demo_start(max(s.end for s in segments))
    segments_store(company=company, meeting=meeting, segments=segments, source=TranscriptSegment.Source.IMPORT)
    return meeting


def _review_as_the_admin(*, company: Company, meeting: Meeting) -> None:
    """The demo call is one its admin already went through: the findings are confirmed, so the dashboard shows
    open work; a new meeting's low-confidence findings stay suggestions until somebody confirms them."""
    for item in ActionItem.objects.for_company(company).filter(meeting=meeting, review=ActionItem.Review.SUGGESTED):
        services.action_item_review(company=company, action_item=item, review=ActionItem.Review.CONFIRMED)
    for decision in Decision.objects.for_company(company).filter(meeting=meeting, review=ActionItem.Review.SUGGESTED):
        services.decision_review(company=company, decision=decision, review=ActionItem.Review.CONFIRMED)


def _report_write(*, company: Company, meeting: Meeting) -> None:
    """The after-meeting report, action items and decisions, and the call made searchable."""
    from meetings.intelligence import pipeline
    from meetings.intelligence.services import report_request

    try:
        pipeline.report_generate(company=company, meeting=meeting, provider=DEMO_REPORT_PROVIDER)  # indexes too
        _review_as_the_admin(company=company, meeting=meeting)
    except Exception:
        # Never stop the server from starting over demo data: leave the report to the worker.
        logger.exception("writing the demo meeting's report failed; queued for the worker")
        report_request(company=company, meeting=meeting, provider=DEMO_REPORT_PROVIDER)
