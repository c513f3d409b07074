"""Action items and Jira issues, both ways, through the real client, the real Celery worker and a fake Jira."""

from __future__ import annotations

import json
import time

import pytest
from django.db import OperationalError

from accounts.selectors import audit_entries
from accounts.tenancy import tenant_scope
from integrations.ticketing import hook_id
from meetings import services as meeting_services
from tests.fakes.jira_server import FakeJira
from tests.integrations.tickets import (
    connect,
    fast_sync,
    item_get,
    item_make,
    item_update,
    link_of,
    settle,
    signature_of,
    signed,
    wait,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jira(settings):
    fast_sync(settings)
    with FakeJira() as fake:
        yield fake


def _connect(company, jira: FakeJira, **config) -> None:
    connect(company, "jira", jira.config(assignee_map={"bob@acme.test": "acc-bob"}, **config),
            {"api_token": jira.token})


def _synced(company, item_pk: int, provider: str = "jira"):
    def check():
        link = link_of(company, item_pk, provider)
        return link if link and link.state == "synced" else None
    return wait(check, what=f"the {provider} sync")


def _hook(client, company, body: dict, signature: str | None = None, provider: str = "jira"):
    raw, good = signed(body)
    header = "HTTP_X_HUB_SIGNATURE" if provider == "jira" else "HTTP_LINEAR_SIGNATURE"
    value = signature if signature is not None else (f"sha256={good}" if provider == "jira" else good)
    return client.post(f"/api/v1/hooks/{provider}/{hook_id(company.pk, provider)}", data=raw,
                       content_type="application/json", **{header: value})


def _text(adf: dict) -> str:
    return json.dumps(adf)


def test_round_trip_an_item_becomes_an_issue_and_changes_flow_both_ways_without_echoes(
        celery_worker, jira, company, manager, member, client) -> None:
    from meetpilot.celery import app

    _connect(company, jira, priority_map={"high": "Highest"})
    item = item_make(company, assignee=member.user, priority="high")
    response = manager.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=jira")
    assert response.status_code == 202 and response.json()["state"] == "pending"
    link = _synced(company, item.pk)
    (create,) = jira.creates()
    fields = create["body"]["fields"]
    assert fields["summary"] == "Send the revised budget to finance" and fields["project"] == {"key": "OPS"}
    assert fields["labels"] == ["meetpilot", f"meetpilot-{item.pk}"] and fields["duedate"] == "2030-05-17"
    assert fields["assignee"] == {"accountId": "acc-bob"} and fields["priority"] == {"name": "Highest"}
    description = _text(fields["description"])
    assert 'Alice at 02:05: \\"Bob, can you send the revised budget to finance by Friday?\\"' in description
    assert f"/meetings/{item.meeting_id}/#segment-" in description and "Due 2030-05-17" in description
    assert link.external_key == "OPS-1" and link.url.endswith("/browse/OPS-1")
    assert item_get(company, item.pk).sync_state["jira"]["state"] == "synced"
    listed = manager.api().get(f"/api/v1/action-items/{item.pk}/tickets").json()
    assert listed[0]["key"] == "OPS-1" and listed[0]["state"] == "synced"
    page = manager.browser().get(f"/meetings/{item.meeting_id}/").content.decode()
    assert 'data-sync-state="synced"' in page and "OPS-1 ↗" in page

    # Here -> Jira: the title and the status.
    item_update(company, item.pk, description="Send the final budget to finance")
    wait(lambda: jira.issue("OPS-1")["fields"]["summary"] == "Send the final budget to finance", what="the edit")
    item_update(company, item.pk, status="done")
    wait(lambda: link_of(company, item.pk, "jira").synced_local["done"], what="the transition")
    assert jira.issue("OPS-1")["fields"]["status"]["statusCategory"]["key"] == "done"
    item_update(company, item.pk, status="pending")
    wait(lambda: not link_of(company, item.pk, "jira").synced_local["done"], what="the reopening")
    assert jira.issue("OPS-1")["fields"]["status"]["statusCategory"]["key"] == "new"

    # Jira -> here, by webhook: closing the issue completes the item, and nothing echoes back.
    writes_before = len(jira.writes())
    assert _hook(client, company, jira.close_issue("OPS-1")).status_code == 202
    wait(lambda: item_get(company, item.pk).status == "done", what="the item to complete")
    assert _hook(client, company, jira.close_issue("OPS-1")).status_code == 202  # delivered twice
    settle()
    assert len(jira.writes()) == writes_before  # no transition, no edit: the echo was recognised

    # Jira -> here, by the poll (a webhook that never came): title, due date, assignee.
    jira.edit_issue("OPS-1", summary="Budget to finance, v2", duedate="2030-06-01", assignee=None)
    app.send_task("workflows.tickets_poll")
    changed = wait(lambda: (i := item_get(company, item.pk)).due_date.isoformat() == "2030-06-01" and i,
                   what="the poll")
    assert changed.description == "Budget to finance, v2" and changed.assignee_user_id is None
    settle()
    assert len(jira.writes()) == writes_before
    with tenant_scope(company):
        log = [(e.action, e.detail.get("fields"), e.detail.get("via"))
               for e in audit_entries(company=company, action_prefix="integration.jira.")]
    assert log[:2] == [("integration.jira.received", ["title", "assignee", "due_date"], "poll"),
                       ("integration.jira.received", ["done"], "webhook")]
    assert {"integration.jira.sync_requested", "integration.jira.ticket_created"} <= {a for a, _, _ in log}


def test_429_500s_and_timeouts_are_retried_and_no_retry_creates_a_second_issue(
        celery_worker, jira, company, admin, monkeypatch) -> None:
    from workflows import services

    _connect(company, jira)
    # 429 with Retry-After, a 503 and a timeout, then success.
    first = item_make(company, description="First")
    jira.fail_next(1, status=429, retry_after=1)
    jira.fail_next(1, status=503)
    jira.hang_next(1, seconds=1.0)
    started = time.monotonic()
    admin.api().post(f"/api/v1/action-items/{first.pk}/sync?provider=jira")
    _synced(company, first.pk)
    searches = [r for r in jira.requests if r["path"] == "/rest/api/3/search/jql"]
    assert len(searches) == 4 and time.monotonic() - started >= 1.0 and len(jira.creates()) == 1
    with tenant_scope(company):
        retried = [e.detail for e in audit_entries(company=company, action_prefix="integration.jira.sync_retrying")]
    assert [d["status"] for d in reversed(retried)] == [429, 503, None]
    assert "did not answer in time" in retried[0]["error"]

    # Jira creates the issue but answers after our timeout: the retry finds it by its label.
    second = item_make(company, description="Second")
    jira.pass_next(1)  # the search for our label: nothing yet
    jira.hang_next(1, seconds=1.0)  # the create
    admin.api().post(f"/api/v1/action-items/{second.pk}/sync?provider=jira")
    assert _synced(company, second.pk).external_key == "OPS-2"
    assert [c["body"]["fields"]["summary"] for c in jira.creates()] == ["First", "Second"]

    # A crash between "issue created" and "id saved": the retry finds it too.
    real, calls = services._link_created, []

    def crash_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database went away after the issue was created")
        return real(**kwargs)

    monkeypatch.setattr(services, "_link_created", crash_once)
    third = item_make(company, description="Third")
    admin.api().post(f"/api/v1/action-items/{third.pk}/sync?provider=jira")
    link = _synced(company, third.pk)
    assert len(calls) == 2 and link.external_key == "OPS-3" and len(jira.issues) == 3
    assert [c["body"]["fields"]["summary"] for c in jira.creates()] == ["First", "Second", "Third"]


def test_a_refusal_fails_with_jiras_message_retry_works_and_chosen_priorities_sync_by_themselves(
        celery_worker, jira, company, admin) -> None:
    _connect(company, jira, project_key="NOPE")
    item = item_make(company)
    admin.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=jira")
    failed = wait(lambda: (lk := link_of(company, item.pk, "jira")) and lk.state == "failed" and lk)
    assert "valid project is required" in failed.last_error
    assert "valid project is required" in item_get(company, item.pk).sync_state["jira"]["error"]
    page = admin.browser().get(f"/meetings/{item.meeting_id}/").content.decode()
    assert "Jira failed: " in page and 'data-sync="jira"' in page and "Retry Jira Cloud" in page
    board = admin.browser().get("/action-items/").content.decode()
    assert "Retry Jira Cloud" in board
    _connect(company, jira, auto_sync=["high"])
    retry = admin.browser().post(f"/action-items/{item.pk}/sync/jira/", HTTP_HX_REQUEST="true")
    assert retry.status_code == 200 and 'data-sync-state="pending"' in retry.content.decode()
    assert 'data-polling="true"' in retry.content.decode()  # the badge refreshes itself until done
    _synced(company, item.pk)
    state = admin.browser().get(f"/action-items/{item.pk}/sync-state/").content.decode()
    assert 'data-sync-state="synced"' in state and "data-polling" not in state

    high = item_make(company, priority="high", description="Renew the vendor contract")
    low = item_make(company, priority="low", description="Tidy the shared drive")
    _synced(company, high.pk)
    # A suggestion (found live, under the confidence threshold) waits until a person confirms it.
    with tenant_scope(company):
        suggested = meeting_services.action_item_create(
            company=company, meeting=high.meeting, description="Call the auditors", priority="high",
            origin="live", confidence=0.05)
        assert suggested.review == "suggested"
    settle()
    assert link_of(company, low.pk, "jira") is None and link_of(company, suggested.pk, "jira") is None
    with tenant_scope(company):
        meeting_services.action_item_review(company=company, action_item=suggested, review="confirmed")
    _synced(company, suggested.pk)
    assert [c["body"]["fields"]["summary"] for c in jira.creates()] == [
        "Send the revised budget to finance", "Renew the vendor contract", "Call the auditors"]


def test_another_company_can_neither_see_nor_trigger_any_of_it(
        celery_worker, jira, company, other_company, admin, outsider, member, client) -> None:
    _connect(company, jira)
    _connect(other_company, jira)
    item = item_make(company)
    assert member.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=jira").status_code == 403
    assert outsider.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=jira").status_code == 404
    assert outsider.api().get(f"/api/v1/action-items/{item.pk}/tickets").status_code == 404
    assert outsider.browser().post(f"/action-items/{item.pk}/sync/jira/", HTTP_HX_REQUEST="true").status_code == 404
    assert outsider.browser().get(f"/action-items/{item.pk}/sync-state/").status_code == 404
    admin.api().post(f"/api/v1/action-items/{item.pk}/sync?provider=jira")
    _synced(company, item.pk)
    assert len(jira.creates()) == 1
    # Globex signs a webhook about Acme's issue with its own secret, on its own path: it lands in Globex,
    # where no item has that issue, so Acme's item stays open.
    raw, good = signed(jira.close_issue("OPS-1"))
    response = client.post(f"/api/v1/hooks/jira/{hook_id(other_company.pk, 'jira')}", data=raw,
                           content_type="application/json", HTTP_X_HUB_SIGNATURE=f"sha256={good}")
    assert response.status_code == 202
    settle()
    assert item_get(company, item.pk).status == "pending"
    with tenant_scope(other_company):
        assert list(audit_entries(company=other_company, action_prefix="integration.jira.received")) == []


@pytest.mark.django_db(transaction=False)
def test_webhooks_with_a_bad_signature_path_or_body_are_refused(jira, company, client) -> None:
    _connect(company, jira)
    payload = {"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": "OPS-1", "fields": {}}}
    bad = _hook(client, company, payload, signature="sha256=" + "0" * 64)
    assert bad.status_code == 403 and bad.json()["code"] == "bad_signature"
    assert _hook(client, company, payload, signature="").status_code == 403
    raw, good = signed(payload)
    wrong_path = client.post(f"/api/v1/hooks/jira/{company.pk}-{'f' * 32}", data=raw,
                             content_type="application/json", HTTP_X_HUB_SIGNATURE=f"sha256={good}")
    assert wrong_path.status_code == 404 and wrong_path.json()["code"] == "not_found"
    assert client.post(f"/api/v1/hooks/jira/{company.pk}", data=raw, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE=f"sha256={good}").status_code == 404
    assert client.post(f"/api/v1/hooks/slack/{hook_id(company.pk, 'slack')}", data=raw,
                       content_type="application/json").status_code == 404
    nonsense = b"not json"
    not_json = client.post(f"/api/v1/hooks/jira/{hook_id(company.pk, 'jira')}", data=nonsense,
                           content_type="application/json", HTTP_X_HUB_SIGNATURE=f"sha256={signature_of(nonsense)}")
    assert not_json.status_code == 400 and not_json.json()["code"] == "bad_payload"


def test_item_changes_queue_no_ticket_task_where_no_ticket_could_be_concerned(jira, monkeypatch, company):
    from workflows import receivers

    queued: list[int] = []
    monkeypatch.setattr(receivers, "task_send", lambda name, **kwargs: queued.append(kwargs["action_item_id"]))
    item_make(company)  # no ticket provider connected: no task
    assert queued == []
    _connect(company, jira)
    second = item_make(company, description="Book the venue")
    assert queued == [second.pk]
