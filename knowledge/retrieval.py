"""Hybrid retrieval over the shared chunk table.

Two candidate lists, fused by reciprocal rank fusion (RRF, k=60):

* full text: ``websearch_to_tsquery('english', query)`` against the generated
  ``tsvector`` (GIN index), ranked by ``ts_rank`` (each matched term counts,
  repeats of one term saturate). A query without search operators (quotes,
  ``or``, ``-word``) is a question in plain words, so its terms are OR-ed: a
  passage need not contain every word of the question to be found; passages
  with more of them (title words weigh more) rank higher;
* vector: cosine distance to the query embedding (pgvector).

Every query is filtered by company and by the access levels the caller may see,
plus the optional filters. Approximate (HNSW) indexes filter *after* the index
scan, so a company owning a small share of the table could get fewer than ``k``
rows back. pgvector 0.6 has no iterative scan, so:

* companies with at most ``KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS`` chunks (or whose
  share of the table is too small for the HNSW candidate list to hold enough of
  their rows) get an exact search: a plain ``ORDER BY distance`` over their own
  rows, written as ``(embedding <=> q) + 0`` so the planner cannot pick the HNSW
  index for it;
* larger companies use the HNSW index with ``hnsw.ef_search`` raised to their
  share of the table (``SET LOCAL`` in a transaction), unless the index would
  compare the query with as many vectors as the company owns (then the exact
  search is as cheap, and exact), and fall back to the exact search when the
  filtered result still comes back short.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Company, Role
from knowledge.embeddings import common_scale, embedding_model_name
from knowledge.models import AccessLevel, SourceType

RRF_K = 60
MODES = ("hybrid", "vector", "fulltext")
ALL_ACCESS_LEVELS = frozenset(AccessLevel.values)
MEMBER_ACCESS_LEVELS = frozenset({AccessLevel.PUBLIC.value, AccessLevel.TEAM.value})
FILTER_KEYS = {"tags", "source_types", "document_id", "document_ids", "source_ids", "date_from", "date_to",
               "metadata"}
HNSW_EF_MAX = 1000  # pgvector's upper bound for hnsw.ef_search
HNSW_MARGIN = 3  # index candidates of the company per result wanted
# Neighbours per node on the index's bottom layer (2 * m, m=16 in the migration): an HNSW search compares the
# query with about ef_search * HNSW_NEIGHBOURS vectors of the whole table.
HNSW_NEIGHBOURS = 32


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: int
    source_type: str
    source_id: int
    document_id: int | None
    title: str
    page: int | None
    text: str
    score: float
    start_char: int
    end_char: int
    metadata: dict
    # Diagnostics: cosine similarity to the question (None without a vector) and the full-text rank.
    similarity: float | None = None
    text_rank: float | None = None
    access_level: str = AccessLevel.TEAM
    position: int | None = None  # its place among its source's chunks


def access_levels_for(principal_or_role: Any) -> set[str]:
    """What a caller may see: admins and managers everything, members public + team.

    Accepts a Principal (anything with ``.role``) or a role string; an unknown or
    missing role sees only ``public``.
    """
    role = getattr(principal_or_role, "role", principal_or_role)
    if role in (Role.ADMIN, Role.MANAGER):
        return set(ALL_ACCESS_LEVELS)
    if role == Role.MEMBER:
        return set(MEMBER_ACCESS_LEVELS)
    return {AccessLevel.PUBLIC.value}


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"


# --- company sizes (cached per process: they only steer the strategy, never the result) -----

_COUNT_TTL = 60.0
_counts: dict[Any, tuple[float, int]] = {}
_counts_lock = threading.Lock()


def _cached(key: Any, compute) -> int:
    now = time.monotonic()
    with _counts_lock:
        hit = _counts.get(key)
        if hit is not None and now - hit[0] < _COUNT_TTL:
            return hit[1]
    value = int(compute())
    with _counts_lock:
        _counts[key] = (now, value)
    return value


def _company_chunks(cursor, company_id: int) -> int:
    def compute() -> int:
        cursor.execute("SELECT count(*) FROM knowledge_chunk WHERE company_id = %s", [company_id])
        return cursor.fetchone()[0]

    return _cached(("company", company_id), compute)


def _table_chunks(cursor) -> int:
    def compute() -> int:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'knowledge_chunk'::regclass")
        estimate = cursor.fetchone()[0]
        if estimate is None or estimate < 0:  # never analysed
            cursor.execute("SELECT count(*) FROM knowledge_chunk")
            estimate = cursor.fetchone()[0]
        return estimate

    return _cached("table", compute)


def counts_forget() -> None:
    """Drop the cached sizes (tests and the benchmark change the table under our feet)."""
    with _counts_lock:
        _counts.clear()


# --- filters --------------------------------------------------------------------------------


def _as_datetime(value: Any, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        value = value.strip()
        try:
            if len(value) <= 10:
                value = date.fromisoformat(value)
            else:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not a date: {value!r}") from exc
    if isinstance(value, date):
        from django.utils import timezone

        moment = datetime.combine(value + timedelta(days=1) if end else value, datetime.min.time())
        return timezone.make_aware(moment, timezone.get_current_timezone())
    raise ValueError(f"not a date: {value!r}")


def _where(
    *, company_id: int, access_levels: set[str], source_types: list[str] | None, filters: dict | None
) -> tuple[str, dict[str, Any]]:
    clauses = ["c.company_id = %(company_id)s", "c.access_level = ANY(%(levels)s)"]
    params: dict[str, Any] = {"company_id": company_id, "levels": sorted(access_levels)}
    filters = dict(filters or {})
    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    types = list(source_types or []) + list(filters.get("source_types") or [])
    if types:
        bad = set(types) - set(SourceType.values)
        if bad:
            raise ValueError(f"unknown source type(s): {', '.join(sorted(bad))}")
        clauses.append("c.source_type = ANY(%(types)s)")
        params["types"] = sorted(set(types))
    document_ids = list(filters.get("document_ids") or [])
    if filters.get("document_id") is not None:
        document_ids.append(filters["document_id"])
    if document_ids:
        clauses.append("c.document_id = ANY(%(document_ids)s)")
        params["document_ids"] = [int(x) for x in document_ids]
    if filters.get("source_ids"):
        # A meeting's chunks carry the meeting as their source: found through the company/source index.
        clauses.append("c.source_id = ANY(%(source_ids)s)")
        params["source_ids"] = [int(x) for x in filters["source_ids"]]
    tags = filters.get("tags")
    if tags:
        tags = [tags] if isinstance(tags, str) else list(tags)
        clauses.append(
            "c.document_id IN (SELECT d.id FROM knowledge_document d WHERE d.company_id = %(company_id)s "
            "AND d.tags && %(tags)s::varchar[])"
        )
        params["tags"] = [str(t).strip().lower() for t in tags]
    if filters.get("date_from"):
        clauses.append("c.created_at >= %(date_from)s")
        params["date_from"] = _as_datetime(filters["date_from"], end=False)
    if filters.get("date_to"):
        clauses.append("c.created_at < %(date_to)s")
        params["date_to"] = _as_datetime(filters["date_to"], end=True)
    if filters.get("metadata"):
        if not isinstance(filters["metadata"], dict):
            raise ValueError("metadata filter must be an object")
        clauses.append("c.metadata @> %(metadata)s::jsonb")
        params["metadata"] = json.dumps(filters["metadata"])
    return " AND ".join(clauses), params


# --- the two candidate lists ----------------------------------------------------------------

_COLUMNS = ("c.id, c.source_type, c.source_id, c.document_id, c.title, c.page, c.text, c.start_char, "
            "c.end_char, c.metadata, c.access_level, c.position")
_RANK, _SIMILARITY = 12, 13  # a candidate row: the columns above, then its full-text rank and its cosine
# A chunk embedded by another model (a model change, before `knowledge_reembed` caught up) says nothing
# about this model's questions: it has no similarity and is not in the vector list, only found by its words.
_SIMILARITY_SQL = "CASE WHEN c.embedding_model = %(model)s THEN 1 - (c.embedding <=> %(qvec)s::vector) END"
_OPERATORS = re.compile(r"\"|(^|\s)-\w|\s(or|OR|Or)\s")


_ANY_OF_WORDS = "replace(websearch_to_tsquery('english', %(q)s)::text, ' & ', ' | ')::tsquery"


def _quote_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery_plan(cursor, *, query: str, company_id: int) -> tuple[str, dict[str, Any]] | None:
    """The tsquery for ``query`` as SQL, or None when full text would not help (see below).

    Operators (quotes, ``or``, ``-word``) get websearch semantics. Plain words are OR-ed. For a
    big company the ranking cost is bounded: Postgres ranks every row that matches, and a common
    word matches a large part of the table, so the words are taken rarest first while the expected
    matches stay within KNOWLEDGE_FULLTEXT_MAX_RANKED (common words hardly change a rank anyway);
    when even the rarest word is that common, all words are required (AND), and when that is
    still too broad the full-text list is left out and the vector list decides alone.
    """
    if _OPERATORS.search(query):
        return "websearch_to_tsquery('english', %(q)s)", {}
    if _company_chunks(cursor, company_id) <= settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS:
        return _ANY_OF_WORDS, {}
    lexemes = query_lexemes(cursor, query)
    if not lexemes:
        return None
    counts = lexeme_document_counts(cursor, company_id=company_id, lexemes=lexemes)
    rows = max(_company_chunks(cursor, company_id), 1)
    budget = settings.KNOWLEDGE_FULLTEXT_MAX_RANKED
    chosen: list[str] = []
    total = 0
    for lexeme in sorted(lexemes, key=lambda lex: (counts[lex], lex)):
        if chosen and total + counts[lexeme] > budget:
            break
        chosen.append(lexeme)
        total += counts[lexeme]
    if total <= budget:
        return "%(tsq)s::tsquery", {"tsq": " | ".join(_quote_lexeme(lex) for lex in chosen)}
    together = rows * math.prod(counts[lex] / rows for lex in lexemes)  # expected, if the words were independent
    if together <= budget:
        return "%(tsq)s::tsquery", {"tsq": " & ".join(_quote_lexeme(lex) for lex in lexemes)}
    return None


def _text_match(cursor, *, company_id: int, tsquery: str, selective: bool = False) -> str:
    """The SQL condition "chunk ``c`` matches ``tsquery``" (an SQL expression of type tsquery).

    Row-level security keeps PostgreSQL from using the GIN index for ``@@`` (not a leakproof operator:
    it may not run before the policy), so a big company's matches are looked up through
    ``meetpilot_chunk_text_matches`` (migration knowledge/0005), which uses the index for the connection's
    own company only. A small company or a selective filter finds its rows through the company index.
    """
    if selective or _company_chunks(cursor, company_id) <= settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS:
        return f"c.search_vector @@ {tsquery}"
    return f"c.id IN (SELECT meetpilot_chunk_text_matches({tsquery}))"


def _fulltext(cursor, *, where: str, params: dict, query: str, n: int, qvec: str | None,
              company_id: int) -> list[tuple]:
    plan = _tsquery_plan(cursor, query=query, company_id=company_id)
    if plan is None:
        return []
    tsquery_sql, tsquery_params = plan
    similarity = _SIMILARITY_SQL if qvec else "NULL::float8"
    sql = f"""
        WITH q AS (SELECT {tsquery_sql} AS query),
        hits AS (
            SELECT c.id, ts_rank(c.search_vector, q.query, 1) AS rank
            FROM knowledge_chunk c, q
            WHERE {where} AND {_text_match(cursor, company_id=company_id, tsquery=tsquery_sql)}
            ORDER BY rank DESC, c.id
            LIMIT %(n)s
        )
        SELECT {_COLUMNS}, hits.rank, {similarity}
        FROM hits JOIN knowledge_chunk c ON c.id = hits.id
        ORDER BY hits.rank DESC, c.id
    """
    cursor.execute(sql, {**params, **tsquery_params, "q": query, "n": n, "qvec": qvec,
                         "model": embedding_model_name() if qvec else None})
    return cursor.fetchall()


def _vector_exact(cursor, *, where: str, params: dict, qvec: str, n: int) -> list[tuple]:
    # "+ 0" makes the ORDER BY an expression the HNSW index cannot serve: an exact top-n over
    # the company's own rows (found through the company index).
    sql = f"""
        SELECT {_COLUMNS}, NULL::float8, 1 - (c.embedding <=> %(qvec)s::vector)
        FROM knowledge_chunk c
        WHERE {where} AND c.embedding IS NOT NULL AND c.embedding_model = %(model)s
        ORDER BY (c.embedding <=> %(qvec)s::vector) + 0, c.id
        LIMIT %(n)s
    """
    cursor.execute(sql, {**params, "qvec": qvec, "n": n, "model": embedding_model_name()})
    return cursor.fetchall()


def _vector_hnsw(cursor, *, where: str, params: dict, qvec: str, n: int, ef_search: int) -> list[tuple]:
    sql = f"""
        SELECT {_COLUMNS}, NULL::float8, 1 - (c.embedding <=> %(qvec)s::vector)
        FROM knowledge_chunk c
        WHERE {where} AND c.embedding_model = %(model)s
        ORDER BY c.embedding <=> %(qvec)s::vector
        LIMIT %(n)s
    """
    with transaction.atomic():
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef_search)])
        cursor.execute(sql, {**params, "qvec": qvec, "n": n, "model": embedding_model_name()})
        return cursor.fetchall()


def vector_plan(cursor, *, company_id: int, n: int) -> tuple[str, int]:
    """("exact", 0) or ("hnsw", ef_search) for this company and candidate count."""
    company_rows = _company_chunks(cursor, company_id)
    if company_rows <= settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS:
        return "exact", 0
    share = company_rows / max(_table_chunks(cursor), company_rows, 1)
    # The index returns ef_search nearest rows of the whole table; about share * ef_search are ours. Asking for
    # three times n of ours keeps a minority company's results close to the exact ones (twice n lost one of
    # its true top five now and then). Rounded up: truncating made a company owning 98.6 % of the table fall
    # to the exact scan (200 ms instead of 10 at 63k chunks).
    ef_search = min(HNSW_EF_MAX, max(settings.KNOWLEDGE_HNSW_EF_SEARCH, math.ceil(HNSW_MARGIN * n / share)))
    if ef_search * share < HNSW_MARGIN * n:
        return "exact", 0
    # A minority company's true top n lie about n / share deep in the whole table's ranking, where the graph
    # search misses neighbours (a company with 11 % of the table got 2 of its exact top 5 back). When the
    # index would compare the query with at least as many vectors as the company owns, its exact scan costs
    # no more and is exact.
    if company_rows <= ef_search * HNSW_NEIGHBOURS:
        return "exact", 0
    return "hnsw", ef_search


def _vector(cursor, *, company_id: int, where: str, params: dict, qvec: str, n: int) -> list[tuple]:
    strategy, ef_search = vector_plan(cursor, company_id=company_id, n=n)
    if strategy == "hnsw":
        rows = _vector_hnsw(cursor, where=where, params=params, qvec=qvec, n=n, ef_search=ef_search)
        if len(rows) >= n:
            return rows
        # Short: the filters (access level, tags, ...) removed too many of the index's candidates.
    return _vector_exact(cursor, where=where, params=params, qvec=qvec, n=n)


# --- fusion -----------------------------------------------------------------------------------


def _vector_hit(row: tuple) -> ChunkHit:
    """A row of the vector list: its score is its similarity, on the common scale like every hit's."""
    return _hit(row, score=common_scale(row[_SIMILARITY]), text_rank=None, similarity=row[_SIMILARITY])


def _hit(row: tuple, *, score: float, text_rank: float | None, similarity: float | None) -> ChunkHit:
    (chunk_id, source_type, source_id, document_id, title, page, text, start_char, end_char, metadata,
     access_level, position) = row[:_RANK]
    if isinstance(metadata, str | bytes):  # Django's psycopg setup hands jsonb over as text
        metadata = json.loads(metadata)
    return ChunkHit(chunk_id=chunk_id, source_type=source_type, source_id=source_id, document_id=document_id,
                    title=title, page=page, text=text, score=float(score), start_char=start_char,
                    end_char=end_char, metadata=dict(metadata or {}), similarity=common_scale(similarity),
                    text_rank=text_rank, access_level=access_level, position=position)


def chunks_search(
    *,
    company: Company,
    query: str,
    k: int = 5,
    access_levels: set[str] | None = None,
    source_types: list[str] | None = None,
    filters: dict | None = None,
    mode: str = "hybrid",
    query_embedding: np.ndarray | None = None,
) -> list[ChunkHit]:
    """The ``k`` best passages for ``query`` that the caller may see, best first.

    ``access_levels`` None means a member's view (public + team): confidential passages
    are only returned when asked for explicitly. ``filters``: ``tags`` (any of), ``source_types``,
    ``document_id``/``document_ids``, ``date_from``/``date_to`` (ISO dates, on the chunk's
    date: a document's upload time, a meeting's indexing time) and ``metadata`` (JSON
    containment, e.g. ``{"meeting_id": 7}``). Unknown filters raise ValueError.

    ``score`` is the fused RRF score scaled so 1.0 means "first in both lists" (hybrid), the
    cosine similarity (vector) or the ``ts_rank`` rank (fulltext).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    query = (query or "").strip()[:2000]
    k = max(1, min(int(k), 200))
    if not query:
        return []
    levels = set(access_levels) if access_levels is not None else set(MEMBER_ACCESS_LEVELS)
    levels &= ALL_ACCESS_LEVELS
    if not levels:
        return []
    where, params = _where(company_id=company.pk, access_levels=levels, source_types=source_types, filters=filters)
    n = max(20, 2 * k)  # candidates from each list for the fusion

    qvec = None
    if mode != "fulltext":
        from knowledge.embeddings import embed_query

        vector = query_embedding if query_embedding is not None else embed_query(query)
        qvec = vector_literal(vector)

    with connection.cursor() as cursor:
        if mode == "vector":
            rows = _vector(cursor, company_id=company.pk, where=where, params=params, qvec=qvec, n=k)
            return [_vector_hit(r) for r in rows[:k]]
        text_rows = _fulltext(cursor, where=where, params=params, query=query, n=k if mode == "fulltext" else n,
                              qvec=qvec, company_id=company.pk)
        if mode == "fulltext":
            return [_hit(r, score=r[_RANK], text_rank=r[_RANK], similarity=r[_SIMILARITY]) for r in text_rows[:k]]
        vector_rows = _vector(cursor, company_id=company.pk, where=where, params=params, qvec=qvec, n=n)

    text_weight = settings.KNOWLEDGE_HYBRID_TEXT_WEIGHT
    fused: dict[int, float] = {}
    by_id: dict[int, tuple] = {}
    text_rank: dict[int, float] = {}
    similarity: dict[int, float] = {}
    for rank, row in enumerate(text_rows, start=1):
        fused[row[0]] = fused.get(row[0], 0.0) + text_weight / (RRF_K + rank)
        by_id[row[0]] = row
        text_rank[row[0]] = row[_RANK]
        if row[_SIMILARITY] is not None:
            similarity[row[0]] = row[_SIMILARITY]
    for rank, row in enumerate(vector_rows, start=1):
        fused[row[0]] = fused.get(row[0], 0.0) + 1.0 / (RRF_K + rank)
        by_id.setdefault(row[0], row)
        similarity[row[0]] = row[_SIMILARITY]
    best = (1.0 + text_weight) / (RRF_K + 1)
    order = sorted(fused, key=lambda cid: (-fused[cid], -similarity.get(cid, 0.0), cid))[:k]
    return [_hit(by_id[cid], score=fused[cid] / best, text_rank=text_rank.get(cid), similarity=similarity.get(cid))
            for cid in order]


# --- BM25 candidates (meeting search) ---------------------------------------------------------
#
# ts_rank has no notion of how rare a word is: for a question in plain words ("what did the
# professor think about the recording equipment") "think" counts as much as "equipment". Okapi
# BM25 weighs each query word by its inverse document frequency in the company's chunks and
# saturates repeats (k1) relative to the passage length (b). Candidates are the chunks holding
# any of the query's words (rarest first while the expected matches stay within a budget, as in
# ``_tsquery_plan``); the score itself always uses every query word and is computed in SQL from
# the stored tsvector (its positions give the term frequency), so nothing is re-tokenised here.

BM25_K1 = 1.2
BM25_B = 0.75
BM25_CANDIDATE_BUDGET = 1500  # expected rows matched by the OR-query before words are left out (latency)


@dataclass(frozen=True)
class Candidates:
    """The two ranked lists before fusion: ``text`` by BM25 (``score``), ``vector`` by cosine."""

    text: list[ChunkHit]
    vector: list[ChunkHit]


def query_lexemes(cursor, query: str) -> list[str]:
    """The query's content words as Postgres stems them ('english': stop words removed)."""
    cursor.execute("SELECT tsvector_to_array(to_tsvector('english', %s))", [query])
    return list(cursor.fetchone()[0] or [])


def lexeme_document_counts(cursor, *, company_id: int, lexemes: list[str]) -> dict[str, int]:
    """How many of the company's chunks hold each lexeme (``LexemeCount``, kept by triggers: exact at once)."""
    cursor.execute(
        "SELECT lexeme, chunks FROM knowledge_lexemecount WHERE company_id = %s AND lexeme = ANY(%s)",
        [company_id, lexemes],
    )
    counts = dict(cursor.fetchall())
    return {lexeme: int(counts.get(lexeme, 0)) for lexeme in lexemes}


def _company_mean_chars(cursor, company_id: int) -> int:
    def compute() -> int:
        cursor.execute("SELECT coalesce(avg(length(text)), 1) FROM knowledge_chunk WHERE company_id = %s",
                       [company_id])
        return max(1, round(float(cursor.fetchone()[0])))

    return _cached(("mean_chars", company_id), compute)


def bm25_idf(df: int, total: int) -> float:
    # The "+1" variant (Lucene's): never negative, so a word in most chunks still counts a little.
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def _bm25(cursor, *, company_id: int, where: str, params: dict, query: str, n: int, qvec: str | None,
          selective: bool) -> list[tuple]:
    lexemes = query_lexemes(cursor, query)
    if not lexemes:
        return []
    df = lexeme_document_counts(cursor, company_id=company_id, lexemes=lexemes)
    present = [lex for lex in lexemes if df[lex] > 0]
    if not present:
        return []
    total = max(_company_chunks(cursor, company_id), max(df.values()), 1)
    fetch = present
    if not selective:  # bound the rows ranked: the rarest words find the candidates
        fetch, expected = [], 0
        for lexeme in sorted(present, key=lambda lex: (df[lex], lex)):
            if fetch and expected + df[lexeme] > BM25_CANDIDATE_BUDGET:
                break
            fetch.append(lexeme)
            expected += df[lexeme]
    similarity = _SIMILARITY_SQL if qvec else "NULL::float8"
    matches = _text_match(cursor, company_id=company_id, tsquery="%(tsq)s::tsquery", selective=selective)
    sql = f"""
        WITH w AS (SELECT * FROM unnest(%(lex)s::text[], %(idf)s::float8[]) AS w(lexeme, idf)),
        hits AS (
            SELECT c.id, (
                SELECT coalesce(sum(w.idf * cardinality(t.positions) * %(k1_1)s
                                    / (cardinality(t.positions)
                                       + %(k1)s * (1 - %(b)s + %(b)s * length(c.text) / %(mean)s::float8))), 0)
                -- only the query's lexemes are unnested: marked with weight D (the vector has A and B) and kept
                FROM unnest(ts_filter(setweight(c.search_vector, 'D', %(lex)s::text[]), '{{d}}')) AS t
                JOIN w ON w.lexeme = t.lexeme
            ) AS rank
            FROM knowledge_chunk c
            WHERE {where} AND {matches}
            ORDER BY rank DESC, c.id
            LIMIT %(n)s
        )
        SELECT {_COLUMNS}, hits.rank, {similarity}
        FROM hits JOIN knowledge_chunk c ON c.id = hits.id
        ORDER BY hits.rank DESC, c.id
    """
    cursor.execute(sql, {
        **params, "lex": present, "idf": [bm25_idf(df[lex], total) for lex in present],
        "tsq": " | ".join(_quote_lexeme(lex) for lex in fetch), "k1": BM25_K1, "k1_1": BM25_K1 + 1,
        "b": BM25_B, "mean": _company_mean_chars(cursor, company_id), "n": n, "qvec": qvec,
        "model": embedding_model_name() if qvec else None,
    })
    return cursor.fetchall()


def chunks_candidates(
    *,
    company: Company,
    query: str,
    n: int = 50,
    access_levels: set[str] | None = None,
    source_types: list[str] | None = None,
    filters: dict | None = None,
    query_embedding: np.ndarray | None = None,
) -> Candidates:
    """The BM25 list and the vector list (``n`` each) for a caller that fuses them itself.

    Same access rules and filters as ``chunks_search``. A ``source_ids`` or ``document_id(s)``
    filter makes the search selective (a few hundred rows): every query word then fetches
    candidates and the vector list is an exact search.
    """
    query = (query or "").strip()[:2000]
    n = max(1, min(int(n), 500))
    levels = set(access_levels) if access_levels is not None else set(MEMBER_ACCESS_LEVELS)
    levels &= ALL_ACCESS_LEVELS
    if not query or not levels:
        return Candidates(text=[], vector=[])
    where, params = _where(company_id=company.pk, access_levels=levels, source_types=source_types, filters=filters)
    selective = bool(filters and (filters.get("source_ids") or filters.get("document_id") is not None
                                  or filters.get("document_ids")))
    from knowledge.embeddings import embed_query

    vector = query_embedding if query_embedding is not None else embed_query(query)
    qvec = vector_literal(vector)
    with connection.cursor() as cursor:
        text_rows = _bm25(cursor, company_id=company.pk, where=where, params=params, query=query, n=n, qvec=qvec,
                          selective=selective)
        if selective:
            vector_rows = _vector_exact(cursor, where=where, params=params, qvec=qvec, n=n)
        else:
            vector_rows = _vector(cursor, company_id=company.pk, where=where, params=params, qvec=qvec, n=n)
    return Candidates(
        text=[_hit(r, score=r[_RANK], text_rank=r[_RANK], similarity=r[_SIMILARITY]) for r in text_rows],
        vector=[_vector_hit(r) for r in vector_rows],
    )


# --- word counts of whole meetings (meeting search's wider evidence) ---------------------------


@dataclass(frozen=True)
class TermCounts:
    """How often a question's words occur in the transcript windows of some meetings.

    Meeting search reads more than the candidate window: the meeting as a whole and the windows
    around it (``meetings.intelligence.search_model``). Counts come from the stored tsvectors;
    windows overlap by half, so every word is counted about twice, in every meeting alike.
    """

    idf: dict[str, float]  # per lexeme, as BM25 weighs it over the company's chunks
    windows: dict[int, dict[int, dict[str, int]]]  # meeting -> position -> tf per lexeme (windows with a word)
    meeting_chars: dict[int, int]  # meeting -> characters of all its windows


def transcript_term_counts(
    *, company: Company, query: str, meeting_ids: list[int], access_levels: set[str] | None = None
) -> TermCounts:
    """The question's word counts in the transcript windows of ``meeting_ids`` (found through the source index)."""
    levels = (set(access_levels) if access_levels is not None else set(MEMBER_ACCESS_LEVELS)) & ALL_ACCESS_LEVELS
    empty = TermCounts(idf={}, windows={}, meeting_chars={})
    query = (query or "").strip()[:2000]
    if not meeting_ids or not levels or not query:
        return empty
    where, params = _where(company_id=company.pk, access_levels=levels, source_types=["transcript"],
                           filters={"source_ids": meeting_ids})
    with connection.cursor() as cursor:
        lexemes = query_lexemes(cursor, query)
        df = lexeme_document_counts(cursor, company_id=company.pk, lexemes=lexemes)
        present = [lex for lex in lexemes if df[lex] > 0]
        if not present:
            return empty
        total = max(_company_chunks(cursor, company.pk), max(df.values()), 1)
        cursor.execute(
            f"""
            SELECT c.source_id, c.position, t.lexeme, cardinality(t.positions)
            FROM knowledge_chunk c,
                 -- what was said (weight B), not the window's title (A: the meeting's title in every window)
                 unnest(ts_filter(setweight(ts_filter(c.search_vector, '{{b}}'), 'D', %(lex)s::text[]), '{{d}}')) AS t
            WHERE {where} AND c.search_vector @@ %(tsq)s::tsquery
            """,
            {**params, "lex": present, "tsq": " | ".join(_quote_lexeme(lex) for lex in present)},
        )
        windows: dict[int, dict[int, dict[str, int]]] = {}
        for source_id, position, lexeme, tf in cursor.fetchall():
            windows.setdefault(source_id, {}).setdefault(position, {})[lexeme] = tf
        cursor.execute(f"SELECT c.source_id, sum(length(c.text)) FROM knowledge_chunk c WHERE {where} "
                       "GROUP BY c.source_id", params)
        chars = {source_id: int(n) for source_id, n in cursor.fetchall()}
    return TermCounts(idf={lex: bm25_idf(df[lex], total) for lex in present}, windows=windows, meeting_chars=chars)
