"""After a meeting's report is ready: its notes to the company's Slack channel, and each participant who is a
member their own action items by email.

``report.ready`` (``integrations.events``) is received here and only queues the tasks
(``workflows/notify_tasks.py``); the functions below do the work, reading the meeting through the meetings
selectors and sending through the provider packages in ``integrations``. Each message is sent once per
meeting (and person) even if the report is generated again (``integrations.notifications``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.urls import reverse

from accounts.models import Company
from integrations.email.sending import company_email_send, email_settings
from integrations.events import company_event
from integrations.models import Connection, Provider
from integrations.notifications import notification_send_once
from integrations.selectors import connection_get, connection_secrets
from integrations.services import connection_health_record
from integrations.slack import slack_send
from integrations.slack.blocks import ActionLine, report_blocks
from integrations.spec import ProviderError
from meetings import selectors as meetings
from meetings.intelligence.selectors import meeting_find, report_get
from meetings.models import ActionItem, Meeting
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)

SLACK_TASK = "workflows.report_slack_post"
EMAIL_TASK = "workflows.report_action_items_email"


def on_company_event(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    if event["type"] == "report.ready":
        meeting_id = event["data"]["meeting_id"]
        task_send(SLACK_TASK, company_id=event["company_id"], meeting_id=meeting_id)
        task_send(EMAIL_TASK, company_id=event["company_id"], meeting_id=meeting_id)


def connect() -> None:
    company_event.connect(on_company_event, dispatch_uid="workflows.notify.report_ready")


def meeting_url(meeting: Meeting) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("meetings:detail", args=[meeting.pk])


def _open_items(company: Company, meeting: Meeting, **filters: Any) -> list[ActionItem]:
    items = meetings.action_item_list(company=company, meeting=meeting, review=ActionItem.Review.CONFIRMED,
                                      **filters)
    return [i for i in items.order_by("due_date", "pk") if i.status in meetings.OPEN_ACTION_ITEM_STATUSES]


def report_slack_message(*, company: Company, meeting: Meeting) -> tuple[str, list[dict[str, Any]]]:
    report = meetings.meeting_report_get(company=company, meeting=meeting)
    decisions = [d.text for d in meetings.decision_list(company=company, meeting=meeting,
                                                        review=ActionItem.Review.CONFIRMED)]
    items = [ActionLine(description=i.description, owner=meetings.action_item_assignee_label(i),
                        due=i.due_date.isoformat() if i.due_date else "") for i in _open_items(company, meeting)]
    return report_blocks(title=meeting.title, url=meeting_url(meeting), summary=report.short_summary if report else "",
                         decisions=decisions, action_items=items)


def _slack_connection(company: Company) -> Connection | None:
    connection = connection_get(company=company, provider=Provider.SLACK)
    return connection if connection is not None and connection.enabled and connection.secret_fields else None


def report_slack_post(*, company: Company, meeting_id: int) -> bool:
    """Post the meeting's notes to Slack once; False when there is no Slack connection or nothing to post.
    Raises ``ProviderError`` (transient ones are worth another try) after recording the failure for admins."""
    connection = _slack_connection(company)
    meeting = meeting_find(company_id=company.pk, meeting_id=meeting_id)
    if connection is None or meeting is None:
        return False
    report = report_get(meeting=meeting)
    if report is None or report.status != "done":
        return False
    text, blocks = report_slack_message(company=company, meeting=meeting)
    secrets = connection_secrets(company=company, connection=connection)
    try:
        sent = notification_send_once(company=company, kind="slack.report", key=str(meeting.pk),
                                      send=lambda: slack_send(connection.config, secrets, text=text, blocks=blocks))
    except ProviderError as exc:
        connection_health_record(company=company, connection=connection, ok=False, error=str(exc))
        raise
    if sent:
        connection_health_record(company=company, connection=connection, ok=True)
    return sent


def report_action_items_email(*, company: Company, meeting_id: int) -> int:
    """Email each participant who is a member of the company their own open action items from the meeting
    (once per meeting and person). Returns how many emails were sent now."""
    meeting = meeting_find(company_id=company.pk, meeting_id=meeting_id)
    if meeting is None or not email_settings(company=company).enabled:
        return 0
    sent = 0
    people = {p.user for p in meetings.participant_list(company=company, meeting=meeting) if p.user_id}
    for user in sorted(people, key=lambda u: u.pk):
        if meetings.company_member_get(company=company, user_id=user.pk) is None or not user.is_active:
            continue
        items = _open_items(company, meeting, assigned_to=user)
        if not items:
            continue
        context = {"user": user, "meeting": meeting, "items": items, "meeting_url": meeting_url(meeting)}
        sent += notification_send_once(
            company=company, kind="email.action_items", key=f"{meeting.pk}:{user.pk}", user=user,
            send=lambda user=user, context=context: company_email_send(
                company=company, to=user.email, template="action_items", context=context,
                subject=f"Your action items from {meeting.title}"))
    return sent
