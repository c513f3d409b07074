from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import tenant_scope
from knowledge import retrieval
from knowledge.models import Chunk
from knowledge.retrieval import access_levels_for, chunks_search
from knowledge.services import ChunkInput, chunks_replace
from tests import factories
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(company, other_company):
    return {
        "refund": document_ingested(company=company, title="Refund policy", text=corpus.REFUND, tags=["billing"]),
        "q3": document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT,
                                tags=["finance"]),
        "onboarding": document_ingested(company=company, title="Onboarding handbook", text=corpus.ONBOARDING),
        "security": document_ingested(company=company, title="Incident response runbook", text=corpus.SECURITY,
                                      access_level="confidential"),
        "globex": document_ingested(company=other_company, title="Project Hydra plan", text=corpus.GLOBEX),
    }


def test_access_levels_by_role():
    assert access_levels_for(Role.ADMIN) == {"public", "team", "confidential"}
    assert access_levels_for(Role.MANAGER) == {"public", "team", "confidential"}
    assert access_levels_for(Role.MEMBER) == {"public", "team"}
    assert access_levels_for("guest") == {"public"}
    assert access_levels_for(None) == {"public"}


@pytest.mark.parametrize("mode", ["hybrid", "vector", "fulltext"])
def test_each_mode_finds_the_passage(company, kb, mode):
    hits = chunks_search(company=company, query="third quarter revenue", k=3, mode=mode)
    assert hits[0].document_id == kb["q3"].pk
    assert hits[0].source_type == "document" and hits[0].title == "Q3 financial report"
    assert hits[0].score > 0
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_fulltext_understands_websearch_syntax(company, kb):
    phrase = chunks_search(company=company, query='"extension 4400"', k=5, mode="fulltext")
    assert [h.document_id for h in phrase] == [kb["onboarding"].pk]
    excluded = chunks_search(company=company, query="plans -refund", k=5, mode="fulltext")
    assert kb["refund"].pk not in {h.document_id for h in excluded}
    either = chunks_search(company=company, query="payroll or prorated", k=5, mode="fulltext")
    assert {h.document_id for h in either} == {kb["refund"].pk, kb["onboarding"].pk}


def test_plain_questions_do_not_need_every_word(company, kb):
    hits = chunks_search(company=company, query="how many customers did we add and what about hosting?", k=5,
                         mode="fulltext")
    assert hits and hits[0].document_id == kb["q3"].pk


def test_company_and_access_level_always_filter(company, other_company, kb):
    everything = {"public", "team", "confidential"}
    hits = chunks_search(company=company, query="Project Hydra launch budget sponsor", k=20, access_levels=everything)
    assert hits and all(h.document_id != kb["globex"].pk for h in hits)
    with tenant_scope(company):
        own_ids = set(Chunk.objects.values_list("id", flat=True))
    assert {h.chunk_id for h in hits} <= own_ids
    member = chunks_search(company=company, query="master recovery codes vault", k=20)
    assert all(h.document_id != kb["security"].pk for h in member)
    assert all(h.access_level != "confidential" for h in member)
    manager = chunks_search(company=company, query="master recovery codes vault", k=20, access_levels=everything)
    assert manager[0].document_id == kb["security"].pk
    assert chunks_search(company=company, query="vault", access_levels=set()) == []
    outsider = chunks_search(company=other_company, query="refund annual plans", k=20, access_levels=everything)
    assert {h.document_id for h in outsider} == {kb["globex"].pk}


def test_filters(company, kb):
    by_tag = chunks_search(company=company, query="revenue refund laptop", k=20, filters={"tags": ["finance"]})
    assert {h.document_id for h in by_tag} == {kb["q3"].pk}
    by_doc = chunks_search(company=company, query="revenue", k=20, filters={"document_id": kb["refund"].pk})
    assert {h.document_id for h in by_doc} == {kb["refund"].pk}
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert chunks_search(company=company, query="revenue", filters={"date_from": tomorrow}) == []
    assert chunks_search(company=company, query="revenue", filters={"date_to": timezone.now().date()})
    assert chunks_search(company=company, query="revenue", source_types=["transcript"]) == []
    with pytest.raises(ValueError):
        chunks_search(company=company, query="revenue", filters={"colour": "blue"})
    with pytest.raises(ValueError):
        chunks_search(company=company, query="revenue", mode="psychic")


def test_meeting_sources_share_the_index(company, kb):
    """Other apps index transcripts with chunks_replace and find them with metadata filters."""
    with tenant_scope(company):
        stored = chunks_replace(company=company, source_type="transcript", source_id=77, chunks=[
            ChunkInput(text="Maria: we agreed to move the Falcon launch to the second week of June.", position=0,
                       title="Weekly sync", metadata={"meeting_id": 77, "speaker": "Maria", "start_time": 12.5,
                                                      "end_time": 17.0, "segment_id": 3}),
            ChunkInput(text="Tom: the budget for Falcon stays at 300k.", position=1, title="Weekly sync",
                       metadata={"meeting_id": 77, "speaker": "Tom", "segment_id": 4}),
        ])
    assert stored == 2
    hits = chunks_search(company=company, query="When is the Falcon launch?", k=3,
                         filters={"metadata": {"meeting_id": 77}})
    assert hits[0].source_type == "transcript" and hits[0].document_id is None
    assert hits[0].metadata["speaker"] == "Maria" and hits[0].metadata["segment_id"] == 3
    assert all(h.metadata["meeting_id"] == 77 for h in hits)
    docs_only = chunks_search(company=company, query="When is the Falcon launch?", k=5, source_types=["document"])
    assert all(h.source_type == "document" for h in docs_only)


def _random_chunks(company, *, n, source_id, seed):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    inputs = [ChunkInput(text=f"passage {i} of source {source_id}", position=i) for i in range(n)]
    with tenant_scope(company):
        chunks_replace(company=company, source_type="summary", source_id=source_id, chunks=inputs,
                       embeddings=vectors)
    return vectors


def _exact_top(company, query, k, access=("public", "team")):
    with connection.cursor() as cursor:
        where, params = retrieval._where(company_id=company.pk, access_levels=set(access), source_types=None,
                                         filters=None)
        rows = retrieval._vector_exact(cursor, where=where, params=params, qvec=retrieval.vector_literal(query), n=k)
    return [r[0] for r in rows]


def test_small_company_gets_full_k_next_to_a_big_one(settings, company):
    settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = 100
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 40
    big = factories.company_make(name="Big Corp")
    medium = factories.company_make(name="Medium Corp")
    _random_chunks(big, n=2400, source_id=1, seed=1)
    _random_chunks(medium, n=300, source_id=2, seed=2)
    _random_chunks(company, n=8, source_id=3, seed=3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT meetpilot_chunk_analyze()")  # ANALYZE needs the owner
    retrieval.counts_forget()
    with connection.cursor() as cursor:
        assert retrieval.vector_plan(cursor, company_id=company.pk, n=5) == ("exact", 0)
        assert retrieval.vector_plan(cursor, company_id=big.pk, n=5)[0] == "hnsw"
        # 11 % of the table: HNSW would need ef_search 136 and compare the query with ~4,400 vectors to
        # find 300 of the company's; the exact scan of those 300 is cheaper, and exact.
        assert retrieval.vector_plan(cursor, company_id=medium.pk, n=5) == ("exact", 0)

    rng = np.random.default_rng(42)
    for _ in range(5):
        query = rng.normal(size=384).astype(np.float32)
        query /= np.linalg.norm(query)
        for mode in ("vector", "hybrid"):
            small = chunks_search(company=company, query="passage", k=5, mode=mode, query_embedding=query)
            assert len(small) == 5, mode
            assert all(h.source_id == 3 for h in small)
        small = chunks_search(company=company, query="zzz", k=5, mode="vector", query_embedding=query)
        assert [h.chunk_id for h in small] == _exact_top(company, query, 5)
        # The medium company is above the exact threshold but a small share of the table: it gets k
        # results, the exact ones (HNSW over the shared index lost some of them now and then).
        medium_hits = chunks_search(company=medium, query="zzz", k=5, mode="vector", query_embedding=query)
        assert len(medium_hits) == 5 and all(h.source_id == 2 for h in medium_hits)
        assert [h.chunk_id for h in medium_hits] == _exact_top(medium, query, 5)
        big_hits = chunks_search(company=big, query="zzz", k=5, mode="vector", query_embedding=query)
        assert len(big_hits) == 5 and all(h.source_id == 1 for h in big_hits)


def test_hnsw_short_result_falls_back_to_exact(settings, company, monkeypatch):
    """Filters that remove most of the index's candidates must not shorten the result."""
    settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = 50
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 40
    # 400 chunks would go to the exact scan (cheaper than the index); make the index look cheap so the
    # HNSW path and its fallback are what runs.
    monkeypatch.setattr(retrieval, "HNSW_NEIGHBOURS", 1)
    _random_chunks(company, n=400, source_id=1, seed=5)
    with tenant_scope(company):
        # Only 6 of the company's chunks are visible to members.
        Chunk.objects.exclude(position__lt=6).update(access_level="confidential")
    retrieval.counts_forget()
    query = np.random.default_rng(9).normal(size=384).astype(np.float32)
    query /= np.linalg.norm(query)
    hits = chunks_search(company=company, query="zzz", k=5, mode="vector", query_embedding=query,
                         access_levels={"public", "team"})
    assert len(hits) == 5
    assert all(h.access_level == "team" for h in hits)
    assert [h.chunk_id for h in hits] == _exact_top(company, query, 5)


def test_big_companies_rank_only_their_rarest_words(settings, company):
    settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = 50
    settings.KNOWLEDGE_FULLTEXT_MAX_RANKED = 40
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"Weekly project status {i}: the project team reviewed budget and planning." for i in range(300)]
    texts[17] = "Weekly project status: the Zebracorn migration budget was approved by the board."
    texts[18] = "Project Zebracorn planning notes."
    with tenant_scope(company):
        chunks_replace(company=company, source_type="summary", source_id=1, embeddings=vectors,
                       chunks=[ChunkInput(text=t, position=i) for i, t in enumerate(texts)])
    retrieval.counts_forget()
    with tenant_scope(company), connection.cursor() as cursor:
        sql, params = retrieval._tsquery_plan(cursor, query="project budget for Zebracorn", company_id=company.pk)
        assert params == {"tsq": "'zebracorn'"}  # "project" and "budget" are in every chunk: left out
        # Only common words: too broad even all together, so the vector list decides alone.
        assert retrieval._tsquery_plan(cursor, query="the project team", company_id=company.pk) is None
        # Operators keep websearch semantics whatever the size.
        assert "websearch_to_tsquery" in retrieval._tsquery_plan(cursor, query='"project team"',
                                                                 company_id=company.pk)[0]
    with tenant_scope(company):  # as every search runs: the index lookup answers for the scope's company only
        hits = chunks_search(company=company, query="project budget for Zebracorn", k=2, mode="fulltext")
        assert {h.text for h in hits} == {texts[17], texts[18]}
        assert chunks_search(company=company, query="the project team", k=5, mode="fulltext") == []
        assert len(chunks_search(company=company, query="the project team", k=5, mode="hybrid")) == 5
    # Outside any scope the lookup finds nothing: it never answers for a company the connection is not in.
    assert chunks_search(company=company, query="project budget for Zebracorn", k=2, mode="fulltext") == []


def test_bm25_weighs_rare_words_where_a_naive_rank_does_not(company):
    """A question in plain words: the one passage with its rare word beats passages repeating common ones."""
    rng = np.random.default_rng(11)
    texts = [f"Status {i}: the team talked about the budget and the plan for the budget review." for i in range(40)]
    texts[7] = "We talked about the budget, the budget plan, the budget review and the team budget again."
    texts[23] = "Dana said the Zebracorn contract is signed, so the rollout can begin."
    vectors = rng.normal(size=(len(texts), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with tenant_scope(company):
        chunks_replace(company=company, source_type="summary", source_id=1, embeddings=vectors,
                       chunks=[ChunkInput(text=t, position=i) for i, t in enumerate(texts)])
    retrieval.counts_forget()
    question = "what did the team say about the budget for Zebracorn"
    naive = chunks_search(company=company, query=question, k=3, mode="fulltext")  # ts_rank: no word rarity
    assert naive[0].text == texts[7]
    bm25 = retrieval.chunks_candidates(company=company, query=question, n=3, query_embedding=vectors[0])
    assert bm25.text[0].text == texts[23]
    assert bm25.text[1].text == texts[7]  # among the common words, more of them still ranks higher
    with connection.cursor() as cursor:
        counts = retrieval.lexeme_document_counts(cursor, company_id=company.pk, lexemes=["zebracorn", "budget"])
    assert counts == {"zebracorn": 1, "budget": 39}
    # BM25's figures, by hand: idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean length)).
    mean = sum(len(t) for t in texts) / len(texts)
    norm = retrieval.BM25_K1 * (1 - retrieval.BM25_B + retrieval.BM25_B * len(texts[23]) / mean)
    expected = retrieval.bm25_idf(1, 40) * (retrieval.BM25_K1 + 1) / (1 + norm)  # "zebracorn" once, no other word
    assert bm25.text[0].score == pytest.approx(expected, rel=0.02)
    # The vector list comes with it, and a meeting (source) filter narrows both.
    assert len(bm25.vector) == 3 and bm25.vector[0].text == texts[0]
    assert retrieval.chunks_candidates(company=company, query=question, n=3, query_embedding=vectors[0],
                                       filters={"source_ids": [2]}).text == []


def _lexeme_counts(company, *lexemes):
    with connection.cursor() as cursor:
        counts = retrieval.lexeme_document_counts(cursor, company_id=company.pk, lexemes=list(lexemes))
    return {lexeme: n for lexeme, n in counts.items() if n}


def test_lexeme_counts_follow_every_write_of_the_chunks(company, other_company):
    """BM25's document frequencies are kept by the database: replace, update, cascade and delete."""
    from knowledge.models import LexemeCount
    from knowledge.services import chunks_delete

    def replace(owner, source_id, texts):
        with tenant_scope(owner):
            chunks_replace(company=owner, source_type="summary", source_id=source_id,
                           embeddings=np.ones((len(texts), 384), dtype=np.float32) / np.sqrt(384),
                           chunks=[ChunkInput(text=t, position=i) for i, t in enumerate(texts)])

    replace(company, 1, ["The Zebracorn budget.", "Budget plan, budget review.", "Nothing else."])
    replace(other_company, 1, ["A budget of their own."])
    assert _lexeme_counts(company, "zebracorn", "budget", "plan") == {"zebracorn": 1, "budget": 2, "plan": 1}
    replace(company, 2, ["Plan the launch."])
    replace(company, 1, ["Budget only."])  # replacing a source takes its old words away
    assert _lexeme_counts(company, "zebracorn", "budget", "plan", "launch") == {"budget": 1, "plan": 1, "launch": 1}
    with tenant_scope(company):
        Chunk.objects.for_company(company).filter(source_id=2).update(text="Launch the rocket.")
    assert _lexeme_counts(company, "plan", "launch", "rocket") == {"launch": 1, "rocket": 1}
    document = document_ingested(company=company, title="Okapi notes", text="Okapi weighs rare words. " * 20)
    assert _lexeme_counts(company, "okapi")["okapi"] >= 1
    with tenant_scope(company):
        document.delete()  # the chunks go by cascade
        chunks_delete(company=company, source_type="summary", source_id=1)
        chunks_delete(company=company, source_type="summary", source_id=2)
        # No word of a deleted source is left behind; the other company's counts are its own.
        assert LexemeCount.objects.count() == 0
    assert _lexeme_counts(other_company, "budget") == {"budget": 1}


def test_vector_plan_uses_hnsw_for_a_company_owning_most_of_the_table(settings, monkeypatch):
    # 63,170 of 64,061 rows: ef_search 3 * 60 / 0.986 = 182.5 must round up, or 182 * 0.986 < 180 sends
    # the search to the exact scan of every row.
    settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = 5000
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 40
    monkeypatch.setattr(retrieval, "_company_chunks", lambda cursor, company_id: 63170)
    monkeypatch.setattr(retrieval, "_table_chunks", lambda cursor: 64061)
    assert retrieval.vector_plan(None, company_id=1, n=60) == ("hnsw", 183)
    monkeypatch.setattr(retrieval, "_company_chunks", lambda cursor, company_id: 1000)
    monkeypatch.setattr(retrieval, "_table_chunks", lambda cursor: 64061)
    assert retrieval.vector_plan(None, company_id=1, n=60) == ("exact", 0)  # 1.6 %: the index would need 11,500


def test_vector_plan_scans_exactly_where_the_index_would_compare_more_vectors(settings, monkeypatch):
    settings.KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = 100
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 40
    monkeypatch.setattr(retrieval, "_table_chunks", lambda cursor: 100_000)
    # 11 %: ef_search 3 * 5 / 0.11 = 137, about 137 * 32 = 4,384 comparisons for the company's 11,000 rows
    monkeypatch.setattr(retrieval, "_company_chunks", lambda cursor, company_id: 11_000)
    assert retrieval.vector_plan(None, company_id=1, n=5) == ("hnsw", 137)
    # 4 %: ef_search 375, 12,000 comparisons, the company has 4,000 rows: the exact scan is cheaper
    monkeypatch.setattr(retrieval, "_company_chunks", lambda cursor, company_id: 4_000)
    assert retrieval.vector_plan(None, company_id=1, n=5) == ("exact", 0)
