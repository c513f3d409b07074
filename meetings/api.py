"""REST API for meetings, participants, transcripts, exports and action items.

Path ids use int converters, so these routes never shadow another router's
``/meetings/<word>``. Ids in the path that are not the caller's company's are 404s. Ids in a body that exist but
cannot be used (a user who is not a member, a participant of another meeting) are 422s.
"""

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from accounts.permissions import Perm, can_edit_action_item, has_perm, require
from meetings import capture, exports, selectors, services
from meetings.schemas import (
    ActionItemFilters,
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    CaptureGapIn,
    CoverageGapOut,
    DecisionFilters,
    DecisionOut,
    ExportQuery,
    FactCheckFilters,
    FactCheckOut,
    MeetingFilters,
    MeetingIn,
    MeetingJoinIn,
    MeetingOut,
    MeetingPatch,
    ParticipantIn,
    ParticipantOut,
    ParticipantPatch,
    ReviewIn,
    SegmentOut,
    SpeakerRenameIn,
    SpeakerRenameOut,
    SuggestionFilters,
    SuggestionOut,
    TranscriptQuery,
)
from meetpilot.apikit import ApiError, ErrorOut, Pagination

router = Router(tags=["meetings"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _invalid(exc: services.InvalidReference) -> ApiError:
    return ApiError(422, "invalid_reference", {exc.field: exc.message})


def _not_null(data: dict[str, Any], *, nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """PATCH bodies: an explicit null is only allowed where the field can be empty."""
    nulls = {k: "This field cannot be null." for k, v in data.items() if v is None and k not in nullable}
    if nulls:
        raise ApiError(422, "validation_error", nulls)
    return data


def _meeting(request, meeting_id: int):
    return selectors.meeting_get(company=request.auth.company, meeting_id=meeting_id)


# --- meetings ------------------------------------------------------------------------------


@router.get("/meetings", response={200: list[MeetingOut], **ERRORS})
@paginate(Pagination)
def meeting_list(request, filters: Query[MeetingFilters]):
    require(request.auth, Perm.VIEW)
    return selectors.meeting_list(company=request.auth.company, **filters.dict())


@router.post("/meetings", response={201: MeetingOut, **ERRORS})
def meeting_create(request, payload: MeetingIn):
    require(request.auth, Perm.MEETING_EDIT)
    meeting = services.meeting_create(company=request.auth.company, created_by=request.auth.user, **payload.dict())
    return Status(201, meeting)


@router.post("/meetings/join", response={200: MeetingOut, 201: MeetingOut, **ERRORS})
def meeting_join(request, payload: MeetingJoinIn):
    """The meeting in progress or scheduled at this link (the calendar's), else a new one (201)."""
    require(request.auth, Perm.VIEW)
    meeting, created = services.meeting_join(company=request.auth.company, by_user=request.auth.user,
                                             may_create=has_perm(request.auth, Perm.MEETING_EDIT), **payload.dict())
    return Status(201 if created else 200, meeting)


@router.post("/meetings/{int:meeting_id}/capture-gaps", response={201: CoverageGapOut, **ERRORS})
def capture_gap_report(request, meeting_id: int, payload: CaptureGapIn):
    """A client could not capture part of the meeting (the extension's capture health)."""
    require(request.auth, Perm.MEETING_EDIT)
    meeting = _meeting(request, meeting_id)
    gap = capture.capture_gap_report(company=request.auth.company, meeting=meeting, **payload.dict())
    return Status(201, capture.capture_gap_view(meeting=meeting, gap=gap))


@router.get("/meetings/{int:meeting_id}/capture-gaps", response={200: list[CoverageGapOut], **ERRORS})
def capture_gap_list(request, meeting_id: int):
    """What the transcript does not cover: gaps clients reported and silences the server sees."""
    require(request.auth, Perm.VIEW)
    return capture.meeting_coverage_gaps(company=request.auth.company, meeting=_meeting(request, meeting_id))


@router.get("/meetings/{int:meeting_id}", response={200: MeetingOut, **ERRORS})
def meeting_get(request, meeting_id: int):
    require(request.auth, Perm.VIEW)
    return _meeting(request, meeting_id)


@router.patch("/meetings/{int:meeting_id}", response={200: MeetingOut, **ERRORS})
def meeting_update(request, meeting_id: int, payload: MeetingPatch):
    require(request.auth, Perm.MEETING_EDIT)
    data = _not_null(payload.dict(exclude_unset=True), nullable=("scheduled_start", "scheduled_end"))
    return services.meeting_update(company=request.auth.company, meeting=_meeting(request, meeting_id), data=data)


@router.delete("/meetings/{int:meeting_id}", response={204: None, **ERRORS})
def meeting_delete(request, meeting_id: int):
    require(request.auth, Perm.MEETING_EDIT)
    services.meeting_delete(company=request.auth.company, meeting=_meeting(request, meeting_id),
                            actor=request.auth.user)
    return Status(204, None)


# Starting and ending a meeting are the live session's: meetings.live.api answers /meetings/<id>/start|end.


# --- participants --------------------------------------------------------------------------


@router.get("/meetings/{int:meeting_id}/participants", response={200: list[ParticipantOut], **ERRORS})
@paginate(Pagination)
def participant_list(request, meeting_id: int):
    require(request.auth, Perm.VIEW)
    return selectors.participant_list(company=request.auth.company, meeting=_meeting(request, meeting_id))


@router.post("/meetings/{int:meeting_id}/participants", response={201: ParticipantOut, **ERRORS})
def participant_create(request, meeting_id: int, payload: ParticipantIn):
    require(request.auth, Perm.MEETING_EDIT)
    meeting = _meeting(request, meeting_id)
    data = payload.dict()
    data["email"] = data["email"] or ""
    try:
        return Status(201, services.participant_create(company=request.auth.company, meeting=meeting, **data))
    except services.InvalidReference as exc:
        raise _invalid(exc)


PARTICIPANT_PATH = "/meetings/{int:meeting_id}/participants/{int:participant_id}"


@router.patch(PARTICIPANT_PATH, response={200: ParticipantOut, **ERRORS})
def participant_update(request, meeting_id: int, participant_id: int, payload: ParticipantPatch):
    """Renaming renames the speaker on the whole transcript; a name another participant has
    merges the two (the answer is then that participant)."""
    require(request.auth, Perm.MEETING_EDIT)
    participant = selectors.participant_get(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                            participant_id=participant_id)
    data = _not_null(payload.dict(exclude_unset=True), nullable=("email", "user_id"))
    if "email" in data:
        data["email"] = data["email"] or ""  # null clears it
    try:
        return services.participant_update(company=request.auth.company, participant=participant, data=data)
    except services.InvalidReference as exc:
        raise _invalid(exc)


@router.delete(PARTICIPANT_PATH, response={204: None, **ERRORS})
def participant_delete(request, meeting_id: int, participant_id: int):
    require(request.auth, Perm.MEETING_EDIT)
    participant = selectors.participant_get(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                            participant_id=participant_id)
    services.participant_delete(company=request.auth.company, participant=participant)
    return Status(204, None)


@router.post("/meetings/{int:meeting_id}/speakers/rename", response={200: SpeakerRenameOut, **ERRORS})
def speaker_rename(request, meeting_id: int, payload: SpeakerRenameIn):
    """Call a voice ("Speaker 2") by a name throughout the meeting."""
    require(request.auth, Perm.MEETING_EDIT)
    count = services.speaker_rename(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                    old_label=payload.old_label, new_name=payload.new_name)
    return {"renamed_segments": count}


# --- transcript ----------------------------------------------------------------------------


@router.get("/meetings/{int:meeting_id}/transcript", response={200: list[SegmentOut], **ERRORS})
@paginate(Pagination)
def transcript(request, meeting_id: int, params: Query[TranscriptQuery]):
    """Final segments in spoken order; ``include_interim=true`` adds captions still being revised."""
    require(request.auth, Perm.VIEW)
    return selectors.segment_list(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                  include_interim=params.include_interim)


@router.get("/meetings/{int:meeting_id}/transcript/export", response={200: Any, **ERRORS})
def transcript_export(request, meeting_id: int, params: Query[ExportQuery]):
    """The final transcript as a file: ``format`` = txt, srt, vtt, json or md."""
    require(request.auth, Perm.VIEW)
    exported = exports.transcript_export(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                         fmt=params.format)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=exported.filename)
    return response


# --- action items --------------------------------------------------------------------------


@router.get("/meetings/{int:meeting_id}/action-items", response={200: list[ActionItemOut], **ERRORS})
@paginate(Pagination)
def meeting_action_item_list(request, meeting_id: int):
    require(request.auth, Perm.VIEW)
    return selectors.action_item_list(company=request.auth.company, meeting=_meeting(request, meeting_id))


@router.post("/meetings/{int:meeting_id}/action-items", response={201: ActionItemOut, **ERRORS})
def action_item_create(request, meeting_id: int, payload: ActionItemIn):
    require(request.auth, Perm.ACTION_ITEM_EDIT)
    meeting = _meeting(request, meeting_id)
    try:
        item = services.action_item_create(company=request.auth.company, meeting=meeting, **payload.dict())
    except services.InvalidReference as exc:
        raise _invalid(exc)
    return Status(201, item)


@router.get("/action-items", response={200: list[ActionItemOut], **ERRORS})
@paginate(Pagination)
def action_item_list(request, filters: Query[ActionItemFilters]):
    """Action items across meetings. ``mine``, ``overdue`` and the other filters combine."""
    require(request.auth, Perm.VIEW)
    p = request.auth
    meeting = selectors.meeting_get(company=p.company, meeting_id=filters.meeting) if filters.meeting else None
    return selectors.action_item_list(
        company=p.company, meeting=meeting, assigned_to=p.user if filters.mine else None, overdue=filters.overdue,
        status=filters.status, assignee_user_id=filters.assignee, assignee_participant_id=filters.assignee_participant,
        priority=filters.priority, due_from=filters.due_from, due_to=filters.due_to, q=filters.q,
        review=filters.review,
    )


@router.get("/action-items/{int:action_item_id}", response={200: ActionItemOut, **ERRORS})
def action_item_get(request, action_item_id: int):
    require(request.auth, Perm.VIEW)
    return selectors.action_item_get(company=request.auth.company, action_item_id=action_item_id)


@router.patch("/action-items/{int:action_item_id}", response={200: ActionItemOut, **ERRORS})
def action_item_update(request, action_item_id: int, payload: ActionItemPatch):
    """Managers edit any item, members those assigned to them. Edited fields are remembered so the
    after-meeting analysis never overwrites them."""
    item = selectors.action_item_get(company=request.auth.company, action_item_id=action_item_id)
    if not can_edit_action_item(request.auth, assignee_user_id=item.assignee_user_id):
        raise ApiError(403, "permission_denied", "You can only change action items assigned to you.")
    data = _not_null(payload.dict(exclude_unset=True),
                     nullable=("due_date", "assignee_user_id", "assignee_participant_id", "assignee_name"))
    try:
        return services.action_item_update(company=request.auth.company, action_item=item, data=data)
    except services.InvalidReference as exc:
        raise _invalid(exc)


@router.post("/action-items/{int:action_item_id}/review", response={200: ActionItemOut, **ERRORS})
def action_item_review(request, action_item_id: int, payload: ReviewIn):
    """Confirm a suggested item (it becomes a task) or dismiss it; analysis never brings it back."""
    item = selectors.action_item_get(company=request.auth.company, action_item_id=action_item_id)
    if not can_edit_action_item(request.auth, assignee_user_id=item.assignee_user_id):
        raise ApiError(403, "permission_denied", "You can only review action items assigned to you.")
    return services.action_item_review(company=request.auth.company, action_item=item, review=payload.review)


@router.delete("/action-items/{int:action_item_id}", response={204: None, **ERRORS})
def action_item_delete(request, action_item_id: int):
    require(request.auth, Perm.ACTION_ITEM_EDIT)
    item = selectors.action_item_get(company=request.auth.company, action_item_id=action_item_id)
    services.action_item_delete(company=request.auth.company, action_item=item)
    return Status(204, None)


# --- decisions, fact checks, suggestions ---------------------------------------------------


@router.get("/meetings/{int:meeting_id}/decisions", response={200: list[DecisionOut], **ERRORS})
@paginate(Pagination)
def decision_list(request, meeting_id: int, filters: Query[DecisionFilters]):
    require(request.auth, Perm.VIEW)
    return selectors.decision_list(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                   review=filters.review)


@router.post("/decisions/{int:decision_id}/review", response={200: DecisionOut, **ERRORS})
def decision_review(request, decision_id: int, payload: ReviewIn):
    """Confirm a suggested decision or dismiss it (managers and admins)."""
    require(request.auth, Perm.ACTION_ITEM_EDIT)
    decision = selectors.decision_get(company=request.auth.company, decision_id=decision_id)
    return services.decision_review(company=request.auth.company, decision=decision, review=payload.review)


@router.get("/meetings/{int:meeting_id}/fact-checks", response={200: list[FactCheckOut], **ERRORS})
@paginate(Pagination)
def fact_check_list(request, meeting_id: int, filters: Query[FactCheckFilters]):
    require(request.auth, Perm.VIEW)
    return selectors.fact_check_list(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                     verdict=filters.verdict)


@router.get("/meetings/{int:meeting_id}/suggestions", response={200: list[SuggestionOut], **ERRORS})
@paginate(Pagination)
def suggestion_list(request, meeting_id: int, filters: Query[SuggestionFilters]):
    require(request.auth, Perm.VIEW)
    return selectors.suggestion_list(company=request.auth.company, meeting=_meeting(request, meeting_id),
                                     kind=filters.kind)


@router.get("/meetings/{int:meeting_id}/suggestions/{int:suggestion_id}/audio", response={200: Any, **ERRORS})
def suggestion_audio(request, meeting_id: int, suggestion_id: int):
    """The spoken answer of a suggestion (audio/mpeg or audio/wav); 404 when it has none."""
    from meetings.speech import tts

    require(request.auth, Perm.VIEW)
    meeting = _meeting(request, meeting_id)
    if not selectors.suggestion_list(company=request.auth.company, meeting=meeting).filter(pk=suggestion_id).exists():
        raise Http404("No such suggestion.")
    stored = tts.suggestion_audio_open(company_id=request.auth.company.pk, suggestion_id=suggestion_id)
    if stored is None:
        raise ApiError(404, "no_audio", "This answer has no spoken audio.")
    handle, content_type = stored
    return FileResponse(handle, content_type=content_type)
