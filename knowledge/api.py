"""Knowledge base API: documents, search, questions (plain and streamed as Server-Sent Events)."""


from datetime import date

from django.conf import settings
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from accounts.permissions import Perm, require
from knowledge import selectors, services
from knowledge.answers import answer_question
from knowledge.ingestion import UploadRejected
from knowledge.models import AccessLevel, Document
from knowledge.retrieval import MODES, access_levels_for, chunks_search
from knowledge.schemas import (
    ChunkOut,
    DocumentOut,
    DocumentPatchIn,
    DocumentStatusOut,
    QueryIn,
    QueryOut,
    SearchOut,
    UploadOut,
)
from knowledge.streaming import sse_answer_response
from meetpilot.apikit import ApiError, ErrorOut, Pagination

router = Router(tags=["knowledge"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut}


def _document(request, document_id: int) -> Document:
    p = request.auth
    return selectors.document_get(company=p.company, document_id=document_id, access_levels=access_levels_for(p))


# --- documents -------------------------------------------------------------------------------


@router.get("/documents", response={200: list[DocumentOut], **ERRORS})
@paginate(Pagination)
def document_list(request, status: Document.Status | None = None, access_level: AccessLevel | None = None,
                  tag: str | None = None, q: str | None = None):
    p = request.auth
    require(p, Perm.VIEW)
    return selectors.document_list(company=p.company, access_levels=access_levels_for(p), status=status,
                                   access_level=access_level, tag=tag, q=q)


@router.post("/documents", response={200: UploadOut, 201: UploadOut, **ERRORS})
def document_upload(request, files: File[list[UploadedFile]], title: Form[str] = "",
                    access_level: Form[AccessLevel] = AccessLevel.TEAM, tags: Form[str] = ""):
    """Upload one or more files (multipart field ``files``). Each is checked, stored and queued.

    Identical content already in the company is reported under ``duplicates`` and not ingested
    again; refused files are listed under ``rejected``. When every file is refused the answer is
    the first refusal's status (400, 413 or 415).
    """
    p = request.auth
    require(p, Perm.DOCUMENT_EDIT)
    if len(files) > settings.KNOWLEDGE_MAX_FILES_PER_UPLOAD:
        raise ApiError(400, "too_many_files",
                       f"Upload at most {settings.KNOWLEDGE_MAX_FILES_PER_UPLOAD} files at once.")
    if access_level not in access_levels_for(p):
        raise ApiError(403, "permission_denied", "You cannot create documents at that access level.")
    created, duplicates, rejected, statuses = [], [], [], []
    for upload in files:
        name = upload.name or "upload"
        try:
            result = services.document_upload(company=p.company, uploaded_by=p.user, file=upload, filename=name,
                                               size=upload.size or 0, title=title if len(files) == 1 else "",
                                               access_level=access_level, tags=tags)
        except UploadRejected as exc:
            rejected.append({"filename": name, "code": exc.code, "detail": exc.message})
            statuses.append(exc.status)
            continue
        if result.duplicate:
            duplicates.append({"filename": name, "document": result.document,
                               "detail": f"{name} is identical to “{result.document.title}”, already uploaded."})
        else:
            created.append(result.document)
    if rejected and not created and not duplicates:
        raise ApiError(statuses[0], rejected[0]["code"], rejected)
    return Status(201 if created else 200, {"created": created, "duplicates": duplicates, "rejected": rejected})


@router.get("/documents/{int:document_id}", response={200: DocumentOut, **ERRORS})
def document_get(request, document_id: int):
    require(request.auth, Perm.VIEW)
    return _document(request, document_id)


@router.patch("/documents/{int:document_id}", response={200: DocumentOut, **ERRORS})
def document_update(request, document_id: int, payload: DocumentPatchIn):
    p = request.auth
    require(p, Perm.DOCUMENT_EDIT)
    document = _document(request, document_id)
    if payload.access_level is not None and payload.access_level not in access_levels_for(p):
        raise ApiError(403, "permission_denied", "You cannot set that access level.")
    return services.document_update(company=p.company, document=document, title=payload.title,
                                    access_level=payload.access_level, tags=payload.tags)


@router.delete("/documents/{int:document_id}", response={204: None, **ERRORS})
def document_delete(request, document_id: int):
    require(request.auth, Perm.DOCUMENT_EDIT)
    services.document_delete(company=request.auth.company, document=_document(request, document_id))
    return Status(204, None)


@router.get("/documents/{int:document_id}/status", response={200: DocumentStatusOut, **ERRORS})
def document_status(request, document_id: int):
    require(request.auth, Perm.VIEW)
    return _document(request, document_id)


@router.post("/documents/{int:document_id}/reindex", response={202: DocumentStatusOut, **ERRORS})
def document_reindex(request, document_id: int):
    require(request.auth, Perm.DOCUMENT_EDIT)
    document = services.document_reindex(company=request.auth.company, document=_document(request, document_id))
    return Status(202, document)


@router.get("/documents/{int:document_id}/chunks", response={200: list[ChunkOut], **ERRORS})
@paginate(Pagination)
def document_chunks(request, document_id: int):
    require(request.auth, Perm.VIEW)
    return selectors.document_chunks(company=request.auth.company, document=_document(request, document_id))


# --- search and questions -----------------------------------------------------------------------


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@router.get("/search", response={200: SearchOut, **ERRORS})
def search(request, q: str, mode: str = "hybrid", tags: str | None = None, source_types: str | None = None,
           document_id: int | None = None, date_from: date | None = None, date_to: date | None = None,
           page: int = 1, page_size: int = 10):
    """Ranked passages for ``q`` (websearch syntax: "quoted phrase", or, -word). Paginated."""
    p = request.auth
    require(p, Perm.ASK)
    if mode not in MODES:
        raise ApiError(422, "validation_error", f"mode must be one of {', '.join(MODES)}")
    page, page_size = max(page, 1), min(max(page_size, 1), 50)
    filters = {"tags": _csv(tags), "document_id": document_id, "date_from": date_from, "date_to": date_to}
    filters = {k: v for k, v in filters.items() if v not in (None, [])}
    wanted = page * page_size
    try:
        hits = chunks_search(company=p.company, query=q, k=min(wanted + 1, 201), access_levels=access_levels_for(p),
                             source_types=_csv(source_types) or None, filters=filters, mode=mode)
    except ValueError as exc:
        raise ApiError(422, "invalid_filter", str(exc))
    items = [h.__dict__ for h in hits[(page - 1) * page_size : wanted]]
    return {"query": q, "mode": mode, "items": items, "page": page, "page_size": page_size,
            "has_more": len(hits) > wanted}


@router.post("/query", response={200: QueryOut, **ERRORS})
def query(request, payload: QueryIn):
    """Answer a question from the company's documents and meetings, with the sources it used."""
    p = request.auth
    require(p, Perm.ASK)
    try:
        return answer_question(company=p.company, question=payload.question, top_k=payload.top_k,
                               filters=payload.filters.as_filters() if payload.filters else None,
                               access_levels=access_levels_for(p))
    except ValueError as exc:
        raise ApiError(422, "invalid_filter", str(exc))


@router.post("/query/stream", response={200: None, **ERRORS})
async def query_stream(request, payload: QueryIn):
    """The same answer as ``/query``, streamed as Server-Sent Events (``delta``, ``reset``, ``done``)."""
    p = request.auth
    require(p, Perm.ASK)
    return sse_answer_response(request, company=p.company, question=payload.question, top_k=payload.top_k,
                               filters=payload.filters.as_filters() if payload.filters else None,
                               access_levels=access_levels_for(p))


@router.get("/query/stream", response={200: None, **ERRORS})
async def query_stream_get(request, question: Query[str], top_k: Query[int] = 5):
    """For ``EventSource`` (GET only; the session cookie authenticates the dashboard)."""
    p = request.auth
    require(p, Perm.ASK)
    question = question.strip()[:2000]
    if not question:
        raise ApiError(422, "validation_error", "Ask a question.")
    return sse_answer_response(request, company=p.company, question=question, top_k=max(1, min(top_k, 20)),
                               filters=None, access_levels=access_levels_for(p))
