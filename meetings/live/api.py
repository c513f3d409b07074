"""REST control of a live session, for clients that cannot hold a WebSocket.

The same services as the socket: ``caption_ingest`` (same schema, same idempotency: a batch
resent after a timeout is acked again without storing twice), ``session_start/end``,
``session_status`` and ``events_since`` for replay.
"""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from ninja import Field, Query, Router, Schema

from accounts.permissions import Perm, require
from meetings import selectors
from meetings.live import ratelimit
from meetings.live.events import event_frame, events_since
from meetings.live.ingest import caption_ingest, default_client_id
from meetings.live.protocol import CLIENT_ID_PATTERN, CaptionIn
from meetings.live.session import session_end, session_start, session_status
from meetpilot.apikit import ApiError, ErrorOut

router = Router(tags=["live"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut,
          429: ErrorOut}


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


class SessionOut(Schema):
    meeting_id: int
    status: str
    started_at: Any = None
    ended_at: Any = None
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


@router.post("/meetings/{meeting_id}/captions", response={200: CaptionBatchOut, **ERRORS})
def captions_post(request, meeting_id: int, payload: CaptionBatchIn):
    principal = request.auth
    meeting = selectors.meeting_get(company=principal.company, meeting_id=meeting_id)
    require(principal, Perm.MEETING_EDIT)
    if len(payload.captions) > settings.LIVE_MAX_BATCH:
        raise ApiError(413, "too_large", f"At most {settings.LIVE_MAX_BATCH} captions per request.")
    allowed, wait = ratelimit.company_take(principal.company.pk, cost=len(payload.captions))
    if not allowed:
        raise ApiError(429, "rate_limited", {"message": "Too many captions; retry later.", "retry_after": wait})
    client_id = payload.client_id or default_client_id(principal)
    acks, errors = [], []
    for caption in payload.captions:
        result = caption_ingest(company=principal.company, meeting=meeting, client_id=client_id, caption=caption,
                                self_name=payload.self_name, user=principal.user)
        (acks if result.accepted else errors).append(result.ack() if result.accepted else result.error_frame())
    return {"client_id": client_id, "acks": acks, "errors": errors}


@router.post("/meetings/{meeting_id}/session/start", response={200: SessionOut, **ERRORS})
def session_start_post(request, meeting_id: int):
    principal = request.auth
    meeting = selectors.meeting_get(company=principal.company, meeting_id=meeting_id)
    require(principal, Perm.MEETING_EDIT)
    session_start(company=principal.company, meeting=meeting)
    return session_status(company=principal.company, meeting=meeting)


@router.post("/meetings/{meeting_id}/session/end", response={200: SessionOut, **ERRORS})
def session_end_post(request, meeting_id: int):
    principal = request.auth
    meeting = selectors.meeting_get(company=principal.company, meeting_id=meeting_id)
    require(principal, Perm.MEETING_EDIT)
    session_end(company=principal.company, meeting=meeting)
    return session_status(company=principal.company, meeting=meeting)


@router.get("/meetings/{meeting_id}/session", response={200: SessionOut, **ERRORS})
def session_get(request, meeting_id: int):
    principal = request.auth
    meeting = selectors.meeting_get(company=principal.company, meeting_id=meeting_id)
    require(principal, Perm.VIEW)
    return session_status(company=principal.company, meeting=meeting)


@router.get("/meetings/{meeting_id}/events", response={200: EventsOut, **ERRORS})
def events_get(request, meeting_id: int, query: Query[EventsQuery]):
    principal = request.auth
    meeting = selectors.meeting_get(company=principal.company, meeting_id=meeting_id)
    require(principal, Perm.VIEW)
    events = events_since(company=principal.company, meeting=meeting, after_event_id=query.after,
                          limit=query.limit + 1)
    has_more = len(events) > query.limit
    events = events[: query.limit]
    return {"meeting_id": meeting.pk, "events": [event_frame(event) for event in events],
            "last_event_id": meeting.last_event_id, "has_more": has_more}
