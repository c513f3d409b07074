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
