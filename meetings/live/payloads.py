"""Every frame the server sends, built in one place from the protocol's models.

Event payloads (``*_payload``: the ``data`` of a logged event, validated by ``protocol.EVENT_DATA``),
the event frame itself (``event_frame``) and the per-connection replies (ack, error, pong, the
status answering hello). Ingest, the pipeline, the session services and the renderers all build
their frames here, so none of them needs another's module for it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from meetings.live.protocol import PROTOCOL_VERSION, ErrorCode, event_payload
from meetings.models import (
    ActionItem,
    Decision,
    FactCheck,
    Meeting,
    MeetingEvent,
    Participant,
    Suggestion,
    TranscriptSegment,
)

# --- event payloads -------------------------------------------------------------------------


def transcript_payload(segment: TranscriptSegment, *, update: bool = False, removed: bool = False,
                       duplicate_of: int | None = None) -> dict[str, Any]:
    participant = segment.participant
    return event_payload(
        "transcript", segment_id=segment.pk, sequence=segment.sequence, client_id=segment.client_id,
        client_sequence=segment.client_sequence, speaker=segment.speaker_label,
        participant_id=participant.pk if participant else None,
        role=participant.role if participant else Participant.Role.UNKNOWN, text=segment.text,
        start=segment.start_time, end=segment.end_time, is_final=segment.is_final, update=update, removed=removed,
        duplicate_of=duplicate_of,
    )


def status_payload(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    return event_payload("status", kind=extra.pop("kind", "meeting"), meeting_status=meeting.status,
                         started_at=meeting.started_at, ended_at=meeting.ended_at, **extra)


def action_item_payload(item: ActionItem, source_text: str) -> dict[str, Any]:
    return event_payload("action_item", id=item.pk, description=item.description, assignee_name=item.assignee_name,
                         assignee_participant_id=item.assignee_participant_id, assignee_user_id=item.assignee_user_id,
                         due_date=item.due_date, priority=item.priority, status=item.status,
                         confidence=item.confidence, review=item.review, segment_id=item.source_segment_id,
                         source_text=source_text)


def decision_payload(decision: Decision, *, segment_id: int | None, source_text: str) -> dict[str, Any]:
    return event_payload("decision", id=decision.pk, text=decision.text, confidence=decision.confidence,
                         review=decision.review, segment_id=segment_id, source_text=source_text)


def suggestion_payload(suggestion: Suggestion, *, asker: str = "", ask_id: str | None = None) -> dict[str, Any]:
    return event_payload(suggestion.kind, id=suggestion.pk, kind=suggestion.kind, question=suggestion.question,
                         answer=suggestion.answer, sources=suggestion.sources, confidence=suggestion.confidence,
                         latency_ms=suggestion.latency_ms, provider=suggestion.provider,
                         segment_id=suggestion.segment_id, asker=asker, ask_id=ask_id,
                         audio_url=suggestion.audio_url or None)


def fact_check_payload(check: FactCheck, speaker: str) -> dict[str, Any]:
    return event_payload("fact_check", id=check.pk, claim=check.claim, claimed_value=check.claimed_value,
                         verdict=check.verdict, corrected_value=check.corrected_value, confidence=check.confidence,
                         source=check.source or None, segment_id=check.segment_id, speaker=speaker)


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat()


# --- frames ------------------------------------------------------------------------------------


def event_frame(event: MeetingEvent) -> dict[str, Any]:
    """The JSON frame a v1 client receives for ``event``."""
    return {"type": event.type, "event_id": event.event_id, "meeting_id": event.meeting_id,
            "at": event.created_at.isoformat(), "data": event.payload}


def hello_frame(meeting: Meeting, *, client_id: str, format: str, can_stream: bool,
                replay_from: int) -> dict[str, Any]:
    """The per-connection ``status`` answering hello (no event id: it is not logged)."""
    data = status_payload(meeting, kind="hello", protocol=PROTOCOL_VERSION, client_id=client_id, format=format,
                          can_stream=can_stream, last_event_id=meeting.last_event_id, replay_from=replay_from)
    return {"type": "status", "event_id": None, "meeting_id": meeting.pk, "at": meeting.updated_at.isoformat(),
            "data": data}


def load_status_frame(meeting: Meeting, *, state: str, retry_after_ms: int, send_interims: bool) -> dict[str, Any]:
    """The per-connection ``status`` saying the server is busy (slow down) or ok again (no event id)."""
    data = status_payload(meeting, kind="load", state=state, retry_after_ms=retry_after_ms,
                          send_interims=send_interims)
    return {"type": "status", "event_id": None, "meeting_id": meeting.pk, "at": _now_iso(), "data": data}


def ack_frame(*, sequence: int, segment_id: int | None, status: str, stream: str = "caption") -> dict[str, Any]:
    frame = {"type": "ack", "sequence": sequence, "segment_id": segment_id, "status": status,
             "duplicate": status == "duplicate"}
    if stream != "caption":
        frame["stream"] = stream
    return frame


def error_frame(code: ErrorCode | str, message: str, *, sequence: int | None = None,
                details: list | None = None, retry_after: float | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": "error", "code": str(code), "message": message, "sequence": sequence}
    if retry_after is not None:
        error["retry_after"] = retry_after
    if details:
        error["details"] = details
    return error


def pong_frame(nonce: str | int | None) -> dict[str, Any]:
    return {"type": "pong", "nonce": nonce, "server_time": time.time()}


def audio_status_frame(meeting: Meeting, *, client_id: str, status: dict[str, Any], at: str) -> dict[str, Any]:
    """A connection's audio transcription fell behind or caught up (per connection, not logged)."""
    data = status_payload(meeting, kind="audio", state="lagging" if status.get("behind") else "ok",
                          lag_seconds=status.get("lag_seconds"), compute_ratio=status.get("compute_ratio"),
                          audio_seconds=status.get("audio_seconds"), client_id=client_id)
    return {"type": "status", "event_id": None, "meeting_id": meeting.pk, "at": at, "data": data}
