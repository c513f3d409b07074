"""Live audio through Deepgram's real-time API, with the local engine's interface and callbacks.

``DeepgramLiveTranscriber`` is what ``streaming.live_transcriber()`` returns with
``STT_PROVIDER=deepgram`` and a key: the consumer feeds it and gets ``on_interim(text)`` and
``on_final(SttSegment)`` exactly as from ``LiveAudioTranscriber``. One socket per audio stream
(``integrations.speech.deepgram.DeepgramLive``, which reconnects and replays by itself).

* Interims: the words finalised so far in the utterance plus Deepgram's interim words.
* Finals: Deepgram finalises pieces of an utterance (``is_final``); they are gathered until
  ``speech_final`` or ``UtteranceEnd`` and then emitted as one segment per run of one voice.
* Voices: Deepgram numbers them per socket; each number gets a stable "Speaker N" label by first
  appearance. After a reconnect the new socket hears some already-final audio again (context): its
  numbers take the labels those words had, so a voice keeps its label across a reconnect.
* Fallback: if the socket is refused (401, 429...) or fails repeatedly, the audio no final covers
  goes to a local ``LiveAudioTranscriber`` for the rest of the stream (times shifted to stay
  stream times), and a provider fallback is recorded (``meetpilot_provider_fallbacks_total``
  with ``feature="live_speech_to_text"``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter, deque
from dataclasses import replace
from typing import Any

from django.conf import settings

from integrations.speech.deepgram import DeepgramLive, DeepgramUnavailable, LiveResult, LiveWord
from meetings.speech import SAMPLE_RATE
from meetings.speech.diarization import speaker_label
from meetings.speech.streaming import Callback, LiveAudioTranscriber, emit_callback
from meetings.speech.types import SttSegment
from meetpilot.metrics import PROVIDER_FALLBACKS

logger = logging.getLogger(__name__)

WORDS_REMEMBERED = 400  # emitted words kept to match a new socket's voice numbers
MATCH_SECONDS = 0.25  # a context word matches an emitted one whose middle is this close


class DeepgramLiveTranscriber:
    provider = "deepgram"

    def __init__(
        self,
        *,
        on_interim: Callback,
        on_final: Callback,
        language: str | None = None,
        on_status: Callback | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        **local_options: Any,
    ) -> None:
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        self._loop = loop
        self._on_interim = on_interim
        self._on_final = on_final
        self._on_status = on_status
        self.language = (language or "").split("-")[0].lower() or None
        self._local_options = {"language": language, "on_status": on_status, "loop": loop, **local_options}
        self._lock = threading.RLock()
        self._received_bytes = 0
        self._pending: list[tuple[LiveWord, str]] = []  # final words of the utterance in progress, labelled
        self._last_interim = ""
        self._labels: dict[tuple[int, int], str] = {}
        self._emitted: deque[tuple[float, str]] = deque(maxlen=WORDS_REMEMBERED)  # (word middle, label)
        self._local: LiveAudioTranscriber | None = None
        self._local_offset = 0.0
        self._refused: list[bytes] = []  # fed after the socket gave up, before the local engine took over
        self.fallback_reason: str | None = None
        self.finals = 0
        self.interims = 0
        self.client = DeepgramLive(
            api_key=api_key if api_key is not None else settings.DEEPGRAM_API_KEY,
            url=url or settings.DEEPGRAM_STREAMING_URL,
            model=model or settings.DEEPGRAM_STREAMING_MODEL,
            language=self.language,
            endpointing_ms=settings.LIVE_SILENCE_MS,
            max_attempts=settings.DEEPGRAM_STREAMING_MAX_ATTEMPTS,
            on_result=self._on_result,
            on_failure=self._on_failure,
        ).start()

    # --- the consumer's side (same as LiveAudioTranscriber) ---

    def feed(self, pcm16: bytes) -> None:
        if not pcm16:
            return
        with self._lock:
            self._received_bytes += len(pcm16)
            if self._local is not None:
                self._local.feed(pcm16)
                return
            try:
                self.client.send(pcm16)
            except DeepgramUnavailable:
                self._refused.append(bytes(pcm16))  # the failure handler is about to hand over

    def flush(self) -> None:
        with self._lock:
            if self._local is not None:
                self._local.flush()
            else:
                self._emit_pending()

    def close(self, timeout: float | None = None) -> None:
        if self._local is None:
            self.client.finish(timeout or 30.0)
        with self._lock:
            local = self._local
            if local is None:
                self._emit_pending()
        if local is not None:
            local.close(timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    @property
    def lag_seconds(self) -> float:
        local = self._local
        return local.lag_seconds if local is not None else self.client.backlog_seconds

    @property
    def audio_seconds(self) -> float:
        return self._received_bytes / 2 / SAMPLE_RATE

    @property
    def compute_ratio(self) -> float:
        local = self._local
        return local.compute_ratio if local is not None else 0.0

    def status(self) -> dict[str, Any]:
        local = self._local
        status = (
            local.status()
            if local is not None
            else {
                "lag_seconds": round(self.lag_seconds, 2),
                "behind": False,
                "compute_ratio": 0.0,
                "audio_seconds": round(self.audio_seconds, 2),
                "finals": self.finals,
                "interims": self.interims,
            }
        )
        return {
            **status,
            "provider": "local" if local is not None else self.provider,
            "fallback_reason": self.fallback_reason,
        }

    # --- results (the socket's thread) ---

    def _on_result(self, result: LiveResult) -> None:
        with self._lock:
            self._learn_numbers(result)
            if result.kind == "utterance_end":
                self._emit_pending()
                return
            if result.kind == "interim":
                text = " ".join([w.text for w, _ in self._pending] + [w.text for w in result.words])
                if text and text != self._last_interim:
                    self._last_interim = text
                    self.interims += 1
                    emit_callback(self._loop, self._on_interim, text)
                return
            self._pending.extend((word, self._label(result.generation, word.speaker)) for word in result.words)
            if result.speech_final:
                self._emit_pending()

    def _learn_numbers(self, result: LiveResult) -> None:
        """A new socket's numbers for voices heard again (context words) take the labels they had."""
        votes: dict[int, Counter[str]] = {}
        for word in result.context:
            if word.speaker is None or (result.generation, word.speaker) in self._labels:
                continue
            middle = (word.start + word.end) / 2
            near = min(self._emitted, key=lambda e: abs(e[0] - middle), default=None)
            if near is not None and abs(near[0] - middle) <= MATCH_SECONDS:
                votes.setdefault(word.speaker, Counter())[near[1]] += 1
        taken = set()
        for number, counter in sorted(votes.items(), key=lambda item: -item[1].total()):
            for label, _ in counter.most_common():
                if label not in taken:
                    self._labels[(result.generation, number)] = label
                    taken.add(label)
                    break

    def _label(self, generation: int, number: int | None) -> str:
        key = (generation, number if number is not None else -1)
        if key not in self._labels:
            self._labels[key] = speaker_label(len(set(self._labels.values())))
        return self._labels[key]

    def _emit_pending(self) -> None:
        words, self._pending, self._last_interim = self._pending, [], ""
        runs: list[list[tuple[LiveWord, str]]] = []
        for word, label in words:
            if runs and runs[-1][-1][1] == label:
                runs[-1].append((word, label))
            else:
                runs.append([(word, label)])
        for run in runs:
            confidences = [w.confidence for w, _ in run if w.confidence is not None]
            segment = SttSegment(
                start=run[0][0].start,
                end=run[-1][0].end,
                text=" ".join(w.text for w, _ in run),
                confidence=round(sum(confidences) / len(confidences), 4) if confidences else None,
                language=self.language,
                speaker=run[0][1],
            )
            self._emitted.extend(((w.start + w.end) / 2, label) for w, label in run)
            self.finals += 1
            emit_callback(self._loop, self._on_final, segment)

    # --- falling back to the local engine ---

    def _on_failure(self, reason: str, audio: bytes, offset: float) -> None:
        PROVIDER_FALLBACKS.labels(feature="live_speech_to_text", provider=self.provider).inc()
        with self._lock:
            self.fallback_reason = reason
            self._emit_pending()  # final already: keep them
            self._local_offset = offset
            self._local = LiveAudioTranscriber(
                on_interim=self._on_interim, on_final=self._local_final, **self._local_options
            )
            for piece in (audio, *self._refused):
                if piece:
                    self._local.feed(piece)
            self._refused = []
        if self._on_status is not None:
            emit_callback(self._loop, self._on_status, self.status())

    def _local_final(self, segment: SttSegment) -> Any:
        self.finals += 1
        return self._on_final(
            replace(
                segment,
                start=round(segment.start + self._local_offset, 3),
                end=round(segment.end + self._local_offset, 3),
            )
        )
