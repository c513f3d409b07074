"""Data lifecycle settings: retention, erasure and export (docs/operations.md "Data lifecycle")."""

from __future__ import annotations

from celery.schedules import crontab

from meetpilot.settings.environment import env

# Each company's retention policy is its own (Company.settings["retention"], set by its admins); the
# daily run applies every policy at this hour and minute (TIME_ZONE).
LIFECYCLE_RETENTION_HOUR = env.int("LIFECYCLE_RETENTION_HOUR", default=3)
LIFECYCLE_RETENTION_MINUTE = env.int("LIFECYCLE_RETENTION_MINUTE", default=30)

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
LIFECYCLE_BEAT_SCHEDULE: dict[str, dict] = {
    "lifecycle-retention-daily": {
        "task": "lifecycle.retention_sweep",
        "schedule": crontab(hour=LIFECYCLE_RETENTION_HOUR, minute=LIFECYCLE_RETENTION_MINUTE),
    },
}
