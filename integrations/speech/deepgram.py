"""Deepgram over plain HTTP (pre-recorded) and WebSocket (real-time); no SDK needed.

Pre-recorded: ``POST {base}/v1/listen`` with the audio as the body. Real-time: ``DeepgramLive``, one
WebSocket to ``{streaming url}`` carrying raw PCM16 frames; results arrive as ``{"type": "Results"}``
(interim, then ``is_final``; ``speech_final`` at the end of an utterance), ``UtteranceEnd``,
``SpeechStarted`` and ``Metadata``. The client sends ``KeepAlive`` while it has no audio and
``CloseStream`` at the end.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from integrations.speech import SpeechProviderError
from integrations.speech._retry import with_retries

logger = logging.getLogger(__name__)


def transcribe(
    audio: bytes,
    *,
    api_key: str,
    base_url: str,
    model: str,
    language: str | None = None,
    content_type: str = "audio/wav",
    timeout: float = 120.0,
    max_retries: int = 2,
) -> dict[str, Any]:
    """Transcribe a whole file; returns Deepgram's JSON (``results.utterances`` carry speakers and words)."""
    params = {"model": model, "punctuate": "true", "smart_format": "true", "utterances": "true", "diarize": "true"}
    if language:
        params["language"] = language
    else:
        params["detect_language"] = "true"

    def call() -> dict[str, Any]:
        response = httpx.post(
            f"{base_url.rstrip('/')}/v1/listen",
            params=params,
            content=audio,
            timeout=timeout,
            headers={"Authorization": f"Token {api_key}", "Content-Type": content_type},
        )
        response.raise_for_status()
        return response.json()

    data = with_retries(call, what="deepgram transcription", max_retries=max_retries)
    if not isinstance(data, dict) or "results" not in data:
        raise SpeechProviderError("deepgram transcription: unusable reply")
    return data


@dataclass(frozen=True)
class LiveWord:
    text: str  # the punctuated word when Deepgram gives one
    start: float  # seconds in the whole stream (not the socket)
    end: float
    speaker: int | None  # Deepgram's number for the voice, counted per socket
    confidence: float | None = None


@dataclass(frozen=True)
class LiveResult:
    """One message of the stream, its times already in stream seconds."""

    kind: Literal["interim", "final", "utterance_end"]
    words: tuple[LiveWord, ...] = ()
    speech_final: bool = False
    end: float = 0.0
    generation: int = 1  # which socket said it (speaker numbers restart with each socket)
    context: tuple[LiveWord, ...] = ()  # words of audio replayed for context, final already (finals only)


class DeepgramUnavailable(SpeechProviderError):
    """The real-time socket gave up (refused, or failed too often): the audio goes elsewhere."""


_CLOSE = object()
PERMANENT_STATUSES = {400, 401, 402, 403, 404, 429}  # retrying now would not help: fall back at once
BYTES_PER_SECOND = 32000  # PCM16 mono 16 kHz


def _words(alternative: dict[str, Any], offset: float) -> tuple[LiveWord, ...]:
    words = []
    for word in alternative.get("words") or []:
        try:
            start, end = float(word["start"]) + offset, float(word["end"]) + offset
        except (KeyError, TypeError, ValueError):
            continue
        text = str(word.get("punctuated_word") or word.get("word") or "").strip()
        speaker = word.get("speaker")
        if text:
            words.append(
                LiveWord(
                    text=text,
                    start=round(start, 3),
                    end=round(end, 3),
                    speaker=int(speaker) if isinstance(speaker, int | float) else None,
                    confidence=word.get("confidence"),
                )
            )
    return tuple(words)


class DeepgramLive:
    """One real-time transcription for one audio stream, over one socket at a time.

    ``send(pcm16)`` queues audio (any thread, never blocks); a worker thread owns the socket, sends
    the audio, reads the results and calls ``on_result(LiveResult)`` from that thread. When the
    socket drops it reconnects with exponential backoff and full jitter and resends the audio that
    no final result covers yet (kept in a bounded buffer with its stream offset), plus up to
    ``context_seconds`` of audio before it: the new socket numbers voices afresh, and the words it
    hears again let the caller match its numbers to the old ones (``LiveResult.context``; never
    emitted twice). The new socket's times are shifted by where its audio begins in the stream.

    A refused upgrade (401, 429, ...) or ``max_attempts`` failures in a row without a final result
    end it: ``on_failure(reason, audio, offset)`` gets the audio no final covers and where it
    begins in the stream, and ``send`` raises ``DeepgramUnavailable`` from then on.
    """

    def __init__(
        self,
        *,
        api_key: str,
        url: str,
        model: str,
        on_result: Callable[[LiveResult], None],
        on_failure: Callable[[str, bytes, float], None],
        language: str | None = None,
        sample_rate: int = 16000,
        endpointing_ms: int = 700,
        open_timeout: float = 10.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        replay_seconds: float = 120.0,
        context_seconds: float = 5.0,
        keepalive_seconds: float = 5.0,
    ) -> None:
        params: dict[str, Any] = {
            "model": model,
            "encoding": "linear16",
            "sample_rate": sample_rate,
            "channels": 1,
            "interim_results": "true",
            "diarize": "true",
            "smart_format": "true",
            "punctuate": "true",
            "endpointing": endpointing_ms,
            "utterance_end_ms": 1000,
            "vad_events": "true",
        }
        if language:
            params["language"] = language
        base = url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
        self.url = f"{base}?{urlencode(params)}"
        self._api_key = api_key
        self._on_result = on_result
        self._on_failure = on_failure
        self._open_timeout = open_timeout
        self._max_attempts = max_attempts
        self._backoff = (backoff_base, backoff_max)
        self._replay_bytes = int(replay_seconds * BYTES_PER_SECOND)
        self._context_bytes = int(context_seconds * BYTES_PER_SECOND) // 2 * 2
        self._keepalive = keepalive_seconds
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._sent: deque[tuple[int, bytes]] = deque()  # (stream offset in bytes, audio) handed to a socket
        self._sent_start = 0  # stream offset of the oldest byte kept
        self._sent_end = 0  # stream offset after the newest byte
        self._queued_bytes = 0
        self._final_end = 0.0  # stream seconds covered by final results
        self._closing = False
        self.generation = 0  # sockets opened
        self.reconnects = 0
        self.failure: str | None = None
        self._socket_offset = 0.0  # where the current socket's audio begins in the stream (seconds)
        self._context_end = 0.0  # words before this were final on an earlier socket
        self._last_send = 0.0
        self._replay: list[bytes] = []  # audio the next socket starts with
        self._thread = threading.Thread(target=self._run, name="deepgram-live", daemon=True)

    def start(self) -> DeepgramLive:
        self._thread.start()
        return self

    # --- the caller's side ---

    def send(self, pcm16: bytes) -> None:
        with self._lock:
            if self.failure is not None:
                raise DeepgramUnavailable(self.failure)
            if self._closing:
                raise SpeechProviderError("deepgram streaming: already finished")
            self._queued_bytes += len(pcm16)
            self._queue.put(bytes(pcm16))

    def finish(self, timeout: float = 30.0) -> bool:
        """Ask for the last results (``CloseStream``) and wait for the socket to close. True if it did."""
        with self._lock:
            if not self._closing and self.failure is None:
                self._closing = True
                self._queue.put(_CLOSE)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def backlog_seconds(self) -> float:
        """Audio queued but not yet sent to a socket."""
        with self._lock:
            return self._queued_bytes / BYTES_PER_SECOND

    @property
    def final_end(self) -> float:
        return self._final_end

    # --- the worker ---

    def _run(self) -> None:
        failures = 0
        while True:
            if failures:
                time.sleep(random.uniform(0, min(self._backoff[1], self._backoff[0] * 2**failures)))
            try:
                socket = self._connect()
            except DeepgramUnavailable as exc:
                return self._give_up(str(exc))
            except Exception as exc:
                failures += 1
                logger.warning("deepgram streaming: connect failed (%s/%s): %s", failures, self._max_attempts, exc)
                if failures >= self._max_attempts:
                    return self._give_up(f"connect failed {failures} times: {type(exc).__name__}: {exc}")
                continue
            try:
                finals = self._pump(socket)
            except Exception as exc:
                finals = getattr(exc, "finals", 0)
                failures = 1 if finals else failures + 1
                self.reconnects += 1
                logger.warning("deepgram streaming: socket lost (%s): %s", failures, exc)
                if failures >= self._max_attempts:
                    return self._give_up(f"socket lost {failures} times: {type(exc).__name__}: {exc}")
                continue
            finally:
                try:
                    socket.close()
                except Exception:
                    pass
            return None  # closed after CloseStream: every result is in

    def _connect(self):
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        try:
            socket = connect(
                self.url,
                additional_headers={"Authorization": f"Token {self._api_key}"},
                open_timeout=self._open_timeout,
                proxy=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in PERMANENT_STATUSES:
                raise DeepgramUnavailable(f"deepgram streaming: HTTP {status} on connect") from exc
            raise
        self.generation += 1
        # Resend what no final covers, with some context before it (trimmed to whole samples).
        with self._lock:
            final_bytes = int(self._final_end * BYTES_PER_SECOND) // 2 * 2
            replay_from = max(self._sent_start, final_bytes - self._context_bytes)
            chunks = [(offset, data) for offset, data in self._sent if offset + len(data) > replay_from]
        self._socket_offset = replay_from / BYTES_PER_SECOND
        self._context_end = self._final_end
        self._replay = [data[max(0, replay_from - offset) :] for offset, data in chunks]
        return socket

    def _take(self, data: bytes) -> None:
        """Remember audio sent to the socket (and forget what is final and out of context, or too old)."""
        with self._lock:
            self._queued_bytes -= len(data)
            self._sent.append((self._sent_end, data))
            self._sent_end += len(data)
            keep_from = max(
                int(self._final_end * BYTES_PER_SECOND) - self._context_bytes, self._sent_end - self._replay_bytes
            )
            while self._sent and self._sent[0][0] + len(self._sent[0][1]) <= keep_from:
                self._sent.popleft()
            self._sent_start = self._sent[0][0] if self._sent else self._sent_end

    def _pump(self, socket) -> int:
        """Send queued audio and read results until the socket closes after ``CloseStream``."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        finals = 0
        close_sent = False
        try:
            for data in self._replay:
                socket.send(data)
            self._last_send = time.monotonic()
            with self._lock:
                resend_close = self._closing and self._queue.empty()
            if resend_close:
                socket.send(json.dumps({"type": "CloseStream"}))  # a reconnect while finishing
                close_sent = True
            while True:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _CLOSE:
                        socket.send(json.dumps({"type": "CloseStream"}))
                        close_sent = True
                    else:
                        self._take(item)
                        socket.send(item)
                    self._last_send = time.monotonic()
                if time.monotonic() - self._last_send >= self._keepalive:
                    socket.send(json.dumps({"type": "KeepAlive"}))
                    self._last_send = time.monotonic()
                try:
                    message = socket.recv(timeout=0.02)
                except TimeoutError:
                    continue
                if isinstance(message, str):
                    finals += self._handle(json.loads(message))
        except ConnectionClosed as exc:
            if close_sent and isinstance(exc, ConnectionClosedOK):
                return finals  # a clean close after CloseStream: every result is in
            error = SpeechProviderError(f"deepgram streaming: closed ({exc})")
            error.finals = finals  # type: ignore[attr-defined]
            raise error from exc
        except (OSError, ValueError) as exc:
            error = SpeechProviderError(f"deepgram streaming: {type(exc).__name__}: {exc}")
            error.finals = finals  # type: ignore[attr-defined]
            raise error from exc

    def _handle(self, data: dict[str, Any]) -> int:
        kind = data.get("type")
        if kind == "UtteranceEnd":
            self._emit(LiveResult("utterance_end", generation=self.generation))
            return 0
        if kind != "Results":
            return 0
        alternative = ((data.get("channel") or {}).get("alternatives") or [{}])[0]
        words = _words(alternative, self._socket_offset)
        # Words of replayed context were final before: only their speaker numbers are news.
        context = tuple(w for w in words if (w.start + w.end) / 2 < self._context_end)
        fresh = tuple(w for w in words if (w.start + w.end) / 2 >= self._context_end)
        if not data.get("is_final"):
            self._emit(LiveResult("interim", words=fresh, generation=self.generation, context=context))
            return 0
        end = self._socket_offset + float(data.get("start", 0.0)) + float(data.get("duration", 0.0))
        self._final_end = max(self._final_end, end)
        self._emit(
            LiveResult(
                "final",
                words=fresh,
                speech_final=bool(data.get("speech_final")),
                end=round(self._final_end, 3),
                generation=self.generation,
                context=context,
            )
        )
        return 1

    def _emit(self, result: LiveResult) -> None:
        try:
            self._on_result(result)
        except Exception:
            logger.exception("deepgram streaming: result handler failed")

    def _give_up(self, reason: str) -> None:
        with self._lock:
            self.failure = reason
            final_bytes = int(self._final_end * BYTES_PER_SECOND) // 2 * 2
            start = max(self._sent_start, final_bytes)
            pieces = [data[max(0, start - offset) :] for offset, data in self._sent if offset + len(data) > start]
            while True:  # and what was queued but never sent
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not _CLOSE:
                    pieces.append(item)
            self._queued_bytes = 0
        logger.warning("deepgram streaming gave up: %s", reason)
        self._on_failure(reason, b"".join(pieces), start / BYTES_PER_SECOND)
