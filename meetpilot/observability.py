"""Metrics of background work, error reporting (Sentry) and traces (OpenTelemetry), for web and worker.

Loaded by the web process (``meetpilot.asgi`` calls ``setup()``) and by every Celery worker (listed
in ``CELERY_IMPORTS``, so the worker imports it and its signal handlers at start). Nothing here
defines a series: they are all in ``meetpilot.metrics``.

- Task run time and outcome (``meetpilot_task_seconds{task,outcome}``) from Celery's signals.
- Queue depth and the age of the oldest waiting message per queue (``meetpilot_queue_depth``,
  ``meetpilot_queue_oldest_age_seconds``), read from the Redis broker's lists when ``/metrics`` is
  scraped. Each message carries the time it was published (header ``published_at``, set here before
  publishing), since Celery's own headers have none.
- Sentry, when ``SENTRY_DSN`` is set (Django and Celery integrations, no personal data sent).
- OpenTelemetry traces over OTLP/HTTP, when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

The worker is a separate process (a pool of them with prefork): with ``PROMETHEUS_MULTIPROC_DIR`` set
to one folder for web and worker processes of a machine, ``/metrics`` of the web process reports every
process's series (see docs/operations.md).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from celery import signals
from django.conf import settings

from meetpilot.metrics import QUEUE_DEPTH, QUEUE_OLDEST_AGE_SECONDS, TASK_SECONDS

logger = logging.getLogger(__name__)

PUBLISHED_AT = "published_at"

# --- tasks ------------------------------------------------------------------------------------------

_started: dict[str, float] = {}
_started_lock = threading.Lock()


@signals.before_task_publish.connect(weak=False)
def _stamp_published_at(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None:
        headers.setdefault(PUBLISHED_AT, time.time())


@signals.task_prerun.connect(weak=False)
def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        with _started_lock:
            _started[task_id] = time.monotonic()


@signals.task_postrun.connect(weak=False)
def _task_finished(task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    with _started_lock:
        started = _started.pop(task_id or "", None)
    if started is None or task is None:
        return
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(state or "", (state or "").lower())
    TASK_SECONDS.labels(task=task.name, outcome=outcome or "unknown").observe(time.monotonic() - started)


# --- queues ------------------------------------------------------------------------------------------


def queue_names() -> list[str]:
    """The Celery queues this installation uses: the default one and any declared ones."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE]
    for queue in getattr(settings, "CELERY_TASK_QUEUES", None) or []:
        name = getattr(queue, "name", queue if isinstance(queue, str) else None)
        if name and name not in names:
            names.append(name)
    return names


def _published_at(raw: bytes | None) -> float | None:
    if not raw:
        return None
    try:
        message = json.loads(raw)
        value = (message.get("headers") or {}).get(PUBLISHED_AT)
        return float(value) if value is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def queue_stats(client: Any, queues: list[str], *, now: float | None = None) -> dict[str, tuple[int, float]]:
    """``{queue: (waiting messages, age of the oldest in seconds)}`` from the Redis broker's lists.

    Kombu pushes new messages on the left and workers take from the right, so the oldest is at -1.
    Messages with a priority go to ``<queue>\\x06\\x16<n>`` lists; those are counted too.
    """
    now = time.time() if now is None else now
    stats: dict[str, tuple[int, float]] = {}
    for queue in queues:
        lists = [queue, *(f"{queue}\x06\x16{n}" for n in range(1, 10))]
        depth, oldest = 0, None
        for key in lists:
            length = client.llen(key)
            if not length:
                continue
            depth += length
            published = _published_at(client.lindex(key, -1))
            if published is not None and (oldest is None or published < oldest):
                oldest = published
        stats[queue] = (depth, max(0.0, now - oldest) if oldest is not None else 0.0)
    return stats


def refresh_queue_gauges() -> None:
    """Sets the queue gauges from the broker (called when /metrics is scraped). Quiet when Redis is away."""
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not broker.startswith(("redis://", "rediss://", "unix://")):
        return
    import redis

    try:
        client = redis.Redis.from_url(broker, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            stats = queue_stats(client, queue_names())
        finally:
            client.close()
    except redis.RedisError:
        logger.warning("queue metrics: the broker did not answer", exc_info=True)
        return
    for queue, (depth, age) in stats.items():
        QUEUE_DEPTH.labels(queue=queue).set(depth)
        QUEUE_OLDEST_AGE_SECONDS.labels(queue=queue).set(age)


# --- errors and traces ------------------------------------------------------------------------------

_setup_done = False
_setup_lock = threading.Lock()


def setup() -> None:
    """Sentry and OpenTelemetry, each only when configured. Safe to call more than once."""
    global _setup_done
    with _setup_lock:
        if _setup_done:
            return
        _setup_done = True
    if settings.SENTRY_DSN:
        _setup_sentry()
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        _setup_tracing()


def _setup_sentry() -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.SENTRY_RELEASE or None,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        # Stack frames' local variables can hold tokens and meeting text (the scrubber knows only some
        # names): error reports carry the code path, never the data.
        include_local_variables=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )


def _setup_tracing() -> None:
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry packages are not installed")
        return
    provider = TracerProvider(resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME}))
    # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT) from the environment itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    CeleryInstrumentor().instrument()


@signals.worker_init.connect(weak=False)
def _worker_setup(**kwargs: Any) -> None:
    setup()


@signals.worker_process_init.connect(weak=False)
def _worker_process_setup(**kwargs: Any) -> None:
    # prefork children: exporters hold threads and sockets that do not survive fork
    global _setup_done
    _setup_done = False
    setup()

