"""Data lifecycle settings: retention, erasure and export."""

from __future__ import annotations

from meetpilot.settings.environment import env  # noqa: F401

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
LIFECYCLE_BEAT_SCHEDULE: dict[str, dict] = {}
