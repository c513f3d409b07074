"""Webhook deliveries through the real Celery worker to a receiver on 127.0.0.1 that checks the signature."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from accounts.tenancy import tenant_scope
from integrations.events import company_event_publish
from integrations.models import WebhookDelivery
from tests.fakes.webhook_receiver_server import WebhookReceiver
from tests.meetings.factories import meeting_make

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.2
    settings.WEBHOOK_RETRY_MAX_SECONDS = 1.0
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 60.0


def _endpoint(actor, url, events):
    response = actor.api().post("/api/v1/webhooks", data={"url": url, "events": events},
                                content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def _wait_status(company, status, *, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_scope(company):
            rows = list(WebhookDelivery.objects.order_by("pk"))
        if rows and all(r.status == status for r in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"deliveries not {status}: {[(r.status, r.attempts) for r in rows]}")


def test_a_signed_event_reaches_the_receiver(celery_worker, fast_retries, admin, company):
    with WebhookReceiver() as receiver:
        created = _endpoint(admin, receiver.url, ["action_item.created"])
        receiver.secret = created["secret"]
        meeting = meeting_make(company=company, title="Pricing sync")
        response = admin.api().post(f"/api/v1/meetings/{meeting.pk}/action-items",
                                    data={"description": "Send the revised quote"}, content_type="application/json")
        assert response.status_code == 201
        [request] = receiver.wait_for(1)
        assert request.verified is True and request.answered == 200
        body = request.json
        assert body["type"] == "action_item.created" and body["id"] and body["created_at"]
        assert body["data"]["description"] == "Send the revised quote" and body["data"]["meeting_id"] == meeting.pk
        assert request.headers["MeetPilot-Event-Id"] == body["id"]
        [row] = _wait_status(company, "succeeded")
        assert row.attempts == 1 and row.response_status == 200 and row.event_id == body["id"]


def test_500s_are_retried_on_the_schedule_until_success(celery_worker, fast_retries, admin, company):
    with WebhookReceiver() as receiver:
        created = _endpoint(admin, receiver.url, ["report.ready"])
        receiver.secret = created["secret"]
        receiver.fail_next(2, status=500)
        with transaction.atomic():
            event = company_event_publish(company_id=company.pk, type="report.ready",
                                          data={"meeting_id": 1, "title": "Weekly", "report_id": 2})
        requests = receiver.wait_for(3)
        assert [r.answered for r in requests] == [500, 500, 200]
        assert {r.json["id"] for r in requests} == {event["id"]}  # the same event, the same body
        assert len({r.body for r in requests}) == 1 and all(r.verified for r in requests)
        [row] = _wait_status(company, "succeeded")
        assert row.attempts == 3 and [a["status"] for a in row.attempt_log] == [500, 500, 200]


def test_a_delivery_that_keeps_failing_ends_failed_and_can_be_redelivered(celery_worker, fast_retries, settings,
                                                                         admin, company):
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 1.5
    with WebhookReceiver() as receiver:
        created = _endpoint(admin, receiver.url, ["document.ready"])
        receiver.secret = created["secret"]
        receiver.fail_next(100, status=503)
        with transaction.atomic():
            company_event_publish(company_id=company.pk, type="document.ready", data={"document_id": 5})
        [row] = _wait_status(company, "failed")
        assert row.attempts >= 2 and row.next_attempt_at is None and "503" in row.last_error
        receiver._failures.clear()
        assert admin.api().post(f"/api/v1/webhooks/deliveries/{row.pk}/redeliver").status_code == 202
        requests = receiver.wait_for(row.attempts + 1)
        assert requests[-1].answered == 200 and requests[-1].json["id"] == row.event_id


def test_events_of_another_company_or_type_are_not_sent(celery_worker, fast_retries, admin, company, other_company):
    with WebhookReceiver() as receiver:
        _endpoint(admin, receiver.url, ["meeting.ended"])
        with transaction.atomic():
            company_event_publish(company_id=other_company.pk, type="meeting.ended", data={"meeting_id": 9})
            company_event_publish(company_id=company.pk, type="document.ready", data={"document_id": 9})
            company_event_publish(company_id=company.pk, type="meeting.ended", data={"meeting_id": 10})
        [request] = receiver.wait_for(1)
        time.sleep(0.5)
        assert len(receiver.requests) == 1 and request.json["data"] == {"meeting_id": 10}


def test_no_task_is_queued_for_an_event_no_endpoint_takes(fast_retries, monkeypatch, admin, company, other_company):
    from integrations.webhooks import receivers

    queued: list[dict] = []
    monkeypatch.setattr(receivers, "task_send", lambda name, **kwargs: queued.append(kwargs["event"]))

    def publish(company_id: int, type: str) -> None:
        with transaction.atomic():
            company_event_publish(company_id=company_id, type=type, data={"meeting_id": 1})

    publish(company.pk, "meeting.ended")  # no endpoint yet: nothing would be delivered
    _endpoint(admin, "http://127.0.0.1:9/hook", ["meeting.ended"])
    publish(company.pk, "report.ready")  # an endpoint, but not for this event
    publish(other_company.pk, "meeting.ended")  # another company's endpoints are not this one's
    assert queued == []
    publish(company.pk, "meeting.ended")
    assert [(e["company_id"], e["type"]) for e in queued] == [(company.pk, "meeting.ended")]


def test_an_event_is_queued_anyway_when_the_endpoint_check_fails(monkeypatch, company):
    from integrations.webhooks import receivers

    queued: list[dict] = []
    monkeypatch.setattr(receivers, "task_send", lambda name, **kwargs: queued.append(kwargs["event"]))

    def database_away(**kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(receivers.selectors, "webhook_endpoints_for_event", database_away)
    with transaction.atomic():
        company_event_publish(company_id=company.pk, type="meeting.ended", data={"meeting_id": 1})
    assert [e["type"] for e in queued] == ["meeting.ended"]  # the task reads again, with retries
