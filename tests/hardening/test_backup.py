"""Backups restore: the embedded server's own pg_dump and pg_restore, into a fresh database, find the rows.

The procedure is the one docs/operations.md gives (custom format dump, restore with --no-owner).
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pgserver._commands as pg_commands
import psycopg
from django.db import connection

from accounts.models import Company
from knowledge.models import Chunk
from meetings.models import Meeting, TranscriptSegment
from tests import factories
from tests.knowledge.factories import document_ingested
from tests.meetings.factories import meeting_make, segment_make

BIN = Path(pg_commands.POSTGRES_BIN_PATH)


def _server() -> dict[str, str]:
    # Backups are taken as the owner: the application role sees one company at a time (row-level security).
    from django.conf import settings as django_settings

    settings = connection.settings_dict
    return {"host": settings["HOST"], "port": str(settings["PORT"] or "5432"),
            "user": django_settings.DATABASE_OWNER["USER"] or "postgres"}


def _run(tool: str, *args: str) -> None:
    server = _server()
    done = subprocess.run([str(BIN / tool), "-h", server["host"], "-p", server["port"], "-U", server["user"], *args],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_dump_restores_into_a_fresh_database(transactional_db, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    company = factories.company_make(name="Backup Ltd", owner=factories.user_make(email="owner@backup.test"))
    meeting = meeting_make(company=company, title="Board meeting before the backup")
    segment_make(meeting=meeting, text="We approved the budget of 1.2 million.")
    document_ingested(company=company, title="Budget 2026", text="The approved budget is 1.2 million euros. " * 20)

    dump = tmp_path / "meetpilot.dump"
    dump.touch()
    dump.chmod(0o666)  # as root, the server's tools may run as its own system user
    tmp_path.chmod(0o777)
    _run("pg_dump", "--format=custom", "--file", str(dump), connection.settings_dict["NAME"])
    assert dump.stat().st_size > 10_000

    restored = f"meetpilot_restore_{uuid.uuid4().hex[:8]}"
    server = _server()
    admin = psycopg.connect(host=server["host"], port=server["port"], user=server["user"], dbname="postgres",
                            autocommit=True)
    try:
        admin.execute(f'CREATE DATABASE "{restored}"')
        _run("pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump))
        with psycopg.connect(host=server["host"], port=server["port"], user=server["user"], dbname=restored) as db:
            def one(sql: str, *params):
                return db.execute(sql, params).fetchone()

            assert one(f"SELECT name FROM {Company._meta.db_table} WHERE id = %s", company.pk) == ("Backup Ltd",)
            assert one(f"SELECT title FROM {Meeting._meta.db_table} WHERE id = %s", meeting.pk) == (
                "Board meeting before the backup",)
            assert one(f"SELECT text FROM {TranscriptSegment._meta.db_table} WHERE meeting_id = %s", meeting.pk) == (
                "We approved the budget of 1.2 million.",)
            chunks = one(f"SELECT count(*), count(embedding) FROM {Chunk._meta.db_table} WHERE company_id = %s",
                         company.pk)
            assert chunks[0] >= 1 and chunks[0] == chunks[1]
            # pgvector, its index and the full-text column came back working
            nearest = one(f"SELECT text FROM {Chunk._meta.db_table} WHERE company_id = %s "
                          f"ORDER BY embedding <=> (SELECT embedding FROM {Chunk._meta.db_table} "
                          f"WHERE company_id = %s LIMIT 1) LIMIT 1", company.pk, company.pk)
            assert "approved budget" in nearest[0]
            assert one(f"SELECT count(*) FROM {Chunk._meta.db_table} WHERE search_vector @@ "
                       "plainto_tsquery('english', 'budget')")[0] >= 1
            assert one("SELECT count(*) FROM django_migrations")[0] > 20  # the schema's history too
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
        admin.close()
