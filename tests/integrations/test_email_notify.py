"""Email: the connection's test email, each member's own action items after a report, and invitations,
through the real worker with Django's locmem backend."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.core import mail
from django.db import transaction

from accounts.tenancy import tenant_scope
from integrations import services as connections
from integrations.email import SPEC
from integrations.events import company_event_publish
from meetings.models import Meeting
from tests.meetings.factories import action_item_make, meeting_make, participant_make, report_make


def _wait_outbox(count, *, timeout=20.0, settle=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(mail.outbox) < count:
        time.sleep(0.05)
    time.sleep(settle)  # nothing more should arrive
    return list(mail.outbox)


def test_the_connection_test_sends_a_test_email():
    mail.outbox.clear()
    message = SPEC.test({"from_address": "notes@acme.test", "reply_to": "ops@acme.test"}, {})
    assert message == "A test email was sent to ops@acme.test."
    [sent] = mail.outbox
    assert sent.to == ["ops@acme.test"] and sent.from_email == "notes@acme.test" and sent.reply_to == ["ops@acme.test"]


@pytest.mark.django_db(transaction=True)
def test_each_member_gets_their_own_action_items_once(celery_worker, settings, company, admin, member,
                                                     outsider):
    settings.SITE_URL = "https://meetpilot.acme.test"
    mail.outbox.clear()
    with tenant_scope(company):
        connections.connection_save(company=company, provider="email", by_user=admin.user,
                                    config={"from_address": "notes@acme.test", "reply_to": "pm@acme.test"})
    meeting = meeting_make(company=company, title="Roadmap review", status=Meeting.Status.ENDED)
    report_make(meeting=meeting)
    participant_make(meeting=meeting, name="Bob", user=member.user)
    participant_make(meeting=meeting, name="Alice", user=admin.user)  # a member with no items: no email
    participant_make(meeting=meeting, name="Guest", email="guest@partner.test")  # not a member
    participant_make(meeting=meeting, name="Charlie", user=outsider.user)  # another company's user
    action_item_make(meeting=meeting, description="Write the launch post", assignee_user=member.user,
                     due_date=date(2031, 5, 2))
    action_item_make(meeting=meeting, description="Call the guest back", assignee_name="Guest")
    action_item_make(meeting=meeting, description="Charlie's secret task", assignee_user=outsider.user)
    for _ in range(2):  # the report generated twice: emailed once
        with transaction.atomic():
            company_event_publish(company_id=company.pk, type="report.ready", data={"meeting_id": meeting.pk})
    [sent] = _wait_outbox(1, settle=1.5)
    assert sent.to == [member.user.email] and sent.from_email == "notes@acme.test"
    assert sent.subject == "Your action items from Roadmap review"
    assert "Write the launch post (due May 2)" in sent.body and "Call the guest back" not in sent.body
    assert f"https://meetpilot.acme.test/meetings/{meeting.pk}/" in sent.body
    [(html, kind)] = sent.alternatives
    assert kind == "text/html" and "Write the launch post" in html and "secret task" not in html


@pytest.mark.django_db(transaction=True)
def test_no_action_item_emails_when_the_company_switched_email_off(celery_worker, company, admin, member):
    mail.outbox.clear()
    with tenant_scope(company):
        connections.connection_save(company=company, provider="email", by_user=admin.user, config={},
                                    enabled=False)
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED)
    report_make(meeting=meeting)
    participant_make(meeting=meeting, name="Bob", user=member.user)
    action_item_make(meeting=meeting, description="Anything", assignee_user=member.user)
    with transaction.atomic():
        company_event_publish(company_id=company.pk, type="report.ready", data={"meeting_id": meeting.pk})
    assert _wait_outbox(1, timeout=3) == []


@pytest.mark.django_db(transaction=True)
def test_an_invitation_is_emailed_and_the_link_is_still_shown(celery_worker, settings, admin):
    settings.SITE_URL = "https://meetpilot.acme.test"
    mail.outbox.clear()
    response = admin.api().post("/api/v1/invitations", data={"email": "dana@acme.test", "role": "member"},
                                content_type="application/json")
    assert response.status_code == 201
    invite_url = response.json()["invite_url"]
    [sent] = _wait_outbox(1)
    assert sent.to == ["dana@acme.test"] and "Acme" in sent.subject
    assert invite_url in sent.body and invite_url in sent.alternatives[0][0]
    assert invite_url.startswith("https://meetpilot.acme.test/invite/")
