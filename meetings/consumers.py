"""The live meeting WebSocket: ``/ws/meetings/<id>/`` (protocol: docs/protocol.md).

A thin adapter. Authentication happened in ``accounts.auth.WebSocketAuthMiddleware``
(scope["principal"]); the meeting is resolved through the same selector as the API (4404 for a
missing or foreign meeting). Frames are parsed by ``meetings.live.protocol``; the session logic
(hello, captions and asks under the company's rate limit, start/end, replay) lives in
``meetings.live.session``, shared with the REST control endpoints; the output format is a
renderer from ``meetings.live.render``, chosen at connect. Every domain error becomes a typed
``error`` frame in one place (``_send_error``). Database work runs in worker threads inside the
company's tenant scope.

Per-connection state only: the renderer, the client id, token buckets, and the event cursor
(the newest event id sent). Every event is logged in MeetingEvent before it is published and a
meeting's events commit in id order, so the cursor drops what was already sent and fills any gap
(a dropped group message, a resume after reconnect) from the log.

Audio (binary frames, or ``audio_chunk``): checked here, then handed to the connection's
``meetings.live.audio.AudioStream``, whose engine transcribes on its own thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import aclose_old_connections
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import Http404

from accounts.auth import websocket_subprotocol
from accounts.permissions import Perm, has_perm
from accounts.tenancy import tenant_scope
from meetings import selectors
from meetings.live import presence, ratelimit
from meetings.live.audio import (
    BYTES_PER_SECOND,
    AudioStream,
    audio_chunk_claim,
    audio_stream_ready,
    base64_chunk,
    binary_chunk,
    pcm_check,
)
from meetings.live.events import bind_server_loop, company_group, meeting_group
from meetings.live.handshake import lazy_connect_log
from meetings.live.ingest import IngestResult, default_client_id
from meetings.live.load import LOAD, InterimCoalescer, load_frame, monitor_loop
from meetings.live.payloads import ack_frame, error_frame, hello_frame, pong_frame
from meetings.live.pipeline import sweeper_start
from meetings.live.protocol import (
    LEGACY_CLIENT_TYPES,
    PROTOCOL_VERSION,
    SUBPROTOCOL_LEGACY,
    SUPPORTED_VERSIONS,
    AskIn,
    AudioChunkIn,
    CaptionIn,
    CloseCode,
    EndIn,
    ErrorCode,
    HelloIn,
    LegacyCaptionIn,
    LegacyQueryIn,
    PingIn,
    ProtocolError,
    caption_from_legacy,
    parse_client_frame,
)
from meetings.live.render import RENDERERS, JsonRenderer, dumps
from meetings.live.runner import connections_tidy
from meetings.live.session import (
    ask_submit,
    caption_submit,
    connection_left,
    events_replay,
    replay_cursor,
    session_end,
    session_hello,
)
from meetings.models import Meeting
from meetpilot.errors import DomainError, RateLimited
from meetpilot.metrics import LIVE_CAPTION_ACK_SECONDS, LIVE_CAPTIONS, LIVE_OPEN_SOCKETS

logger = logging.getLogger("meetpilot.live")
lazy_connect_log()  # every socket's handshake, before this module sees it (meetings.live.handshake)

# Database work of live connections runs here, not in the server's single thread-sensitive
# thread, so one slow query does not hold up every other socket.
_db_executor = ThreadPoolExecutor(max_workers=settings.LIVE_DB_THREADS, thread_name_prefix="live-db")
MAX_EPOCHS = 20  # how many fresh client ids a default-id client may be moved to (see _ingest)
ACKED_MEMORY = 2048  # final sequences remembered per connection to spot a repeat on one connection


def _in_thread(company_id: int, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on a live-db thread in the company's scope. Plain executor threads: each keeps its
    own connection between frames (asgiref's per-call context and clean-up cost a round trip each)."""

    def run() -> Any:
        try:
            with tenant_scope(company_id):
                return fn(*args, **kwargs)
        finally:
            connections_tidy()

    # In a copy of the caller's context, as asgiref did: log fields (request, company, user) follow the work.
    return asyncio.get_running_loop().run_in_executor(_db_executor, contextvars.copy_context().run, run)


def _requested_format(query: dict[str, list[str]], offered: list[str]) -> str:
    requested = query.get("format", [""])[0]
    if requested == "html":
        return "html"
    return "legacy" if requested == "legacy" or SUBPROTOCOL_LEGACY in offered else "json"


def _frame_sequence(message: Any) -> int | None:
    """The sequence an error about this frame refers to (captions and audio chunks have one)."""
    if isinstance(message, LegacyCaptionIn):
        return message.data.sequence_number
    return getattr(message, "sequence", None)


class _OwnThreadsConsumer(AsyncWebsocketConsumer):
    """Channels' dispatch, less its trip per message to the server's single thread-sensitive thread
    (``aclose_old_connections``): under load every frame and every event of every socket queued
    there. These consumers do their database work in their own threads, which close their
    connections; the shared thread is tidied on connect and disconnect only (after the auth
    middleware used it)."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if message["type"] in ("websocket.connect", "websocket.disconnect"):
            await aclose_old_connections()
        await handler(message)


class MeetingConsumer(_OwnThreadsConsumer):
    ready = False
    frame_sequence: int | None = None

    # --- connect / disconnect -------------------------------------------------------------

    async def connect(self) -> None:
        try:
            await self._connect()
        except Exception:  # e.g. the database or Redis is down: refuse, never crash the server
            logger.exception("live connect failed")
            self.ready = False
            await self.close(code=1011)

    async def _connect(self) -> None:
        principal = self.scope.get("principal")
        if principal is None:  # the auth middleware rejects these first; never serve them
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return
        self.principal, self.company = principal, principal.company
        try:
            meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
            if not 0 < meeting_id < 2**63:
                raise ValueError(meeting_id)
            self.meeting: Meeting = await self._db(selectors.meeting_get, company=self.company,
                                                   meeting_id=meeting_id)
        except (Http404, ValueError, OverflowError):
            await self.close(code=CloseCode.NOT_FOUND)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.can_stream = has_perm(principal, Perm.MEETING_EDIT)
        if query.get("mode", [""])[0] == "stream" and not self.can_stream:
            await self.close(code=CloseCode.FORBIDDEN)
            return
        offered = self.scope.get("subprotocols") or []
        self.renderer = self._renderer(_requested_format(query, offered))
        self._state_init()
        await self.channel_layer.group_add(self.group, self.channel_name)
        subprotocol = SUBPROTOCOL_LEGACY if SUBPROTOCOL_LEGACY in offered else websocket_subprotocol(self.scope)
        await self.accept(subprotocol=subprotocol)
        self.ready = True
        LIVE_OPEN_SOCKETS.inc()
        bind_server_loop(asyncio.get_running_loop())
        monitor_loop(asyncio.get_running_loop())
        sweeper_start()
        await self._presence_touch()
        resume = query.get("last_event_id", [""])[0]
        if resume.isdigit():
            await self._stream_from(int(resume))
        elif not self.renderer.says_hello:  # these clients never say hello: stream from now on
            await self._stream_from(None)
        self.watchdog = asyncio.create_task(self._watch())

    def _state_init(self) -> None:
        self.base_client_id = self.client_id = default_client_id(self.principal)
        self.client_id_is_default = True
        self.epoch = 1
        self.self_name: str | None = None
        self.participant_id: int | None = None
        self.cursor: int | None = None  # newest event id sent; None until the stream is synced
        self.hello_seen = False
        self.client_info: dict[str, Any] = {}
        self.acked_finals: dict[int, None] = {}
        self.bucket = ratelimit.TokenBucket(rate=settings.LIVE_CONNECTION_RATE, burst=settings.LIVE_CONNECTION_BURST)
        self.ask_bucket = ratelimit.TokenBucket(rate=settings.LIVE_ASK_RATE, burst=settings.LIVE_ASK_BURST)
        self.audio_bucket = ratelimit.TokenBucket(rate=settings.LIVE_AUDIO_FRAME_RATE,
                                                  burst=settings.LIVE_AUDIO_FRAME_BURST)
        self.audio: AudioStream | None = None  # created by the first audio chunk
        self.audio_ended = False
        self.told_busy = False  # what the last load status frame said
        self.interims = InterimCoalescer()
        self.interim_flush: asyncio.Task | None = None
        self.last_seen = time.monotonic()
        self.connected_at = time.time()
        self.group = meeting_group(self.meeting.pk)

    def _renderer(self, name: str) -> JsonRenderer:
        return RENDERERS[name](company_id=self.company.pk, run_db=lambda fn: self._db(fn))

    def _db(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return _in_thread(self.company.pk, fn, *args, **kwargs)

    async def disconnect(self, code: int) -> None:
        if not self.ready:
            return
        self.ready = False
        LIVE_OPEN_SOCKETS.dec()
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None:
            watchdog.cancel()
        if self.audio is not None:  # buffered audio still becomes segments, without this connection
            self.audio.close_soon()
            self.audio = None
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self._db(presence.presence_remove, meeting_id=self.meeting.pk, channel=self.channel_name)
            if self.participant_id is not None:
                await self._db(connection_left, company=self.company, meeting=self.meeting,
                               participant_id=self.participant_id)
        except Exception:
            logger.exception("live disconnect bookkeeping failed")

    async def _watch(self) -> None:
        """Close v1 clients that went quiet (they ping); refresh this connection's presence."""
        timeout = settings.LIVE_IDLE_TIMEOUT_SECONDS
        interval = max(0.05, min(timeout / 3, 30.0))
        last_presence = time.monotonic()
        try:
            while self.ready:
                await asyncio.sleep(interval)
                now = time.monotonic()
                if self.renderer.pings and now - self.last_seen > timeout:
                    await self.close(code=CloseCode.IDLE_TIMEOUT)
                    return
                if now - last_presence > presence.TTL_SECONDS / 3:
                    last_presence = now
                    await self._presence_touch()
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("live watchdog failed")

    async def _presence_touch(self) -> None:
        info = {"client_id": self.client_id, "format": self.renderer.name, "user_id": self.principal.user.pk,
                "participant_id": self.participant_id, "since": self.connected_at, "client": self.client_info}
        try:
            await self._db(presence.presence_touch, meeting_id=self.meeting.pk, channel=self.channel_name,
                           info=info)
        except Exception:
            logger.exception("live presence update failed")

    # --- frames from the client -----------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_seen = time.monotonic()
        self.frame_sequence = None
        try:
            await self._receive(text_data, bytes_data)
        except DomainError as exc:
            await self._send_error(exc)
        except Exception:
            logger.exception("live frame failed (meeting %s)", getattr(self, "meeting", None) and self.meeting.pk)
            try:
                await self._send_error(ProtocolError(ErrorCode.INTERNAL, "Something went wrong on our side; the "
                                                     "frame was not processed. Resend it if it was a caption."))
            except Exception:
                logger.exception("could not report an internal error")

    async def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        if text_data is None:
            await self._binary(bytes_data or b"")
            return
        limit = settings.LIVE_MAX_FRAME_BYTES
        if len(text_data) > limit or (len(text_data) * 4 > limit and len(text_data.encode()) > limit):
            raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"Frames are limited to {limit} bytes.")
        allowed, wait = self.bucket.take()  # before parsing: floods of garbage count too
        message = self._parse(text_data, allowed=allowed, wait=wait)
        if message is None:
            return
        self.frame_sequence = _frame_sequence(message)
        if isinstance(message, AudioChunkIn):  # audio has a bucket of its own (10-50 chunks a second)
            if allowed:
                self.bucket.tokens = min(self.bucket.burst, self.bucket.tokens + 1)
            await self._audio(message.sequence, lambda: base64_chunk(message), timestamp=message.timestamp,
                              speaker=message.speaker)
            return
        if not allowed:
            raise ProtocolError(ErrorCode.RATE_LIMITED, "Too many frames; slow down and resend from this "
                                "sequence.", sequence=self.frame_sequence, retry_after=wait)
        if message.type in LEGACY_CLIENT_TYPES and not self.hello_seen and self.renderer.name == "json":
            self.renderer = self._renderer("legacy")  # an older extension build that never says hello
        if self.cursor is None and not isinstance(message, HelloIn):
            await self._stream_from(None)
        await self._dispatch(message)

    def _parse(self, text_data: str, *, allowed: bool, wait: float) -> Any | None:
        try:
            return parse_client_frame(text_data)
        except ProtocolError as exc:
            if not allowed:
                raise ProtocolError(ErrorCode.RATE_LIMITED, "Too many frames; slow down.", sequence=exc.sequence,
                                    retry_after=wait)
            if exc.code == ErrorCode.UNKNOWN_TYPE and self.renderer.ignores(text_data):
                return None
            raise

    async def _dispatch(self, message: Any) -> None:
        if isinstance(message, HelloIn):
            await self._hello(message)
        elif isinstance(message, CaptionIn):
            await self._caption(message)
        elif isinstance(message, LegacyCaptionIn):
            await self._caption(caption_from_legacy(message))
        elif isinstance(message, AskIn):
            await self._ask(message.question, message.id)
        elif isinstance(message, LegacyQueryIn):
            ask_id = f"legacy-{uuid.uuid4().hex[:12]}"
            if len(self.renderer.asks) >= ACKED_MEMORY:
                self.renderer.asks.clear()
            self.renderer.asks.add(ask_id)
            await self._ask(message.data.question, ask_id)
        elif isinstance(message, PingIn):
            await self._reply(pong_frame(message.nonce))
        elif isinstance(message, EndIn):
            await self._end()

    async def _hello(self, message: HelloIn) -> None:
        self.hello_seen = True
        self.client_info = {"name": message.client.name if message.client else "",
                            "version": message.client.version if message.client else "",
                            "capabilities": message.capabilities}
        if message.protocol not in SUPPORTED_VERSIONS:
            await self._send_error(ProtocolError(ErrorCode.UNSUPPORTED_PROTOCOL, f"This server speaks protocol "
                                                 f"versions {list(SUPPORTED_VERSIONS)}; continuing with "
                                                 f"{PROTOCOL_VERSION}."))
        if message.client_id:
            self.client_id = self.base_client_id = message.client_id
            self.client_id_is_default = False
            self.epoch = 1
        if message.format == "legacy" and self.renderer.name == "json":
            self.renderer = self._renderer("legacy")
        who = message.participant
        if who is not None:
            self.self_name = who.name
            if self.audio is not None:
                self.audio.self_name = self.self_name
        hello = await self._db(session_hello, company=self.company, meeting=self.meeting, user=self.principal.user,
                               participant_name=who.name if who else "", participant_email=who.email if who else "",
                               last_event_id=message.last_event_id)
        if hello.participant_id is not None:
            self.participant_id = hello.participant_id
        await self._reply(hello_frame(hello.meeting, client_id=self.client_id, format=self.renderer.name,
                                      can_stream=self.can_stream, replay_from=hello.replay_from))
        await self._presence_touch()
        self.cursor = None
        await self._stream_from(hello.replay_from)

    async def _caption(self, caption: CaptionIn) -> None:
        if not self.can_stream:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Your role may follow this meeting but not send captions.",
                                sequence=caption.sequence)
        received = time.monotonic()
        await self._load_tell()
        if not caption.is_final and (LOAD.busy or self.interims.waiting):  # behind: the newest interim only
            self.interims.hold(caption)
            LIVE_CAPTIONS.labels(kind="coalesced").inc()
            if self.interim_flush is None or self.interim_flush.done():
                self.interim_flush = asyncio.create_task(self._interims_flush())
            await self._send(self.renderer.ack(ack_frame(sequence=caption.sequence, segment_id=None,
                                                         status="coalesced")))
            return
        if caption.is_final:
            self.interims.final_seen(caption)
        result = await self._ingest(caption)
        self._caption_done(caption, received)
        if not result.accepted:
            raise ProtocolError(result.error, result.message, sequence=result.sequence)
        if caption.is_final:
            if result.status == "duplicate" and caption.sequence in self.acked_finals:
                await self._send_error(ProtocolError(
                    ErrorCode.DUPLICATE_SEQUENCE, f"Sequence {caption.sequence} was already acked on this "
                    "connection; acked again, not stored twice.", sequence=caption.sequence))
            self.acked_finals[caption.sequence] = None
            if len(self.acked_finals) > ACKED_MEMORY:
                self.acked_finals.pop(next(iter(self.acked_finals)))
        await self._send(self.renderer.ack(result.ack()))

    def _caption_done(self, caption: CaptionIn, received: float) -> None:
        elapsed = time.monotonic() - received
        LIVE_CAPTIONS.labels(kind="final" if caption.is_final else "interim").inc()
        LIVE_CAPTION_ACK_SECONDS.observe(elapsed)
        LOAD.ack_observed(elapsed)

    async def _load_tell(self) -> None:
        """Tell this client to slow down when the process turned busy, and when it is fine again."""
        if LOAD.busy != self.told_busy and self.renderer.name == "json":
            self.told_busy = LOAD.busy
            await self._reply(load_frame(self.meeting, busy=self.told_busy))

    async def _interims_flush(self) -> None:
        """Store the newest held interim of each speaker (a newer one arriving meanwhile replaces it)."""
        try:
            while self.ready and self.interims.waiting:
                await asyncio.sleep(settings.LIVE_INTERIM_FLUSH_SECONDS)
                for caption in self.interims.take():
                    received = time.monotonic()
                    result = await self._ingest(caption)
                    if result.accepted:
                        self._caption_done(caption, received)
        except Exception:
            logger.exception("storing a held interim failed")

    async def _ingest(self, caption: CaptionIn) -> IngestResult:
        """Store the caption; a client on its default id that restarted its numbering moves to a fresh id."""
        while True:
            # One trip to a worker thread: the company's shared bucket, then the write.
            result = await self._db(caption_submit, company=self.company, meeting=self.meeting,
                                    client_id=self.client_id, caption=caption, self_name=self.self_name,
                                    user=self.principal.user)
            if (result.error != ErrorCode.SEQUENCE_CONFLICT or not self.client_id_is_default
                    or self.epoch >= MAX_EPOCHS):
                return result
            self.epoch += 1
            self.client_id = f"{self.base_client_id}~{self.epoch}"

    async def _ask(self, question: str, ask_id: str | None) -> None:
        if not has_perm(self.principal, Perm.ASK):
            raise ProtocolError(ErrorCode.FORBIDDEN, "Your role may not ask questions.")
        allowed, wait = self.ask_bucket.take()
        if not allowed:
            raise RateLimited("Too many questions; try again shortly.", retry_after=wait)
        await self._db(ask_submit, company=self.company, meeting=self.meeting, user=self.principal.user,
                       question=question, ask_id=ask_id, participant_id=self.participant_id)

    async def _end(self) -> None:
        if not self.can_stream:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Your role may not end this meeting.")
        await self._audio_close()
        await self._db(session_end, company=self.company, meeting=self.meeting)

    # --- audio --------------------------------------------------------------------------------

    async def _binary(self, data: bytes) -> None:
        if not self.renderer.binary_audio:
            raise ProtocolError(ErrorCode.UNSUPPORTED_FRAME, "Binary frames are audio, for JSON (v1) connections.")
        sequence, pcm = binary_chunk(data)
        self.frame_sequence = sequence
        limit = settings.LIVE_MAX_FRAME_BYTES
        if len(data) > limit:
            raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"Frames are limited to {limit} bytes.", sequence=sequence)
        await self._audio(sequence, lambda: pcm)

    async def _audio(self, sequence: int, pcm_of: Any, *, timestamp: float | str | None = None,
                     speaker: str = "") -> None:
        """One audio chunk: checked, fed to this connection's engine once, acked once buffered."""
        if not self.can_stream:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Your role may follow this meeting but not send audio.",
                                sequence=sequence)
        allowed, wait = self.audio_bucket.take()
        if not allowed:
            raise ProtocolError(ErrorCode.RATE_LIMITED, "Too many audio frames; resend from this sequence.",
                                sequence=sequence, retry_after=wait)
        pcm = pcm_of()
        pcm_check(sequence, pcm)
        if self.cursor is None:
            await self._stream_from(None)
        stream = await self._audio_stream(sequence)
        if speaker:
            stream.speaker = speaker
        start = None
        if sequence > stream.newest_sequence:
            backlog = stream.lag_seconds + len(pcm) / BYTES_PER_SECOND - settings.LIVE_AUDIO_MAX_BACKLOG_SECONDS
            if backlog > 0:  # refused, not acked: the client keeps it and resends
                raise ProtocolError(ErrorCode.RATE_LIMITED, "Transcription is behind; resend from this sequence.",
                                    sequence=sequence, retry_after=round(max(1.0, backlog), 1))
            start = await asyncio.to_thread(audio_chunk_claim, meeting=self.meeting, client_id=stream.client_id,
                                            sequence=sequence, samples=len(pcm) // 2,
                                            start=stream.chunk_start(pcm=pcm, timestamp=timestamp))
        if start is not None:
            stream.feed(sequence=sequence, pcm=pcm, start=start)
        await self._reply(ack_frame(sequence=sequence, segment_id=None, stream="audio",
                                    status="buffered" if start is not None else "duplicate"))

    async def _audio_stream(self, sequence: int) -> AudioStream:
        # Audio is numbered per client id; the caption-only epoch suffix (t12~2) does not apply.
        if self.audio is not None and self.audio.client_id != self.base_client_id:
            self.audio.close_soon()  # hello named another client id: that is another stream
            self.audio = None
        if self.audio is None:
            meeting = None if self.audio_ended else await self._db(audio_stream_ready, company=self.company,
                                                                   meeting=self.meeting)
            if meeting is None:
                self.audio_ended = True
                raise ProtocolError(ErrorCode.MEETING_ENDED, "This meeting has ended; audio is refused.",
                                    sequence=sequence)
            self.meeting = meeting
            self.audio = AudioStream(
                company=self.company, meeting=meeting, client_id=self.base_client_id, user=self.principal.user,
                self_name=self.self_name, send=self._reply, run_db=lambda fn, **kwargs: self._db(fn, **kwargs))
        return self.audio

    async def _audio_close(self) -> None:
        """Finish this connection's audio: every buffered utterance stored before anything else."""
        if self.audio is not None:
            stream, self.audio = self.audio, None
            await stream.aclose()

    # --- events to the client --------------------------------------------------------------

    async def live_event(self, message: dict[str, Any]) -> None:
        """A committed event from the meeting's group (maybe out of order, maybe after a gap)."""
        frame = message["event"]
        event_id = frame["event_id"]
        if frame["type"] == "status" and frame["data"].get("meeting_status") == "ended" and self.audio is not None:
            self.audio.close_soon()  # someone ended the meeting: later audio is refused
            self.audio, self.audio_ended = None, True
        if not self.ready or self.cursor is None or event_id <= self.cursor:
            return
        try:
            if event_id > self.cursor + 1:  # something went missing on the way: read it from the log
                await self._catch_up(until=event_id - 1)
                if event_id <= self.cursor:
                    return
            await self._deliver([frame])
            self.cursor = event_id
        except Exception:
            logger.exception("delivering event %s failed", event_id)

    async def _stream_from(self, after: int | None) -> None:
        """Start streaming after event ``after`` (None: from now on), replaying the log first."""
        self.cursor = await self._db(replay_cursor, company=self.company, meeting=self.meeting, after=after)
        if after is not None:
            await self._catch_up(until=None)

    async def _catch_up(self, *, until: int | None) -> None:
        page = settings.LIVE_REPLAY_PAGE
        while True:
            frames = await self._db(events_replay, company=self.company, meeting=self.meeting,
                                    after_event_id=self.cursor, limit=page, until_event_id=until)
            if frames:
                await self._deliver(frames)
                self.cursor = frames[-1]["event_id"]
            if len(frames) < page:
                if until is not None and self.cursor < until:
                    self.cursor = until  # ids are dense; a hole means the row is gone
                return

    async def _deliver(self, frames: list[dict[str, Any]]) -> None:
        for text in await self.renderer.events(frames):
            await self.send(text_data=text)

    async def _send(self, text: str | None) -> None:
        if text is not None:
            await self.send(text_data=text)

    async def _reply(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=self.renderer.reply(frame))

    async def _send_error(self, exc: DomainError) -> None:
        """The one place a domain error becomes this connection's typed ``error`` frame."""
        if isinstance(exc, ProtocolError):
            frame = error_frame(exc.code, exc.message, sequence=exc.sequence, details=exc.details,
                                retry_after=exc.retry_after)
        else:
            frame = error_frame(exc.code, str(exc.detail), sequence=self.frame_sequence,
                                retry_after=getattr(exc, "retry_after", None))
        await self._send(self.renderer.error(frame))


class CompanyLiveConsumer(_OwnThreadsConsumer):
    """``/ws/meetings/``: company-wide dashboards follow every meeting starting and ending.

    Read-only, JSON only; it relays the ``status`` events of the company's meetings (the
    ``company.<id>`` group). It has no replay of its own: after a reconnect a dashboard reloads
    the meeting list over REST, and each meeting's log remains the source of truth.
    """

    async def connect(self) -> None:
        principal = self.scope.get("principal")
        if principal is None or not has_perm(principal, Perm.VIEW):
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return
        self.group = company_group(principal.company.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept(subprotocol=websocket_subprotocol(self.scope))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = parse_client_frame(text_data or "")
        except ProtocolError as exc:
            await self.send(text_data=dumps(error_frame(exc.code, exc.message)))
            return
        if isinstance(message, PingIn):
            await self.send(text_data=dumps(pong_frame(message.nonce)))
        else:
            await self.send(text_data=dumps(error_frame(ErrorCode.FORBIDDEN, "This socket is read-only.")))

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=dumps(message["event"]))
