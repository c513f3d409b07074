"""Slack: the connection test, and a meeting's notes posted after its report through the real worker."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.db import transaction

from accounts.tenancy import tenant_scope
from integrations import services as connections
from integrations.events import company_event_publish
from integrations.models import Connection, Notification
from meetings.models import ActionItem, Meeting
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack
from tests.meetings.factories import action_item_make, decision_make, meeting_make, report_make

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slack(settings):
    with FakeSlack() as fake:
        settings.SLACK_API_URL = fake.api_url
        settings.SITE_URL = "https://meetpilot.acme.test"
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the fake's incoming webhook is on 127.0.0.1
        yield fake


def _connect(company, admin_user, *, channel="#meetings", token=BOT_TOKEN, webhook_url=None):
    secrets = {"webhook_url": webhook_url} if webhook_url else {"bot_token": token}
    with tenant_scope(company):
        return connections.connection_save(company=company, provider="slack", by_user=admin_user,
                                           config={"channel": channel}, secrets=secrets)


def _meeting_with_report(company, member_user):
    meeting = meeting_make(company=company, title="Q4 planning <!channel>", status=Meeting.Status.ENDED)
    report_make(meeting=meeting, short_summary="We agreed on the Q4 roadmap and the hiring plan.")
    decision_make(meeting=meeting, text="Ship the mobile app in November")
    action_item_make(meeting=meeting, description="Draft the hiring plan", assignee_user=member_user,
                     due_date=date(2031, 11, 3))
    action_item_make(meeting=meeting, description="Book the offsite", assignee_name="Dana")
    action_item_make(meeting=meeting, description="Old thing", status=ActionItem.Status.DONE)
    return meeting


def _publish_report_ready(company_id, meeting_id):
    with transaction.atomic():
        company_event_publish(company_id=company_id, type="report.ready", data={"meeting_id": meeting_id, "title": "x",
                                                                               "report_id": 1})


def _text(blocks):
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks)


def test_the_report_is_posted_with_blocks_once(celery_worker, slack, company, admin, member):
    _connect(company, admin.user)
    meeting = _meeting_with_report(company, member.user)
    _publish_report_ready(company.pk, meeting.pk)
    [message] = slack.wait_for_messages(1)
    assert message["channel"] == "#meetings"
    text = _text(message["blocks"])
    assert message["blocks"][0]["type"] == "header" and "Q4 planning &lt;!channel&gt;" in text  # no channel ping
    assert "We agreed on the Q4 roadmap" in text and "Ship the mobile app in November" in text
    assert f"Draft the hiring plan — *{member.user.display_name}* (due 2031-11-03)" in text
    assert "Book the offsite — *Dana*" in text and "Old thing" not in text
    button = message["blocks"][-1]["elements"][0]
    assert button["url"] == f"https://meetpilot.acme.test/meetings/{meeting.pk}/"
    _publish_report_ready(company.pk, meeting.pk)  # the report regenerated: not posted again
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and len(slack.requests) < 2:
        time.sleep(0.1)
    assert len(slack.messages) == 1
    with tenant_scope(company):
        assert Notification.objects.filter(kind="slack.report", key=str(meeting.pk)).count() == 1
        assert Connection.objects.get(provider="slack").health == "ok"


def test_429_with_retry_after_is_waited_out_then_posted(celery_worker, slack, company, admin, member):
    _connect(company, admin.user, webhook_url=slack.webhook_url)
    meeting = _meeting_with_report(company, member.user)
    slack.rate_limit_next(1, retry_after=1)
    started = time.monotonic()
    _publish_report_ready(company.pk, meeting.pk)
    [message] = slack.wait_for_messages(1)
    assert time.monotonic() - started >= 1.0  # Slack's Retry-After was respected
    assert [status for _, status in slack.requests] == [429, 200]
    assert "We agreed on the Q4 roadmap" in _text(message["blocks"])


def test_a_failing_channel_is_recorded_for_admins_and_other_companies_post_nothing(
        celery_worker, slack, company, admin, member, other_company):
    _connect(company, admin.user, channel="#gone")
    meeting = _meeting_with_report(company, member.user)
    _publish_report_ready(other_company.pk, meeting.pk)  # Globex naming Acme's meeting: nothing
    _publish_report_ready(company.pk, meeting.pk)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with tenant_scope(company):
            row = Connection.objects.get(provider="slack")
        if row.health == "failed":
            break
        time.sleep(0.1)
    assert row.health == "failed" and "does not know that channel" in row.last_error
    assert slack.messages == [] and len(slack.requests) == 1
