"""The embedded PostgreSQL 16 + pgvector used when DATABASE_URL is not set.

One server per project folder (``var/pg``), shared by manage.py, daphne,
Celery and the tests. It keeps running after the process that started it exits
(``make db-stop`` stops it), so several processes can attach to it at once.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)


def embedded_database(data_dir: Path, name: str) -> dict[str, str]:
    """Start (or attach to) the embedded server and return Django's DATABASES entry."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else (info.hostname or "127.0.0.1")
    port = "" if info.socket_dir else str(info.port)
    _ensure_database(host=host, port=port, name=name)
    return {"NAME": name, "USER": "postgres", "PASSWORD": "", "HOST": host, "PORT": port}


def _ensure_database(*, host: str, port: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=host, port=port or None, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            logger.info("creating embedded database %s", name)
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:  # another process won the race
                pass
