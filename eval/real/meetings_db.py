"""The QMSum meetings in a database of their own, through the product's services (evaluation and benchmarks).

``eval/real/search.py`` (the evaluation), ``eval/real/train_search.py`` (the ranking's training) and
``bench/search.py`` (latency at 500 meetings) all import meetings this way; ``--keep``/``--reuse`` runs
find them again with ``imported_again``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass

from eval.real.data import QmsumMeeting

# --- database -------------------------------------------------------------------------------


def django_setup(default_name: str) -> None:
    """Django against a database of our own on the embedded server (refuses the development one)."""
    os.environ.setdefault("EMBEDDED_DB_NAME", default_name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["EMBEDDINGS_PROVIDER"] = "local"
    if os.environ["EMBEDDED_DB_NAME"] in ("", "meetpilot") or os.environ.get("DATABASE_URL"):
        sys.exit("refusing to run against the development database: set EMBEDDED_DB_NAME, unset DATABASE_URL")
    import django

    from meetpilot.embedded_db import ensure_started

    ensure_started()  # the embedded server is started explicitly, before Django connects
    django.setup()


def _admin_connection():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or None,
        user=settings.DATABASE_OWNER["USER"],
        dbname="postgres",
        autocommit=True,
    )  # the owner creates and drops databases


def database_create() -> str:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from psycopg import sql

    name = settings.DATABASES["default"]["NAME"]
    connection.close()
    with _admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    call_command("migrate", verbosity=0)
    return name


def database_drop(name: str) -> None:
    from django.db import connection
    from psycopg import sql

    connection.close()
    with _admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- import ---------------------------------------------------------------------------------


@dataclass
class Imported:
    meeting_id: int
    turn_of_segment: dict[int, int]  # segment id -> turn index
    index_seconds: float


def turn_segments(turns: list[dict]) -> list:
    """One segment per turn; turns have no times, so about 2.5 words a second, one after another."""
    from meetings.speech.types import SttSegment

    out, clock = [], 0.0
    for turn in turns:
        duration = max(1.0, 0.4 * len(turn["text"].split()))
        out.append(
            SttSegment(
                start=clock,
                end=clock + duration,
                text=turn["text"] or "…",
                speaker=turn["speaker"] or "Unknown speaker",
            )
        )
        clock += duration + 0.2
    return out


def meeting_import(*, company, title: str, turns: list[dict], index: bool = True) -> Imported:
    from django.db import transaction

    from accounts.tenancy import tenant_scope
    from meetings import services
    from meetings.intelligence.indexing import meeting_index
    from meetings.models import TranscriptSegment
    from meetings.uploads.services import segments_store

    with tenant_scope(company), transaction.atomic():
        meeting = services.meeting_create(company=company, created_by=None, title=title)
        segments_store(
            company=company, meeting=meeting, segments=turn_segments(turns), source=TranscriptSegment.Source.IMPORT
        )
    with tenant_scope(company):
        ids = list(TranscriptSegment.objects.filter(meeting=meeting).order_by("sequence").values_list("pk", flat=True))
        started = time.perf_counter()
        if index:
            meeting_index(company=company, meeting=meeting)
        seconds = time.perf_counter() - started
    return Imported(meeting_id=meeting.pk, turn_of_segment={pk: i for i, pk in enumerate(ids)}, index_seconds=seconds)


def database_existing() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["NAME"]


def imported_again(
    meetings: list[QmsumMeeting], *, company_name: str = "QMSum dev"
) -> tuple[object, dict[str, Imported]]:
    """The company and meetings a ``--keep`` run left (``--reuse``: no second import)."""
    from accounts.models import Company
    from accounts.tenancy import tenant_scope
    from knowledge.embeddings import embedding_model_name
    from knowledge.models import Chunk
    from meetings.models import Meeting, TranscriptSegment

    company = Company.objects.get(name=company_name)
    out = {}
    with tenant_scope(company):
        # Chunks of another model have no vector list here (knowledge.retrieval): the figures would be wrong.
        model = embedding_model_name()
        other = sorted(set(Chunk.objects.for_company(company).exclude(embedding_model=model)
                           .values_list("embedding_model", flat=True)))
        if other:
            raise SystemExit(f"the kept database was embedded with {', '.join(other)}, not {model}: "
                             "run again without --reuse")
        by_title = {m.title: m.pk for m in Meeting.objects.all()}
        for m in meetings:
            ids = list(
                TranscriptSegment.objects.filter(meeting_id=by_title[m.meeting])
                .order_by("sequence")
                .values_list("pk", flat=True)
            )
            out[m.meeting] = Imported(
                meeting_id=by_title[m.meeting],
                index_seconds=float("nan"),
                turn_of_segment={pk: i for i, pk in enumerate(ids)},
            )
    return company, out


# --- report ---------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def table(title: str, header: list[str], rows: list[list]) -> str:
    cells = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(lines)
