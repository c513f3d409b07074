"""Operational surface: migrations, /health and /ready, API 404s, CORS for the extension, request ids and logs."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.logging import JsonFormatter, RequestContextFilter
from accounts.models import WorkerHeartbeat

EXTENSION_ORIGIN = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # --check exits 1 when a migration is missing
        pytest.fail(f"models changed without a migration:\n{out.getvalue()}" if exc.code else "")
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_the_database_has_pgvector():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    assert row is not None, "the vector extension is not installed by the migrations"


def test_health_is_json_and_needs_nothing():
    response = Client().get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_ready_reports_every_dependency_ok_with_a_live_worker(celery_worker):
    import time

    deadline = time.monotonic() + 15
    while not WorkerHeartbeat.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    response = Client().get("/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"database", "pgvector", "broker", "channel_layer", "worker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_ready_is_503_without_a_worker_heartbeat():
    response = Client().get("/ready")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert body["checks"]["worker"]["ok"] is False and body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_ready_is_503_when_the_last_heartbeat_is_stale(settings):
    WorkerHeartbeat.objects.create(hostname="old@host",
                                   seen_at=timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5))
    response = Client().get("/ready")
    assert response.status_code == 503 and response.json()["checks"]["worker"]["hostname"] == "old@host"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/tokens/999999/nope", "/api/nothing-here"])
def test_unknown_api_paths_are_json_404(path, admin):
    for client in (Client(), admin.api()):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_api_missing_ids_are_json_404(admin):
    response = admin.api().delete("/api/v1/tokens/999999")
    assert response.status_code == 404 and response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_cors_preflight_from_the_extension(settings, admin):
    settings.CORS_ALLOWED_ORIGINS = [EXTENSION_ORIGIN]
    response = Client().options("/api/v1/me", HTTP_ORIGIN=EXTENSION_ORIGIN,
                                HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                                HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == EXTENSION_ORIGIN
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()
    assert "GET" in response["Access-Control-Allow-Methods"]

    actual = admin.api().get("/api/v1/me", HTTP_ORIGIN=EXTENSION_ORIGIN)
    assert actual.status_code == 200 and actual["Access-Control-Allow-Origin"] == EXTENSION_ORIGIN


@pytest.mark.django_db
def test_cors_refuses_other_origins_and_non_api_paths(settings):
    settings.CORS_ALLOWED_ORIGINS = [EXTENSION_ORIGIN]
    evil = Client().options("/api/v1/me", HTTP_ORIGIN="chrome-extension://someotherextensionidxxxxxxxxxxxx",
                            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert "Access-Control-Allow-Origin" not in evil
    page = Client().options("/accounts/login/", HTTP_ORIGIN=EXTENSION_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert "Access-Control-Allow-Origin" not in page


@pytest.mark.django_db
def test_every_response_has_a_request_id():
    generated = Client().get("/health")["X-Request-ID"]
    assert len(generated) == 32
    assert Client().get("/health", HTTP_X_REQUEST_ID="trace-abc.123")["X-Request-ID"] == "trace-abc.123"
    injected = Client().get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert injected != "bad id\nwith newline" and len(injected) == 32


@pytest.fixture
def json_log():
    """Capture the project's JSON log lines (formatter + context filter as configured in settings)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("accounts")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


@pytest.mark.django_db
def test_log_lines_carry_request_company_and_user(admin, json_log):
    response = admin.api().post("/api/v1/invitations", {"email": "dana@example.com"},
                                content_type="application/json", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 201
    [line] = [entry for entry in json_log() if entry["message"] == "invitation created"]
    assert line["request_id"] == "req-42" == response["X-Request-ID"]
    assert line["company_id"] == admin.company.pk and line["user_id"] == admin.user.pk
    assert line["invitation_id"] == response.json()["id"] and line["level"] == "INFO"


@pytest.mark.django_db
def test_django_request_warnings_carry_the_request_id_too(admin):
    record = logging.makeLogRecord({"msg": "Not Found: /x", "levelname": "WARNING"})
    request = Client().get("/health").wsgi_request
    record.request = request
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == request.request_id and "request" not in line


def test_absurd_page_numbers_are_a_validation_error_not_a_500(admin):
    response = admin.api().get("/api/v1/members?page=6750674114034806586881444046606172160&page_size=99999999999")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    response = admin.api().get("/api/v1/members?page=0&page_size=0")
    assert response.status_code == 200 and response.json()["page"] == 1 and response.json()["page_size"] == 1


def test_nul_characters_are_a_400_not_a_500(admin):
    response = admin.api().get("/api/v1/members?page=1&x=a%00b")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    response = admin.api().patch("/api/v1/company", '{"name": "Ac\\u0000me"}', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    assert admin.browser().get("/meetings/?q=a%00b").status_code == 400


@pytest.mark.django_db
def test_ready_reports_workers_that_index_with_another_retrieval_model():
    from knowledge.embeddings import embedding_model_name

    WorkerHeartbeat.objects.create(hostname="same@host", seen_at=timezone.now(), retrieval_model=embedding_model_name())
    check = Client().get("/ready").json()["checks"]["embeddings"]
    assert check["ok"] and check["workers"] == [embedding_model_name()] and "warning" not in check
    WorkerHeartbeat.objects.create(hostname="other@host", seen_at=timezone.now(), retrieval_model="an-old-model")
    response = Client().get("/ready")
    check = response.json()["checks"]["embeddings"]
    # still ready (a rolling upgrade must not take every web process out), but said
    assert response.status_code == 200 and check["ok"] and "an-old-model" in check["warning"]


@pytest.mark.django_db
def test_a_worker_beats_even_when_its_retrieval_model_is_misconfigured(monkeypatch):
    from types import SimpleNamespace

    from django.core.exceptions import ImproperlyConfigured

    from knowledge import embeddings
    from meetpilot.celery import HeartbeatStep

    def misconfigured():
        raise ImproperlyConfigured("EMBEDDINGS_LOCAL_MODEL")

    monkeypatch.setattr(embeddings, "embedding_model_name", misconfigured)
    HeartbeatStep._beat(None, SimpleNamespace(hostname="worker@host"))
    beat = WorkerHeartbeat.objects.get(hostname="worker@host")
    assert beat.retrieval_model == "" and beat.seen_at > timezone.now() - timedelta(seconds=5)
