"""Dashboard pages: documents (upload, live status, detail) and Ask."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm, has_perm
from knowledge import selectors, services
from knowledge.ingestion import ACCEPT_ATTRIBUTE
from knowledge.models import AccessLevel, Document
from knowledge.retrieval import access_levels_for

HTMX_STOP_POLLING = 286  # htmx stops an "every Ns" trigger when it receives this status


@principal_required(perm=Perm.VIEW)
def documents(request):
    p = request.principal
    levels = access_levels_for(p)
    filters = {
        "status": request.GET.get("status") or None,
        "access_level": request.GET.get("access_level") or None,
        "tag": request.GET.get("tag") or None,
        "q": (request.GET.get("q") or "").strip() or None,
    }
    if filters["status"] not in (None, *Document.Status.values):
        filters["status"] = None
    if filters["access_level"] not in (None, *AccessLevel.values):
        filters["access_level"] = None
    page = Paginator(selectors.document_list(company=p.company, access_levels=levels, **filters), 25).get_page(
        request.GET.get("page"))
    pending = any(d.is_pending for d in page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "pending": pending,
        "filters": filters,
        "filtered": any(filters.values()),
        "query_string": query.urlencode(),
        "statuses": Document.Status.choices,
        "access_levels": [c for c in AccessLevel.choices if c[0] in levels],
        "tags": selectors.document_tags(company=p.company, access_levels=levels),
        "stats": selectors.knowledge_stats(company=p.company, access_levels=levels),
        "can_edit": has_perm(p, Perm.DOCUMENT_EDIT),
        "accept": ACCEPT_ATTRIBUTE,
        "max_upload_mb": settings.KNOWLEDGE_MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    if request.htmx:
        response = render(request, "knowledge/documents.html#table", context)
        if not pending:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "knowledge/documents.html", context)


@principal_required(perm=Perm.VIEW)
def document_detail(request, document_id: int):
    p = request.principal
    document = selectors.document_get(company=p.company, document_id=document_id, access_levels=access_levels_for(p))
    chunks = Paginator(selectors.document_chunks(company=p.company, document=document), 10).get_page(
        request.GET.get("page"))
    context = {
        "document": document,
        "chunks": chunks,
        "can_edit": has_perm(p, Perm.DOCUMENT_EDIT),
        "access_levels": [c for c in AccessLevel.choices if c[0] in access_levels_for(p)],
    }
    if request.htmx and request.GET.get("fragment") == "status":
        response = render(request, "knowledge/document_detail.html#status", context)
        if not document.is_pending:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "knowledge/document_detail.html", context)


@require_POST
@principal_required(perm=Perm.DOCUMENT_EDIT)
def document_edit(request, document_id: int):
    p = request.principal
    levels = access_levels_for(p)
    document = selectors.document_get(company=p.company, document_id=document_id, access_levels=levels)
    access_level = request.POST.get("access_level") or None
    if access_level is not None and access_level not in levels:
        messages.error(request, "Choose one of the access levels offered.")
        return redirect("knowledge:document_detail", document_id=document.pk)
    try:
        services.document_update(company=p.company, document=document, title=request.POST.get("title"),
                                 access_level=access_level, tags=request.POST.get("tags", ""))
        messages.success(request, "Document updated.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("knowledge:document_detail", document_id=document.pk)


@require_POST
@principal_required(perm=Perm.DOCUMENT_EDIT)
def document_reindex(request, document_id: int):
    p = request.principal
    document = selectors.document_get(company=p.company, document_id=document_id, access_levels=access_levels_for(p))
    services.document_reindex(company=p.company, document=document)
    messages.success(request, f"“{document.title}” is queued for re-indexing.")
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):  # same-site paths only
        return redirect(next_url)
    return redirect("knowledge:documents")


@require_POST
@principal_required(perm=Perm.DOCUMENT_EDIT)
def document_delete(request, document_id: int):
    p = request.principal
    document = selectors.document_get(company=p.company, document_id=document_id, access_levels=access_levels_for(p))
    services.document_delete(company=p.company, document=document)
    messages.success(request, f"“{document.title}” was deleted.")
    return redirect("knowledge:documents")


@principal_required(perm=Perm.VIEW)
def passage(request, chunk_id: int):
    """One passage with its neighbours: where a cited source opens."""
    p = request.principal
    chunk = selectors.chunk_get(company=p.company, chunk_id=chunk_id, access_levels=access_levels_for(p))
    previous, following = selectors.chunk_neighbours(company=p.company, chunk=chunk)
    context = {"chunk": chunk, "previous": previous, "following": following}
    if request.htmx:
        return render(request, "knowledge/passage.html#passage", context)
    return render(request, "knowledge/passage.html", context)


@principal_required(perm=Perm.ASK)
def ask(request):
    p = request.principal
    stats = selectors.knowledge_stats(company=p.company, access_levels=access_levels_for(p))
    return render(request, "knowledge/ask.html", {"stats": stats, "question": request.GET.get("q", "")})
