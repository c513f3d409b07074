#!/usr/bin/env python
"""Benchmark of meeting search (``make bench-search``); a measurement, not a test.

Runs against a database of its own (EMBEDDED_DB_NAME, default meetpilot_bench_search, on the
embedded server), created and migrated here and dropped at the end (``--keep`` keeps it).

1. Search latency as the company grows to 500 meetings: the 35 QMSum meetings re-imported under
   other titles (``segments_store`` + ``meeting_index``; chunk and question embeddings are a hashed
   bag of words, since the model's output does not change the cost of a search and 500 meetings
   through the model would take an hour on 2 cores; a model's question among hashed chunks would
   find no HNSW neighbours). At each size the 186 QMSum questions run through ``search()`` across all
   meetings and within their meeting (p50/p95, database side); the local model embeds each question
   with its cache cleared (what a new question costs), and "new question" adds the two per question.
   Beside them, same run and interleaved question by question (rotating which goes first, since the
   first pays the question's cold word statistics): across meetings with rank fusion instead of the
   learned ranking (``Ranking()``), and the two candidate lists alone (``search_candidates``).
2. Indexing a 2-hour meeting, last (its model-embedded chunks stay out of the latency runs): QMSum
   turns (EVAL_DATA_DIR, see eval/real/data.py) joined into one meeting of about 2,000 turns, then
   ``meeting_index`` as the report task runs it: once with the local embedding model (what
   production pays) and once with the hashed embedding (the windowing, cleaning and database share).

    make bench-search
    .venv/bin/python bench/search.py --sizes 35 100 500
    .venv/bin/python bench/search.py --sizes 500 --keep   # then --reuse: latency only, no import
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.real.meetings_db import (  # noqa: E402
    database_create,
    database_drop,
    django_setup,
    meeting_import,
    pct,
    table,
)

django_setup("meetpilot_bench_search")

import numpy as np  # noqa: E402

from eval.real.data import qmsum  # noqa: E402

_WORD = re.compile(r"\w+")
_BUCKETS = 8192
_PROJECTION = np.random.default_rng(7).normal(size=(_BUCKETS, 384)).astype(np.float32)


def hashed_embeddings(texts: list[str]) -> np.ndarray:
    """Unit vectors from hashed word counts: similar texts get similar vectors, at no model cost."""
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, text in enumerate(texts):
        buckets = [
            int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little") % _BUCKETS
            for w in _WORD.findall(text.lower())
        ]
        if buckets:
            out[i] = _PROJECTION[buckets].sum(axis=0)
        out[i] /= max(float(np.linalg.norm(out[i])), 1e-6)
    return out


_model_embed_query = None


def hashed_query(text: str) -> np.ndarray:
    return hashed_embeddings([text])[0]


def use_hashed_embeddings(on: bool) -> None:
    """Chunks and questions both (a model's question among hashed chunks finds no neighbours in HNSW)."""
    global _model_embed_query
    from knowledge import embeddings, services
    from meetings.intelligence import search as search_module

    _model_embed_query = _model_embed_query or embeddings.embed_query
    services.embed_texts = hashed_embeddings if on else embeddings.embed_texts
    embeddings.embed_query = search_module.embed_query = hashed_query if on else _model_embed_query


LATENCY_HEADER = [
    "meetings",
    "chunks",
    "across, new question (+ model)",
    "across (database side)",
    "within the meeting (database side)",
    "question embedding (model)",
    "across, rank fusion only (baseline)",
    "across, candidate lists alone",
]


def bench_indexing(company, meetings) -> list[list]:
    turns: list[dict] = []
    for m in meetings:
        if len(turns) >= 2000:
            break
        turns += m.turns
    turns = turns[:2000]
    rows = []
    for label, hashed in (("local embedding model", False), ("hashed embedding (no model)", True)):
        use_hashed_embeddings(hashed)
        imported = meeting_import(company=company, title=f"Two hours ({label})", turns=turns)
        from accounts.tenancy import tenant_scope
        from knowledge.models import Chunk

        with tenant_scope(company):
            windows = Chunk.objects.filter(source_type="transcript", source_id=imported.meeting_id).count()
        rows.append([label, len(turns), windows, f"{imported.index_seconds:.1f} s"])
    use_hashed_embeddings(True)
    return rows


def bench_latency(company, queries, imported) -> list[str]:
    from accounts.tenancy import tenant_scope
    from knowledge import embeddings
    from meetings.intelligence.search import Ranking, SearchFilters, search, search_candidates

    embed = []
    for q in queries:  # the local model, as production pays it for a question not seen before
        embeddings._query_cache.clear()
        started = time.perf_counter()
        (_model_embed_query or embeddings.embed_query)(q.query)
        embed.append(time.perf_counter() - started)
    # Across meetings three ways, their order rotated question by question so that each pays the cold word
    # statistics of a new question equally often: the shipped ranking, rank fusion alone (``Ranking()``, the
    # baseline) and the two candidate lists alone (``search_candidates``: what any ranking starts from).
    variants = {
        "across": lambda q: search(company=company, query=q.query, k=10),
        "fusion": lambda q: search(company=company, query=q.query, k=10, ranking=Ranking()),
        "candidates": lambda q: search_candidates(company=company, query=q.query, k=10),
    }
    names = list(variants)
    out: dict[str, list[float]] = {name: [] for name in [*names, "within"]}
    with tenant_scope(company):
        for i, q in enumerate(queries):
            for name in names[i % 3 :] + names[: i % 3]:
                started = time.perf_counter()
                variants[name](q)
                out[name].append(time.perf_counter() - started)
        for q in queries:
            filters = SearchFilters(meeting_id=imported[q.meeting].meeting_id)
            started = time.perf_counter()
            search(company=company, query=q.query, filters=filters, k=10)
            out["within"].append(time.perf_counter() - started)
    # What a user waits for with a new question: the database side plus the model, question by question.
    first = [t + e for t, e in zip(out["across"], embed, strict=True)]
    return [ms(first), ms(out["across"]), ms(out["within"]), ms(embed), ms(out["fusion"]), ms(out["candidates"])]


def ms(times: list[float]) -> str:
    return f"{1000 * pct(times, 50):.0f} / {1000 * pct(times, 95):.0f}"


def imported_again(company_name: str, meetings) -> tuple[object, dict, int]:
    """The company a ``--keep`` run left (``--reuse``): its meetings, by QMSum name, and how many."""
    from accounts.tenancy import tenant_scope
    from eval.real.meetings_db import imported_again as meetings_imported
    from meetings.models import Meeting

    company, out = meetings_imported(meetings, company_name=company_name)
    with tenant_scope(company):
        return company, out, Meeting.objects.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[35, 100, 500], help="meetings in the company")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--skip-indexing", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time search on the meetings a --keep run left (no import, no indexing bench)",
    )
    args = parser.parse_args()

    from django.db import connection

    from accounts.tenancy import tenant_scope
    from knowledge.models import Chunk
    from knowledge.retrieval import counts_forget
    from tests import factories

    meetings, queries = qmsum()
    if args.reuse:
        from django.conf import settings

        name = settings.DATABASES["default"]["NAME"]
        company, imported, count = imported_again("Bench search", meetings)
        use_hashed_embeddings(True)
        counts_forget()
        with tenant_scope(company):
            chunks = Chunk.objects.count()
        print(
            table(
                "search() latency, k=10, ms p50 / p95",
                LATENCY_HEADER,
                [[count, chunks, *bench_latency(company, queries, imported)]],
            )
        )
        return
    name = database_create()
    print(f"database {name}; 2-core figures are noisy", flush=True)
    try:
        use_hashed_embeddings(True)
        company = factories.company_make(name="Bench search")
        imported: dict = {}
        latency_rows = []
        count = 0
        print("search latency as the company grows ...", flush=True)
        for size in sorted(args.sizes):
            started = time.perf_counter()
            while count < size:
                m = meetings[count % len(meetings)]
                copy = count // len(meetings)
                result = meeting_import(
                    company=company, title=f"{m.meeting} #{copy}" if copy else m.meeting, turns=m.turns
                )
                if not copy:
                    imported[m.meeting] = result
                count += 1
            with connection.cursor() as cursor:
                cursor.execute("SELECT meetpilot_chunk_analyze()")  # ANALYZE as the owner
            counts_forget()
            with tenant_scope(company):
                chunks = Chunk.objects.count()
            print(f"  {size} meetings, {chunks} chunks (import {time.perf_counter() - started:.0f} s)", flush=True)
            latency_rows.append([size, chunks, *bench_latency(company, queries, imported)])
        print(table("search() latency, k=10, ms p50 / p95", LATENCY_HEADER, latency_rows))
        index_times = statistics.median(r.index_seconds for r in imported.values())
        print(f"median meeting_index (hashed embedding) of the QMSum meetings: {index_times:.2f} s")
        if not args.skip_indexing:  # last: its model-embedded chunks would share the HNSW graph with the hashed ones
            print("indexing a 2-hour meeting ...", flush=True)
            scratch = factories.company_make(name="Bench indexing")
            rows = bench_indexing(scratch, meetings)
            print(table("meeting_index of a 2-hour meeting", ["", "turns", "windows", "meeting_index"], rows))
    finally:
        if not args.keep:
            database_drop(name)


if __name__ == "__main__":
    main()
