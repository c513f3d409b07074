import time

import pytest

from accounts.models import WorkerHeartbeat
from knowledge.embeddings import embedding_model_name
from meetpilot.celery import app


@app.task(name="tests.add")
def add(x, y):
    return x + y


@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_tasks_and_writes_a_heartbeat(celery_worker):
    assert add.delay(2, 3).get(timeout=20) == 5
    deadline = time.monotonic() + 10
    while not WorkerHeartbeat.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.exists()
    assert WorkerHeartbeat.objects.latest("seen_at").retrieval_model == embedding_model_name()
