"""Celery entry points of the live session: thin, id-based."""

from __future__ import annotations

from celery import shared_task

from accounts.tenancy import TenantTask
from meetings.live import pipeline
from meetpilot.tasks import retry_policy


# Idempotent: each segment's backlog row is consumed with its findings, under the meeting's lease.
@shared_task(base=TenantTask, bind=True, name="meetings.live_analysis_sweep", **retry_policy(max_retries=1))
def live_analysis_sweep_task(self) -> int:
    """Catch up on meetings whose owed live analysis no web process holds (beat: LIVE_BEAT_SCHEDULE)."""
    return pipeline.backlog_sweep(inline=True)
