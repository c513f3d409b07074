"""Celery tasks of the meetings app, found by ``app.autodiscover_tasks()``.

Sub-packages keep their tasks next to their services; importing them here registers them with
every worker process (a worker never loads the URLconf that would import them otherwise).
"""

from celery import shared_task

from accounts.selectors import company_find
from accounts.tenancy import TenantTask
from meetings import lifecycle
from meetings.live import tasks as live_tasks  # noqa: F401
from meetings.uploads import tasks as uploads_tasks  # noqa: F401
from meetpilot.tasks import retry_policy


# Retention: the daily sweep queues one run per company with a policy; each run is idempotent (it deletes
# only what is still there), so acks_late is safe.
@shared_task(bind=True, base=TenantTask, name="lifecycle.retention_sweep", **retry_policy())
def retention_sweep(self) -> int:
    return lifecycle.retention_sweep()


@shared_task(bind=True, base=TenantTask, name="lifecycle.retention_apply", **retry_policy())
def retention_apply(self, *, company_id: int) -> dict | None:
    company = company_find(company_id=company_id)
    if company is None:
        return None
    return lifecycle.retention_apply(company=company)
