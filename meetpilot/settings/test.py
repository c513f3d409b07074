"""The only override of base.py: fast hashing, and a test database of its own.

Several suites may run side by side against the one embedded server, so the test
database name takes TEST_DB_SUFFIX when it is set.
"""

import os

from meetpilot.settings.base import *  # noqa: F403
from meetpilot.settings.base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["TEST"] = {"NAME": f"test_meetpilot{os.environ.get('TEST_DB_SUFFIX', '')}"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
WORKER_HEARTBEAT_INTERVAL = 1
# Live back-pressure and the catch-up sweep stay out of the way of unrelated tests (a first model
# load is slow); the tests of those features switch them on through these variables.
LIVE_BUSY_ACK_MS = float(os.environ.get("LIVE_BUSY_ACK_MS", "60000"))
LIVE_BUSY_LOOP_LAG_MS = float(os.environ.get("LIVE_BUSY_LOOP_LAG_MS", "60000"))
# Tests load the speech models when a test uses them.
LIVE_AUDIO_PRELOAD = os.environ.get("LIVE_AUDIO_PRELOAD", "0").lower() in ("1", "true", "yes", "on")
LIVE_ANALYSIS_SWEEP_SECONDS = float(os.environ.get("LIVE_ANALYSIS_SWEEP_SECONDS", "0"))
