"""Dashboard pages for meetings and action items.

Thin function-based views: parse, authorise, one selector or service call, render. HTMX
requests get a fragment of the same page template (``page.html#fragment``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm, can_edit_action_item
from meetings import capture, exports, selectors, services
from meetings.forms import (
    ActionItemFilterForm,
    ActionItemForm,
    ActionItemQuickForm,
    MeetingFilterForm,
    MeetingForm,
    ParticipantForm,
    SpeakerRenameForm,
)
from meetings.live.session import session_end, session_start
from meetings.models import ActionItem, Meeting, MeetingReport
from meetpilot.errors import Conflict

LIST = "meetings/meeting_list.html"
FORM = "meetings/meeting_form.html"
DETAIL = "meetings/meeting_detail.html"
BOARD = "meetings/action_items.html"
MEETINGS_PER_PAGE = 20
# How long after a meeting ends its page keeps asking whether the report has been written.
REPORT_WAIT = timedelta(hours=1)
REPORT_IN_PROGRESS = ("pending", "running")


def _form_errors(form: Any, exc: ValidationError | services.InvalidReference) -> None:
    """Put a service's validation error on the form it came from."""
    if isinstance(exc, services.InvalidReference):
        form.add_error(None, exc.message)
        return
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, messages_ in errors.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


def _error_text(exc: ValidationError | services.InvalidReference) -> str:
    if isinstance(exc, services.InvalidReference):
        return exc.message
    return " ".join(exc.messages)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


def _fragment(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


# --- meetings ------------------------------------------------------------------------------


@require_GET
@principal_required(perm=Perm.VIEW)
def meeting_list(request: HttpRequest) -> HttpResponse:
    p = request.principal
    form = MeetingFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(selectors.meeting_list(company=p.company, with_counts=True, **filters),
                     MEETINGS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filtered": bool(filters)}
    return render(request, f"{LIST}#results" if _fragment(request) else LIST, context)


@principal_required(perm=Perm.MEETING_EDIT)
def meeting_create(request: HttpRequest) -> HttpResponse:
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(company=request.principal.company, created_by=request.user,
                                              **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"“{meeting.title}” created.")
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(request, FORM, {"form": form, "meeting": None})


@principal_required(perm=Perm.MEETING_EDIT)
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    form = MeetingForm(request.POST or None, initial=MeetingForm.initial_for(meeting))
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(company=p.company, meeting=meeting, data=form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Meeting saved.")
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(request, FORM, {"form": form, "meeting": meeting})


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def meeting_delete(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    services.meeting_delete(company=p.company, meeting=meeting, actor=p.user)
    messages.success(request, f"“{meeting.title}” deleted.")
    return redirect("meetings:list")


def _report_waiting(meeting: Meeting, report: MeetingReport | None) -> bool:
    """Whether the page should keep asking for the after-meeting report (it is being written)."""
    if meeting.status != Meeting.Status.ENDED:
        return False
    if report is not None:
        return report.status in REPORT_IN_PROGRESS
    # No row yet: the analysis is queued right after the end; give up on a meeting long over.
    return bool(meeting.ended_at and timezone.now() - meeting.ended_at < REPORT_WAIT)


def _report_context(meeting: Meeting, report: MeetingReport | None) -> dict[str, Any]:
    return {"meeting": meeting, "report": report, "report_waiting": _report_waiting(meeting, report)}


@require_GET
@principal_required(perm=Perm.VIEW)
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    # Read first: the socket replays every event after this id, so nothing that happens while the
    # rest of the page is read and rendered (or before the socket connects) is missed.
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    if _fragment(request) and request.GET.get("part") == "report":
        context = _report_context(meeting, selectors.meeting_report_get(company=p.company, meeting=meeting))
        response = render(request, f"{DETAIL}#report_slot", context)
        if not context["report_waiting"]:
            response.status_code = 286  # htmx: stop polling
        return response
    overview = selectors.meeting_overview(company=p.company, meeting=meeting)
    context = {
        **_report_context(meeting, overview.report),
        "o": overview,
        "members": overview.members,
        "live": meeting.status != Meeting.Status.ENDED,
        "ws_path": f"/ws/meetings/{meeting.pk}/?format=html&last_event_id={meeting.last_event_id}",
        "export_formats": exports.FORMAT_LABELS.items(),
        "action_form": ActionItemForm(members=overview.members, participants=overview.participants),
        "participant_form": ParticipantForm(members=overview.members),
        "capture_gaps": capture.meeting_gap_texts(company=p.company, meeting=meeting),
    }
    return render(request, DETAIL, context)


def _after_status_change(request: HttpRequest, meeting: Meeting) -> HttpResponse:
    if _fragment(request):
        return render(request, f"{DETAIL}#meeting_head", {"meeting": meeting})
    return redirect("meetings:detail", meeting_id=meeting.pk)


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def meeting_start(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Start through the live session, so connected clients hear of it (a ``status`` event)."""
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    try:
        session_start(company=p.company, meeting=meeting)
    except Conflict as exc:  # an ended meeting is not started again
        messages.error(request, str(exc.detail))
    return _after_status_change(request, meeting)


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def meeting_end(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """End through the live session: captions still being typed become final, clients are told."""
    p = request.principal
    meeting = session_end(company=p.company, meeting=selectors.meeting_get(company=p.company, meeting_id=meeting_id))
    return _after_status_change(request, meeting)


@require_GET
@principal_required(perm=Perm.VIEW)
def transcript_export(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    try:
        fmt = exports.ExportFormat(request.GET.get("format", "txt"))
    except ValueError:
        return HttpResponseBadRequest("Unknown format: use txt, srt, vtt, json or md.")
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    exported = exports.transcript_export(company=p.company, meeting=meeting, fmt=fmt)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=exported.filename)
    return response


# --- participants and speaker names --------------------------------------------------------


def _to_participants(meeting: Meeting) -> str:
    return reverse("meetings:detail", kwargs={"meeting_id": meeting.pk}) + "#participants"


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def participant_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    form = ParticipantForm(request.POST, members=selectors.company_member_list(company=p.company))
    if form.is_valid():
        try:
            participant = services.participant_create(company=p.company, meeting=meeting, **form.cleaned_data)
            messages.success(request, f"{participant.name} added.")
        except (ValidationError, services.InvalidReference) as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "Check the participant's details: " + form.errors.as_text())
    return redirect(_to_participants(meeting))


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def participant_update(request: HttpRequest, meeting_id: int, participant_id: int) -> HttpResponse:
    """Save a participant; a new name renames them on the whole transcript."""
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    participant = selectors.participant_get(company=p.company, meeting=meeting, participant_id=participant_id)
    form = ParticipantForm(request.POST, members=selectors.company_member_list(company=p.company))
    if form.is_valid():
        try:
            services.participant_update(company=p.company, participant=participant, data=form.cleaned_data)
            messages.success(request, "Participant saved; the transcript uses the new name everywhere.")
        except (ValidationError, services.InvalidReference) as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, "Check the participant's details: " + form.errors.as_text())
    return redirect(_to_participants(meeting))


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def participant_delete(request: HttpRequest, meeting_id: int, participant_id: int) -> HttpResponse:
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    participant = selectors.participant_get(company=p.company, meeting=meeting, participant_id=participant_id)
    services.participant_delete(company=p.company, participant=participant)
    messages.success(request, f"{participant.name} removed.")
    return redirect(_to_participants(meeting))


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def speaker_rename(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    form = SpeakerRenameForm(request.POST)
    if form.is_valid():
        try:
            count = services.speaker_rename(company=p.company, meeting=meeting, **form.cleaned_data)
            messages.success(request, f"Renamed to {form.cleaned_data['new_name']} on {count} transcript lines.")
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        except Http404:
            messages.error(request, "Nobody in this meeting goes by that name any more.")
    else:
        messages.error(request, "Give the speaker a name.")
    return redirect("meetings:detail", meeting_id=meeting.pk)


# --- action items --------------------------------------------------------------------------


def _row_context(request: HttpRequest, item: Any) -> dict[str, Any]:
    return {"obj": item, "members": selectors.company_member_list(company=request.principal.company),
            "show_meeting": request.POST.get("view") == "board", "view": request.POST.get("view", "")}


@require_POST
@principal_required(perm=Perm.ACTION_ITEM_EDIT)
def action_item_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = request.principal
    meeting = selectors.meeting_get(company=p.company, meeting_id=meeting_id)
    members = selectors.company_member_list(company=p.company)
    participants = list(selectors.participant_list(company=p.company, meeting=meeting))
    form = ActionItemForm(request.POST, members=members, participants=participants)
    item = None
    if form.is_valid():
        try:
            item = services.action_item_create(company=p.company, meeting=meeting, **form.service_kwargs())
        except (ValidationError, services.InvalidReference) as exc:
            _form_errors(form, exc)
    if not _fragment(request):
        if item is None:
            messages.error(request, "The action item was not added: " + form.errors.as_text())
        return redirect(reverse("meetings:detail", kwargs={"meeting_id": meeting.pk}) + "#action-items")
    if item is not None:  # a fresh form, and the new row appended where live items go
        form = ActionItemForm(members=members, participants=participants)
    context = {"meeting": meeting, "action_form": form, "obj": item, "members": members}
    # 200 even with errors: htmx only swaps successful answers, and the form shows its errors.
    return render(request, f"{DETAIL}#action_item_created", context)


@require_POST
@principal_required(perm=Perm.VIEW)
def action_item_update(request: HttpRequest, action_item_id: int) -> HttpResponse:
    """Inline change from a row (status, priority, due date, assignee); answers with the row."""
    p = request.principal
    item = selectors.action_item_get(company=p.company, action_item_id=action_item_id)
    if not can_edit_action_item(p, assignee_user_id=item.assignee_user_id):
        raise PermissionDenied("You can only change action items assigned to you.")
    old_status = item.status
    form = ActionItemQuickForm(request.POST)
    error = None
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_text())
        item = services.action_item_update(company=p.company, action_item=item, data=form.changes())
    except (ValidationError, services.InvalidReference) as exc:
        error = _error_text(exc)
        item = selectors.action_item_get(company=p.company, action_item_id=action_item_id)
    if not _fragment(request):
        if error:
            messages.error(request, error)
        return _back(request, reverse("meetings:action_items"))
    context = {**_row_context(request, item), "error": error}
    if request.POST.get("view") == "board" and item.status != old_status and not error:
        return render(request, f"{BOARD}#card_moved", context)  # the card moves to its new column
    return render(request, f"{DETAIL}#action_item_row", context)


@require_POST
@principal_required(perm=Perm.ACTION_ITEM_EDIT)
def action_item_delete(request: HttpRequest, action_item_id: int) -> HttpResponse:
    p = request.principal
    item = selectors.action_item_get(company=p.company, action_item_id=action_item_id)
    services.action_item_delete(company=p.company, action_item=item)
    if _fragment(request):
        return HttpResponse("")  # the row swaps itself out
    messages.success(request, "Action item deleted.")
    return _back(request, reverse("meetings:action_items"))


@require_POST
@principal_required(perm=Perm.VIEW)
def action_item_review(request: HttpRequest, action_item_id: int) -> HttpResponse:
    """Confirm or dismiss a suggested item; answers with the row (empty when dismissed)."""
    p = request.principal
    item = selectors.action_item_get(company=p.company, action_item_id=action_item_id)
    if not can_edit_action_item(p, assignee_user_id=item.assignee_user_id):
        raise PermissionDenied("You can only review action items assigned to you.")
    item = services.action_item_review(company=p.company, action_item=item, review=_review_choice(request))
    if not _fragment(request):
        return _back(request, reverse("meetings:detail", args=[item.meeting_id]))
    if item.review == ActionItem.Review.DISMISSED:
        return HttpResponse("")
    return render(request, f"{DETAIL}#action_item_row", _row_context(request, item))


@require_POST
@principal_required(perm=Perm.ACTION_ITEM_EDIT)
def decision_review(request: HttpRequest, decision_id: int) -> HttpResponse:
    p = request.principal
    decision = selectors.decision_get(company=p.company, decision_id=decision_id)
    decision = services.decision_review(company=p.company, decision=decision, review=_review_choice(request))
    if not _fragment(request):
        return _back(request, reverse("meetings:detail", args=[decision.meeting_id]))
    if decision.review == ActionItem.Review.DISMISSED:
        return HttpResponse("")
    return render(request, f"{DETAIL}#decision_row", {"obj": decision, "principal": p})


def _review_choice(request: HttpRequest) -> str:
    choice = request.POST.get("review", "")
    if choice not in (ActionItem.Review.CONFIRMED, ActionItem.Review.DISMISSED):
        raise Http404  # only the two buttons post here
    return choice


@require_GET
@principal_required(perm=Perm.VIEW)
def action_item_board(request: HttpRequest) -> HttpResponse:
    p = request.principal
    members = selectors.company_member_list(company=p.company)
    form = ActionItemFilterForm(request.GET, members=members,
                                meetings=list(selectors.meeting_list(company=p.company)[:200]))
    filters = form.filters()
    if filters.get("meeting"):
        filters["meeting"] = selectors.meeting_get(company=p.company, meeting_id=filters["meeting"])
    if filters.pop("mine", False):
        filters["assigned_to"] = request.user
    if "assignee" in filters:
        filters["assignee_user_id"] = filters.pop("assignee")
    columns = selectors.action_item_board(company=p.company, **filters)
    context = {"form": form, "columns": columns, "members": members, "filtered": bool(filters),
               "show_meeting": True, "view": "board"}
    return render(request, f"{BOARD}#board" if _fragment(request) else BOARD, context)
