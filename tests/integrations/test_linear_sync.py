"""Action items and Linear issues, both ways, through the real client, the real Celery worker and a fake Linear."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError

from accounts.tenancy import tenant_scope
from integrations.ticketing import hook_id
from tests.fakes.linear_server import FakeLinear
from tests.integrations.tickets import (
    connect,
    fast_sync,
    item_get,
    item_make,
    item_update,
    link_of,
    settle,
    signed,
    wait,
)
from workflows.models import TicketLink

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def linear(settings):
    fast_sync(settings)
    with FakeLinear() as fake:
        settings.LINEAR_API_URL = fake.url
        yield fake


def _connect(company, linear: FakeLinear, **config) -> None:
    connect(company, "linear", linear.config(**config), {"api_key": linear.api_key})


def _synced(company, item_pk: int):
    return wait(lambda: (lk := link_of(company, item_pk, "linear")) and lk.state == "synced" and lk,
                what="the Linear sync")


def _hook(client, company, body: dict, signature: str | None = None):
    raw, good = signed(body)
    return client.post(f"/api/v1/hooks/linear/{hook_id(company.pk, 'linear')}", data=raw,
                       content_type="application/json", HTTP_LINEAR_SIGNATURE=good if signature is None else signature)


def test_round_trip_an_item_becomes_an_issue_with_our_id_and_changes_flow_both_ways_without_echoes(
        celery_worker, linear, company, admin, member, client) -> None:
    from meetpilot.celery import app

    _connect(company, linear)
    item = item_make(company, assignee=member.user, priority="high")
    assert admin.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=linear").status_code == 202
    link = _synced(company, item.pk)
    (create,) = linear.creates()
    values = create["body"]["variables"]["input"]
    assert values["id"] == link.marker == link.external_id and values["teamId"] == "team-1"
    assert values["title"] == "Send the revised budget to finance" and values["dueDate"] == "2030-05-17"
    assert values["assigneeId"] == "lin-user-bob" and values["priority"] == 2
    assert 'Alice at 02:05: "Bob, can you send the revised budget' in values["description"]
    assert f"/meetings/{item.meeting_id}/#segment-" in values["description"]
    assert link.external_key == "ENG-1" and item_get(company, item.pk).sync_state["linear"]["key"] == "ENG-1"

    # Here -> Linear: done and the due date cleared, in one issueUpdate plus the state change.
    item_update(company, item.pk, status="done", due_date=None)
    wait(lambda: link_of(company, item.pk, "linear").synced_local["done"], what="the state update")
    assert linear.issues[link.external_id]["state"]["type"] == "completed"
    assert linear.issues[link.external_id]["dueDate"] is None

    # Linear -> here, by webhook: reopened, then renamed with a new due date; our own writes never come back.
    writes_before = len(linear.writes())
    reopened = linear.edit_issue(link.external_id, state={"id": "state-todo", "type": "unstarted"})
    assert _hook(client, company, reopened).status_code == 202
    wait(lambda: item_get(company, item.pk).status == "pending", what="the item to reopen")
    edited = linear.edit_issue(link.external_id, title="Send the budget (v3)", dueDate="2030-07-01")
    assert _hook(client, company, edited).status_code == 202
    changed = wait(lambda: (i := item_get(company, item.pk)).description == "Send the budget (v3)" and i)
    assert changed.due_date.isoformat() == "2030-07-01" and changed.status == "pending"
    assert _hook(client, company, linear.complete_issue(link.external_id)).status_code == 202
    wait(lambda: item_get(company, item.pk).status == "done", what="the item to complete")
    # A change whose webhook never came: the poll reads it back.
    linear.edit_issue(link.external_id, dueDate="2030-08-01")
    app.send_task("workflows.tickets_poll")
    wait(lambda: str(item_get(company, item.pk).due_date) == "2030-08-01", what="the poll")
    settle()
    assert len(linear.writes()) == writes_before


def test_rate_limits_and_server_errors_are_retried_and_a_crash_after_create_makes_one_issue(
        celery_worker, linear, company, admin, monkeypatch) -> None:
    from workflows import services

    real, calls = services._link_created, []

    def crash_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database went away after the issue was created")
        return real(**kwargs)

    monkeypatch.setattr(services, "_link_created", crash_once)
    _connect(company, linear)
    item = item_make(company)
    linear.fail_next(1, status=429, retry_after=1, body={"errors": [{"message": "Rate limit exceeded",
                                                                     "extensions": {"code": "RATELIMITED"}}]})
    linear.fail_next(1, status=500)
    started = time.monotonic()
    admin.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=linear")
    link = _synced(company, item.pk)
    assert time.monotonic() - started >= 1.0 and len(calls) == 2
    assert len(linear.creates()) == 1 and list(linear.issues) == [link.external_id]


def _payload(issue_id: str = "3f1c2e9a-0000-4000-8000-000000000001", **extra) -> dict:
    return {"action": "update", "type": "Issue", "webhookTimestamp": int(time.time() * 1000),
            "data": {"id": issue_id, "identifier": "ENG-1", "title": "x", "state": {"type": "completed"}}, **extra}


@pytest.mark.django_db(transaction=False)
def test_webhooks_with_a_bad_signature_or_an_old_timestamp_are_refused(linear, company, client) -> None:
    _connect(company, linear)
    bad = _hook(client, company, _payload(), signature="0" * 64)
    assert bad.status_code == 403 and bad.json()["code"] == "bad_signature"
    assert _hook(client, company, _payload(), signature="").status_code == 403
    old = _hook(client, company, _payload(webhookTimestamp=int(time.time() * 1000) - 3_600_000))
    assert old.status_code == 403 and old.json()["code"] == "stale_webhook"
    assert _hook(client, company, _payload(webhookTimestamp=None)).status_code == 403


@pytest.mark.django_db(transaction=False)
def test_another_company_can_neither_see_nor_trigger_any_of_it(
        linear, company, other_company, admin, outsider, client) -> None:
    _connect(company, linear)
    item = item_make(company)
    assert outsider.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=linear").status_code == 404
    assert outsider.api().get(f"/api/v1/action-items/{item.pk}/tickets").status_code == 404
    assert outsider.browser().post(f"/action-items/{item.pk}/sync/linear/").status_code == 404
    # The outsider's own company has no Linear connection: a sync there is a 409, not a ticket.
    with tenant_scope(other_company):
        assert not TicketLink.objects.exists()
    raw, good = signed(_payload())
    # Globex has no Linear connection: its hook path is unknown; Acme's id with a Globex-made token is too.
    for path in (hook_id(other_company.pk, "linear"), f"{company.pk}-{hook_id(other_company.pk, 'linear')[-32:]}"):
        response = client.post(f"/api/v1/hooks/linear/{path}", data=raw, content_type="application/json",
                               HTTP_LINEAR_SIGNATURE=good)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert linear.requests == []
