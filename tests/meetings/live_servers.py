"""Real daphne processes for the live tests (not a test module): started, killed, restarted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ORIGIN = "http://127.0.0.1:8000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphne:
    """One daphne serving the real ASGI app against this test's database, with extra settings."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        full_env = dict(os.environ, DJANGO_SETTINGS_MODULE="meetpilot.settings.test",
                        EMBEDDED_DB_NAME=connection.settings_dict["NAME"], LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
                        **env)
        daphne = Path(sys.executable).with_name("daphne")
        self.process = subprocess.Popen([str(daphne), "-b", "127.0.0.1", "-p", str(self.port),
                                         "meetpilot.asgi:application"], cwd=settings.BASE_DIR, env=full_env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.process.stdout.read().decode()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
