"""Celery entry points for uploads: thin, id-based, scoped by ``company_id``."""

from __future__ import annotations

from celery import shared_task

from accounts.tenancy import TenantTask
from meetings.uploads import services
from meetpilot.tasks import final_attempt, retry_policy


# Idempotent: the service claims the job under a row lock and replaces segments wholesale.
@shared_task(base=TenantTask, bind=True, name="meetings.uploads.recording_process", **retry_policy(max_retries=3))
def recording_process_task(self, *, company_id: int, meeting_id: int) -> str:
    job = services.recording_process(company_id=company_id, meeting_id=meeting_id,
                                     final_attempt=final_attempt(self))
    return job.status if job is not None else "skipped"
