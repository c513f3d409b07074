"""Reads for the knowledge base. The company always comes first; what the caller may not see is a 404."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from accounts.models import Company
from knowledge.models import AccessLevel, Chunk, Document

ALL_LEVELS = frozenset(AccessLevel.values)


def company_get(*, company_id: int) -> Company | None:
    return Company.objects.filter(pk=company_id).first()


def document_list(
    *,
    company: Company,
    access_levels: Iterable[str] = ALL_LEVELS,
    status: str | None = None,
    access_level: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    type: str | None = None,
) -> QuerySet[Document]:
    queryset = Document.objects.for_company(company).filter(access_level__in=list(access_levels))
    if status:
        queryset = queryset.filter(status=status)
    if access_level:
        queryset = queryset.filter(access_level=access_level)
    if tag:
        queryset = queryset.filter(tags__contains=[tag.strip().lower()])
    if type:
        queryset = queryset.filter(type=type)
    if q:
        queryset = queryset.filter(Q(title__icontains=q) | Q(original_filename__icontains=q))
    return queryset.select_related("uploaded_by")


def document_get(*, company: Company, document_id: int, access_levels: Iterable[str] = ALL_LEVELS) -> Document:
    return get_object_or_404(
        Document.objects.for_company(company).filter(access_level__in=list(access_levels)).select_related(
            "uploaded_by"),
        pk=document_id,
    )


def documents_by_ids(*, company: Company, ids: Iterable[int]) -> dict[int, Document]:
    return {d.pk: d for d in Document.objects.for_company(company).filter(pk__in=list(ids))}


def documents_pending(*, company: Company, ids: Iterable[int]) -> bool:
    return Document.objects.for_company(company).filter(
        pk__in=list(ids), status__in=[Document.Status.UPLOADING, Document.Status.PROCESSING]).exists()


def document_chunks(*, company: Company, document: Document) -> QuerySet[Chunk]:
    assert document.company_id == company.pk
    return (Chunk.objects.for_company(company).filter(document=document).order_by("position")
            .defer("embedding", "search_vector"))


def chunk_get(*, company: Company, chunk_id: int, access_levels: Iterable[str] = ALL_LEVELS) -> Chunk:
    return get_object_or_404(
        Chunk.objects.for_company(company).filter(access_level__in=list(access_levels))
        .defer("embedding", "search_vector").select_related("document"),
        pk=chunk_id,
    )


def chunk_neighbours(*, company: Company, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
    siblings = Chunk.objects.for_company(company).filter(
        source_type=chunk.source_type, source_id=chunk.source_id).defer("embedding", "search_vector")
    previous = siblings.filter(position__lt=chunk.position).order_by("-position").first()
    following = siblings.filter(position__gt=chunk.position).order_by("position").first()
    return previous, following


def document_tags(*, company: Company, access_levels: Iterable[str] = ALL_LEVELS) -> list[str]:
    tags: set[str] = set()
    for row in Document.objects.for_company(company).filter(access_level__in=list(access_levels)).values_list(
            "tags", flat=True):
        tags.update(row or [])
    return sorted(tags)


def knowledge_stats(*, company: Company, access_levels: Iterable[str] = ALL_LEVELS) -> dict[str, int]:
    documents = Document.objects.for_company(company).filter(access_level__in=list(access_levels))
    totals = documents.aggregate(count=Count("id"), chunks=Sum("chunk_count"),
                                 ready=Count("id", filter=Q(status=Document.Status.READY)),
                                 failed=Count("id", filter=Q(status=Document.Status.FAILED)))
    return {k: int(v or 0) for k, v in totals.items()}
