"""Captions in: each one stored exactly once, under the meeting's row lock.

A caption is identified by ``(client_id, sequence)``: a resend after a reconnect finds its row
and is acked again without a second write. Interim captions (``is_final`` false) are stored and
replaced in place by later captions with the same sequence until the final one arrives. A
final caption whose normalised speaker + text matches a final segment of the same meeting
within ``LIVE_DUPLICATE_WINDOW_SECONDS`` (two extensions in one call) is acked as a duplicate
of that segment. Everything happens inside one transaction that holds the meeting's row
lock, so concurrent connections (even in several processes) cannot both store one caption.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from dateutil import parser as date_parser
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Company, User
from meetings import services as meeting_services
from meetings.live import backlog
from meetings.live.events import event_add, event_emit, event_logged, lock_meeting
from meetings.live.payloads import ack_frame, error_frame, status_payload, transcript_payload
from meetings.live.pipeline import analysis_enqueue
from meetings.live.protocol import CaptionIn, ErrorCode
from meetings.live.sql import Writes, fetchone, insert_add, update_add
from meetings.models import AnalyticsEvent, Meeting, Participant, TranscriptSegment

# What a meeting platform shows for the extension user's own captions.
SELF_SPEAKER_NAMES = frozenset({"you", "you (presenting)", "me"})
WORDS_PER_SECOND = 2.6  # speaking pace used when a caption carries no end time

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class IngestResult:
    sequence: int
    status: Literal["stored", "updated", "duplicate", "stale", "rejected"]
    segment_id: int | None = None
    error: ErrorCode | None = None
    message: str = ""
    event_ids: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"

    def ack(self) -> dict[str, Any]:
        return ack_frame(sequence=self.sequence, segment_id=self.segment_id, status=self.status)

    def error_frame(self) -> dict[str, Any]:
        return error_frame(self.error or ErrorCode.INTERNAL, self.message, sequence=self.sequence)


def default_client_id(principal: Any) -> str:
    """One per API token (or per user for the dashboard): the same for the socket and REST."""
    token_id = principal.token_id if principal.via == "token" else None
    return f"t{token_id}" if token_id else f"u{principal.user.pk}"


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def content_key(speaker: str, text: str) -> str:
    """Normalised speaker + text: the same caption seen by two extensions has the same key."""
    return hashlib.sha256(f"{normalize_text(speaker)}|{normalize_text(text)}".encode()).hexdigest()


def clean_text(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def parse_timestamp(value: float | str | None) -> datetime | float | None:
    """A wall-clock datetime (Unix seconds/ms or ISO 8601), or a float offset for small numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                parsed = date_parser.isoparse(value)
            except (ValueError, OverflowError):
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not math.isfinite(value) or value < 0:
        return None
    try:
        if value > 1e11:  # milliseconds since the epoch
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        if value > 1e8:  # seconds since the epoch
            return datetime.fromtimestamp(value, tz=UTC)
    except (ValueError, OverflowError, OSError):  # beyond what a clock can say: treat as absent
        return None
    return float(value)  # already seconds from the meeting start


def caption_offsets(*, meeting: Meeting, caption: CaptionIn, now: datetime) -> tuple[float, float]:
    """Seconds from the meeting start at which the caption starts and ends."""
    estimate = max(0.8, len(caption.text.split()) / WORDS_PER_SECOND)
    if caption.start is not None:
        start = caption.start
    else:
        stamp = parse_timestamp(caption.timestamp)
        base = meeting.started_at or now
        if isinstance(stamp, float):
            start = stamp
        else:
            start = ((stamp or now) - base).total_seconds()
    start = round(max(0.0, start), 3)
    end = caption.end if caption.end is not None and caption.end >= start else start + estimate
    return start, round(end, 3)


def resolve_speaker(speaker: str, *, self_name: str | None) -> str:
    speaker = clean_text(speaker)[:200]
    if self_name and (not speaker or speaker.casefold() in SELF_SPEAKER_NAMES):
        return self_name
    return speaker


_UNKNOWN: Any = object()  # "not read yet", where None means "there is none"


def participant_for(*, meeting: Meeting, name: str, user: User | None = None, email: str = "",
                    known: Participant | Any | None = _UNKNOWN) -> Participant | None:
    """The meeting's participant called ``name``, created on first sight (caller holds the meeting lock).

    ``user``/``email`` fill in who it is when the client identified itself and they are unknown yet.
    ``known``: the row (or None: there is none) when the caller read it already under the lock.
    """
    if not name:
        return None
    participant = Participant.objects.filter(meeting=meeting, name=name).first() if known is _UNKNOWN else known
    if participant is None:
        participant = Participant(company_id=meeting.company_id, meeting=meeting, name=name, user=user,
                                  email=email, joined_at=timezone.now())
        participant.save(force_insert=True)
    elif (user is not None and participant.user_id is None) or (email and not participant.email):
        participant.user = participant.user or user
        participant.email = participant.email or email
        participant.save(update_fields=["user", "email"])
    return participant


@dataclass(frozen=True)
class _Locked:
    """What storing a caption reads right after taking the meeting's row lock (one statement)."""

    status: str
    top_sequence: int  # the meeting's highest segment sequence (0: none yet)
    newest_client_sequence: int | None  # the client's highest stored sequence
    existing: TranscriptSegment | None  # the client's segment with this sequence, with its participant
    maybe_duplicate: bool  # another client's final with the same speaker + text exists
    previous: tuple[int, int, str, int | None, float] | None  # newest final: id, sequence, speaker, participant, end
    participant: Participant | None  # the speaker's participant row, when there is one
    new_id: int | None  # the id a new segment takes (drawn when the client has none with this sequence)


def _lock_for_caption(*, meeting: Meeting, client_id: str, client_sequence: int, speaker: str,
                      key: str | None) -> _Locked:
    """Lock the meeting's row (``lock_meeting``), then read in one statement what storing a caption needs: two
    round trips instead of six. ``key``: the content key of a final caption (None for an interim). A new
    segment's id is drawn here, so that its row, its event and its backlog row go in one statement.

    Two statements, not one: under READ COMMITTED a statement reads from the snapshot it started with,
    taken before it waited for the lock, so reads in the locking statement could miss what the previous
    holder committed (a participant, the newest sequence)."""
    seg, part = TranscriptSegment._meta.db_table, Participant._meta.db_table
    fields = TranscriptSegment._meta.concrete_fields
    columns = ", ".join(f"s.{f.column}" for f in fields)
    sql = (
        f"SELECT (SELECT MAX(s.sequence) FROM {seg} s WHERE s.meeting_id = m.id), "
        f"(SELECT MAX(s.client_sequence) FROM {seg} s WHERE s.meeting_id = m.id AND s.client_id = %s), "
        f"EXISTS (SELECT 1 FROM {seg} s WHERE s.meeting_id = m.id AND s.content_key = %s AND s.is_final "
        f"AND s.client_id <> %s), "
        f"prev.id, prev.sequence, prev.speaker_label, prev.participant_id, prev.end_time, "
        f"p.id, p.role, p.user_id, p.email, "
        f"ep.id, ep.name, ep.role, ep.user_id, ep.email, "
        f"CASE WHEN e.id IS NULL THEN nextval(pg_get_serial_sequence('{seg}', 'id')) END, "
        f"{', '.join('e.' + f.column for f in fields)} "
        f"FROM {Meeting._meta.db_table} m "
        f"LEFT JOIN LATERAL (SELECT s.id, s.sequence, s.speaker_label, s.participant_id, s.end_time FROM {seg} s "
        f"WHERE s.meeting_id = m.id AND s.is_final ORDER BY s.sequence DESC LIMIT 1) prev ON TRUE "
        f"LEFT JOIN LATERAL (SELECT q.id, q.role, q.user_id, q.email FROM {part} q "
        f"WHERE q.meeting_id = m.id AND q.name = %s ORDER BY q.id LIMIT 1) p ON TRUE "
        f"LEFT JOIN LATERAL (SELECT {columns} FROM {seg} s "
        f"WHERE s.meeting_id = m.id AND s.client_id = %s AND s.client_sequence = %s) e ON TRUE "
        f"LEFT JOIN {part} ep ON ep.id = e.participant_id "
        f"WHERE m.id = %s"
    )
    status, _ = lock_meeting(meeting.pk)
    row = fetchone(sql, [client_id, key, client_id, speaker, client_id, client_sequence, meeting.pk])
    if row is None:
        raise Meeting.DoesNotExist(meeting.pk)
    participant = _participant_row(meeting, row[8:12], name=speaker)
    existing = None
    if row[18] is not None:  # e: the segment's columns in field order
        values = [f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
                  for f, v in zip(fields, row[18:], strict=True)]
        existing = TranscriptSegment.from_db(connection.alias, [f.attname for f in fields], values)
        if row[12] is not None:
            existing.participant = _participant_row(meeting, row[13:17], participant_id=row[12])
    return _Locked(status=status, top_sequence=row[0] or 0, newest_client_sequence=row[1], existing=existing,
                   maybe_duplicate=bool(row[2]), previous=tuple(row[3:8]) if row[3] is not None else None,
                   participant=participant, new_id=row[17])


def _participant_row(meeting: Meeting, values: tuple, *, name: str = "",
                     participant_id: int | None = None) -> Participant | None:
    """A Participant from columns of ``_lock_for_caption``: (id, role, user, email) or (name, role, user, email)."""
    if participant_id is None:
        if values[0] is None:
            return None
        participant_id, values = values[0], (name, *values[1:])
    participant = Participant(id=participant_id, company_id=meeting.company_id, meeting_id=meeting.pk,
                              name=values[0], role=values[1], user_id=values[2], email=values[3])
    participant._state.adding, participant._state.db = False, connection.alias
    return participant


def _ensure_started(*, company: Company, meeting: Meeting, locked_status: str, events: list[int]) -> None:
    meeting.status = locked_status
    if locked_status == Meeting.Status.SCHEDULED:
        meeting_services.meeting_start(company=company, meeting=meeting)
        events.append(event_emit(meeting=meeting, type="status", payload=status_payload(meeting)).event_id)


def _duplicate_of(*, meeting: Meeting, key: str, start: float, exclude_client: str) -> TranscriptSegment | None:
    window = settings.LIVE_DUPLICATE_WINDOW_SECONDS
    return (
        TranscriptSegment.objects.filter(meeting=meeting, content_key=key, is_final=True,
                                         start_time__gte=start - window, start_time__lte=start + window)
        .exclude(client_id=exclude_client)
        .order_by("sequence")
        .first()
    )


def _record_turn(*, meeting: Meeting, segment: TranscriptSegment, writes: Writes, previous: Any = _UNKNOWN) -> None:
    """speak_start / speak_end analytics when the speaker changes between final segments (added to ``writes``).

    ``previous``: the meeting's newest final segment before this one as (id, sequence, speaker,
    participant id, end), or None, when the caller read it already (``_lock_for_caption``)."""
    if previous is _UNKNOWN:
        row = (TranscriptSegment.objects.filter(meeting=meeting, is_final=True, sequence__lt=segment.sequence)
               .exclude(pk=segment.pk).order_by("-sequence")
               .values_list("pk", "sequence", "speaker_label", "participant_id", "end_time").first())
        previous = tuple(row) if row is not None else None
    if previous is not None and previous[2] == segment.speaker_label:
        return
    now = timezone.now()
    rows = []

    def row(kind: str, participant_id: int, offset: float, segment_id: int) -> AnalyticsEvent:
        return AnalyticsEvent(company_id=meeting.company_id, meeting=meeting, participant_id=participant_id,
                              kind=kind, at=now, offset_seconds=offset, data={"segment_id": segment_id})

    if previous is not None and previous[3]:
        rows.append(row(AnalyticsEvent.Kind.SPEAK_END, previous[3], previous[4], previous[0]))
    if segment.participant_id:
        rows.append(row(AnalyticsEvent.Kind.SPEAK_START, segment.participant_id, segment.start_time, segment.pk))
    if rows:
        insert_add(writes, "turn", *rows)


def segment_finalised(*, meeting: Meeting, segment: TranscriptSegment, previous: Any = _UNKNOWN,
                      writes: Writes | None = None) -> None:
    """Book-keeping when a segment becomes final: its analysis is owed (a backlog row in this same
    transaction, so it survives any crash after the ack) and started once committed. ``previous``: see
    ``_record_turn``. ``writes``: the caller's statement gets these writes (sent by the caller); without
    it they are sent here, as one statement."""
    own = writes is None
    writes = Writes() if own else writes
    backlog.work_add(meeting=meeting, segment=segment, writes=writes)
    if segment.participant_id:
        writes.add("spoke", f"UPDATE {Participant._meta.db_table} SET speaking_seconds = speaking_seconds + %s "
                   "WHERE id = %s AND company_id = %s RETURNING id",
                   [max(0.0, segment.end_time - segment.start_time), segment.participant_id, meeting.company_id])
    _record_turn(meeting=meeting, segment=segment, writes=writes, previous=previous)
    if own:
        writes.run("SELECT 1")
    company_id, meeting_id, segment_id = meeting.company_id, meeting.pk, segment.pk
    transaction.on_commit(lambda: analysis_enqueue(company_id=company_id, meeting_id=meeting_id,
                                                   segment_id=segment_id))


def _rejected(caption: CaptionIn, code: ErrorCode, message: str, segment_id: int | None = None) -> IngestResult:
    return IngestResult(sequence=caption.sequence, status="rejected", error=code, message=message,
                        segment_id=segment_id)


def caption_ingest(*, company: Company, meeting: Meeting, client_id: str, caption: CaptionIn,
                   self_name: str | None = None, user: User | None = None,
                   source: str = TranscriptSegment.Source.CAPTION) -> IngestResult:
    """Store one caption from ``client_id`` exactly once. Returns what to answer (ack or error).

    ``source`` is ``audio`` for utterances transcribed from live audio (meetings.live.audio), which
    take this same path so that idempotency, duplicates, events and analysis are the captions' own.
    """
    assert meeting.company_id == company.pk
    now = timezone.now()
    text = clean_text(caption.text)
    if not text:
        return _rejected(caption, ErrorCode.INVALID_MESSAGE, "The caption has no text.")
    speaker = resolve_speaker(caption.speaker, self_name=self_name)
    key = content_key(speaker, text)
    events: list[int] = []
    with transaction.atomic():
        locked = _lock_for_caption(meeting=meeting, client_id=client_id, client_sequence=caption.sequence,
                                   speaker=speaker, key=key if caption.is_final else None)
        if locked.status == Meeting.Status.ENDED:
            return _rejected(caption, ErrorCode.MEETING_ENDED, "This meeting has ended; captions are no longer "
                             "accepted.")
        _ensure_started(company=company, meeting=meeting, locked_status=locked.status, events=events)
        existing = locked.existing
        if existing is not None and existing.is_final:
            if not caption.is_final:
                return IngestResult(sequence=caption.sequence, status="stale", segment_id=existing.pk, event_ids=events)
            if existing.content_key == key:
                return IngestResult(sequence=caption.sequence, status="duplicate", segment_id=existing.pk,
                                    event_ids=events)
            return _rejected(caption, ErrorCode.SEQUENCE_CONFLICT,
                             f"Sequence {caption.sequence} already holds a different final caption from this client.",
                             segment_id=existing.pk)
        start, end = caption_offsets(meeting=meeting, caption=caption, now=now)
        if existing is not None:
            start = min(start, existing.start_time)  # the utterance began with its first interim
            end = max(end, start + 0.1)
        if caption.is_final and locked.maybe_duplicate:
            original = _duplicate_of(meeting=meeting, key=key, start=start, exclude_client=client_id)
            if original is not None:
                if existing is not None:  # our interim of it is withdrawn
                    payload = transcript_payload(existing, update=True, removed=True, duplicate_of=original.pk)
                    existing.delete()
                    events.append(event_emit(meeting=meeting, type="transcript", payload=payload).event_id)
                return IngestResult(sequence=caption.sequence, status="duplicate", segment_id=original.pk,
                                    event_ids=events)
        writes = Writes()
        if existing is None:
            newest = locked.newest_client_sequence
            if newest is not None and newest > caption.sequence:
                return _rejected(caption, ErrorCode.OUT_OF_ORDER,
                                 f"Sequence {caption.sequence} is below {newest}, already stored for this client; "
                                 "send captions in order.")
            owner = user if self_name and speaker == self_name else None
            participant = locked.participant
            if participant is None or (owner is not None and participant.user_id is None):
                participant = participant_for(meeting=meeting, name=speaker, user=owner, known=locked.participant)
            segment = TranscriptSegment(
                id=locked.new_id, company_id=company.pk, meeting=meeting, sequence=locked.top_sequence + 1,
                client_id=client_id,
                client_sequence=caption.sequence, content_key=key, speaker_label=speaker, participant=participant,
                text=text, start_time=start, end_time=end, is_final=caption.is_final, confidence=caption.confidence,
                source=source,
            )
            segment.full_clean(exclude=["meeting", "participant", "company"], validate_unique=False)
            insert_add(writes, "seg", segment)
            status = "stored"
        else:
            segment = existing
            changed = (segment.text != text or segment.speaker_label != speaker
                       or segment.is_final != caption.is_final)
            if not changed:
                return IngestResult(sequence=caption.sequence, status="updated", segment_id=segment.pk,
                                    event_ids=events)
            if segment.speaker_label != speaker:
                segment.participant = participant_for(meeting=meeting, name=speaker, known=locked.participant)
            segment.text, segment.speaker_label, segment.content_key = text, speaker, key
            segment.start_time, segment.end_time, segment.is_final = start, end, caption.is_final
            segment.confidence = caption.confidence if caption.confidence is not None else segment.confidence
            update_add(writes, "seg", segment, ["text", "speaker_label", "content_key", "participant", "start_time",
                                                "end_time", "is_final", "confidence", "updated_at"])
            status = "updated"
        if segment.is_final:
            # The newest final read with the lock is the one before this segment unless it is newer (an
            # interim finalised after other finals): then it is looked up.
            previous = locked.previous
            known = previous is None or previous[1] < segment.sequence
            segment_finalised(meeting=meeting, segment=segment, previous=previous if known else _UNKNOWN,
                              writes=writes)
        # The segment, its event and (final) its backlog row, speaking time and turn: one statement.
        payload = transcript_payload(segment, update=status == "updated")
        event = event_add(writes, meeting=meeting, type="transcript", payload=payload)
        events.append(event_logged(meeting, event, writes.run("SELECT id, event_id FROM ev")).event_id)
    return IngestResult(sequence=caption.sequence, status=status, segment_id=segment.pk, event_ids=events)
