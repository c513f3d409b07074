"""Plain data shared by every speech engine."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class SttSegment:
    """One transcribed stretch of speech; times are seconds from the start of the audio."""

    start: float
    end: float
    text: str
    confidence: float | None = None
    words: tuple[Word, ...] | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    speaker: str | None = None
    language: str | None = None
    language_probability: float | None = None

    def shifted(self, offset: float) -> SttSegment:
        words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in self.words) \
            if self.words else self.words
        return replace(self, start=self.start + offset, end=self.end + offset, words=words)

    def with_speaker(self, speaker: str | None) -> SttSegment:
        return replace(self, speaker=speaker)


@dataclass
class SttResult:
    segments: list[SttSegment]
    language: str | None
    provider: str
    fallback_reason: str = ""
    extra: dict = field(default_factory=dict)
