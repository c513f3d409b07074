"""Live audio on the meeting socket: PCM16 chunks in, transcript segments out (docs/protocol.md, "Audio").

A connection that sends audio gets one ``AudioStream``: a ``LiveAudioTranscriber`` (which runs VAD and
Whisper on its own thread), created on the first accepted chunk and closed on disconnect. The
engine's results come back on the event loop and are handled one at a time, in order, by the
stream's worker task:

* an interim (the utterance in progress) is stored like an interim caption: a TranscriptSegment
  with ``is_final`` false and ``source="audio"``, replaced by the next interim and by the final;
* a final either corrects the caption segment that covers the same time (the caption keeps its
  speaker and takes the audio's words; ``merge_caption_and_audio`` decides) or is stored through
  ``caption_ingest`` as the utterance's final segment -- the captions' own path, so duplicates,
  event ids, replay and the live analysis are the same for both.

Audio segments are numbered by utterance under their own client id, ``<client_id>#a<first chunk
sequence>``: each engine starts at a chunk no other engine was fed, so a reconnecting client's
new engine can never reuse an old engine's numbers.

Which chunks were accepted is kept per (meeting, client_id) in Redis (or in this process without
Redis): a chunk resent after a reconnect is acked as a duplicate and never fed twice. The same
record is the stream's clock (where its first chunk began, and how much audio followed), so an
engine started after a reconnect places its utterances where they were spoken. An ack means
"buffered in this server process"; the audio is transcribed even when the client disconnects,
because disconnecting flushes the utterance in progress into a final segment.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import struct
import threading
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from meetings.live import backlog
from meetings.live.events import event_emit, lock_meeting
from meetings.live.ingest import IngestResult, caption_ingest, clean_text, parse_timestamp
from meetings.live.payloads import audio_status_frame, error_frame, transcript_payload
from meetings.live.pipeline import analysis_enqueue
from meetings.live.protocol import AudioChunkIn, CaptionIn, ErrorCode, ProtocolError
from meetings.live.ratelimit import _redis_client
from meetings.live.session import session_start
from meetings.models import Meeting, TranscriptSegment
from meetings.speech import SAMPLE_RATE, kept_audio
from meetings.speech.live_engines import live_transcriber
from meetings.speech.streaming import CaptionLine, LiveAudioTranscriber, merge_caption_and_audio
from meetings.speech.types import SttSegment
from meetings.voices.services import LIVE_MATCH_MIN_SECONDS, live_voice_match, voices_enabled
from meetpilot.errors import Conflict

logger = logging.getLogger("meetpilot.live")

HEADER = struct.Struct(">I")  # binary frame: sequence (uint32, big-endian), then PCM16 LE mono 16 kHz
BYTES_PER_SECOND = SAMPLE_RATE * 2
STREAM_TTL_SECONDS = 24 * 3600  # how long the newest accepted chunk of a stream is remembered
MERGE_TOLERANCE = 1.0  # seconds a caption's span is widened by when looking for the audio it covers
MERGES_REMEMBERED = 32  # captions per stream whose audio pieces are kept (one caption, several utterances)

# --- frames ------------------------------------------------------------------------------------


def binary_chunk(data: bytes) -> tuple[int, bytes]:
    """(sequence, PCM) of a binary frame; the size and the PCM itself are checked by ``pcm_check``."""
    if len(data) < HEADER.size:
        raise ProtocolError(ErrorCode.UNSUPPORTED_FRAME, "A binary frame is an audio chunk: a 4-byte big-endian "
                            "sequence number, then PCM16 mono 16 kHz little-endian audio.")
    (sequence,) = HEADER.unpack_from(data)
    return sequence, data[HEADER.size:]


def base64_chunk(message: AudioChunkIn) -> bytes:
    try:
        return base64.b64decode(message.data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(ErrorCode.INVALID_AUDIO, "audio_chunk.data is not valid base64.",
                            sequence=message.sequence) from None


def pcm_check(sequence: int, pcm: bytes) -> None:
    if not pcm:
        raise ProtocolError(ErrorCode.INVALID_AUDIO, "The audio chunk is empty.", sequence=sequence)
    if len(pcm) % 2:
        raise ProtocolError(ErrorCode.INVALID_AUDIO, f"PCM16 audio has an even number of bytes; got {len(pcm)}.",
                            sequence=sequence)


# --- which chunks were accepted (shared by every process) ------------------------------------------

_CLAIM_LUA = """
local state = redis.call('HMGET', KEYS[1], 'newest', 'samples', 'start')
if state[1] and tonumber(ARGV[1]) <= tonumber(state[1]) then return {0, '0'} end
local samples = tonumber(state[2] or '0')
local start = state[3] or ARGV[3]
redis.call('HSET', KEYS[1], 'newest', ARGV[1], 'samples', tostring(samples + tonumber(ARGV[2])), 'start', start)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {1, tostring(tonumber(start) + samples / 16000)}
"""
_claim_script = None
_local_streams: dict[str, tuple[int, int, float]] = {}  # key -> (newest sequence, samples, start)
_local_lock = threading.Lock()


def audio_chunk_claim(*, meeting: Meeting, client_id: str, sequence: int, samples: int,
                      start: float) -> float | None:
    """Take chunk ``sequence`` of this client's audio: where its first sample lies in the meeting
    (seconds from the start), or None when it was taken before (a resend: do not feed it again).

    Chunks come in order, so "new" means above the newest accepted one. Atomic across processes,
    so two connections of one client (an old one not closed yet) never both feed a chunk. The
    stream's clock is its audio: ``start`` (where the caller places the chunk) counts for the
    stream's first chunk only; later chunks follow on sample by sample, so a stream resumed after
    a reconnect, or a backlog resent at full speed, stays where it was spoken.
    """
    global _claim_script
    # The creation time too: a database that was reset reuses meeting ids, and old keys live on.
    key = cache.make_key(f"live:audio:{meeting.pk}:{meeting.created_at.timestamp():.6f}:{client_id}")
    client = _redis_client()
    if client is None:
        with _local_lock:
            newest, before, first = _local_streams.get(key, (-1, 0, start))
            if sequence <= newest:
                return None
            _local_streams[key] = (sequence, before + samples, first)
            return first + before / SAMPLE_RATE
    if _claim_script is None:
        _claim_script = client.register_script(_CLAIM_LUA)
    taken, at = _claim_script(keys=[key], args=[sequence, samples, repr(float(start)), STREAM_TTL_SECONDS],
                              client=client)
    return float(at) if int(taken) else None


# --- storing utterances (run in a worker thread, inside the company's tenant scope) -----------------


@dataclass(frozen=True)
class UtteranceResult:
    status: Literal["stored", "updated", "duplicate", "merged", "rejected"]
    segment_id: int | None = None
    error: ErrorCode | None = None
    message: str = ""


# caption segment id -> (the caption's own text, the audio pieces (start, end, text) merged into it)
Merges = OrderedDict[int, tuple[str, list[tuple[float, float, str]]]]


def audio_stream_ready(*, company: Company, meeting: Meeting) -> Meeting | None:
    """The meeting, made active if it was scheduled (audio starts it like a caption does); None if ended."""
    try:
        return session_start(company=company, meeting=meeting)
    except Conflict:
        return None


def audio_interim_store(*, company: Company, meeting: Meeting, client_id: str, utterance: int, text: str,
                        at: float, speaker: str = "", self_name: str | None = None,
                        user: User | None = None) -> IngestResult:
    """The utterance in progress, as an interim segment (replaced by the next interim and the final).

    ``at`` is where the engine was in the stream when the interim came out: never before the
    utterance began, so the final's exact start wins when it replaces this row.
    """
    caption = CaptionIn(type="caption", sequence=utterance, speaker=speaker, text=clean_text(text)[:5000] or "…",
                        start=max(0.0, round(at, 3)), end=max(0.0, round(at, 3)), is_final=False)
    return caption_ingest(company=company, meeting=meeting, client_id=client_id, caption=caption,
                          self_name=self_name if speaker else None, user=user, source=TranscriptSegment.Source.AUDIO)


def _withdraw(*, meeting: Meeting, segment: TranscriptSegment, duplicate_of: int | None = None) -> None:
    payload = transcript_payload(segment, update=True, removed=True, duplicate_of=duplicate_of)
    segment.delete()
    event_emit(meeting=meeting, type="transcript", payload=payload)


def audio_interim_withdraw(*, company: Company, meeting: Meeting, client_id: str, utterance: int) -> bool:
    """Remove an interim whose utterance produced no final (the transcript came out empty)."""
    assert meeting.company_id == company.pk
    with transaction.atomic():
        lock_meeting(meeting.pk)
        interim = (TranscriptSegment.objects.select_related("participant")
                   .filter(meeting=meeting, client_id=client_id, client_sequence=utterance, is_final=False).first())
        if interim is None:
            return False
        _withdraw(meeting=meeting, segment=interim)
        return True


def _caption_to_correct(*, meeting: Meeting, text: str, start: float, end: float,
                        merges: Merges) -> tuple[TranscriptSegment, str, str, list[tuple[float, float, str]]] | None:
    """The final caption segment this utterance belongs to, by the merge rule, with its new text."""
    candidates = list(
        TranscriptSegment.objects.select_related("participant")
        .filter(meeting=meeting, source=TranscriptSegment.Source.CAPTION, is_final=True,
                start_time__lte=end + MERGE_TOLERANCE, end_time__gte=start - MERGE_TOLERANCE)
        .order_by("start_time", "sequence")[:20]
    )
    if not candidates:
        return None
    originals = [merges[c.pk][0] if c.pk in merges else c.text for c in candidates]
    lines = [CaptionLine(c.speaker_label, original, c.start_time, c.end_time)
             for c, original in zip(candidates, originals, strict=True)]
    merged = [m for m in merge_caption_and_audio(lines, [SttSegment(start=start, end=end, text=text)],
                                                 tolerance=MERGE_TOLERANCE) if m.source == "merged"]
    if not merged:
        return None  # no caption covers its middle, or the texts share almost nothing
    line = merged[0]
    for caption, original in zip(candidates, originals, strict=True):
        if caption.speaker_label == line.speaker and original == line.caption_text:
            pieces = sorted([*(merges[caption.pk][1] if caption.pk in merges else []), (start, end, text)])
            return caption, original, " ".join(piece[2] for piece in pieces), pieces
    return None


def _analyse_on_commit(segment: TranscriptSegment) -> None:
    """The corrected text goes through the live analysis again (results are de-duplicated there): owed
    in the database like any final segment (a no-op while its first analysis is still owed)."""
    backlog.work_add(meeting=segment.meeting, segment=segment)
    company_id, meeting_id, segment_id = segment.company_id, segment.meeting_id, segment.pk
    transaction.on_commit(lambda: analysis_enqueue(company_id=company_id, meeting_id=meeting_id,
                                                   segment_id=segment_id))


def audio_final_store(*, company: Company, meeting: Meeting, client_id: str, utterance: int, text: str,
                      start: float, end: float, confidence: float | None = None, speaker: str = "",
                      self_name: str | None = None, user: User | None = None,
                      merges: Merges | None = None) -> UtteranceResult:
    """One finished utterance: corrects the caption that covers it, or becomes a segment of its own."""
    assert meeting.company_id == company.pk
    merges = merges if merges is not None else OrderedDict()
    text = clean_text(text)
    if not text:
        return UtteranceResult("rejected", error=ErrorCode.INVALID_MESSAGE, message="The utterance has no text.")
    start, end = max(0.0, round(start, 3)), max(0.0, round(end, 3))
    with transaction.atomic():
        status, _ = lock_meeting(meeting.pk)
        if status == Meeting.Status.ENDED:
            return UtteranceResult("rejected", error=ErrorCode.MEETING_ENDED,
                                   message="This meeting has ended; the last utterance was not stored.")
        interim = (TranscriptSegment.objects.select_related("participant")
                   .filter(meeting=meeting, client_id=client_id, client_sequence=utterance, is_final=False).first())
        if interim is not None and interim.start_time < start:
            # Interims are placed no earlier than their utterance began: this one belongs to an
            # earlier utterance that came out empty. It goes; this utterance starts afresh.
            _withdraw(meeting=meeting, segment=interim)
            interim = None
        correction = _caption_to_correct(meeting=meeting, text=text, start=start, end=end, merges=merges)
        if correction is not None:
            caption, original, new_text, pieces = correction
            if interim is not None:
                _withdraw(meeting=meeting, segment=interim, duplicate_of=caption.pk)
            if caption.text != new_text:
                caption.text = new_text  # the speaker, times and content key stay the caption's
                caption.save(update_fields=["text", "updated_at"])
                event_emit(meeting=meeting, type="transcript", payload=transcript_payload(caption, update=True))
                _analyse_on_commit(caption)
            merges[caption.pk] = (original, pieces)
            merges.move_to_end(caption.pk)
            while len(merges) > MERGES_REMEMBERED:
                merges.popitem(last=False)
            return UtteranceResult("merged", segment_id=caption.pk)
        result = caption_ingest(
            company=company, meeting=meeting, client_id=client_id, user=user, self_name=self_name if speaker else None,
            caption=CaptionIn(type="caption", sequence=utterance, speaker=speaker, text=text[:5000], start=start,
                              end=max(end, start), is_final=True, confidence=confidence),
            source=TranscriptSegment.Source.AUDIO,
        )
    if not result.accepted:
        return UtteranceResult("rejected", segment_id=result.segment_id, error=result.error, message=result.message)
    return UtteranceResult(result.status, segment_id=result.segment_id)  # type: ignore[arg-type]


# --- one connection's audio ---------------------------------------------------------------------

Send = Callable[[dict[str, Any]], Awaitable[None]]
RunDb = Callable[..., Awaitable[Any]]  # run_db(fn, **kwargs): fn in a worker thread, in the tenant scope
_DONE = object()
_closing: set[asyncio.Task] = set()


class AudioStream:
    """The audio of one connection: its engine, and the engine's results handled in order.

    Lives on the event loop. ``feed`` never blocks (the engine only queues the bytes); the
    engine calls back from its own thread, and those calls are handed to the loop, where one
    worker task stores them one after the other (an interim never overtakes its final).
    """

    def __init__(self, *, company: Company, meeting: Meeting, client_id: str, run_db: RunDb, send: Send | None,
                 user: User | None = None, self_name: str | None = None) -> None:
        self.company = company
        self.meeting = meeting
        self.client_id = client_id
        self.user = user
        self.self_name = self_name
        self.speaker = ""  # who speaks in this audio, when the client says (audio_chunk.speaker)
        self.engine: LiveAudioTranscriber | None = None
        self.segment_client_id = ""  # <client_id>#a<first chunk sequence>: numbering of this engine's utterances
        self.anchor = 0.0  # seconds from the meeting start at which the engine's audio begins
        self.utterance = 0  # the number of the utterance in progress
        self.newest_sequence = -1  # newest chunk fed on this connection (resends are caught before Redis)
        self.merges: Merges = OrderedDict()
        self.keeper: kept_audio.LiveAudioKeeper | None = None  # when the company keeps live audio
        self.voice_names: dict[str, str] = {}  # live voice label -> the member's name it matched
        self._voice_matched: dict[str, float] = {}  # live voice label -> seconds of speech at its last match
        self._storing: set[asyncio.Task] = set()
        self._interim_open = False
        self._ended_reported = False
        self._run_db = run_db
        self._send = send
        self._loop = asyncio.get_running_loop()
        self._items: deque[Any] = deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task | None = None
        self._close_task: asyncio.Task | None = None

    # --- the consumer's side ---

    @property
    def lag_seconds(self) -> float:
        return self.engine.lag_seconds if self.engine is not None else 0.0

    @property
    def closed(self) -> bool:
        return self._close_task is not None

    def chunk_start(self, *, pcm: bytes, timestamp: float | str | None = None) -> float:
        """Where a chunk begins in the meeting (seconds from its start), by the client's capture time
        when it sent one, else by the server's clock: the chunk began about its own length ago."""
        stamp = parse_timestamp(timestamp)
        if isinstance(stamp, float):
            return max(0.0, stamp)
        started = self.meeting.started_at or timezone.now()
        if isinstance(stamp, datetime):
            return max(0.0, (stamp - started).total_seconds())
        return max(0.0, (timezone.now() - started).total_seconds() - len(pcm) / BYTES_PER_SECOND)

    def feed(self, *, sequence: int, pcm: bytes, start: float) -> None:
        """Queue an accepted chunk (checked, and claimed: ``start`` is where the claim placed it)."""
        if self.engine is None:
            self._start(sequence=sequence, anchor=start)
        assert self.engine is not None
        self.engine.feed(pcm)
        self.newest_sequence = sequence
        if self.keeper is not None:
            self._store_parts(self.keeper.add(pcm))

    def _store_parts(self, parts: list[tuple[str, bytes]]) -> None:
        """Write kept audio off the event loop; ``_aclose`` waits for every write."""
        for key, data in parts:
            task = self._loop.create_task(asyncio.to_thread(kept_audio.part_store, key, data))
            self._storing.add(task)
            task.add_done_callback(self._storing.discard)

    def aclose(self) -> asyncio.Task:
        """Flush the utterance in progress, store every result, stop. Idempotent; await the task."""
        if self._close_task is None:
            self._close_task = self._loop.create_task(self._aclose())
        return self._close_task

    def close_soon(self) -> asyncio.Task:
        """Close without a connection to report to (disconnect): the task runs on by itself."""
        self._send = None
        task = self.aclose()
        _closing.add(task)
        task.add_done_callback(_closing.discard)
        return task

    # --- the engine ---

    def _start(self, *, sequence: int, anchor: float) -> None:
        self.segment_client_id = f"{self.client_id}#a{sequence}"
        self.anchor = anchor
        if kept_audio.keep_enabled(self.company.settings):
            self.keeper = kept_audio.LiveAudioKeeper(company_id=self.company.pk, meeting_id=self.meeting.pk,
                                                     stream=self.segment_client_id)
            self.keeper.begin(anchor)
        self.engine = live_transcriber(  # the local engine, or Deepgram's socket (same interface)
            language=self.meeting.language or None, loop=self._loop,
            on_interim=self._on_interim, on_final=self._on_final, on_status=self._on_status,
        )
        self._worker = self._loop.create_task(self._work())

    # These three run on the engine's thread: hand over to the loop, nothing else.
    def _on_interim(self, text: str) -> None:
        engine = self.engine
        self._post(("interim", text, engine.audio_seconds if engine is not None else 0.0))

    def _on_final(self, segment: SttSegment) -> None:
        self._post(("final", segment))

    def _on_status(self, status: dict[str, Any]) -> None:
        self._post(("status", status))

    def _post(self, item: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._push, item)
        except RuntimeError:  # the loop is gone (server shutdown)
            logger.warning("live audio result after the event loop closed: %s", item[0])

    def _push(self, item: Any) -> None:
        self._items.append(item)
        self._wake.set()

    # --- results, in order ---

    async def _work(self) -> None:
        while True:
            while not self._items:
                self._wake.clear()
                await self._wake.wait()
            item = self._items.popleft()
            if item is _DONE:
                return
            if item[0] == "interim" and self._items and self._items[0] is not _DONE and self._items[0][0] == "interim":
                continue  # a newer interim is already waiting: only the latest text matters
            try:
                if item[0] == "interim":
                    await self._interim(item[1], item[2])
                elif item[0] == "final":
                    await self._final(item[1])
                else:
                    await self._status(item[1])
            except Exception:
                logger.exception("live audio result failed (meeting %s)", self.meeting.pk)
                if item[0] == "final":
                    self.utterance += 1
                    self._interim_open = False
                    await self._tell_error(ErrorCode.INTERNAL, "An utterance could not be stored (logged).")

    async def _interim(self, text: str, position: float) -> None:
        result: IngestResult = await self._run_db(
            audio_interim_store, company=self.company, meeting=self.meeting, client_id=self.segment_client_id,
            utterance=self.utterance, text=text, at=self.anchor + position, speaker=self.speaker,
            self_name=self.self_name, user=self.user)
        if result.accepted:
            self._interim_open = True
        elif result.error == ErrorCode.MEETING_ENDED:
            await self._report_ended()

    async def _final(self, segment: SttSegment) -> None:
        result: UtteranceResult = await self._run_db(
            audio_final_store, company=self.company, meeting=self.meeting, client_id=self.segment_client_id,
            utterance=self.utterance, text=segment.text, start=self.anchor + segment.start,
            end=self.anchor + segment.end, confidence=segment.confidence,
            speaker=self.speaker or self.voice_names.get(segment.speaker or "", segment.speaker or ""),
            self_name=self.self_name, user=self.user, merges=self.merges)
        if not self.speaker and segment.speaker and result.status != "rejected":
            await self._voice_match(segment.speaker)
        self.utterance += 1
        self._interim_open = False  # stored, merged or withdrawn with it
        if result.status == "rejected":
            if result.error == ErrorCode.MEETING_ENDED:
                await self._report_ended()
            else:
                logger.warning("live audio utterance refused: %s %s", result.error, result.message)
                await self._tell_error(result.error or ErrorCode.INTERNAL, result.message)

    async def _voice_match(self, label: str) -> None:
        """Compare a live voice with enrolled members once it has enough speech, and again each time its
        speech doubled; from a match on, its segments carry the member's name."""
        speakers = getattr(self.engine, "speakers", None)  # the local engine's voices (Deepgram's have none)
        if label in self.voice_names or speakers is None or not voices_enabled(self.company):
            return
        voice = speakers.voice(label)
        if voice is None or voice[1] < LIVE_MATCH_MIN_SECONDS or voice[1] < 2 * self._voice_matched.get(label, 0.0):
            return
        self._voice_matched[label] = voice[1]
        try:
            name = await self._run_db(live_voice_match, company=self.company, meeting=self.meeting,
                                      speaker_label=label, embedding=voice[0], seconds=voice[1])
        except Exception:  # a name is a nicety: the transcript goes on with the voice label
            logger.exception("live voice matching failed (meeting %s)", self.meeting.pk)
            return
        if name:
            self.voice_names[label] = name

    async def _status(self, status: dict[str, Any]) -> None:
        await self._tell(audio_status_frame(self.meeting, client_id=self.client_id, status=status,
                                            at=timezone.now().isoformat()))

    async def _report_ended(self) -> None:
        if not self._ended_reported:
            self._ended_reported = True
            await self._tell_error(ErrorCode.MEETING_ENDED, "This meeting has ended; audio is no longer transcribed.")

    async def _tell_error(self, code: ErrorCode, message: str) -> None:
        await self._tell(error_frame(code, message))

    async def _tell(self, frame: dict[str, Any]) -> None:
        send = self._send
        if send is None:
            return
        try:
            await send(frame)
        except Exception:  # the connection is gone; the database has everything
            logger.debug("live audio frame not delivered", exc_info=True)

    async def _aclose(self) -> None:
        if self.engine is None:
            return
        if self.keeper is not None:
            self._store_parts(self.keeper.rest())
        try:
            if self._storing:
                results = await asyncio.gather(*self._storing, return_exceptions=True)
                for error in (r for r in results if isinstance(r, BaseException)):
                    logger.error("kept live audio not stored (meeting %s): %s", self.meeting.pk, error)
            await self.engine.aclose()
        finally:
            # The engine's last results were handed to the loop before aclose() returned, so they
            # are queued ahead of this marker.
            self._push(_DONE)
            if self._worker is not None:
                await self._worker
        if self._interim_open:  # an utterance whose final came out empty
            await self._run_db(audio_interim_withdraw, company=self.company, meeting=self.meeting,
                               client_id=self.segment_client_id, utterance=self.utterance)
            self._interim_open = False


async def audio_streams_wait_closed(seconds: float = 60.0) -> bool:
    """Until the streams of disconnected clients on this loop are closed (tests, shutdown)."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _closing if task.get_loop() is loop]
    if not pending:
        return True
    _, still = await asyncio.wait(pending, timeout=seconds)
    return not still
