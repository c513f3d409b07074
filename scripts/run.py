"""`make run`: migrate, seed the demo company, then run web + WebSocket (daphne), a Celery worker and beat.

One supervisor process: if any child exits, everything stops (Ctrl-C stops all of it cleanly).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    os.environ.setdefault("SITE_URL", f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
    if not os.environ.get("REDIS_URL"):
        print("==> no Redis found: using the single-machine fallback (filesystem broker, in-memory channel layer)")

    # Started once here (a no-op with DATABASE_URL); manage.py, daphne and Celery then attach to it.
    from meetpilot.embedded_db import ensure_started

    ensure_started()
    print("==> migrating the database")
    manage("migrate", "--noinput", "-v", "0")
    # Chunks an earlier run embedded with another model (a release that changed it) are made again.
    manage("knowledge_reembed", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("seed_demo", "--with-data")

    concurrency = os.environ.get("CELERY_CONCURRENCY", "2")
    from meetpilot.settings.runtime import CELERY_QUEUES_ALL

    # One worker for every queue here (speech, ingestion, reports, integrations, default); production runs
    # a worker per queue group (docker-compose.yml, docs/operations.md).
    commands = {
        "web": [str(BIN / "daphne"), "-b", host, "-p", port, "--proxy-headers", "meetpilot.asgi:application"],
        "worker": [str(BIN / "celery"), "-A", "meetpilot", "worker", "-l", "INFO", "--concurrency", concurrency,
                   "-Q", ",".join(CELERY_QUEUES_ALL)],
        "beat": [str(BIN / "celery"), "-A", "meetpilot", "beat", "-l", "INFO"],
    }
    children = {name: subprocess.Popen(cmd, cwd=ROOT) for name, cmd in commands.items()}
    print(f"==> MeetPilot is starting on {os.environ['SITE_URL']}  (Ctrl-C stops everything)")

    def stop_all(*_args: object) -> None:
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(0)))
    try:
        while True:
            for name, proc in children.items():
                if proc.poll() is not None:
                    print(f"==> {name} exited with code {proc.returncode}; stopping the rest")
                    stop_all()
                    return proc.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n==> stopping")
        stop_all()
        return 0


if __name__ == "__main__":
    sys.exit(main())
