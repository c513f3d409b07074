"""Without REDIS_URL Celery falls back to kombu's filesystem transport: every folder it writes lies under var/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_filesystem_broker_writes_only_under_var():
    env = {**os.environ, "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "meetpilot.settings.base"}
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS, str(s.VAR_DIR)]))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    url, options, var_dir = json.loads(out.stdout.strip().splitlines()[-1])
    assert url == "filesystem://"
    # The transport's folders, kombu's defaults included: "control" would land in the working directory.
    folders = {key: options.get(key) for key in ("data_folder_in", "data_folder_out", "processed_folder",
                                                 "control_folder")}
    assert all(folders.values()), folders
    assert all(Path(folder).resolve().is_relative_to(Path(var_dir).resolve()) for folder in folders.values()), folders
