"""Redis, Celery and Channels.

With REDIS_URL set (production, ``make run`` and ``make test``, which start a local
redis-server when none is configured) Celery uses Redis as broker and result store
and Channels uses channels_redis, so any number of daphne and Celery processes
can share the work.

Without REDIS_URL the app still works on one machine, with two honest limits:
Celery's broker is kombu's filesystem transport in ``var/broker`` (a real worker
process still runs the tasks) and the channel layer is in-memory, so only one
daphne process can serve WebSockets and events from the worker reach browsers by
polling instead of push.
"""

from __future__ import annotations

from kombu import Queue

from meetpilot.settings.environment import VAR_DIR, env

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "meetpilot.channel_layer.RedisChannelLayer",  # channels_redis, cheaper in process
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="meetpilot"),
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "meetpilot.cache.RedisCache",  # Django's, one connection pool per process
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="meetpilot"),
        }
    }
else:
    # The Celery app creates these folders when it is configured (meetpilot/celery.py).
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange bindings; kombu's default is "control" in the working directory.
        "control_folder": str(_broker_dir / "control"),
    }
    CELERY_RESULT_BACKEND = None
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=4 * 3600)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- queues ---------------------------------------------------------------------------------------
# One queue per kind of work, so a two-hour recording on a speech worker never holds up a document or
# a report. CELERY_QUEUE is the prefix of every queue name (parallel test runs each take their own);
# the default queue keeps the bare prefix, so messages queued before the split are still consumed.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE", default="meetpilot")
QUEUE_GROUPS = ("default", "speech", "ingestion", "reports", "integrations")


def queue_name(group: str, prefix: str = CELERY_QUEUE_PREFIX) -> str:
    """The broker queue of a group: ``<prefix>`` for the default one, ``<prefix>.<group>`` otherwise."""
    if group not in QUEUE_GROUPS:
        raise ValueError(f"unknown queue group {group!r}")
    return prefix if group == "default" else f"{prefix}.{group}"


CELERY_QUEUES_ALL = [queue_name(group) for group in QUEUE_GROUPS]
CELERY_TASK_DEFAULT_QUEUE = queue_name("default")
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in CELERY_QUEUES_ALL]
# By task name (glob patterns allowed), then by the package a task is defined in (integrations/ ->
# integrations, ``meetpilot.celery.route_by_package``); anything else runs on the default queue. A new task
# joins a group by its name: integration tasks are named ``integrations.<provider>.<what>``.
CELERY_ROUTES_BY_NAME = {
    "meetings.uploads.recording_process": {"queue": queue_name("speech")},
    "speech.*": {"queue": queue_name("speech")},
    "knowledge.document_ingest": {"queue": queue_name("ingestion")},
    "intelligence.*": {"queue": queue_name("reports")},
    "integrations.*": {"queue": queue_name("integrations")},
    "webhooks.*": {"queue": queue_name("integrations")},
    "email.*": {"queue": queue_name("integrations")},
    "workflows.*": {"queue": queue_name("integrations")},
}
CELERY_TASK_ROUTES = [CELERY_ROUTES_BY_NAME, "meetpilot.celery.route_by_package"]
# Tasks are acknowledged after they ran (``acks_late``, meetpilot/tasks.py). On Redis, a message whose
# worker died unannounced (SIGKILL, lost machine) goes back to its queue once it has been out this long;
# it must be longer than the longest task, or a task still running would be handed to a second worker.
# A worker stopped normally (SIGTERM) hands its messages back at once.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 15 * 60)
# How often each worker looks for such abandoned messages (seconds).
CELERY_RESTORE_INTERVAL = env.int("CELERY_RESTORE_INTERVAL", default=60)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": CELERY_RESTORE_INTERVAL,
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# Every worker writes a heartbeat row every WORKER_HEARTBEAT_INTERVAL seconds (meetpilot/celery.py);
# /ready reports the workers down when the newest one is older than WORKER_HEARTBEAT_MAX_AGE.
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=15)
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=120)
