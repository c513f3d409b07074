#!/usr/bin/env python
"""What row-level security costs per query (``make bench-rls``); a measurement, not a test.

Runs against a database of its own (EMBEDDED_DB_NAME, default meetpilot_bench_rls, on the embedded
server), created and migrated here and dropped at the end. Two companies with ``--meetings`` meetings
each (and one transcript segment per meeting). Each variant runs the same ORM queries in a loop on one
connection, inside ``tenant_scope(company)``, and reports queries per second (best of ``--repeat``):

- ``owner, no RLS``: the connection is the owner (a superuser: policies are not applied, and the
  scope wrapper steps aside): what every query cost before this change;
- ``app role, steady scope``: the app role under the policies, the scope unchanged between queries
  (each request, task or socket thread): the wrapper only compares;
- ``app role, scope flips``: the scope changes before every query, so each query pays one
  ``set_config`` round trip too (the worst case; real code changes scope once per request or task).

Queries: ``pk``: one meeting by primary key; ``list``: 50 segments of the company, ordered.

    make bench-rls
    .venv/bin/python bench/rls.py --meetings 2000 --seconds 2 --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EMBEDDED_DB_NAME", "meetpilot_bench_rls")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if os.environ["EMBEDDED_DB_NAME"] in ("", "meetpilot") or os.environ.get("DATABASE_URL"):
    sys.exit("refusing to run against the development database: set EMBEDDED_DB_NAME, unset DATABASE_URL")

import django  # noqa: E402

from meetpilot.embedded_db import ensure_started  # noqa: E402

ensure_started()
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg import sql  # noqa: E402

from accounts import rls  # noqa: E402
from accounts import services as account_services  # noqa: E402
from accounts.models import Company, User  # noqa: E402
from accounts.tenancy import tenant_scope  # noqa: E402
from meetings.models import Meeting, TranscriptSegment  # noqa: E402


def owner_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=settings.DATABASE_OWNER["USER"],
                           dbname="postgres", autocommit=True)


def database_create(name: str) -> None:
    connection.close()
    with owner_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    call_command("migrate", verbosity=0)


def database_drop(name: str) -> None:
    connection.close()
    with owner_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def company_with_meetings(name: str, n: int) -> tuple[Company, list[int]]:
    owner = User.objects.create_user(email=f"owner@{name.lower()}.test", password="bench-password-1")
    company = account_services.company_create(name=name, owner=owner)
    with tenant_scope(company):
        meetings = Meeting.objects.bulk_create(Meeting(company=company, title=f"{name} {i}") for i in range(n))
        TranscriptSegment.objects.bulk_create(
            TranscriptSegment(company=company, meeting=m, sequence=1, text="We agreed to ship on Friday.",
                              speaker_label="A", start_time=0, end_time=2) for m in meetings)
    return company, [m.pk for m in meetings]


def rate(fn, *, seconds: float, repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(50):
                fn()
            done += 50
        best = max(best, done / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = settings.DATABASES["default"]["NAME"]
    database_create(name)
    try:
        (acme, acme_ids), (globex, globex_ids) = (company_with_meetings("Acme", args.meetings),
                                                  company_with_meetings("Globex", args.meetings))
        queries = {
            "pk": lambda company, ids: Meeting.objects.filter(pk=ids[len(ids) // 2]).first(),
            "list": lambda company, ids: list(TranscriptSegment.objects.order_by("-id")[:50]),
        }
        results: dict[str, dict[str, float]] = {}
        for label, role in (("owner, no RLS", "owner"), ("app role, steady scope", "app"),
                            ("app role, scope flips", "flip")):
            results[label] = {}
            with rls.owner_credentials() if role == "owner" else contextlib.nullcontext():
                for query_name, query in queries.items():
                    if role == "flip":
                        turn = [0]

                        def flipping(query=query, turn=turn) -> None:
                            turn[0] ^= 1
                            company, ids = (acme, acme_ids) if turn[0] else (globex, globex_ids)
                            with tenant_scope(company):
                                query(company, ids)

                        results[label][query_name] = rate(flipping, seconds=args.seconds, repeat=args.repeat)
                    else:
                        with tenant_scope(acme):
                            assert query(acme, acme_ids) is not None
                            results[label][query_name] = rate(lambda q=query: q(acme, acme_ids),
                                                              seconds=args.seconds, repeat=args.repeat)
                with connection.cursor() as cur:
                    cur.execute("SELECT session_user")
                    results[label]["_user"] = cur.fetchone()[0]
        print(f"{args.meetings} meetings and segments per company, 2 companies; best of {args.repeat} x "
              f"{args.seconds:.0f} s; queries per second on one connection")
        print(f"{'variant':26} {'user':22} {'pk':>9} {'list':>9}")
        base = results["owner, no RLS"]
        for label, row in results.items():
            pk, listed = row['pk'] / base['pk'] - 1, row['list'] / base['list'] - 1
            change = "" if row is base else f"   ({pk:+.0%}, {listed:+.0%})"
            print(f"{label:26} {row['_user']:22} {row['pk']:9.0f} {row['list']:9.0f}{change}")
    finally:
        database_drop(name)


if __name__ == "__main__":
    main()
