"""Dashboard pages: meeting report, search, chat, analytics, prompts and AI providers.

Thin function-based views: parse, authorise, one selector or service call, render. HTMX
requests get a fragment of the same page template (``page.html#fragment``).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm, has_perm
from ai import selectors as ai_selectors
from ai.models import PromptType
from ai.routing import route_for
from knowledge.retrieval import access_levels_for
from meetings.intelligence import analytics, chat, exports, services
from meetings.intelligence.dashboard import overview_charts, person_charts
from meetings.intelligence.reports import report_view
from meetings.intelligence.search import ALL_SOURCE_TYPES, SearchFilters, search
from meetings.models import Meeting
from meetings.selectors import meeting_get

REPORT = "intelligence/report.html"
SEARCH = "intelligence/search.html"
CHAT = "intelligence/chat.html"
ANALYTICS = "intelligence/analytics.html"
PERSON = "intelligence/person.html"
SOURCE_TYPE_LABELS = {"transcript": "Transcripts", "summary": "Summaries", "decision": "Decisions",
                      "action_item": "Action items", "document": "Documents"}
SOURCE_TYPE_LABEL = {"transcript": "Transcript", "summary": "Summary", "decision": "Decision",
                     "action_item": "Action item", "document": "Document"}


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.boosted


# --- report -------------------------------------------------------------------------------------


@principal_required(perm=Perm.VIEW)
def report(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    view = report_view(company=p.company, meeting_id=meeting_id, with_charts=True)
    context = {"v": view, "meeting": view.meeting, "can_regenerate": has_perm(p, Perm.MEETING_EDIT)}
    if _htmx(request):
        response = render(request, f"{REPORT}#report_panel", context)
        if not view.in_progress:
            response.status_code = 286  # htmx: stop polling, the report is finished
        return response
    return render(request, REPORT, context)


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def report_regenerate(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    meeting = meeting_get(company=p.company, meeting_id=meeting_id)
    if meeting.status == Meeting.Status.ACTIVE:
        messages.error(request, "The meeting is still running; its report is made when it ends.")
    else:
        services.report_request(company=p.company, meeting=meeting)
        messages.success(request, "The report is being generated again. This page updates when it is ready.")
    return redirect("intelligence:report", meeting_id=meeting.pk)


@principal_required(perm=Perm.VIEW)
def report_export(request: HttpRequest, meeting_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("md", "pdf"):
        raise Http404
    view = report_view(company=request.principal.company, meeting_id=meeting_id)
    if not view.exists or view.report.status != "done":
        messages.error(request, "The report has not been generated yet.")
        return redirect("intelligence:report", meeting_id=meeting_id)
    file = exports.report_export(view, fmt=fmt)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    return response


# --- search ------------------------------------------------------------------------------------------


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@principal_required(perm=Perm.VIEW)
def search_page(request: HttpRequest) -> HttpResponse:
    p = request.principal
    q = request.GET.get("q", "").strip()[:500]
    types = [t for t in request.GET.getlist("type") if t in ALL_SOURCE_TYPES]
    platform = request.GET.get("platform", "")
    filters = SearchFilters(date_from=_date(request.GET.get("from", "")), date_to=_date(request.GET.get("to", "")),
                            participant=request.GET.get("participant", "").strip()[:200],
                            platform=platform if platform in Meeting.Platform.values else "", source_types=types)
    hits = search(company=p.company, query=q, filters=filters, k=30, access_levels=access_levels_for(p)) if q else []
    context = {"q": q, "hits": hits, "filters": filters, "selected_types": types,
               "type_choices": list(SOURCE_TYPE_LABELS.items()), "type_label": SOURCE_TYPE_LABEL,
               "platforms": Meeting.Platform.choices,
               "date_from": request.GET.get("from", ""), "date_to": request.GET.get("to", "")}
    if _htmx(request):
        return render(request, f"{SEARCH}#results", context)
    return render(request, SEARCH, context)


# --- chat ---------------------------------------------------------------------------------------------


@principal_required(perm=Perm.ASK)
def chat_page(request: HttpRequest, thread_id: int | None = None) -> HttpResponse:
    p = request.principal
    threads = list(ai_selectors.chat_thread_list(company=p.company, user=p.user)[:50])
    thread = ai_selectors.chat_thread_get(company=p.company, user=p.user, thread_id=thread_id) if thread_id else None
    meeting = None
    if thread is None and request.GET.get("meeting"):
        try:
            meeting = meeting_get(company=p.company, meeting_id=int(request.GET["meeting"]))
        except ValueError:
            raise Http404 from None
    context = {
        "threads": threads,
        "thread": thread,
        "chat_messages": list(ai_selectors.chat_message_list(thread=thread)) if thread else [],
        "meeting": meeting or (thread.meeting if thread else None),
        "llm": route_for(company=p.company, prompt_type=PromptType.ANSWER).spec is not None,
    }
    return render(request, CHAT, context)


@require_POST
@principal_required(perm=Perm.ASK)
def chat_thread_new(request: HttpRequest) -> HttpResponse:
    p = request.principal
    meeting = None
    if request.POST.get("meeting_id"):
        try:
            meeting = meeting_get(company=p.company, meeting_id=int(request.POST["meeting_id"]))
        except ValueError:
            raise Http404 from None
    thread = chat.chat_thread_create(company=p.company, user=p.user, meeting=meeting,
                                     title=request.POST.get("title", ""))
    return redirect("intelligence:chat_thread", thread_id=thread.pk)


@require_POST
@principal_required(perm=Perm.ASK)
def chat_thread_delete(request: HttpRequest, thread_id: int) -> HttpResponse:
    p = request.principal
    thread = ai_selectors.chat_thread_get(company=p.company, user=p.user, thread_id=thread_id)
    chat.chat_thread_delete(company=p.company, thread=thread)
    messages.success(request, "Conversation deleted.")
    return redirect("intelligence:chat")


# --- analytics --------------------------------------------------------------------------------------


def _weeks(request: HttpRequest) -> int:
    try:
        return max(4, min(int(request.GET.get("weeks", 12)), 52))
    except ValueError:
        return 12


@principal_required(perm=Perm.VIEW)
def analytics_page(request: HttpRequest) -> HttpResponse:
    p = request.principal
    weeks = _weeks(request)
    data = analytics.overview(company=p.company, weeks=weeks)
    context = {"data": data, "charts": overview_charts(data), "weeks": weeks,
               "people": analytics.people_list(company=p.company) if has_perm(p, Perm.MEETING_EDIT) else [],
               "week_choices": (4, 12, 26, 52)}
    return render(request, ANALYTICS, context)


@principal_required(perm=Perm.VIEW)
def analytics_person(request: HttpRequest, user_id: int) -> HttpResponse:
    p = request.principal
    person = analytics.person_get(company=p.company, user_id=user_id)
    if person.pk != p.user.pk and not has_perm(p, Perm.MEETING_EDIT):
        raise PermissionDenied("Only managers and admins see other people's analytics.")
    weeks = _weeks(request)
    data = analytics.person_analytics(company=p.company, user=person, weeks=weeks)
    return render(request, PERSON, {"data": data, "person": person, "charts": person_charts(data), "weeks": weeks,
                                    "week_choices": (4, 12, 26, 52)})
