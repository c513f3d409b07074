"""Fixtures of the lifecycle tests: real Celery worker processes that a test may kill, a media folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcesses:
    """Starts ``tests.lifecycle.worker_process`` workers against the test database and broker."""

    def __init__(self, tmp_path: Path, media_root: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []
        env = dict(os.environ)
        env.update(DJANGO_SETTINGS_MODULE="meetpilot.settings.test", MEDIA_ROOT=str(media_root),
                   PYTHONPATH=str(ROOT),
                   # Abandoned messages go back to their queue after 3 s, looked for every second.
                   CELERY_VISIBILITY_TIMEOUT="3", CELERY_RESTORE_INTERVAL="1",
                   INTELLIGENCE_ANALYSIS_EMBED="false")  # the report without sentence embeddings: faster
        name = connection.settings_dict["NAME"]
        if env.get("DATABASE_URL"):
            env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
        else:
            env["EMBEDDED_DB_NAME"] = name
        self.env = env

    def start(self, *groups: str, slow: str = "", seconds: float = 60.0) -> tuple[subprocess.Popen, Path]:
        marker = self.tmp_path / f"slow-{len(self.procs)}"
        env = {**self.env, "WORKER_QUEUES": ",".join(groups), "SLOW_STEP": slow, "SLOW_SECONDS": str(seconds),
               "SLOW_MARKER": str(marker)}
        log = open(self.tmp_path / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "tests.lifecycle.worker_process"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc, marker

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL: the worker gets no chance to hand its message back or finish anything."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp_path.glob("worker-*.log")))

    def stop_all(self) -> None:
        # The broker fixture empties the queues after the test, so nothing needs handing back.
        for proc in self.procs:
            self.kill(proc)


def wait_for(predicate, *, timeout: float, what: str, workers: WorkerProcesses | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{workers.logs() if workers else ''}")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def broker():
    """The test broker (Redis), emptied of this run's queues and unacknowledged messages."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs the Redis broker (REDIS_URL)")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("unacked", "unacked_index", *settings.CELERY_QUEUES_ALL)
    yield client
    client.delete("unacked", "unacked_index", *settings.CELERY_QUEUES_ALL)


@pytest.fixture
def worker_processes(transactional_db, tmp_path, media_root, broker):
    workers = WorkerProcesses(tmp_path, media_root)
    yield workers
    workers.stop_all()
