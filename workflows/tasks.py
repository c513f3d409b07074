"""Celery tasks of the ticket sync (queued by name from workflows.services and the event receivers)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from accounts.tenancy import TenantTask
from integrations.ticketing import ticket_providers
from meetings import selectors as meeting_selectors
from meetpilot.tasks import TRANSIENT_ERRORS, final_attempt, retry_policy, task_send
from workflows import selectors, services


@shared_task(bind=True, base=TenantTask, name="workflows.ticket_push",
             **retry_policy(max_retries=settings.INTEGRATIONS_SYNC_RETRIES))
def ticket_push(self, *, company_id: int, link_id: int) -> str | None:
    """Create or update one item's ticket; transient provider failures come back after a backoff."""
    link = selectors.ticket_link_get(company=_company(company_id), link_id=link_id)
    if link is None:
        return None
    try:
        return services.ticket_push(company=link.company, link=link, retries=self.request.retries,
                                    final=final_attempt(self)).state
    except services.SyncLater as later:
        raise self.retry(countdown=later.delay, exc=later) from later
    except TRANSIENT_ERRORS as exc:  # the database or broker went away mid-sync: the same backoff
        raise self.retry(countdown=services.retry_delay(None, self.request.retries), exc=exc) from exc


@shared_task(bind=True, base=TenantTask, name="workflows.item_changed", **retry_policy())
def item_changed(self, *, company_id: int, action_item_id: int, event: str, changed: list[str]) -> list[str]:
    """An action item was created or changed: auto-create tickets, push changed fields."""
    company = _company(company_id)
    item = meeting_selectors.action_item_list(company=company).filter(pk=action_item_id).first()
    if item is None:
        return []
    return services.ticket_item_changed(company=company, action_item=item, event=event, changed=changed)


@shared_task(bind=True, base=TenantTask, name="workflows.ticket_hook", **retry_policy())
def ticket_hook(self, *, company_id: int, provider: str, payload: dict) -> list[str]:
    """A webhook whose signature was checked: apply the ticket it carries."""
    return services.ticket_hook_apply(company=_company(company_id), provider=provider, payload=payload)


@shared_task(bind=True, base=TenantTask, name="workflows.tickets_poll_company", **retry_policy())
def tickets_poll_company(self, *, company_id: int, provider: str) -> int:
    return services.tickets_poll(company=_company(company_id), provider=provider)


@shared_task(bind=True, name="workflows.tickets_poll", **retry_policy())
def tickets_poll(self) -> int:
    """Beat (INTEGRATIONS_BEAT_SCHEDULE): one poll per company and ticket provider."""
    company_ids = selectors.company_ids()
    for company_id in company_ids:
        for provider in ticket_providers():
            task_send("workflows.tickets_poll_company", company_id=company_id, provider=provider)
    return len(company_ids)


def _company(company_id: int):
    return selectors.company_get(company_id=company_id)
