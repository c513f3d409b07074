"""Which live audio engine a stream gets (both have ``LiveAudioTranscriber``'s interface and callbacks)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from meetings.speech.streaming import LiveAudioTranscriber
from meetings.speech.streaming_deepgram import DeepgramLiveTranscriber


def live_transcriber(**options: Any) -> LiveAudioTranscriber | DeepgramLiveTranscriber:
    """Deepgram's real-time socket with ``STT_PROVIDER=deepgram`` and a key, else the local engine
    (which also serves ``openai``, sending each utterance it cuts). Takes ``LiveAudioTranscriber``'s
    arguments."""
    if _deepgram_live():
        return DeepgramLiveTranscriber(**options)
    return LiveAudioTranscriber(**options)


def _deepgram_live() -> bool:
    return (settings.STT_PROVIDER or "local").lower() == "deepgram" and bool(settings.DEEPGRAM_API_KEY)


def live_audio_preload() -> None:
    """Import the local engine and load its voice activity model, so that a server's first audio stream does
    not hold the interpreter while every other socket waits. Whisper itself stays unloaded until speech needs
    it: held idle in a web process it slowed every socket down (bench-live, docs/operations.md)."""
    if _deepgram_live():
        return
    from meetings.speech import vad

    vad.preload()
