import threading

import pytest
from django.db import IntegrityError, connection

from accounts.tenancy import tenant_scope
from knowledge import cache as knowledge_cache
from knowledge import services
from knowledge.models import Chunk, Document
from knowledge.services import ChunkInput, chunks_replace
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested


def inputs(n: int, prefix: str = "Passage") -> list[ChunkInput]:
    return [ChunkInput(text=f"{prefix} {i}: the quarterly numbers for region {i}.", position=i, title="Notes")
            for i in range(n)]


@pytest.mark.django_db
def test_replace_all_is_idempotent_and_atomic(company, django_capture_on_commit_callbacks):
    with tenant_scope(company):
        generation = knowledge_cache.generation(company.pk)
        with django_capture_on_commit_callbacks(execute=True):
            assert chunks_replace(company=company, source_type="summary", source_id=5, chunks=inputs(4)) == 4
        assert knowledge_cache.generation(company.pk) > generation
        assert chunks_replace(company=company, source_type="summary", source_id=5, chunks=inputs(4)) == 4
        assert Chunk.objects.filter(source_type="summary", source_id=5).count() == 4
        assert chunks_replace(company=company, source_type="summary", source_id=5, chunks=inputs(2, "New")) == 2
        texts = list(Chunk.objects.filter(source_id=5).order_by("position").values_list("text", flat=True))
        assert texts == ["New 0: the quarterly numbers for region 0.", "New 1: the quarterly numbers for region 1."]
        broken = [*inputs(3, "Broken"), ChunkInput(text="bad page", position=3, page=-1)]
        with pytest.raises(IntegrityError):
            chunks_replace(company=company, source_type="summary", source_id=5, chunks=broken)
        # The failed replace left the previous chunks untouched.
        assert list(Chunk.objects.filter(source_id=5).order_by("position").values_list("text", flat=True)) == texts
        other = chunks_replace(company=company, source_type="transcript", source_id=5, chunks=inputs(1))
        assert other == 1 and Chunk.objects.filter(source_id=5).count() == 3
        assert services.chunks_delete(company=company, source_type="summary", source_id=5) == 2
        assert Chunk.objects.filter(source_id=5).count() == 1
        with pytest.raises(ValueError):
            chunks_replace(company=company, source_type="tweet", source_id=1, chunks=inputs(1))


@pytest.mark.django_db
def test_ingesting_twice_gives_the_same_chunks(company):
    document = document_ingested(company=company, title="Handbook", text=corpus.ONBOARDING * 6)
    with tenant_scope(company):
        before = list(Chunk.objects.filter(document=document).order_by("position").values_list(
            "position", "text", "start_char", "end_char"))
        again = services.document_ingest(company=company, document_id=document.pk)
        after = list(Chunk.objects.filter(document=document).order_by("position").values_list(
            "position", "text", "start_char", "end_char"))
    assert len(before) > 1 and before == after and again.chunk_count == len(after)


@pytest.mark.django_db
def test_a_document_deleted_during_ingestion_stores_nothing(company):
    document = document_ingested(company=company, title="Handbook", text=corpus.ONBOARDING)
    with tenant_scope(company):
        chunks = [ChunkInput(text="late chunk", position=0, document=document)]
        Document.objects.filter(pk=document.pk).delete()
        assert chunks_replace(company=company, source_type="document", source_id=document.pk, chunks=chunks) == 0
        assert not Chunk.objects.filter(source_id=document.pk).exists()
        assert services.document_ingest(company=company, document_id=document.pk) is None


@pytest.mark.django_db
def test_missing_stored_file_fails_with_a_message(company):
    document = document_ingested(company=company, title="Handbook", text=corpus.ONBOARDING)
    from django.core.files.storage import default_storage

    default_storage.delete(document.storage_key)
    with tenant_scope(company):
        services.document_ingest(company=company, document_id=document.pk)
        document.refresh_from_db()
    assert document.status == "failed" and "missing" in document.error


@pytest.mark.django_db
def test_document_delete_removes_chunks_and_file(company, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    document = document_ingested(company=company, title="Handbook", text=corpus.ONBOARDING)
    assert default_storage.exists(document.storage_key)
    with tenant_scope(company), django_capture_on_commit_callbacks(execute=True):
        services.document_delete(company=company, document=document)
    with tenant_scope(company):
        assert not Chunk.objects.exists() and not Document.objects.exists()
    assert not default_storage.exists(document.storage_key)


@pytest.mark.django_db(transaction=True)
def test_concurrent_replaces_never_duplicate(company):
    """Two workers replacing the same source at once (a retry racing a re-index) leave one set."""
    errors = []
    barrier = threading.Barrier(3)

    def replace(prefix):
        try:
            with tenant_scope(company):
                barrier.wait()
                chunks_replace(company=company, source_type="summary", source_id=9, chunks=inputs(6, prefix))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=replace, args=(p,)) for p in ("A", "B", "C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with tenant_scope(company):
        rows = list(Chunk.objects.filter(source_type="summary", source_id=9).values_list("text", flat=True))
    assert len(rows) == 6 and len({r.split(" ")[0] for r in rows}) == 1  # one writer's complete set


@pytest.mark.django_db(transaction=True)
def test_concurrent_chunk_writes_keep_the_word_counts_exact(company):
    """Replaces of many sources, a document's new title and its deletion, all at once: no deadlock, exact counts."""
    from knowledge.models import LexemeCount

    document = document_ingested(company=company, title="Roadmap", text=corpus.Q3_REPORT)
    errors = []
    barrier = threading.Barrier(6)

    def run(work):
        try:
            with tenant_scope(company):
                barrier.wait()
                for round_ in range(3):
                    work(round_)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def replace(source_id):
        return lambda round_: chunks_replace(company=company, source_type="summary", source_id=source_id,
                                             chunks=inputs(4, f"Budget{round_} review{source_id}"))

    def retitle(round_):
        services.document_update(company=company, document=Document.objects.get(pk=document.pk),
                                 title=f"Quarterly budget roadmap {round_}")

    def reingest(round_):
        services.document_ingest(company=company, document_id=document.pk)

    works = [replace(1), replace(2), replace(3), replace(1), retitle, reingest]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with tenant_scope(company), connection.cursor() as cursor:
        cursor.execute("SELECT lexeme, count(*) FROM knowledge_chunk, unnest(tsvector_to_array(search_vector)) AS "
                       "lexeme WHERE company_id = %s GROUP BY lexeme", [company.pk])
        truth = dict(cursor.fetchall())
        assert truth and dict(LexemeCount.objects.values_list("lexeme", "chunks")) == truth
        services.document_delete(company=company, document=Document.objects.get(pk=document.pk))
        cursor.execute("SELECT lexeme, count(*) FROM knowledge_chunk, unnest(tsvector_to_array(search_vector)) AS "
                       "lexeme WHERE company_id = %s GROUP BY lexeme", [company.pk])
        assert dict(LexemeCount.objects.values_list("lexeme", "chunks")) == dict(cursor.fetchall())


def test_the_ingestion_task_is_found_by_the_name_the_service_enqueues():
    from celery import current_app

    from knowledge.tasks import document_ingest_task

    # The service looks the task up by name (no import of its own interface): a renamed task must fail here.
    assert current_app.tasks[services.INGEST_TASK] == document_ingest_task  # shared_task gives a proxy


@pytest.mark.django_db
def test_reembedding_one_company_leaves_the_others_alone_and_needs_no_scope(company, other_company):
    from accounts.tenancy import scopes_disabled
    from knowledge.embeddings import embedding_model_name

    for owner in (company, other_company):
        with tenant_scope(owner):
            chunks_replace(company=owner, source_type="summary", source_id=1, chunks=inputs(3))
    with scopes_disabled():
        Chunk.objects.update(embedding_model="an-old-model")
    # A management command's maintenance run: no request or task has switched a scope on.
    assert services.chunks_reembed(company=company) == 3
    with scopes_disabled():
        models = dict(Chunk.objects.values_list("company_id", "embedding_model").distinct())
    assert models == {company.pk: embedding_model_name(), other_company.pk: "an-old-model"}
    assert services.chunks_reembed() == 3  # every company: only the outdated ones are left
    assert services.chunks_reembed() == 0
