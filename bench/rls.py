#!/usr/bin/env python
"""What row-level security costs per query (``make bench-rls``); a measurement, not a test.

Runs against a database of its own (EMBEDDED_DB_NAME, default meetpilot_bench_rls, on the embedded
server), created and migrated here and dropped at the end. Two companies with ``--meetings`` meetings
each (and one transcript segment per meeting). Each variant runs the same ORM queries in a loop on one
connection, inside ``tenant_scope(company)``; the variants take turns for ``--rounds`` rounds and the
median queries per second is reported (a shared machine's load falls on all of them alike):

- ``owner, no RLS``: the connection is the owner (a superuser: policies are not applied, and the
  scope wrapper steps aside): what every query cost before this change;
- ``app role, steady scope``: the app role under the policies, the scope unchanged between queries
  (each request, task or socket thread): the wrapper only compares;
- ``app role, scope flips``: the scope changes before every query, so each query pays one
  ``set_config`` round trip too (the worst case; real code changes scope once per request or task).

Queries: ``pk``: one meeting by primary key; ``list``: 50 segments of the company, ordered. Last, the
wrapper's own cost per query in the steady state, timed in Python without a database.

    make bench-rls
    .venv/bin/python bench/rls.py --meetings 2000 --seconds 1 --rounds 7
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
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


def rate(fn, *, seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        done += 20
    return done / elapsed


def wrapper_cost(n: int = 200_000) -> tuple[float, float]:
    """Microseconds the scope wrapper adds per query in the steady state, and the same call without it."""

    class Raw:
        class info:  # the shape of psycopg's connection.info
            transaction_status = 0

    class Conn:
        connection = Raw()
        settings_dict = {"USER": settings.DATABASE_APP_ROLE}

    conn = Conn()
    context = {"connection": conn}
    noop = lambda sql_text, params, many, context: None  # noqa: E731
    conn.__dict__["_rls_sent"] = rls._Sent(owner=False)
    with tenant_scope(7):
        sent = conn.__dict__["_rls_sent"]
        sent.key, sent.values = (rls.scope_key(), rls._ambient_maintenance), rls._wanted(rls.database_scope())
        start = time.perf_counter()
        for _ in range(n):
            rls.scope_wrapper(noop, "SELECT 1", None, False, context)
        wrapped = (time.perf_counter() - start) / n * 1e6
        start = time.perf_counter()
        for _ in range(n):
            noop("SELECT 1", None, False, context)
        bare = (time.perf_counter() - start) / n * 1e6
    return wrapped, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=1.0, help="per variant and query in each round")
    parser.add_argument("--rounds", type=int, default=7, help="the variants take turns this many times")
    parser.add_argument("--wrapper-only", action="store_true", help="only the wrapper's own cost, no database")
    args = parser.parse_args()
    if args.wrapper_only:
        for _ in range(3):
            wrapped, bare = wrapper_cost()
            print(f"scope wrapper in the steady state: {wrapped - bare:.2f} us per query (Python side, no database)")
        return
    name = settings.DATABASES["default"]["NAME"]
    database_create(name)
    try:
        (acme, acme_ids), (globex, globex_ids) = (company_with_meetings("Acme", args.meetings),
                                                  company_with_meetings("Globex", args.meetings))
        queries = {
            "pk": lambda company, ids: Meeting.objects.filter(pk=ids[len(ids) // 2]).first(),
            "list": lambda company, ids: list(TranscriptSegment.objects.order_by("-id")[:50]),
        }
        variants = (("owner, no RLS", "owner"), ("app role, steady scope", "app"), ("app role, scope flips", "flip"))
        samples: dict[str, dict[str, list[float]]] = {label: {q: [] for q in queries} for label, _ in variants}
        users: dict[str, str] = {}
        # Round-robin, so that the load of a shared machine falls on every variant alike; medians reported.
        for _ in range(args.rounds):
            for label, role in variants:
                with rls.owner_credentials() if role == "owner" else contextlib.nullcontext():
                    for query_name, query in queries.items():
                        if role == "flip":
                            turn = [0]

                            def flipping(query=query, turn=turn) -> None:
                                turn[0] ^= 1
                                company, ids = (acme, acme_ids) if turn[0] else (globex, globex_ids)
                                with tenant_scope(company):
                                    query(company, ids)

                            samples[label][query_name].append(rate(flipping, seconds=args.seconds))
                        else:
                            with tenant_scope(acme):
                                assert query(acme, acme_ids) is not None
                                samples[label][query_name].append(
                                    rate(lambda q=query: q(acme, acme_ids), seconds=args.seconds))
                    with connection.cursor() as cur:
                        cur.execute("SELECT session_user")
                        users[label] = cur.fetchone()[0]
        print(f"{args.meetings} meetings and segments per company, 2 companies; {args.rounds} rounds of "
              f"{args.seconds:g} s per variant and query, taking turns; median queries per second, one connection")
        print(f"{'variant':26} {'user':16} {'pk':>8} {'(p25-p75)':>13} {'list':>8} {'(p25-p75)':>13}")
        median = {label: {q: statistics.median(v) for q, v in row.items()} for label, row in samples.items()}
        base = median["owner, no RLS"]
        for label, row in median.items():
            spread = {q: statistics.quantiles(samples[label][q], n=4) for q in queries}
            pk, listed = row["pk"] / base["pk"] - 1, row["list"] / base["list"] - 1
            change = "" if row is base else f"   ({pk:+.1%}, {listed:+.1%})"
            print(f"{label:26} {users[label]:16} {row['pk']:8.0f} {spread['pk'][0]:6.0f}-{spread['pk'][2]:<6.0f} "
                  f"{row['list']:8.0f} {spread['list'][0]:6.0f}-{spread['list'][2]:<6.0f}{change}")
        wrapped, bare = wrapper_cost()
        print(f"scope wrapper in the steady state: {wrapped - bare:.2f} us per query (Python side, no database)")
    finally:
        database_drop(name)


if __name__ == "__main__":
    main()
