"""From decoded audio to speaker-labelled segments: VAD -> speech-to-text -> speaker separation.

Pure (no database): the upload pipeline and the benchmark both call ``process_audio``. Progress is
reported per stage as a fraction through ``progress(stage, fraction)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from meetings.speech import SAMPLE_RATE, diarization, stt, vad
from meetings.speech.types import SttSegment
from meetpilot.metrics import TRANSCRIPTION_REAL_TIME_FACTOR

StageProgress = Callable[[str, float], None]


class PipelineError(Exception):
    """A stage could not produce a usable result; ``stage`` and the message are shown to the user."""

    def __init__(self, stage: str, code: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.code = code
        self.message = message


@dataclass
class PipelineResult:
    segments: list[SttSegment]
    language: str | None
    provider: str
    speakers: list[str]
    speech_seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    fallback_reason: str = ""
    voices: dict[str, np.ndarray] = field(default_factory=dict)  # speaker label -> voice embedding
    voice_seconds: dict[str, float] = field(default_factory=dict)


def process_audio(audio: np.ndarray, *, language: str | None = None, speaker_count_hint: int | None = None,
                  progress: StageProgress | None = None) -> PipelineResult:
    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    timings: dict[str, float] = {}
    started = time.perf_counter()
    report("vad", 0.0)
    regions = vad.speech_regions(audio)
    speech = vad.speech_seconds(regions)
    timings["vad"] = time.perf_counter() - started
    report("vad", 1.0)
    if speech < 0.3 or vad.is_silent(audio, dbfs=settings.STT_SILENCE_DBFS):
        raise PipelineError("vad", "no_speech", "No speech was found in the recording (it is silent or only noise).")

    started = time.perf_counter()
    report("transcribe", 0.0)
    result = stt.transcribe_detailed(audio, language=language, word_timestamps=True,
                                     progress=lambda f: report("transcribe", f))
    timings["transcribe"] = time.perf_counter() - started
    if audio.size:
        TRANSCRIPTION_REAL_TIME_FACTOR.labels(engine=result.provider).observe(
            timings["transcribe"] / (audio.size / SAMPLE_RATE))
    if not result.segments:
        raise PipelineError("transcribe", "no_words", "Speech was detected but no words could be recognised.")

    started = time.perf_counter()
    report("diarize", 0.0)
    separation = diarization.separate(audio, regions=regions, num_speakers=speaker_count_hint,
                                      max_speakers=settings.DIARIZATION_MAX_SPEAKERS)
    segments = diarization.assign_speakers(result.segments, separation.turns)
    voices = diarization.label_voices(segments, separation.turns, separation.voices)
    timings["diarize"] = time.perf_counter() - started
    report("diarize", 1.0)
    speakers = sorted({s.speaker for s in segments if s.speaker}, key=lambda label: int(label.split()[-1]))
    voice_seconds = {label: sum(s.end - s.start for s in segments if s.speaker == label) for label in voices}
    return PipelineResult(segments=segments, language=result.language, provider=result.provider, speakers=speakers,
                          speech_seconds=speech, timings=timings, fallback_reason=result.fallback_reason,
                          voices=voices, voice_seconds=voice_seconds)


def audio_seconds(audio: np.ndarray) -> float:
    return audio.size / SAMPLE_RATE
