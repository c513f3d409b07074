"""Across processes, as deployed: Sentry gets a failing view's error from the web process, and a separate
Celery worker's task series show on the web process's /metrics (prometheus multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.fakes.sentry_server import FakeSentry
from tests.hardening.process import CLIENT_ADDRESS, SECRET_TOKEN

pytestmark = pytest.mark.slow  # each test starts processes that import the whole project

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "meetpilot.settings.test",
           "EMBEDDED_DB_NAME": connection.settings_dict["NAME"], "PYTHONUNBUFFERED": "1", **extra}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def _process(mode: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.hardening.process", mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180, check=False)


def test_sentry_gets_the_error_of_a_failing_view_without_personal_data(transactional_db):
    with FakeSentry() as sentry:
        done = _process("fail", _env(SENTRY_DSN=sentry.dsn, SENTRY_ENVIRONMENT="test"))
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "500"
        event = sentry.wait_for_event()
    assert sentry.paths[0] == f"/api/{FakeSentry.project}/envelope/"
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "deliberate failure for the error reporting test"
    assert event["environment"] == "test"
    assert exception["mechanism"]["type"] == "django", exception["mechanism"]  # reported by the Django integration
    raw = b"".join(sentry.raw)
    at = raw.find(SECRET_TOKEN.encode())
    assert at < 0, raw[max(0, at - 600):at + 100]  # headers with credentials are filtered
    assert CLIENT_ADDRESS.encode() not in raw  # send_default_pii is off: no client address
    assert "user" not in event or "ip_address" not in event.get("user", {})


def test_without_a_dsn_or_endpoint_nothing_is_set_up(settings, monkeypatch):
    import sentry_sdk
    from opentelemetry import trace

    from meetpilot import observability

    settings.SENTRY_DSN = ""
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""
    monkeypatch.setattr(observability, "_setup_done", False)
    observability.setup()
    assert not sentry_sdk.get_client().is_active()
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"  # the API's no-op default


def test_traces_go_to_the_otlp_endpoint(transactional_db):
    with FakeSentry() as collector:  # any POST is kept: here, OTLP/HTTP protobuf
        done = _process("trace", _env(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url, OTEL_SERVICE_NAME="meetpilot-test"))
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "200"
    assert "/v1/traces" in collector.paths
    spans = b"".join(raw for path, raw in zip(collector.paths, collector.raw, strict=True) if path == "/v1/traces")
    assert b"meetpilot-test" in spans  # the service name of the resource
    assert b"GET" in spans and b"/health" in spans  # the request's server span


@pytest.mark.timeout(240)
def test_a_separate_worker_s_task_series_show_on_the_web_metrics(transactional_db, tmp_path):
    from celery import current_app

    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    queue = f"meetpilot-metrics-{uuid.uuid4().hex[:8]}"
    env = _env(PROMETHEUS_MULTIPROC_DIR=str(multiproc), CELERY_QUEUE=queue)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "meetpilot", "worker", "-P", "solo", "-Q", queue,
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # A company that does not exist: the task re-fetches it and ends quietly (success).
        result = current_app.send_task("knowledge.document_ingest", kwargs={"company_id": 10**9, "document_id": 1},
                                       queue=queue)
        result.get(timeout=120, propagate=False)
        assert result.state == "SUCCESS", result.state
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert any(multiproc.iterdir()), output[-3000:]  # the worker wrote its series to the shared folder
    done = _process("metrics", env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'meetpilot_task_seconds_count{outcome="success",task="knowledge.document_ingest"} 1.0' in done.stdout, (
        done.stdout[-3000:])
    assert f'meetpilot_queue_depth{{queue="{queue}"}} 0.0' in done.stdout
