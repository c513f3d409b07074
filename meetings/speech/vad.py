"""Voice activity detection with the Silero VAD model that ships inside faster-whisper (ONNX, CPU).

``speech_regions`` serves whole files; ``StreamingVad`` scores a live stream frame by frame
(32 ms frames) with the same model, so file and live behave alike.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from meetings.speech import SAMPLE_RATE
from meetings.speech.audio import rms_dbfs

FRAME_SAMPLES = 512  # Silero's window at 16 kHz: 32 ms
_CONTEXT_SAMPLES = 64
_lock = threading.Lock()


@dataclass(frozen=True)
class Region:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def _model():
    from faster_whisper.vad import get_vad_model

    return get_vad_model()


def preload() -> None:
    """Import the engine and load the model now (a server start) rather than on a stream's first frame."""
    _model()


def speech_regions(audio: np.ndarray, *, threshold: float = 0.5, min_silence_ms: int = 400,
                   min_speech_ms: int = 200, pad_ms: int = 100) -> list[Region]:
    """Speech regions (seconds) in a 16 kHz mono recording."""
    if audio.size < FRAME_SAMPLES:
        return []
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms,
                         min_speech_duration_ms=min_speech_ms, speech_pad_ms=pad_ms)
    with _lock:  # one ONNX session shared by threads
        stamps = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [Region(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def speech_seconds(regions: list[Region]) -> float:
    return float(sum(r.duration for r in regions))


def is_silent(audio: np.ndarray, *, dbfs: float = -55.0) -> bool:
    """The cheap gate before any model: too quiet to hold speech."""
    return rms_dbfs(audio) < dbfs


class StreamingVad:
    """Speech probability per 32 ms frame for a stream fed in arbitrary pieces."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)
        # The model is recurrent: its state runs across calls, as if the whole stream came at once.
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (frames [n, 512], probabilities [n]) for every complete frame now available."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        count = self._pending.size // FRAME_SAMPLES
        if count == 0:
            return np.zeros((0, FRAME_SAMPLES), dtype=np.float32), np.zeros(0, dtype=np.float32)
        frames = self._pending[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES)
        self._pending = self._pending[count * FRAME_SAMPLES :].copy()
        contexts = np.empty((count, _CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        if count > 1:
            contexts[1:] = frames[:-1, -_CONTEXT_SAMPLES:]
        self._context = frames[-1, -_CONTEXT_SAMPLES:].copy()
        batch = np.concatenate([contexts, frames], axis=1)
        model = _model()
        with _lock:
            output, self._h, self._c = model.session.run(None, {"input": batch, "h": self._h, "c": self._c})
        return frames.copy(), np.asarray(output, dtype=np.float32).reshape(-1)[:count]
