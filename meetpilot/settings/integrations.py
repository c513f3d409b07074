"""Settings for Jira, Linear, Slack, Google Calendar, outgoing webhooks and email."""

from __future__ import annotations

from meetpilot.settings.environment import env

# Fernet keys for integration credentials, newest first (the first encrypts, all decrypt: rotation).
# Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
INTEGRATIONS_ENCRYPTION_KEYS = env.list("INTEGRATIONS_ENCRYPTION_KEYS", default=[])

# --- tickets: Jira and Linear (docs/integrations.md) -------------------------------------------------
# Seconds a ticket provider may take to answer one request.
INTEGRATIONS_HTTP_TIMEOUT = env.float("INTEGRATIONS_HTTP_TIMEOUT", default=10.0)
# Retries of a failed sync (429, 5xx, timeouts): exponential backoff from BASE seconds up to MAX, with
# jitter, and never sooner than the provider's Retry-After.
INTEGRATIONS_SYNC_RETRIES = env.int("INTEGRATIONS_SYNC_RETRIES", default=6)
INTEGRATIONS_SYNC_RETRY_BASE = env.float("INTEGRATIONS_SYNC_RETRY_BASE", default=10.0)
INTEGRATIONS_SYNC_RETRY_MAX = env.float("INTEGRATIONS_SYNC_RETRY_MAX", default=900.0)
# The safety net behind the providers' webhooks: every POLL minutes, tickets changed in the last
# WINDOW minutes are read back (a window larger than the interval, so a late poll misses nothing).
INTEGRATIONS_POLL_MINUTES = env.int("INTEGRATIONS_POLL_MINUTES", default=5)
INTEGRATIONS_POLL_WINDOW_MINUTES = env.int("INTEGRATIONS_POLL_WINDOW_MINUTES", default=15)
# Linear webhooks older than this many seconds (their webhookTimestamp) are refused as replays.
INTEGRATIONS_WEBHOOK_MAX_AGE = env.int("INTEGRATIONS_WEBHOOK_MAX_AGE", default=300)
LINEAR_API_URL = env.str("LINEAR_API_URL", default="https://api.linear.app/graphql")

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
INTEGRATIONS_BEAT_SCHEDULE: dict[str, dict] = {
    "tickets-poll": {"task": "workflows.tickets_poll", "schedule": 60.0 * INTEGRATIONS_POLL_MINUTES},
}
