"""Conventions kept in one place: pure settings, domain errors mapped once, int path ids, one retry policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ninja import NinjaAPI
from ninja.testing import TestClient

from meetpilot.apikit import install_error_handlers
from meetpilot.errors import Conflict, RateLimited
from meetpilot.tasks import TRANSIENT_ERRORS, Transient, retry_policy

ROOT = Path(__file__).resolve().parent.parent.parent


def test_importing_settings_starts_nothing_and_creates_no_folder(tmp_path):
    var = tmp_path / "var"
    code = ("import sys, meetpilot.settings.base as s; "
            "print(s.DATABASES['default']['HOST'], 'pgserver' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "MEETPILOT_VAR_DIR": str(var)})
    host, pgserver_loaded = out.stdout.split()
    assert host == str(var / "pg") and pgserver_loaded == "False"
    assert not var.exists()


def _api_raising(exc: Exception) -> TestClient:
    api = NinjaAPI(urls_namespace=f"test-{id(exc)}")
    install_error_handlers(api)

    @api.get("/boom")
    def boom(request):
        raise exc

    return TestClient(api)


def test_domain_errors_become_json_with_their_status():
    response = _api_raising(Conflict("Only uploaded recordings.", code="not_a_recording")).get("/boom")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only uploaded recordings.", "code": "not_a_recording"}
    assert "Retry-After" not in response.headers


def test_rate_limited_says_when_to_retry():
    response = _api_raising(RateLimited("Slow down.", retry_after=2.2)).get("/boom")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "3"


@pytest.mark.django_db
def test_a_non_integer_id_is_a_json_404(member):
    for path in ("/api/v1/documents/abc", "/api/v1/members/x", "/api/v1/chat/threads/1e3",
                 "/api/v1/meetings/abc/processing"):
        response = member.api().get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path
        assert response.json()["code"] == "not_found"


def test_one_retry_policy():
    options = retry_policy(max_retries=3)
    assert Transient in options["autoretry_for"] and options["autoretry_for"] == TRANSIENT_ERRORS
    assert options["retry_backoff"] and options["retry_jitter"] and options["max_retries"] == 3
    assert options["acks_late"] and "acks_late" not in retry_policy(idempotent=False)
    from knowledge.tasks import document_ingest_task
    from meetings.intelligence.tasks import meeting_index
    from meetings.uploads.tasks import recording_process_task

    for task in (document_ingest_task, meeting_index, recording_process_task):
        assert task.autoretry_for == TRANSIENT_ERRORS and task.retry_jitter, task.name



THREAD_CHECK = """
import threading, django
django.setup()
from celery import current_app
from meetpilot.tasks import task_send
from celery.app.task import Task
sent = []
Task.delay = lambda self, **kw: sent.append(self.name)
def run():
    task_send("knowledge.document_ingest", company_id=1, document_id=2)
    sent.append(current_app.main)
thread = threading.Thread(target=run)
thread.start()
thread.join()
print(sent)
"""


def test_services_enqueue_by_name_from_any_thread():
    """A service enqueues by name from a thread of a process that never ran a worker's autodiscovery (daphne
    runs views in a thread pool): the project's Celery app is the one that thread sees, and the named task is
    found in its registry and queued through it."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "meetpilot.settings.test"}
    out = subprocess.run([sys.executable, "-c", THREAD_CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['knowledge.document_ingest', 'meetpilot']"
