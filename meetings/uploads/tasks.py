"""Celery entry points for uploads: thin, id-based, scoped by ``company_id``."""

from __future__ import annotations

from celery import shared_task

from accounts.tenancy import TenantTask
from meetings.uploads import services


@shared_task(
    base=TenantTask,
    bind=True,
    name="meetings.uploads.recording_process",
    autoretry_for=(services.TransientProcessingError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=3,
    acks_late=True,  # safe: the service claims the job under a row lock and replaces segments wholesale
)
def recording_process_task(self, *, company_id: int, meeting_id: int) -> str:
    job = services.recording_process(company_id=company_id, meeting_id=meeting_id,
                                     final_attempt=self.request.retries >= self.max_retries)
    return job.status if job is not None else "skipped"
