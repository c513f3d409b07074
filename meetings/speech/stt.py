"""Speech-to-text behind one interface.

``transcribe(audio)`` takes 16 kHz mono float32 and returns ``SttSegment`` items. The provider comes
from ``settings.STT_PROVIDER`` (local | openai | deepgram); any remote failure falls back to the
local Whisper engine, so a transcript is produced offline whatever happens to the network.
Before any model runs, a silence gate drops audio with no energy; after it, the hallucination
filter drops the phrases Whisper invents on silence.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable

import numpy as np
from django.conf import settings

from integrations.speech import deepgram, openai_compat
from meetings.speech import SAMPLE_RATE, hallucination, vad
from meetings.speech.audio import wav_bytes
from meetings.speech.types import SttResult, SttSegment, Word
from meetpilot.metrics import PROVIDER_FALLBACKS

logger = logging.getLogger(__name__)

PROVIDERS = ("local", "openai", "deepgram")
Progress = Callable[[float], None]


def transcribe(audio: np.ndarray, *, language: str | None = None, word_timestamps: bool = False,
               progress: Progress | None = None, provider: str | None = None,
               vad_filter: bool = True, short: bool = False) -> list[SttSegment]:
    """Transcribe 16 kHz mono float32 audio; see ``transcribe_detailed`` for provider and language.

    ``short=True`` marks a latency-sensitive clip already cut at speech boundaries (a live
    utterance): the local engine then uses its fitted-window single pass.
    """
    return transcribe_detailed(audio, language=language, word_timestamps=word_timestamps, progress=progress,
                               provider=provider, vad_filter=vad_filter, short=short).segments


def transcribe_detailed(audio: np.ndarray, *, language: str | None = None, word_timestamps: bool = False,
                        progress: Progress | None = None, provider: str | None = None,
                        vad_filter: bool = True, short: bool = False) -> SttResult:
    provider = (provider or settings.STT_PROVIDER or "local").lower()
    language = (language or "").split("-")[0].lower() or None  # "en-US" -> "en" (Whisper's codes)
    if audio.size == 0 or vad.is_silent(audio, dbfs=settings.STT_SILENCE_DBFS):
        if progress:
            progress(1.0)
        return SttResult(segments=[], language=language, provider="silence-gate")
    fallback_reason = ""
    if provider in ("openai", "deepgram"):
        try:
            segments, detected = _remote(provider, audio, language=language, progress=progress)
            return SttResult(segments=hallucination.filter_segments(segments), language=detected or language,
                             provider=provider)
        except Exception as exc:  # any failure: the local engine still gives a transcript
            fallback_reason = f"{provider} failed: {exc}"
            PROVIDER_FALLBACKS.labels(feature="speech_to_text", provider=provider).inc()
            logger.warning("speech-to-text provider failed, using the local engine", exc_info=True)
    elif provider != "local":
        fallback_reason = f"unknown STT_PROVIDER {provider!r}"
    from meetings.speech import whisper

    if short and not word_timestamps and audio.size / SAMPLE_RATE <= whisper.SHORT_CLIP_SECONDS:
        segments, detected = whisper.transcribe_short(audio, language=language)
        if progress:
            progress(1.0)
    else:
        segments, detected = whisper.transcribe(audio, language=language, word_timestamps=word_timestamps,
                                                vad_filter=vad_filter, progress=progress)
    return SttResult(segments=hallucination.filter_segments(segments), language=detected or language,
                     provider="local", fallback_reason=fallback_reason)


# --- remote engines --------------------------------------------------------------------------


def _remote(provider: str, audio: np.ndarray, *, language: str | None,
            progress: Progress | None) -> tuple[list[SttSegment], str | None]:
    pieces = split_for_requests(audio, max_seconds=settings.STT_REMOTE_CHUNK_SECONDS)
    total = audio.size / SAMPLE_RATE
    segments: list[SttSegment] = []
    detected: str | None = None
    for offset, piece in pieces:
        wav = wav_bytes(piece)
        if provider == "openai":
            data = openai_compat.transcribe(wav, base_url=settings.STT_BASE_URL, api_key=settings.STT_API_KEY,
                                            model=settings.STT_MODEL, language=language,
                                            timeout=settings.STT_TIMEOUT)
            piece_segments, lang = segments_from_openai(data)
        else:
            data = deepgram.transcribe(wav, api_key=settings.DEEPGRAM_API_KEY, base_url=settings.DEEPGRAM_BASE_URL,
                                       model=settings.DEEPGRAM_MODEL, language=language,
                                       timeout=settings.STT_TIMEOUT)
            piece_segments, lang = segments_from_deepgram(data)
        detected = detected or lang
        segments.extend(s.shifted(offset) for s in piece_segments)
        if progress:
            progress(min(1.0, (offset + piece.size / SAMPLE_RATE) / max(total, 1e-6)))
    return segments, detected


def split_for_requests(audio: np.ndarray, *, max_seconds: float) -> list[tuple[float, np.ndarray]]:
    """Cut long audio into pieces of at most ``max_seconds``, at pauses where possible."""
    limit = int(max_seconds * SAMPLE_RATE)
    if audio.size <= limit:
        return [(0.0, audio)]
    regions = vad.speech_regions(audio)
    gaps = [((a.end + b.start) / 2) for a, b in itertools.pairwise(regions)]
    pieces: list[tuple[float, np.ndarray]] = []
    start = 0
    while audio.size - start > limit:
        candidates = [int(g * SAMPLE_RATE) for g in gaps if start + limit // 2 < g * SAMPLE_RATE <= start + limit]
        cut = candidates[-1] if candidates else start + limit
        pieces.append((start / SAMPLE_RATE, audio[start:cut]))
        start = cut
    pieces.append((start / SAMPLE_RATE, audio[start:]))
    return pieces


def _language_code(value: object) -> str | None:
    if not value:
        return None
    text = str(value).lower()
    names = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it",
             "portuguese": "pt", "dutch": "nl", "japanese": "ja", "chinese": "zh"}
    return names.get(text, text.split("-")[0])


def segments_from_openai(data: dict) -> tuple[list[SttSegment], str | None]:
    """Map a verbose_json transcription reply onto SttSegments (words attached by time)."""
    words = [Word(float(w["start"]), float(w["end"]), str(w.get("word", "")).strip())
             for w in data.get("words") or [] if str(w.get("word", "")).strip()]
    language = _language_code(data.get("language"))
    raw = data.get("segments") or []
    if not raw and data.get("text", "").strip():
        end = words[-1].end if words else float(data.get("duration") or 0.0)
        raw = [{"start": 0.0, "end": end, "text": data["text"]}]
    segments = []
    for item in raw:
        start, end = float(item.get("start", 0.0)), float(item.get("end", 0.0))
        own = tuple(w for w in words if start - 0.01 <= (w.start + w.end) / 2 <= end + 0.01) or None
        logprob = item.get("avg_logprob")
        segments.append(SttSegment(
            start=start, end=end, text=str(item.get("text", "")).strip(),
            confidence=round(math.exp(min(0.0, float(logprob))), 4) if logprob is not None else None,
            words=own, avg_logprob=float(logprob) if logprob is not None else None,
            no_speech_prob=item.get("no_speech_prob"), compression_ratio=item.get("compression_ratio"),
            language=language,
        ))
    return segments, language


def segments_from_deepgram(data: dict) -> tuple[list[SttSegment], str | None]:
    """Map a pre-recorded Deepgram reply (utterances when present, else words grouped at pauses)."""
    results = data.get("results") or {}
    channel = (results.get("channels") or [{}])[0]
    language = _language_code(channel.get("detected_language"))
    utterances = results.get("utterances")

    def word_of(w: dict) -> Word:
        return Word(float(w["start"]), float(w["end"]), str(w.get("punctuated_word") or w.get("word", "")),
                    w.get("confidence"))

    if utterances:
        return [SttSegment(start=float(u["start"]), end=float(u["end"]), text=str(u.get("transcript", "")).strip(),
                           confidence=u.get("confidence"), words=tuple(word_of(w) for w in u.get("words", [])) or None,
                           language=language)
                for u in utterances if str(u.get("transcript", "")).strip()], language
    alternative = (channel.get("alternatives") or [{}])[0]
    words = [word_of(w) for w in alternative.get("words", [])]
    segments: list[SttSegment] = []
    group: list[Word] = []
    for word in words:
        if group and (word.start - group[-1].end > 1.0 or len(group) >= 40):
            segments.append(_group_segment(group, language))
            group = []
        group.append(word)
    if group:
        segments.append(_group_segment(group, language))
    return segments, language


def _group_segment(words: list[Word], language: str | None) -> SttSegment:
    probabilities = [w.probability for w in words if w.probability is not None]
    return SttSegment(start=words[0].start, end=words[-1].end, text=" ".join(w.text for w in words),
                      confidence=float(np.mean(probabilities)) if probabilities else None, words=tuple(words),
                      language=language)
