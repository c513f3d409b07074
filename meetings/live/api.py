"""REST control of a live session, for clients that cannot hold a WebSocket.

The same services as the socket (``meetings.live.session``): captions under the company's rate
limit (same schema, same idempotency: a batch resent after a timeout is acked again without
storing twice), start/end, status and the replay of the event log. Starting and ending a meeting
has one handler each, answering at ``/meetings/<id>/start|end`` and at
``/meetings/<id>/session/start|end`` alike.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Query, Router, Schema

from accounts.permissions import Perm, require
from meetings import selectors
from meetings.live.ingest import default_client_id
from meetings.live.protocol import CLIENT_ID_PATTERN, CaptionIn
from meetings.live.session import captions_submit, events_replay, session_end, session_start, session_status
from meetings.models import Meeting
from meetings.schemas import MeetingOut
from meetpilot.apikit import ErrorOut
from meetpilot.errors import TooLarge

router = Router(tags=["live"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut,
          422: ErrorOut, 429: ErrorOut}


class CaptionItem(CaptionIn):
    type: Literal["caption"] = "caption"


class CaptionBatchIn(Schema):
    client_id: str | None = Field(None, pattern=CLIENT_ID_PATTERN,
                                  description="as in hello; defaults to one per API token (or user)")
    self_name: str | None = Field(None, max_length=200, description="whose captions show as 'You'")
    captions: list[CaptionItem] = Field(min_length=1)


class AckItem(Schema):
    type: Literal["ack"]
    sequence: int
    segment_id: int | None
    status: str
    duplicate: bool


class CaptionErrorItem(Schema):
    type: Literal["error"]
    code: str
    message: str
    sequence: int | None


class CaptionBatchOut(Schema):
    client_id: str
    acks: list[AckItem]
    errors: list[CaptionErrorItem]


class SessionOut(MeetingOut):
    """The meeting, and its live session: counts, newest event id, connected clients."""

    meeting_id: int
    last_event_id: int
    counts: dict[str, int]
    connected_clients: list[dict[str, Any]] | None


class EventOut(Schema):
    type: str
    event_id: int
    meeting_id: int
    at: str
    data: dict[str, Any]


class EventsOut(Schema):
    meeting_id: int
    events: list[EventOut]
    last_event_id: int
    has_more: bool


class EventsQuery(Schema):
    after: int = Field(0, ge=0)
    limit: int = Field(500, ge=1, le=1000)


def _session(request, meeting_id: int, perm: Perm) -> Meeting:
    meeting = selectors.meeting_get(company=request.auth.company, meeting_id=meeting_id)
    require(request.auth, perm)
    return meeting


def _session_out(request, meeting: Meeting) -> SimpleNamespace:
    status = session_status(company=request.auth.company, meeting=meeting)
    return SimpleNamespace(**{**MeetingOut.from_orm(meeting).dict(), **status})


@router.post("/meetings/{int:meeting_id}/captions", response={200: CaptionBatchOut, **ERRORS})
def captions_post(request, meeting_id: int, payload: CaptionBatchIn):
    meeting = _session(request, meeting_id, Perm.MEETING_EDIT)
    if len(payload.captions) > settings.LIVE_MAX_BATCH:
        raise TooLarge(f"At most {settings.LIVE_MAX_BATCH} captions per request.")
    client_id = payload.client_id or default_client_id(request.auth)
    results = captions_submit(company=request.auth.company, meeting=meeting, client_id=client_id,
                              captions=payload.captions, self_name=payload.self_name, user=request.auth.user)
    return {"client_id": client_id, "acks": [r.ack() for r in results if r.accepted],
            "errors": [r.error_frame() for r in results if not r.accepted]}


@router.post("/meetings/{int:meeting_id}/session/start", response={200: SessionOut, **ERRORS})
@router.post("/meetings/{int:meeting_id}/start", response={200: SessionOut, **ERRORS},
             operation_id="meetings_live_api_meeting_start")
def session_start_post(request, meeting_id: int):
    """Make the meeting live (idempotent); connected clients get a ``status`` event. Ended meetings: 409."""
    meeting = _session(request, meeting_id, Perm.MEETING_EDIT)
    session_start(company=request.auth.company, meeting=meeting)
    return _session_out(request, meeting)


@router.post("/meetings/{int:meeting_id}/session/end", response={200: SessionOut, **ERRORS})
@router.post("/meetings/{int:meeting_id}/end", response={200: SessionOut, **ERRORS},
             operation_id="meetings_live_api_meeting_end")
def session_end_post(request, meeting_id: int):
    """End the meeting (idempotent): leftover interim captions become final, clients get a ``status``
    event, and the after-meeting report is queued."""
    meeting = _session(request, meeting_id, Perm.MEETING_EDIT)
    session_end(company=request.auth.company, meeting=meeting)
    return _session_out(request, meeting)


@router.get("/meetings/{int:meeting_id}/session", response={200: SessionOut, **ERRORS})
def session_get(request, meeting_id: int):
    return _session_out(request, _session(request, meeting_id, Perm.VIEW))


@router.get("/meetings/{int:meeting_id}/events", response={200: EventsOut, **ERRORS})
def events_get(request, meeting_id: int, query: Query[EventsQuery]):
    meeting = _session(request, meeting_id, Perm.VIEW)
    frames = events_replay(company=request.auth.company, meeting=meeting, after_event_id=query.after,
                           limit=query.limit + 1)
    return {"meeting_id": meeting.pk, "events": frames[: query.limit], "last_event_id": meeting.last_event_id,
            "has_more": len(frames) > query.limit}
