"""REST API: meeting reports, search across meetings, chat, analytics.

Every id in a path that is not the caller's company's (or, for chat threads, not the caller's
own) is a 404, like a missing one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from accounts.permissions import Perm, has_perm, require
from ai import selectors as ai_selectors
from knowledge.retrieval import access_levels_for
from meetings.intelligence import analytics, chat, exports, services
from meetings.intelligence.reports import ReportView, report_view
from meetings.intelligence.schemas import (
    ChatMessageIn,
    ChatMessageOut,
    ChatThreadDetailOut,
    ChatThreadIn,
    ChatThreadOut,
    MeetingSearchOut,
    RegenerateIn,
    ReportOut,
    ReportQueuedOut,
)
from meetings.intelligence.search import ALL_SOURCE_TYPES, SearchFilters, search
from meetings.intelligence.sse import chat_sse_response
from meetings.models import Meeting
from meetings.selectors import meeting_get
from meetpilot.apikit import ApiError, ErrorOut, Pagination

router = Router(tags=["intelligence"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# --- reports ------------------------------------------------------------------------------------


def report_payload(view: ReportView) -> dict[str, Any]:
    r = view.report
    return {
        "meeting_id": view.meeting.pk, "meeting_title": view.meeting.title, "meeting_date": view.meeting_date,
        "status": r.status, "error": r.error, "provider": r.provider, "is_partial": r.is_partial, "notes": r.notes,
        "generated_at": r.generated_at, "short_summary": r.short_summary, "detailed_summary": r.detailed_summary,
        "key_points": r.key_points or [], "topics": view.topics, "questions": view.questions,
        "sentiment": r.sentiment or {}, "talk_time": r.talk_time or [], "follow_up_email": r.follow_up_email,
        "action_items": view.action_items, "decisions": view.decisions,
    }


@router.get("/meetings/{int:meeting_id}/report", response={200: ReportOut, **ERRORS})
def report_get(request, meeting_id: int):
    """The after-meeting report (``status`` "none" until the analysis has run once)."""
    require(request.auth, Perm.VIEW)
    return report_payload(report_view(company=request.auth.company, meeting_id=meeting_id))


@router.post("/meetings/{int:meeting_id}/report/regenerate", response={202: ReportQueuedOut, **ERRORS})
def report_regenerate(request, meeting_id: int, query: Query[RegenerateIn]):
    """Run the after-meeting analysis again (idempotent; people's edits to action items are kept).

    ``?provider=local|openai|anthropic`` forces one provider for this run."""
    require(request.auth, Perm.MEETING_EDIT)
    meeting = meeting_get(company=request.auth.company, meeting_id=meeting_id)
    if meeting.status == Meeting.Status.ACTIVE:
        raise ApiError(409, "meeting_active", "The meeting is still running; the report is made when it ends.")
    report = services.report_request(company=request.auth.company, meeting=meeting, provider=query.provider)
    return Status(202, {"meeting_id": meeting.pk, "status": report.status})


class ReportExportQuery(Schema):
    format: str = "md"


@router.get("/meetings/{int:meeting_id}/report/export", response={200: Any, **ERRORS})
def report_export(request, meeting_id: int, query: Query[ReportExportQuery]):
    """The report as a file: ``format=md`` (Markdown) or ``format=pdf``."""
    require(request.auth, Perm.VIEW)
    if query.format not in ("md", "pdf"):
        raise ApiError(422, "validation_error", {"format": "Choose md or pdf."})
    view = report_view(company=request.auth.company, meeting_id=meeting_id)
    if not view.exists or view.report.status != "done":
        raise ApiError(409, "report_not_ready", "The report has not been generated yet.")
    file = exports.report_export(view, fmt=query.format)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    return response


# --- search ----------------------------------------------------------------------------------------


class SearchQuery(Schema):
    q: str
    date_from: date | None = None
    date_to: date | None = None
    participant: str = ""
    platform: str = ""
    source_type: list[str] = []
    meeting_id: int | None = None
    k: int = 20


@router.get("/meetings/search", response={200: MeetingSearchOut, **ERRORS})
def meeting_search(request, query: Query[SearchQuery]):
    """Search meetings (transcripts, summaries, decisions, action items) and documents together.

    Each meeting hit links to the moment: ``/meetings/<id>/?t=<seconds>#segment-<id>``.
    """
    require(request.auth, Perm.VIEW)
    bad = [t for t in query.source_type if t not in ALL_SOURCE_TYPES]
    if bad:
        raise ApiError(422, "validation_error", {"source_type": f"Unknown source type(s): {', '.join(bad)}."})
    if query.platform and query.platform not in Meeting.Platform.values:
        raise ApiError(422, "validation_error", {"platform": f"Unknown platform {query.platform!r}."})
    filters = SearchFilters(date_from=query.date_from, date_to=query.date_to, participant=query.participant,
                            platform=query.platform, source_types=query.source_type, meeting_id=query.meeting_id)
    hits = search(company=request.auth.company, query=query.q, filters=filters, k=max(1, min(query.k, 50)),
                  access_levels=access_levels_for(request.auth))
    return {"query": query.q, "count": len(hits), "hits": [h.as_dict() for h in hits]}


# --- chat --------------------------------------------------------------------------------------------


@router.get("/chat/threads", response={200: list[ChatThreadOut], **ERRORS})
@paginate(Pagination)
def chat_thread_list(request):
    """Your own chat threads, newest activity first."""
    require(request.auth, Perm.ASK)
    return ai_selectors.chat_thread_list(company=request.auth.company, user=request.auth.user)


@router.post("/chat/threads", response={201: ChatThreadOut, **ERRORS})
def chat_thread_create(request, payload: ChatThreadIn):
    require(request.auth, Perm.ASK)
    meeting = None
    if payload.meeting_id is not None:
        meeting = meeting_get(company=request.auth.company, meeting_id=payload.meeting_id)
    thread = chat.chat_thread_create(company=request.auth.company, user=request.auth.user, meeting=meeting,
                                     title=payload.title)
    return Status(201, thread)


@router.get("/chat/threads/{int:thread_id}", response={200: ChatThreadDetailOut, **ERRORS})
def chat_thread_get(request, thread_id: int):
    require(request.auth, Perm.ASK)
    thread = ai_selectors.chat_thread_get(company=request.auth.company, user=request.auth.user, thread_id=thread_id)
    return {"id": thread.pk, "title": thread.title, "meeting_id": thread.meeting_id,
            "created_at": thread.created_at, "updated_at": thread.updated_at,
            "messages": list(ai_selectors.chat_message_list(thread=thread))}


@router.delete("/chat/threads/{int:thread_id}", response={204: None, **ERRORS})
def chat_thread_delete(request, thread_id: int):
    require(request.auth, Perm.ASK)
    thread = ai_selectors.chat_thread_get(company=request.auth.company, user=request.auth.user, thread_id=thread_id)
    chat.chat_thread_delete(company=request.auth.company, thread=thread)
    return Status(204, None)


@router.post("/chat/threads/{int:thread_id}/messages", response={200: ChatMessageOut, **ERRORS})
def chat_message_create(request, thread_id: int, payload: ChatMessageIn):
    """Ask in a thread. The reply streams as server-sent events (``start``, ``token``..., ``done``)
    unless ``stream`` is false, in which case the stored reply comes back as JSON."""
    require(request.auth, Perm.ASK)
    company = request.auth.company
    thread = ai_selectors.chat_thread_get(company=company, user=request.auth.user, thread_id=thread_id)
    levels = access_levels_for(request.auth)
    if not payload.stream:
        return chat.chat_reply(company=company, user=request.auth.user, thread=thread, question=payload.content,
                               access_levels=levels)
    turn = chat.chat_prepare(company=company, user=request.auth.user, thread=thread, question=payload.content,
                             access_levels=levels)
    return chat_sse_response(request, company=company, turn=turn)


# --- analytics --------------------------------------------------------------------------------------


@router.get("/analytics/overview", response={200: dict[str, Any], **ERRORS})
def analytics_overview(request, weeks: int = 12):
    """Meetings and hours per week, action items created/completed/overdue, talk time, sentiment,
    unanswered questions."""
    require(request.auth, Perm.VIEW)
    return analytics.overview(company=request.auth.company, weeks=weeks)


@router.get("/analytics/meetings/{int:meeting_id}", response={200: dict[str, Any], **ERRORS})
def analytics_meeting(request, meeting_id: int):
    require(request.auth, Perm.VIEW)
    meeting = meeting_get(company=request.auth.company, meeting_id=meeting_id)
    return analytics.meeting_analytics(meeting=meeting)


@router.get("/analytics/people/{int:user_id}", response={200: dict[str, Any], **ERRORS})
def analytics_person(request, user_id: int, weeks: int = 12):
    """One member's meetings, speaking time, action items. Your own always; others: managers and admins."""
    require(request.auth, Perm.VIEW)
    person = analytics.person_get(company=request.auth.company, user_id=user_id)
    if person.pk != request.auth.user.pk and not has_perm(request.auth, Perm.MEETING_EDIT):
        raise ApiError(403, "permission_denied", "Only managers and admins see other people's analytics.")
    return analytics.person_analytics(company=request.auth.company, user=person, weeks=weeks)
