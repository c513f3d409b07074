"""Settings for Jira, Linear, Slack, Google Calendar, outgoing webhooks and email."""

from __future__ import annotations

from meetpilot.settings.environment import env  # noqa: F401

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
INTEGRATIONS_BEAT_SCHEDULE: dict[str, dict] = {}
