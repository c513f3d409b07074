"""Settings for Jira, Linear, Slack, Google Calendar, outgoing webhooks and email."""

from __future__ import annotations

from meetpilot.settings.environment import env

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
INTEGRATIONS_BEAT_SCHEDULE: dict[str, dict] = {}

# Fernet keys for integration credentials, newest first (the first encrypts, all decrypt: rotation).
# Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
INTEGRATIONS_ENCRYPTION_KEYS = env.list("INTEGRATIONS_ENCRYPTION_KEYS", default=[])
