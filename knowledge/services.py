"""Writes for the knowledge base: uploads, ingestion, chunk replacement, document changes."""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.models import Company, User
from accounts.tenancy import scopes_disabled
from integrations.events import company_event_publish
from knowledge import cache as knowledge_cache
from knowledge.chunking import chunk_text
from knowledge.embeddings import embed_texts, embedding_model_name
from knowledge.extraction import ExtractionError, extract
from knowledge.ingestion import UploadRejected, upload_check
from knowledge.models import AccessLevel, Chunk, Document, SourceType
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)

# Progress milestones of one ingestion (the embedding moves the bar between EMBED_START and EMBED_END).
PROGRESS_QUEUED = 5
PROGRESS_EXTRACTING = 10
PROGRESS_EMBED_START = 20
PROGRESS_EMBED_END = 90
PROGRESS_SAVING = 95
EMBED_BATCH = 32
MAX_TAGS = 20


@dataclass
class ChunkInput:
    """One chunk to store. ``metadata`` is free-form (meetings: meeting_id, speaker, times, segment_id)."""

    text: str
    position: int
    page: int | None = None
    start_char: int = 0
    end_char: int = 0
    title: str = ""
    metadata: dict = field(default_factory=dict)
    document: Document | None = None


@dataclass(frozen=True)
class UploadResult:
    document: Document
    duplicate: bool


# --- chunks (every source type) ---------------------------------------------------------------


def _embedding_input(chunk: ChunkInput) -> str:
    # The title gives a passage its context ("Q3 report: revenue rose 12%").
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def chunks_lock(company_id: int) -> None:
    """Chunk writes of one company take turns, for the rest of the transaction.

    A second replace-all of a source waits and then sees the first one's rows, and the word-count
    triggers on the chunk table (migration knowledge/0004) take the same lock: every transaction that
    writes chunks takes it before any row lock of its own (a document's, for instance), so two of them
    can never wait on each other.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT meetpilot_chunks_lock(%s)", [company_id])  # migration knowledge/0004


def chunks_replace(
    *,
    company: Company,
    source_type: str,
    source_id: int,
    chunks: list[ChunkInput],
    access_level: str | None = None,
    created_at: datetime | None = None,
    embeddings: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Replace every chunk of one source with ``chunks`` (embedded here), atomically.

    Idempotent: running it again with the same input leaves the same rows. Chunks of a
    document take the document's access level; other sources default to ``team``. Returns
    the number of chunks stored (0 when the document was deleted meanwhile).
    """
    if source_type not in SourceType.values:
        raise ValueError(f"unknown source type {source_type!r}")
    document = next((c.document for c in chunks if c.document is not None), None)
    if document is not None:
        assert document.company_id == company.pk, "document of another company"
        access_level = access_level or document.access_level
    access_level = access_level or AccessLevel.TEAM
    chunks = [c for c in chunks if c.text and c.text.strip()]
    texts = [_embedding_input(c) for c in chunks]
    if embeddings is None:
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            parts.append(embed_texts(texts[start : start + EMBED_BATCH]))
            if progress is not None:
                progress(min(start + EMBED_BATCH, len(texts)), len(texts))
        vectors = np.vstack(parts) if parts else vectors
    else:
        vectors = embeddings
    model_name = embedding_model_name()
    created_at = created_at or timezone.now()
    rows = [
        Chunk(company=company, source_type=source_type, source_id=source_id, document=c.document,
              position=c.position, title=(c.title or "")[:300], text=c.text.replace("\x00", ""), page=c.page,
              start_char=c.start_char, end_char=c.end_char, metadata=c.metadata or {}, access_level=access_level,
              embedding=vectors[i], embedding_model=model_name, created_at=created_at)
        for i, c in enumerate(chunks)
    ]
    with transaction.atomic():
        chunks_lock(company.pk)
        if document is not None:
            locked = Document.objects.for_company(company).select_for_update().filter(pk=document.pk).first()
            if locked is None:
                return 0  # deleted while we were embedding: store nothing
            # The access level may have changed while we were embedding (document_update takes the same
            # lock): the passages must carry the level the document has now, never a stale one.
            for row in rows:
                row.access_level = locked.access_level
        Chunk.objects.for_company(company).filter(source_type=source_type, source_id=source_id).delete()
        Chunk.objects.bulk_create(rows, batch_size=500)
        transaction.on_commit(lambda: knowledge_cache.generation_bump(company.pk))
    return len(rows)


def chunks_delete(*, company: Company, source_type: str, source_id: int) -> int:
    with transaction.atomic():
        chunks_lock(company.pk)
        deleted, _ = Chunk.objects.for_company(company).filter(source_type=source_type, source_id=source_id).delete()
        transaction.on_commit(lambda: knowledge_cache.generation_bump(company.pk))
    return deleted


def chunks_reembed(*, company: Company | None = None, force: bool = False, batch_size: int = 64,
                   log: Callable[[str], None] | None = None) -> int:
    """Re-embed chunks made with another model (or all with ``force``). Resumable: run it again.

    Maintenance over every company (``company=None``) or one: a documented ``scopes_disabled()``
    place, with the one company named explicitly when given.
    """
    model_name = embedding_model_name()
    done = 0
    last_id = 0
    companies_touched: set[int] = set()
    while True:
        with scopes_disabled():
            queryset = Chunk.objects.all() if company is None else Chunk.objects.for_company(company)
            queryset = queryset.filter(id__gt=last_id).order_by("id")
            if not force:
                queryset = queryset.exclude(embedding_model=model_name, embedding__isnull=False)
            batch = list(queryset.values("id", "company_id", "title", "text")[:batch_size])
        if not batch:
            break
        vectors = embed_texts([f"{r['title']}\n{r['text']}" if r["title"] else r["text"] for r in batch])
        with scopes_disabled(), transaction.atomic():
            for row, vector in zip(batch, vectors, strict=True):
                Chunk.objects.filter(pk=row["id"]).update(embedding=vector, embedding_model=model_name)
        companies_touched.update(r["company_id"] for r in batch)
        done += len(batch)
        last_id = batch[-1]["id"]
        if log:
            log(f"re-embedded {done} chunks")
    for company_id in companies_touched:
        knowledge_cache.generation_bump(company_id)
    return done


def chunk_vector_dimensions() -> int:
    """The dimensions of the chunk table's vector column as the database has it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'knowledge_chunk'::regclass "
                       "AND attname = 'embedding'")
        return int(cursor.fetchone()[0])


def chunk_vector_resize(*, dimensions: int) -> None:
    """Change the vector column's dimensions (all embeddings are dropped; re-embed afterwards)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS chunk_embedding_hnsw")
        cursor.execute("UPDATE knowledge_chunk SET embedding = NULL, embedding_model = ''")
        cursor.execute(f"ALTER TABLE knowledge_chunk ALTER COLUMN embedding TYPE vector({int(dimensions)})")
        cursor.execute("ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE MAIN")  # see migration 0002
        cursor.execute("CREATE INDEX chunk_embedding_hnsw ON knowledge_chunk USING hnsw (embedding vector_cosine_ops) "
                       "WITH (m = 16, ef_construction = 64)")


# --- documents ------------------------------------------------------------------------------------


def tags_normalise(tags: list[str] | str | None) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for tag in tags:
        tag = re.sub(r"\s+", " ", str(tag)).strip().lower()[:50]
        if tag and tag not in out:
            out.append(tag)
    return out[:MAX_TAGS]


def _title_from_filename(filename: str) -> str:
    stem = os.path.splitext(os.path.basename(filename))[0]
    return (re.sub(r"[_\s]+", " ", stem).strip() or "Untitled")[:300]


def document_upload(
    *,
    company: Company,
    uploaded_by: User | None,
    file: IO[bytes],
    filename: str,
    size: int,
    title: str = "",
    access_level: str = AccessLevel.TEAM,
    tags: list[str] | None = None,
) -> UploadResult:
    """Check, store and queue one uploaded file. Identical content already in the company is a duplicate.

    Raises UploadRejected (nothing stored) when the file's type, content or size is refused.
    """
    if access_level not in AccessLevel.values:
        raise UploadRejected(code="invalid_access_level", message=f"Unknown access level {access_level!r}.")
    checked = upload_check(filename=filename, file=file, size=size, max_bytes=settings.KNOWLEDGE_MAX_UPLOAD_BYTES,
                           max_docx_unpacked=settings.KNOWLEDGE_MAX_DOCX_UNPACKED_BYTES)
    existing = Document.objects.for_company(company).filter(sha256=checked.sha256).first()
    if existing is not None:
        return UploadResult(document=existing, duplicate=True)
    safe_name = get_valid_filename(os.path.basename(filename))[:120] or f"upload.{checked.type}"
    document = Document(
        company=company, title=(title.strip() or _title_from_filename(filename))[:300],
        original_filename=os.path.basename(filename)[:255], type=checked.type, size=checked.size,
        sha256=checked.sha256, uploaded_by=uploaded_by, status=Document.Status.UPLOADING, stage="uploading",
        access_level=access_level, tags=tags_normalise(tags),
    )
    document.full_clean(exclude=["storage_key", "company"])
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:  # the same content arrived twice at once
        existing = Document.objects.for_company(company).filter(sha256=checked.sha256).first()
        if existing is None:
            raise
        return UploadResult(document=existing, duplicate=True)
    try:
        file.seek(0)
        key = default_storage.save(f"documents/{company.pk}/{uuid.uuid4().hex}/{safe_name}", file)
    except Exception:
        document.delete()
        raise
    document.storage_key = key
    document.status = Document.Status.PROCESSING
    document.stage = "queued"
    document.progress = PROGRESS_QUEUED
    document.save(update_fields=["storage_key", "status", "stage", "progress", "updated_at"])
    _enqueue_ingest(document)
    return UploadResult(document=document, duplicate=False)


INGEST_TASK = "knowledge.document_ingest"


def _enqueue_ingest(document: Document) -> None:
    def send() -> None:
        try:
            # By name: knowledge.tasks is the interface above this module and imports it, not the reverse.
            task_send(INGEST_TASK, company_id=document.company_id, document_id=document.pk)
        except Exception:  # broker down: the document stays queued and can be re-indexed
            logger.exception("could not queue ingestion of document %s", document.pk)

    transaction.on_commit(send)


def _progress(document_id: int, *, progress: int, stage: str, status: str | None = None) -> None:
    fields: dict[str, Any] = {"progress": progress, "stage": stage, "updated_at": timezone.now()}
    if status:
        fields.update(status=status, error="")
    # A plain UPDATE outside any transaction: the browser sees it at once.
    Document.objects.filter(pk=document_id).update(**fields)


def document_fail(*, company: Company, document_id: int, message: str) -> None:
    Document.objects.for_company(company).filter(pk=document_id).update(
        status=Document.Status.FAILED, stage="failed", error=message[:2000], updated_at=timezone.now(),
        processed_at=timezone.now())


def _read_stored(document: Document) -> bytes:
    with default_storage.open(document.storage_key, "rb") as handle:
        return handle.read()


def document_ingest(*, company: Company, document_id: int) -> Document | None:
    """Extract, chunk, embed and store one document. Safe to run again at any point.

    Unusable files end ``failed`` with a message for people; a document deleted meanwhile is
    left alone. Unexpected errors propagate (the task retries them, then marks the document failed).
    """
    document = Document.objects.for_company(company).filter(pk=document_id).first()
    if document is None:
        return None
    _progress(document.pk, progress=PROGRESS_EXTRACTING, stage="extracting", status=Document.Status.PROCESSING)
    try:
        data = _read_stored(document)
    except (FileNotFoundError, OSError):
        document_fail(company=company, document_id=document.pk,
                      message="The uploaded file is missing from storage. Delete this document and upload it again.")
        return None
    try:
        pages = extract(data, document.type, max_docx_unpacked=settings.KNOWLEDGE_MAX_DOCX_UNPACKED_BYTES)
    except ExtractionError as exc:
        document_fail(company=company, document_id=document.pk, message=str(exc))
        return None
    pieces = chunk_text(pages, chunk_size=settings.KNOWLEDGE_CHUNK_SIZE, overlap=settings.KNOWLEDGE_CHUNK_OVERLAP)
    if not pieces:
        document_fail(company=company, document_id=document.pk, message="This file contains no text.")
        return None
    _progress(document.pk, progress=PROGRESS_EMBED_START, stage="embedding")
    inputs = [ChunkInput(text=p.text, position=p.position, page=p.page, start_char=p.start_char,
                         end_char=p.end_char, title=document.title, metadata=p.metadata, document=document)
              for p in pieces]
    last = [PROGRESS_EMBED_START]

    def on_progress(done: int, total: int) -> None:
        value = PROGRESS_EMBED_START + (PROGRESS_EMBED_END - PROGRESS_EMBED_START) * done // max(total, 1)
        if value > last[0]:
            last[0] = value
            _progress(document.pk, progress=value, stage="embedding" if done < total else "saving")

    stored = chunks_replace(company=company, source_type=SourceType.DOCUMENT, source_id=document.pk, chunks=inputs,
                            access_level=document.access_level, created_at=document.created_at,
                            progress=on_progress)
    done = {"status": Document.Status.READY, "stage": "", "progress": 100, "error": "", "chunk_count": stored,
            "page_count": sum(1 for p in pages if p.number is not None) or None, "processed_at": timezone.now(),
            "updated_at": timezone.now()}
    if not Document.objects.for_company(company).filter(pk=document.pk).update(**done):
        return None  # deleted meanwhile
    for name, value in done.items():
        setattr(document, name, value)
    company_event_publish(company_id=company.pk, type="document.ready",
                          data={"document_id": document.pk, "title": document.title, "chunk_count": stored})
    return document


def document_reindex(*, company: Company, document: Document) -> Document:
    """Queue the document for ingestion again (its chunks are replaced when it runs)."""
    assert document.company_id == company.pk
    document.status = Document.Status.PROCESSING
    document.stage = "queued"
    document.progress = PROGRESS_QUEUED
    document.error = ""
    document.save(update_fields=["status", "stage", "progress", "error", "updated_at"])
    _enqueue_ingest(document)
    return document


@transaction.atomic
def document_update(
    *, company: Company, document: Document, title: str | None = None, access_level: str | None = None,
    tags: list[str] | str | None = None,
) -> Document:
    assert document.company_id == company.pk
    chunks_lock(company.pk)  # before the document's row: a new title changes its chunks' words
    fields = ["updated_at"]
    if title is not None and title.strip():
        document.title = title.strip()[:300]
        fields.append("title")
    if tags is not None:
        document.tags = tags_normalise(tags)
        fields.append("tags")
    level_changed = access_level is not None and access_level != document.access_level
    if access_level is not None:
        document.access_level = access_level
        fields.append("access_level")
    document.full_clean(exclude=["company"])
    document.save(update_fields=fields)
    if level_changed or "title" in fields:
        updates: dict[str, Any] = {"access_level": document.access_level}
        if "title" in fields:
            updates["title"] = document.title
        Chunk.objects.for_company(company).filter(document=document).update(**updates)
    transaction.on_commit(lambda: knowledge_cache.generation_bump(company.pk))
    return document


def document_delete(*, company: Company, document: Document) -> None:
    """Delete the document, its chunks and its stored file."""
    assert document.company_id == company.pk
    key = document.storage_key
    with transaction.atomic():
        chunks_lock(company.pk)
        Chunk.objects.for_company(company).filter(document=document).delete()
        document.delete()

        def cleanup() -> None:
            knowledge_cache.generation_bump(company.pk)
            if key:
                try:
                    default_storage.delete(key)
                except Exception:  # a leftover file is harmless; a failed delete request is not
                    logger.warning("could not delete stored file %s", key)

        transaction.on_commit(cleanup)


def document_uploader_forget(*, company: Company, user: User) -> int:
    """A person's data is erased: the company's documents they uploaded stay, no longer naming them."""
    return Document.objects.for_company(company).filter(uploaded_by=user).update(uploaded_by=None,
                                                                                  updated_at=timezone.now())
