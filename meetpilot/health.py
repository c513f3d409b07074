"""/health (the process answers) and /ready (every dependency answers), both JSON."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from accounts.models import WorkerHeartbeat


def health(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _check_pgvector() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    return {"ok": row is not None, "version": row[0] if row else None}


def _check_broker() -> dict:
    from meetpilot.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "transport": conn.transport_cls if isinstance(conn.transport_cls, str) else "redis"}


def _check_channel_layer() -> dict:
    return {"ok": True, "backend": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _live_since():
    """Heartbeats since then are of live workers."""
    return timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)


def _check_worker() -> dict:
    newest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if newest is None:
        return {"ok": False, "error": "no worker has reported yet"}
    age = (timezone.now() - newest.seen_at).total_seconds()
    fresh = newest.seen_at >= _live_since()
    return {"ok": fresh, "last_seen_seconds": round(age, 1), "hostname": newest.hostname}


def _check_embeddings() -> dict:
    """This process's retrieval model beside the live workers'. A difference (a node that fell back to MiniLM,
    a half-done upgrade) does not make the process unready, but its questions then find the workers' chunks
    by their words only, so it is reported."""
    from knowledge.embeddings import embedding_model_name

    mine = embedding_model_name()
    workers = sorted(
        set(WorkerHeartbeat.objects.filter(seen_at__gte=_live_since()).exclude(retrieval_model="")
            .values_list("retrieval_model", flat=True))
    )
    out = {"ok": True, "model": mine, "workers": workers}
    if any(model != mine for model in workers):
        out["warning"] = (f"this process embeds questions with {mine}, workers index with {', '.join(workers)}: "
                          "chunks of another model are found by their words only (docs/operations.md, Upgrades)")
    return out


CHECKS = {
    "database": _check_database,
    "pgvector": _check_pgvector,
    "broker": _check_broker,
    "channel_layer": _check_channel_layer,
    "worker": _check_worker,
    "embeddings": _check_embeddings,
}


def ready(request):
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            results[name] = check()
        except Exception as exc:  # a check that fails reports why; /ready itself never 500s
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    all_ok = all(r["ok"] for r in results.values())
    return JsonResponse({"status": "ok" if all_ok else "unavailable", "checks": results},
                        status=200 if all_ok else 503)
