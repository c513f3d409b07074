"""The embedded PostgreSQL 16 + pgvector used when DATABASE_URL is not set.

One server per project folder (``var/pg``), shared by manage.py, daphne,
Celery and the tests. It keeps running after the process that started it exits
(``make db-stop`` stops it), so several processes can attach to it at once.

Settings only compute where the server listens (``database_settings``, from its
``postmaster.pid``); the entry points start it (``ensure_started``) before Django
connects: manage.py, scripts/run.py, meetpilot/asgi.py, the Celery worker and beat,
the test session and the bench/eval scripts.

Roles, created idempotently at every start (accounts/rls.py says what each is for): the server's
superuser ``postgres`` is the owner (migrations); ``meetpilot_app`` (LOGIN, no superuser, no
BYPASSRLS) is what the application connects as; ``meetpilot_maintenance`` (NOLOGIN, BYPASSRLS) is
granted to the app role for maintenance over every company. The socket trusts local users, as
before: the server listens on a Unix socket in the project folder only.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

EMBEDDED_OWNER_ROLE = "postgres"
EMBEDDED_APP_ROLE = "meetpilot_app"
EMBEDDED_MAINTENANCE_ROLE = "meetpilot_maintenance"


def database_settings(data_dir: Path, name: str, *, user: str = EMBEDDED_OWNER_ROLE) -> dict[str, str]:
    """Django's DATABASES entry for the embedded server in ``data_dir``; reads files only, starts nothing.

    A running server's ``postmaster.pid`` names its socket folder (or TCP port); before the first
    start the socket is expected in ``data_dir`` itself, where the server puts it unless that path is
    too long for a Unix socket (``ensure_started`` then corrects the entry).
    """
    host, port = str(data_dir), ""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        lines = []
    if len(lines) >= 5:
        pid_port, socket_dir = lines[3].strip(), lines[4].strip()
        if socket_dir:
            host = socket_dir
        elif pid_port:
            host, port = (lines[5].strip() if len(lines) > 5 and lines[5].strip() else "127.0.0.1"), pid_port
    return {"NAME": name, "USER": user, "PASSWORD": "", "HOST": host, "PORT": port}


def ensure_started() -> None:
    """Start (or attach to) the embedded server, create its roles and database; a no-op when DATABASE_URL is set.

    Safe to call from several processes at once and more than once in one process.
    """
    from meetpilot.settings.environment import VAR_DIR, env

    if env.str("DATABASE_URL", default=""):
        return
    entry = _start(VAR_DIR / "pg", env.str("EMBEDDED_DB_NAME", default="meetpilot"))
    _point_settings_at(entry)


def _start(data_dir: Path, name: str) -> dict[str, str]:
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
    _ensure_roles(host=host, port=port)
    return {"HOST": host, "PORT": port}


def _point_settings_at(entry: dict[str, str]) -> None:
    """When Django read its settings before the server existed (pytest-django does), correct them in place.

    Connections share the settings' dict, so this holds for every connection not yet opened.
    """
    from django.conf import settings

    if not settings.configured:
        return
    default = settings.DATABASES.get("default", {})
    if default.get("HOST") != entry["HOST"] or str(default.get("PORT") or "") != entry["PORT"]:
        default.update(entry)


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


ROLES_SQL = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{EMBEDDED_APP_ROLE}') THEN
        CREATE ROLE {EMBEDDED_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{EMBEDDED_MAINTENANCE_ROLE}') THEN
        CREATE ROLE {EMBEDDED_MAINTENANCE_ROLE} NOLOGIN NOSUPERUSER BYPASSRLS;
    END IF;
END
$$;
GRANT {EMBEDDED_MAINTENANCE_ROLE} TO {EMBEDDED_APP_ROLE};
"""


def _ensure_roles(*, host: str, port: str) -> None:
    import psycopg

    with psycopg.connect(host=host, port=port or None, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        exists = conn.execute("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                              "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
                              [EMBEDDED_MAINTENANCE_ROLE, EMBEDDED_APP_ROLE]).fetchone()
        if exists and exists[0]:
            return
        try:
            conn.execute(ROLES_SQL)
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):  # another process won the race
            pass
