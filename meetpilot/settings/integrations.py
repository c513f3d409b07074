"""Settings for Jira, Linear, Slack, Google Calendar, outgoing webhooks and email."""

from __future__ import annotations

from celery.schedules import crontab

from meetpilot.settings.environment import env

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py (the ticket poll is added below).
INTEGRATIONS_BEAT_SCHEDULE: dict[str, dict] = {
    # Every hour on the hour: people whose local time is DIGEST_HOUR get their digest (once per local day).
    "workflows-digest": {"task": "workflows.digest_run", "schedule": crontab(minute=0)},
    # Upcoming meetings from members' Google calendars (companies with an enabled Google Calendar connection).
    "workflows-calendar-sync": {"task": "workflows.calendar_sync_run", "schedule": crontab(minute="*/15")},
}

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

INTEGRATIONS_BEAT_SCHEDULE["tickets-poll"] = {"task": "workflows.tickets_poll",
                                              "schedule": 60.0 * INTEGRATIONS_POLL_MINUTES}

# --- outgoing webhooks ---
# Let endpoints (and Slack incoming webhook URLs) point at private, loopback or link-local addresses.
# Off by default (SSRF); a self-hosted install posting to its own network turns it on.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
# Retry schedule: the n-th retry waits min(MAX, BASE * 2**(n-1)) seconds, times a random 0.5-1.0 (jitter),
# until WINDOW seconds after the first attempt; then the delivery is marked failed.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3 * 3600.0)
WEBHOOK_RETRY_WINDOW_SECONDS = env.float("WEBHOOK_RETRY_WINDOW_SECONDS", default=24 * 3600.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)

# --- Slack ---
SLACK_API_URL = env.str("SLACK_API_URL", default="https://slack.com/api")
SLACK_TIMEOUT_SECONDS = env.float("SLACK_TIMEOUT_SECONDS", default=10.0)

# --- email (Django's email backend) ---
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# SMTP when a host is configured, otherwise messages are printed to the console (development).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                        else "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MeetPilot <meetpilot@localhost>")
# The daily digest goes out in the hour that starts at DIGEST_HOUR in each person's time zone.
DIGEST_HOUR = env.int("DIGEST_HOUR", default=8)

# --- Google Calendar (GOOGLE_CALENDAR_SYNC itself is in base.py: it changes the Google sign-in scopes) ---
GOOGLE_CALENDAR_API_URL = env.str("GOOGLE_CALENDAR_API_URL", default="https://www.googleapis.com/calendar/v3")
GOOGLE_CALENDAR_TIMEOUT_SECONDS = env.float("GOOGLE_CALENDAR_TIMEOUT_SECONDS", default=10.0)
