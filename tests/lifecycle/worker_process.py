"""A real Celery worker process for the crash tests: ``python -m tests.lifecycle.worker_process``.

The same worker ``celery -A meetpilot worker`` runs (solo pool), with one step made slow so a test can
kill it in the middle of that step. Environment:

- ``WORKER_QUEUES``: comma-separated queue groups to consume (``speech,reports``);
- ``SLOW_STEP``: ``ingestion`` (before a document's chunks are stored), ``speech`` (when transcription
  starts) or empty;
- ``SLOW_SECONDS``: how long that step waits; ``SLOW_MARKER``: a file written when it starts waiting.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def _pause() -> None:
    marker = Path(os.environ["SLOW_MARKER"])
    if marker.exists():
        return
    marker.write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("SLOW_SECONDS", "60")))


def _slow_ingestion() -> None:
    from knowledge import services

    original = services.chunks_replace

    def chunks_replace(**kwargs: Any) -> int:
        _pause()
        return original(**kwargs)

    services.chunks_replace = chunks_replace


def _slow_speech() -> None:
    from meetings.uploads import services

    original = services.process_audio

    def process_audio(samples: Any, *, progress: Any, **kwargs: Any) -> Any:
        def hooked(stage: str, fraction: float) -> None:
            progress(stage, fraction)
            if stage == "transcribe":
                _pause()

        return original(samples, progress=hooked, **kwargs)

    services.process_audio = process_audio


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.test")
    import django

    from meetpilot.embedded_db import ensure_started

    django.setup()
    ensure_started()
    from meetpilot.celery import app
    from meetpilot.settings.runtime import queue_name

    step = os.environ.get("SLOW_STEP", "")
    if step == "ingestion":
        _slow_ingestion()
    elif step == "speech":
        _slow_speech()
    queues = ",".join(queue_name(group) for group in os.environ["WORKER_QUEUES"].split(","))
    app.worker_main(["worker", "--pool", "solo", "-Q", queues, "-l", "WARNING", "-n", f"crash-{os.getpid()}@%h",
                     "--without-gossip", "--without-mingle"])


if __name__ == "__main__":
    main()
