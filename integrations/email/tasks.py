"""Celery tasks of email: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from accounts.tenancy import TenantTask
from integrations.email.sending import invitation_email_send
from integrations.selectors import company_get
from integrations.spec import ProviderError
from meetpilot.tasks import retry_policy


# Idempotent: the invitation email is sent once (integrations.notifications).
@shared_task(bind=True, base=TenantTask, name="integrations.invitation_email", **retry_policy())
def invitation_email_task(self, *, company_id: int, invitation_id: int, invite_url: str) -> bool:
    company = company_get(company_id=company_id)
    if company is None:
        return False
    try:
        return invitation_email_send(company=company, invitation_id=invitation_id, invite_url=invite_url)
    except ProviderError as exc:
        if exc.transient:
            raise self.retry(exc=exc, countdown=exc.retry_after or 60) from exc
        raise
