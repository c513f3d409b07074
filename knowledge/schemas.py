from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from knowledge.models import AccessLevel, SourceType


class DocumentOut(Schema):
    id: int
    title: str
    original_filename: str
    type: str
    size: int
    sha256: str
    status: str
    stage: str
    progress: int
    error: str
    chunk_count: int
    page_count: int | None
    access_level: str
    tags: list[str]
    uploaded_by_id: int | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None


class DocumentStatusOut(Schema):
    id: int
    status: str
    stage: str
    progress: int
    error: str
    chunk_count: int


class DocumentPatchIn(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    access_level: AccessLevel | None = None
    tags: list[str] | None = Field(default=None, max_length=20)


class DuplicateOut(Schema):
    filename: str
    detail: str
    document: DocumentOut


class RejectedOut(Schema):
    filename: str
    code: str
    detail: str


class UploadOut(Schema):
    created: list[DocumentOut]
    duplicates: list[DuplicateOut]
    rejected: list[RejectedOut]


class ChunkOut(Schema):
    id: int
    position: int
    page: int | None
    text: str
    start_char: int
    end_char: int


class SearchHitOut(Schema):
    chunk_id: int
    source_type: str
    source_id: int
    document_id: int | None
    title: str
    page: int | None
    text: str
    score: float
    similarity: float | None
    start_char: int
    end_char: int
    metadata: dict[str, Any]


class SearchOut(Schema):
    query: str
    mode: str
    items: list[SearchHitOut]
    page: int
    page_size: int
    has_more: bool


class QueryFilters(Schema):
    tags: list[str] | None = None
    source_types: list[SourceType] | None = None
    document_ids: list[int] | None = None
    date_from: date | None = None
    date_to: date | None = None
    metadata: dict[str, Any] | None = None

    def as_filters(self) -> dict[str, Any]:
        return {k: v for k, v in self.dict().items() if v not in (None, [], {})}


class QueryIn(Schema):
    question: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(default=5, ge=1, le=20)
    filters: QueryFilters | None = None


class SourceOut(Schema):
    document_id: int | None
    chunk_id: int
    title: str
    page: int | None
    snippet: str
    score: float
    source_type: str
    source_id: int


class QueryOut(Schema):
    answer: str
    sources: list[SourceOut]
    confidence: str
    known: bool
    provider: str
    cached: bool
