"""Operations settings: API rate limits, error reporting and tracing."""

from __future__ import annotations

from meetpilot.settings.environment import env  # noqa: F401

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
OPERATIONS_BEAT_SCHEDULE: dict[str, dict] = {}
