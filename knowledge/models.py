"""Documents and the chunk table every searchable source shares.

Chunks of documents, meeting transcripts, summaries, decisions and action items
all live in ``Chunk`` with ``source_type``/``source_id``, a denormalised
``company`` and ``access_level``, a pgvector embedding (HNSW, cosine) and a
generated ``tsvector`` (GIN), so one query serves every kind of source.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from pgvector.django import HnswIndex, VectorField

from accounts.tenancy import TenantModel
from knowledge.embeddings import EMBEDDING_DIM


class AccessLevel(models.TextChoices):
    PUBLIC = "public", "Public"  # anyone in the company, and safe to show outside it
    TEAM = "team", "Team"  # every member of the company
    CONFIDENTIAL = "confidential", "Confidential"  # managers and admins only


class SourceType(models.TextChoices):
    DOCUMENT = "document", "Document"
    TRANSCRIPT = "transcript", "Transcript"
    SUMMARY = "summary", "Summary"
    DECISION = "decision", "Decision"
    ACTION_ITEM = "action_item", "Action item"


class Document(TenantModel):
    class Type(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word"
        TXT = "txt", "Text"
        MD = "md", "Markdown"
        CSV = "csv", "CSV"
        HTML = "html", "HTML"

    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    title = models.CharField(max_length=300)
    original_filename = models.CharField(max_length=255)
    type = models.CharField(max_length=10, choices=Type.choices)
    size = models.BigIntegerField(help_text="bytes")
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADING, db_index=True)
    # What the ingestion is doing now ("queued", "extracting", "embedding", ...), shown next to the bar.
    stage = models.CharField(max_length=30, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    error = models.TextField(blank=True, help_text="Why ingestion failed, in words a person understands")
    chunk_count = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    access_level = models.CharField(max_length=20, choices=AccessLevel.choices, default=AccessLevel.TEAM)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Identical content is stored once per company; a re-upload is reported as a duplicate.
            models.UniqueConstraint(fields=["company", "sha256"], name="document_unique_content"),
            models.CheckConstraint(condition=models.Q(progress__gte=0, progress__lte=100),
                                   name="document_progress_range"),
        ]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="document_company_created"),
            GinIndex(fields=["tags"], name="document_tags_gin"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.UPLOADING, self.Status.PROCESSING)


class Chunk(TenantModel):
    source_type = models.CharField(max_length=20, choices=SourceType.choices)
    source_id = models.BigIntegerField()
    document = models.ForeignKey(Document, on_delete=models.CASCADE, null=True, blank=True, related_name="chunks")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    start_char = models.PositiveIntegerField(default=0)
    end_char = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    access_level = models.CharField(max_length=20, choices=AccessLevel.choices, default=AccessLevel.TEAM)
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True)
    # Title words weigh more than body words in the full-text rank.
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("text", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["source_type", "source_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["company", "source_type", "source_id", "position"],
                                    name="chunk_unique_position"),
        ]
        indexes = [
            models.Index(fields=["company", "source_type", "source_id"], name="chunk_company_source"),
            models.Index(fields=["company", "created_at"], name="chunk_company_created"),
            models.Index(fields=["document"], name="chunk_document"),
            GinIndex(fields=["search_vector"], name="chunk_search_vector_gin"),
            HnswIndex(name="chunk_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.source_type}:{self.source_id}#{self.position}"


class LexemeCount(TenantModel):
    """How many of a company's chunks hold a word (its stemmed full-text lexeme): BM25's document frequency.

    Written only by the database: statement triggers on ``knowledge_chunk`` (migration 0004) add the
    lexemes of inserted chunks, take away those of deleted ones (cascades included) and drop a word
    when no chunk holds it any more. Reading a count is then one index lookup, where counting the
    word's chunks through the full-text index took tens of milliseconds per common word.
    """

    lexeme = models.TextField()
    chunks = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "lexeme"], name="lexeme_count_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lexeme}: {self.chunks}"
