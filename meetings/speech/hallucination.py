"""Whisper invents text on silence, music and noise. These rules take it back out.

A segment is dropped when it is one of the stock phrases Whisper learnt from subtitled videos,
when the model itself says it is probably not speech (high no-speech probability with a low
log-probability, Whisper's own rule), when its log-probability is very low, or when it is one
n-gram repeated over and over. Runs of a repeated n-gram inside real speech are collapsed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from meetings.speech.types import SttSegment

# Normalised (lower case, no punctuation). Matched as the whole segment, never inside real speech.
STOCK_PHRASES = frozenset({
    "thank you for watching", "thanks for watching", "thank you so much for watching",
    "thank you for watching and see you next time", "thanks for watching and see you next time",
    "please subscribe", "please subscribe to my channel", "subscribe to my channel",
    "like and subscribe", "dont forget to like and subscribe", "please like and subscribe",
    "subtitles by", "subtitles by the amaraorg community", "subtitles by amaraorg",
    "subtitled by", "captions by", "transcription by", "translated by", "amaraorg",
    "thank you", "thank you very much", "thanks", "bye", "bye bye", "you", "the end",
    "see you next time", "see you in the next video", "im going to go ahead and", "music", "applause",
    "silence", "laughter", "so", "okay", "oh",
})
# Phrases so generic that they count only when the model was also unsure.
_WEAK_PHRASES = frozenset({"thank you", "thank you very much", "thanks", "bye", "you", "so", "okay", "oh"})
_STRONG_PREFIXES = ("subtitles by", "subtitled by", "captions by", "transcribed by", "translated by",
                    "thank you for watching", "thanks for watching", "please subscribe")

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
VERY_LOW_LOGPROB = -1.6
MAX_COMPRESSION_RATIO = 2.4
MIN_REPEATS = 4
LONG_NGRAM = 6


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("'", "")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def collapse_repeats(text: str, *, min_repeats: int = MIN_REPEATS, max_n: int = 40) -> str:
    """"Thank you. Thank you. Thank you. Thank you." -> "Thank you."

    Short n-grams (under ``LONG_NGRAM`` words) must repeat ``min_repeats`` times in a row; a long one
    (a whole sentence) repeated even twice in a row is a decoding loop, not speech.
    """
    words = text.split()
    keys = [normalise(w) for w in words]
    changed = True
    while changed:
        changed = False
        for n in range(1, min(max_n, len(words) // 2) + 1):
            needed = 2 if n >= LONG_NGRAM else min_repeats
            i = 0
            while i + n * needed <= len(words):
                gram = keys[i : i + n]
                repeats = 1
                while keys[i + repeats * n : i + (repeats + 1) * n] == gram:
                    repeats += 1
                if repeats >= needed and any(gram):
                    end = i + repeats * n
                    # A loop cut off mid-sentence leaves a partial copy of the start at the very end.
                    tail = keys[end:]
                    if n >= LONG_NGRAM and 2 <= len(tail) < n and gram[: len(tail)] == tail:
                        end = len(words)
                    del words[i + n : end]
                    del keys[i + n : end]
                    changed = True
                i += 1
    return " ".join(words)


def is_hallucination(segment: SttSegment) -> bool:
    norm = normalise(segment.text)
    if not norm:
        return True
    unsure = (segment.avg_logprob is not None and segment.avg_logprob < LOW_LOGPROB) or (
        segment.no_speech_prob is not None and segment.no_speech_prob > NO_SPEECH_PROB
    )
    if segment.no_speech_prob is not None and segment.no_speech_prob > NO_SPEECH_PROB and \
            segment.avg_logprob is not None and segment.avg_logprob < LOW_LOGPROB:
        return True
    if segment.avg_logprob is not None and segment.avg_logprob < VERY_LOW_LOGPROB:
        return True
    if norm.startswith(_STRONG_PREFIXES):
        return True
    if norm in STOCK_PHRASES and (norm not in _WEAK_PHRASES or unsure):
        return True
    if segment.compression_ratio is not None and segment.compression_ratio > MAX_COMPRESSION_RATIO and unsure:
        return True
    # Far more text than anyone can say in the time: typical of a looping decoder.
    duration = segment.end - segment.start
    return duration > 0.5 and len(norm) / duration > 40


def filter_segments(segments: list[SttSegment]) -> list[SttSegment]:
    """Drop invented segments and collapse runaway repetitions in the rest."""
    kept: list[SttSegment] = []
    for segment in segments:
        collapsed = collapse_repeats(segment.text)
        if collapsed != segment.text:
            # Word timings no longer line up with the shortened text.
            segment = replace(segment, text=collapsed, words=None)
        if not is_hallucination(segment):
            kept.append(segment)
    return kept
