"""The Prometheus series operators watch, defined once (exposed at /metrics by django-prometheus).

Code that measures something imports the series from here; nothing else creates a series, so the
names in docs/operations.md stay true. Labels stay low-cardinality: never a company, meeting or user id.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- live meetings ---------------------------------------------------------------
LIVE_CAPTIONS = Counter("meetpilot_live_captions_total", "Caption frames accepted over the WebSocket", ["kind"])
LIVE_CAPTION_ACK_SECONDS = Histogram(
    "meetpilot_live_caption_ack_seconds", "Caption frame received to ack sent", buckets=_LATENCY_BUCKETS)
LIVE_SUGGESTION_SECONDS = Histogram(
    "meetpilot_live_suggestion_seconds", "Final caption stored to its suggestion/answer pushed",
    buckets=_LATENCY_BUCKETS)
LIVE_ANALYSIS_SECONDS = Histogram(
    "meetpilot_live_analysis_seconds", "Final caption stored to its live analysis done", ["step"],
    buckets=_LATENCY_BUCKETS)
LIVE_OPEN_SOCKETS = Gauge("meetpilot_live_open_sockets", "Open meeting WebSockets in this process",
                          multiprocess_mode="livesum")
LIVE_SHED = Counter("meetpilot_live_shed_total", "Work shed or deferred under load", ["what"])

# --- background work ---------------------------------------------------------------
TASK_SECONDS = Histogram("meetpilot_task_seconds", "Celery task run time", ["task", "outcome"],
                         buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600))
# Set from the broker when /metrics is scraped (meetpilot.observability): the latest reading wins.
QUEUE_DEPTH = Gauge("meetpilot_queue_depth", "Messages waiting per Celery queue", ["queue"],
                    multiprocess_mode="mostrecent")
QUEUE_OLDEST_AGE_SECONDS = Gauge("meetpilot_queue_oldest_age_seconds", "Age of the oldest waiting message",
                                 ["queue"], multiprocess_mode="mostrecent")

# --- providers and speech --------------------------------------------------------------
PROVIDER_FALLBACKS = Counter("meetpilot_provider_fallbacks_total",
                             "A hosted provider failed or was too slow and the local default answered",
                             ["feature", "provider"])
TRANSCRIPTION_REAL_TIME_FACTOR = Histogram(
    "meetpilot_transcription_real_time_factor", "Transcription time / audio duration", ["engine"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0))

# --- HTTP API ----------------------------------------------------------------------------
API_RATE_LIMITED = Counter("meetpilot_api_rate_limited_total", "API requests refused with 429", ["scope"])

# --- data lifecycle ------------------------------------------------------------------------
RETENTION_DELETED = Counter("meetpilot_retention_deleted_total",
                            "Meetings (deleted whole) and expired kinds of meeting data removed by retention, "
                            "counted per meeting", ["kind"])

# --- outbound: webhooks, Slack, email ------------------------------------------------------------
WEBHOOK_ATTEMPTS = Counter("meetpilot_webhook_attempts_total", "Webhook POST attempts by outcome",
                           ["outcome"])  # delivered | http_error | no_answer
WEBHOOK_DELIVERIES_FAILED = Counter("meetpilot_webhook_deliveries_failed_total",
                                    "Webhook deliveries that gave up after the retry window")
NOTIFICATIONS_SENT = Counter("meetpilot_notifications_sent_total", "Slack posts and emails sent to people", ["kind"])
