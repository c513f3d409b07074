"""The ticket-sync receiver of company events: a task only where a ticket could be concerned, and one anyway
when that check cannot read."""

from __future__ import annotations

import pytest
from django.db import transaction

from integrations.events import company_event_publish

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued(monkeypatch):
    from workflows import receivers

    sent: list[dict] = []
    monkeypatch.setattr(receivers, "task_send", lambda name, **kwargs: sent.append({"name": name, **kwargs}))
    return sent


def _item_event(company) -> None:
    with transaction.atomic():
        company_event_publish(company_id=company.pk, type="action_item.created",
                              data={"action_item_id": 123, "changed": []})


def test_no_task_for_an_item_change_when_no_ticket_could_be_concerned(queued, company):
    _item_event(company)  # no ticket provider connected, no ticket link
    assert queued == []


def test_an_item_change_is_queued_anyway_when_the_ticket_check_fails(queued, monkeypatch, company):
    from workflows import receivers

    def database_away(**kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(receivers, "ticket_sync_possible", database_away)
    _item_event(company)
    assert [(q["name"], q["company_id"], q["action_item_id"]) for q in queued] == [
        ("workflows.item_changed", company.pk, 123)
    ]  # the task reads again, with retries
