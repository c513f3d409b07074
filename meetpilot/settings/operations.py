"""Operations settings: API rate limits, error reporting and tracing (docs/operations.md)."""

from __future__ import annotations

from meetpilot.settings.environment import env

# --- API rate limits (meetpilot/ratelimit.py): token buckets in Redis, rate per second and burst ----------
# Every API request takes one unit from its token's bucket (a dashboard session: its user's) and one from its
# company's; multipart uploads take from the upload pair instead. Refused requests get 429 + Retry-After.
API_RATE_LIMITS_ENABLED = env.bool("API_RATE_LIMITS_ENABLED", default=True)
API_RATE_PER_TOKEN = env.float("API_RATE_PER_TOKEN", default=10.0)
API_BURST_PER_TOKEN = env.float("API_BURST_PER_TOKEN", default=100.0)
API_RATE_PER_COMPANY = env.float("API_RATE_PER_COMPANY", default=50.0)
API_BURST_PER_COMPANY = env.float("API_BURST_PER_COMPANY", default=500.0)
API_UPLOAD_RATE_PER_TOKEN = env.float("API_UPLOAD_RATE_PER_TOKEN", default=0.2)
API_UPLOAD_BURST_PER_TOKEN = env.float("API_UPLOAD_BURST_PER_TOKEN", default=10.0)
API_UPLOAD_RATE_PER_COMPANY = env.float("API_UPLOAD_RATE_PER_COMPANY", default=1.0)
API_UPLOAD_BURST_PER_COMPANY = env.float("API_UPLOAD_BURST_PER_COMPANY", default=30.0)
API_RATE_LIMIT_KEY_PREFIX = env.str("API_RATE_LIMIT_KEY_PREFIX", default="meetpilot:ratelimit")

# Periodic tasks of this area, merged into CELERY_BEAT_SCHEDULE by base.py.
OPERATIONS_BEAT_SCHEDULE: dict[str, dict] = {}

# --- background work: the worker imports this module at start (task metrics, Sentry, traces) ---------
CELERY_IMPORTS = ["meetpilot.observability"]

# --- error reporting (Sentry; off without a DSN) --------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

# --- traces (OpenTelemetry over OTLP/HTTP; off without an endpoint) --------------------------------------
# The exporter also reads OTEL_EXPORTER_OTLP_HEADERS / _TIMEOUT from the environment.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="meetpilot")
