"""Where settings read from: the process environment, then the project's ``.env`` file.

Imported by every settings module (and by ``meetpilot.embedded_db``, which runs before Django
reads its settings), so ``.env`` is read once and ``BASE_DIR`` / ``VAR_DIR`` mean the same
everywhere. Nothing here creates folders or starts anything.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    # The process environment wins over .env (overwrite=False).
    environ.Env.read_env(str(_env_file), overwrite=False)

# Everything the app writes at run time (embedded database, media, broker folders, models) lives here.
VAR_DIR = Path(env.str("MEETPILOT_VAR_DIR", default=str(BASE_DIR / "var")))
