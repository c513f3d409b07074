"""Celery tasks of the notifications after a meeting and of the daily digest: thin wrappers that take ids and
call one function of ``workflows.notify`` / ``workflows.digest``."""

from __future__ import annotations

from celery import shared_task

from accounts.tenancy import TenantTask
from integrations.selectors import company_get
from integrations.spec import ProviderError
from meetpilot.tasks import retry_policy, task_send
from workflows import calendar, digest, notify


# Idempotent: each message is sent once (integrations.notifications).
@shared_task(bind=True, base=TenantTask, name=notify.SLACK_TASK, **retry_policy(max_retries=6))
def report_slack_post_task(self, *, company_id: int, meeting_id: int) -> bool:
    company = company_get(company_id=company_id)
    if company is None:
        return False
    try:
        return notify.report_slack_post(company=company, meeting_id=meeting_id)
    except ProviderError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=exc.retry_after if exc.retry_after is not None else 30) from exc
        return False  # recorded on the connection for admins


@shared_task(bind=True, base=TenantTask, name=notify.EMAIL_TASK, **retry_policy())
def report_action_items_email_task(self, *, company_id: int, meeting_id: int) -> int:
    company = company_get(company_id=company_id)
    if company is None:
        return 0
    try:
        return notify.report_action_items_email(company=company, meeting_id=meeting_id)
    except ProviderError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=exc.retry_after or 60) from exc
        raise


# Beat, hourly: one task per company (each runs in its company's scope).
@shared_task(bind=True, base=TenantTask, name="workflows.digest_run", **retry_policy())
def digest_run_task(self) -> int:
    ids = digest.company_ids()
    for company_id in ids:
        task_send("workflows.digest_company", company_id=company_id)
    return len(ids)


@shared_task(bind=True, base=TenantTask, name="workflows.digest_company", **retry_policy())
def digest_company_task(self, *, company_id: int) -> int:
    company = company_get(company_id=company_id)
    if company is None:
        return 0
    try:
        return digest.digest_company_send(company=company)
    except ProviderError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=exc.retry_after or 60) from exc
        raise


# Beat, every 15 minutes: one task per company; companies without calendar sync exit at once.
@shared_task(bind=True, base=TenantTask, name="workflows.calendar_sync_run", **retry_policy())
def calendar_sync_run_task(self) -> int:
    ids = digest.company_ids()
    for company_id in ids:
        task_send("workflows.calendar_sync_company", company_id=company_id)
    return len(ids)


# Idempotent: meetings are found again by their calendar event id.
@shared_task(bind=True, base=TenantTask, name="workflows.calendar_sync_company", **retry_policy())
def calendar_sync_company_task(self, *, company_id: int) -> dict | None:
    company = company_get(company_id=company_id)
    if company is None:
        return None
    result = calendar.calendar_sync_company(company=company)
    return None if result is None else {"created": result.created, "updated": result.updated,
                                        "calendars": result.calendars, "errors": len(result.errors)}
