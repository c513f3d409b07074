"""The live audio engine: PCM16 in, interim and final transcripts out, heavy work off the event loop.

``LiveAudioTranscriber`` owns one worker thread. ``feed()`` only appends bytes to a queue (never
blocks, never drops), so a WebSocket consumer can call it straight from its receive handler. The
worker runs the streaming VAD, cuts utterances at ~700 ms of silence, transcribes them, and calls
back. Interim transcripts of the utterance in progress are produced about every second of new
speech while the engine keeps up; when it falls behind, interims are skipped first (finals never).

Callbacks run on the worker thread. A callback that returns a coroutine (an ``async def``) is
scheduled on the event loop that was running when the engine was created (or ``loop=``), so a
consumer can pass ``self.send_interim``-style coroutines directly. See docs/speech.md.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from meetings.speech import SAMPLE_RATE, hallucination
from meetings.speech.audio import pcm16_to_float
from meetings.speech.types import SttSegment
from meetings.speech.vad import FRAME_SAMPLES, StreamingVad

logger = logging.getLogger(__name__)

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
SPEECH_ON = 0.5  # VAD probability that starts an utterance
SPEECH_OFF = 0.35  # below this a frame counts as silence
PREROLL_FRAMES = 10  # ~320 ms kept before the trigger so first syllables are not cut
KEEP_TRAILING_SECONDS = 0.2
LANGUAGE_SURE = 0.8  # detection probability that fixes the call's language at once
LANGUAGE_LIKELY = 0.5  # enough to decode a final in that language without detecting again
DETECT_AFTER_SECONDS = (1.5, 4.0)  # speech before a language guess, and before a second one if unsure
BEHIND_SECONDS = 2.0  # lag that makes the engine report it is behind (and skip interims)
_FLUSH, _STOP = object(), object()

Callback = Callable[[Any], Any]
TranscribeFn = Callable[..., list[SttSegment]]


def _default_detect(audio: np.ndarray) -> tuple[str, float] | None:
    if (settings.STT_PROVIDER or "local").lower() != "local":
        return None  # remote engines detect the language themselves
    from meetings.speech import whisper

    return whisper.detect_language(audio)


def _default_transcribe(audio: np.ndarray, *, language: str | None) -> list[SttSegment]:
    from meetings.speech import stt

    # The stream is already cut at speech boundaries: Whisper's own VAD would only cost time.
    return stt.transcribe(audio, language=language, vad_filter=False, short=True)


class LiveSpeakers:
    """Incremental speaker clustering over a stream's utterances: labels never change once given.

    Each utterance's voice embedding (and median pitch) is compared with the running centroid of
    every voice heard so far; it joins the most similar one when the cosine is at least
    ``SAME`` (or ``LIKELY`` with a typical pitch within ``MAX_SEMITONES``), and otherwise starts
    "Speaker N+1". One utterance (2-5 s) is a noisier sample than the file separation's groups, so
    these bars are set on utterances, not taken from ``diarization.SAME_VOICE`` (which compares whole
    groups): espeak-ng utterances of one voice measured
    0.83-0.92 against each other, a man's and a woman's voice 0.50-0.59; two similar male voices
    (0.85-0.93 in the file benchmark's sets) can share a live label. Utterances shorter than
    ``MIN_SECONDS`` take the most recent speaker (too little voice to tell).
    """

    MIN_SECONDS = 0.8
    SAME = 0.90
    LIKELY = 0.78
    MAX_SEMITONES = 3.0

    def __init__(self, *, max_speakers: int = 8) -> None:
        self.max_speakers = max_speakers
        self._sums: list[np.ndarray] = []
        self._pitches: list[list[float]] = []
        self._seconds: list[float] = []
        self._last: int | None = None

    @property
    def count(self) -> int:
        return len(self._sums)

    def voice(self, label: str) -> tuple[np.ndarray, float] | None:
        """A label's voice so far: its unit-length mean embedding and seconds of speech (None if unknown)."""
        try:
            index = int(label.removeprefix("Speaker ")) - 1
            total, seconds = self._sums[index].copy(), self._seconds[index]
        except (ValueError, IndexError):
            return None
        if index < 0:
            return None
        return total / max(float(np.linalg.norm(total)), 1e-9), seconds

    def assign(self, audio: np.ndarray) -> str | None:
        from meetings.speech import features, voice_encoder
        from meetings.speech.diarization import speaker_label

        if audio.size < self.MIN_SECONDS * SAMPLE_RATE:
            return speaker_label(self._last) if self._last is not None else None
        embedding = voice_encoder.embed_utterance(audio).astype(np.float64)
        f0 = features.pitch(audio)
        voiced = f0[f0 > 0]
        semitones = float(np.median(np.log(voiced)) * 12 / np.log(2)) if voiced.size >= 3 else None
        best, similarity = None, -1.0
        for index, total in enumerate(self._sums):
            value = float(embedding @ (total / np.linalg.norm(total)))
            if value > similarity:
                best, similarity = index, value
        same = False
        if best is not None:
            pitch_gap = (abs(semitones - float(np.median(self._pitches[best])))
                         if semitones is not None and self._pitches[best] else 0.0)
            same = similarity >= self.SAME or (similarity >= self.LIKELY and pitch_gap < self.MAX_SEMITONES)
        if best is None or (not same and len(self._sums) < self.max_speakers):
            self._sums.append(embedding.copy())
            self._pitches.append([semitones] if semitones is not None else [])
            self._seconds.append(0.0)
            best = len(self._sums) - 1
        else:
            self._sums[best] += embedding
            if semitones is not None:
                self._pitches[best].append(semitones)
        self._seconds[best] += audio.size / SAMPLE_RATE
        self._last = best
        return speaker_label(best)


class LiveAudioTranscriber:
    def __init__(self, *, on_interim: Callback, on_final: Callback, language: str | None = None,
                 on_status: Callback | None = None, loop: asyncio.AbstractEventLoop | None = None,
                 silence_ms: int | None = None, interim_seconds: float | None = None,
                 max_utterance_seconds: float | None = None, transcribe: TranscribeFn | None = None,
                 detect_language: Callable[[np.ndarray], tuple[str, float] | None] | None = None,
                 separate_speakers: bool = True) -> None:
        self.language = (language or "").split("-")[0].lower() or None
        self._language_fixed = self.language is not None
        self._language_votes: dict[str, int] = {}
        self._language_guess = "en"
        self._guess_probability = 0.0
        self._on_interim = on_interim
        self._on_final = on_final
        self._on_status = on_status
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        self._loop = loop
        self._silence_frames = round((silence_ms or settings.LIVE_SILENCE_MS) / 1000 / FRAME_SECONDS)
        self._interim_seconds = interim_seconds or settings.LIVE_INTERIM_SECONDS
        self._max_utterance = max_utterance_seconds or settings.LIVE_MAX_UTTERANCE_SECONDS
        self._transcribe = transcribe or _default_transcribe
        self._detect = detect_language if detect_language is not None else (
            _default_detect if transcribe is None else (lambda audio: None))
        self._detections_this_utterance = 0
        self.speakers = LiveSpeakers() if separate_speakers else None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._vad = StreamingVad()
        self._lock = threading.Lock()
        self._received_bytes = 0
        self._processed_samples = 0
        self._asr_seconds = 0.0
        self._closed = False
        self._behind = False
        # Utterance state (worker thread only).
        self._frame_index = 0
        self._preroll: deque[np.ndarray] = deque(maxlen=PREROLL_FRAMES)
        self._utterance: list[np.ndarray] = []
        self._utterance_start = 0.0
        self._silent_run = 0
        self._last_interim_frames = 0
        self._last_interim_text = ""
        self._interim_interval = self._interim_seconds
        self._leftover = b""
        self.finals = 0
        self.interims = 0
        self._thread = threading.Thread(target=self._run, name="live-audio-transcriber", daemon=True)
        self._thread.start()

    # --- the consumer's side (any thread) --------------------------------------------------------------

    def feed(self, pcm16: bytes) -> None:
        """Queue PCM16 mono 16 kHz little-endian audio. Returns at once; the audio is now buffered."""
        if self._closed:
            raise RuntimeError("the transcriber is closed")
        if pcm16:
            with self._lock:
                self._received_bytes += len(pcm16)
            self._queue.put(bytes(pcm16))

    def flush(self) -> None:
        """End the utterance in progress now (e.g. the participant muted)."""
        self._queue.put(_FLUSH)

    def close(self, timeout: float | None = None) -> None:
        """Transcribe what is buffered, emit the last final, and stop the worker."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    @property
    def lag_seconds(self) -> float:
        """Audio received but not yet analysed (VAD and transcription), in seconds."""
        with self._lock:
            return max(0.0, (self._received_bytes // 2 - self._processed_samples) / SAMPLE_RATE)

    @property
    def audio_seconds(self) -> float:
        with self._lock:
            return self._processed_samples / SAMPLE_RATE

    @property
    def compute_ratio(self) -> float:
        """Seconds spent transcribing per second of audio analysed (must stay well below 1)."""
        audio = self.audio_seconds
        return self._asr_seconds / audio if audio > 0 else 0.0

    def status(self) -> dict[str, Any]:
        return {"lag_seconds": round(self.lag_seconds, 2), "behind": self._behind,
                "compute_ratio": round(self.compute_ratio, 3), "audio_seconds": round(self.audio_seconds, 2),
                "finals": self.finals, "interims": self.interims}

    # --- the worker ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    self._finish_utterance()
                    return
                if item is _FLUSH:
                    self._finish_utterance()
                    continue
                self._consume(item)
                if self._queue.empty():
                    self._maybe_interim()
                self._update_behind()
            except Exception:  # one bad chunk or engine error must not kill the stream
                logger.exception("live audio processing failed")

    def _consume(self, data: bytes) -> None:
        data = self._leftover + data
        usable = len(data) - len(data) % 2
        self._leftover = data[usable:]
        samples = pcm16_to_float(data[:usable])
        frames, probabilities = self._vad.push(samples)
        for frame, probability in zip(frames, probabilities, strict=True):
            self._on_frame(frame, float(probability))
        with self._lock:
            self._processed_samples += samples.size

    def _on_frame(self, frame: np.ndarray, probability: float) -> None:
        start = self._frame_index * FRAME_SECONDS
        self._frame_index += 1
        if not self._utterance:
            self._preroll.append(frame)
            if probability >= SPEECH_ON:
                self._utterance = list(self._preroll)
                self._utterance_start = max(0.0, start - (len(self._preroll) - 1) * FRAME_SECONDS)
                self._preroll.clear()
                self._silent_run = 0
                self._last_interim_frames = 0
                self._last_interim_text = ""
                self._detections_this_utterance = 0
            return
        self._utterance.append(frame)
        self._silent_run = self._silent_run + 1 if probability < SPEECH_OFF else 0
        too_long = len(self._utterance) * FRAME_SECONDS >= self._max_utterance
        if self._silent_run >= self._silence_frames or too_long:
            self._finish_utterance()

    def _run_asr(self, audio: np.ndarray, *, language: str | None = None) -> list[SttSegment]:
        started = time.perf_counter()
        try:
            return self._transcribe(audio, language=language or self.language)
        finally:
            self._asr_seconds += time.perf_counter() - started

    def _finish_utterance(self) -> None:
        if not self._utterance:
            return
        keep = len(self._utterance) - max(0, self._silent_run - int(KEEP_TRAILING_SECONDS / FRAME_SECONDS))
        audio = np.concatenate(self._utterance[: max(keep, 1)])
        start = self._utterance_start
        self._utterance = []
        self._silent_run = 0
        segments = self._run_asr(audio, language=self.language or self._confident_guess())
        text = " ".join(s.text for s in segments).strip()
        if not text:
            return
        self._learn_language(segments[0])
        confidences = [s.confidence for s in segments if s.confidence is not None]
        speaker = None
        if self.speakers is not None:
            try:
                speaker = self.speakers.assign(audio)
            except Exception:  # a label is a nicety: never lose the transcript over it
                logger.exception("live speaker separation failed")
        final = SttSegment(start=round(start, 3), end=round(start + audio.size / SAMPLE_RATE, 3), text=text,
                           confidence=round(float(np.mean(confidences)), 4) if confidences else None,
                           language=self.language or segments[0].language, speaker=speaker)
        self.finals += 1
        self._emit(self._on_final, final)

    def _learn_language(self, segment: SttSegment) -> None:
        self._vote_language(segment.language, segment.language_probability)

    def _vote_language(self, language: str | None, probability: float | None) -> None:
        """Keep the detected language for the rest of the call once it is certain: detected with
        high probability, or the same language twice. Until then every utterance is detected anew."""
        if self._language_fixed or not language:
            return
        self._language_guess = language
        self._guess_probability = probability or 0.0
        self._language_votes[language] = self._language_votes.get(language, 0) + 1
        if (probability is not None and probability >= LANGUAGE_SURE) or self._language_votes[language] >= 2:
            self.language = language
            self._language_fixed = True

    def _confident_guess(self) -> str | None:
        return self._language_guess if self._guess_probability >= LANGUAGE_LIKELY else None

    def _detect_while_speaking(self) -> None:
        """Detect the language during an utterance, while the engine would otherwise wait, so the
        final (which someone is waiting for) can take the fast path with a known language."""
        if self._language_fixed or self._confident_guess():
            return
        done = self._detections_this_utterance
        if done >= len(DETECT_AFTER_SECONDS) or len(self._utterance) * FRAME_SECONDS < DETECT_AFTER_SECONDS[done]:
            return
        self._detections_this_utterance += 1
        started = time.perf_counter()
        try:
            guess = self._detect(np.concatenate(self._utterance))
        finally:
            self._asr_seconds += time.perf_counter() - started
        if guess:
            self._vote_language(*guess)

    def _maybe_interim(self) -> None:
        if not self._utterance or self._behind:
            return
        if self._silent_run * FRAME_SECONDS <= 0.25:
            self._detect_while_speaking()
        frames = len(self._utterance)
        if (frames - self._last_interim_frames) * FRAME_SECONDS < self._interim_interval:
            return
        if self._silent_run * FRAME_SECONDS > 0.25:  # probably ending: keep the engine free for the final
            return
        self._last_interim_frames = frames
        started = time.perf_counter()
        # Until the language is certain, interims use the latest guess: detecting it costs a full
        # 30 s encoder pass, which belongs to finals only.
        segments = self._run_asr(np.concatenate(self._utterance), language=self.language or self._language_guess)
        cost = time.perf_counter() - started
        # Never spend more than about half of real time on interims.
        self._interim_interval = max(self._interim_seconds, 2.0 * cost)
        text = " ".join(s.text for s in hallucination.filter_segments(segments)).strip()
        if text and text != self._last_interim_text:
            self._last_interim_text = text
            self.interims += 1
            self._emit(self._on_interim, text)

    def _update_behind(self) -> None:
        lag = self.lag_seconds
        behind = lag > BEHIND_SECONDS if not self._behind else lag > BEHIND_SECONDS / 2
        if behind != self._behind:
            self._behind = behind
            if self._on_status is not None:
                self._emit(self._on_status, self.status())

    def _emit(self, callback: Callback, value: Any) -> None:
        emit_callback(self._loop, callback, value)


def emit_callback(loop: asyncio.AbstractEventLoop | None, callback: Callback, value: Any) -> None:
    """Call an engine callback from the engine's thread; a coroutine it returns runs on ``loop``."""
    try:
        result = callback(value)
        if inspect.isawaitable(result):
            if loop is None or loop.is_closed():
                asyncio.run(result)  # type: ignore[arg-type]
            else:
                asyncio.run_coroutine_threadsafe(result, loop)  # type: ignore[arg-type]
    except Exception:
        logger.exception("live audio callback failed")



# --- captions + audio -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptionLine:
    speaker: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class MergedLine:
    speaker: str
    text: str
    start: float
    end: float
    source: str  # "merged" (caption speaker, audio text), "caption" or "audio"
    caption_text: str = ""


def _words(text: str) -> list[str]:
    return hallucination.normalise(text).split()


def text_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def merge_caption_and_audio(captions: Sequence[CaptionLine | dict], audio: Sequence[SttSegment], *,
                            tolerance: float = 1.0, min_similarity: float = 0.2) -> list[MergedLine]:
    """Keep the caption speaker names and let the audio transcript correct the text.

    The rule, as a pure function:
    1. Each audio piece (a word when word timings exist, else a segment) goes to the caption whose
       time span, widened by ``tolerance`` seconds, contains the piece's midpoint; of several, the
       one whose centre is nearest.
    2. A caption that received audio keeps its speaker and takes the audio's words as its text,
       unless the two texts share almost nothing (similarity below ``min_similarity``): then the
       clocks are probably misaligned and the caption text is kept.
    3. A caption with no audio is kept as it is.
    4. Audio that no caption covers becomes its own line with the audio's speaker label (or
       "Unknown speaker").
    Lines come out in time order.
    """
    lines = [c if isinstance(c, CaptionLine) else CaptionLine(str(c.get("speaker", "")), str(c.get("text", "")),
                                                               float(c.get("start", 0.0)), float(c.get("end", 0.0)))
             for c in captions]
    pieces: list[tuple[float, float, str, str | None]] = []
    for segment in audio:
        if segment.words:
            pieces.extend((w.start, w.end, w.text, segment.speaker) for w in segment.words)
        else:
            pieces.append((segment.start, segment.end, segment.text, segment.speaker))
    assigned: dict[int, list[tuple[float, float, str, str | None]]] = {}
    orphans: list[tuple[float, float, str, str | None]] = []
    for piece in pieces:
        middle = (piece[0] + piece[1]) / 2
        candidates = [i for i, c in enumerate(lines) if c.start - tolerance <= middle <= c.end + tolerance]
        if not candidates:
            orphans.append(piece)
            continue
        best = min(candidates, key=lambda i: abs((lines[i].start + lines[i].end) / 2 - middle)
                   - (1000.0 if lines[i].start <= middle <= lines[i].end else 0.0))
        assigned.setdefault(best, []).append(piece)
    merged: list[MergedLine] = []
    for index, caption in enumerate(lines):
        own = sorted(assigned.get(index, []))
        if not own:
            merged.append(MergedLine(caption.speaker, caption.text, caption.start, caption.end, "caption",
                                     caption.text))
            continue
        audio_text = " ".join(p[2].strip() for p in own).strip()
        if caption.text.strip() and text_similarity(caption.text, audio_text) < min_similarity:
            merged.append(MergedLine(caption.speaker, caption.text, caption.start, caption.end, "caption",
                                     caption.text))
            orphans.extend(own)
            continue
        merged.append(MergedLine(caption.speaker, audio_text, min(caption.start, own[0][0]),
                                 max(caption.end, own[-1][1]), "merged", caption.text))
    orphans.sort()
    group: list[tuple[float, float, str, str | None]] = []
    for piece in [*orphans, None]:
        if group and (piece is None or piece[3] != group[-1][3] or piece[0] - group[-1][1] > 1.0):
            merged.append(MergedLine(group[0][3] or "Unknown speaker", " ".join(p[2].strip() for p in group),
                                     group[0][0], group[-1][1], "audio"))
            group = []
        if piece is not None:
            group.append(piece)
    merged.sort(key=lambda line: (line.start, line.end))
    return merged
