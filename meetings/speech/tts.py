"""Spoken answers: text-to-speech, local by default (espeak-ng), or OpenAI-compatible / ElevenLabs.

``synthesize(text)`` returns audio bytes (MP3 when ffmpeg is there, else WAV) or None when speech
is switched off or no engine works. ``answer_audio_save`` stores the file with the default storage
and returns its URL. Live answers use ``suggestion_audio_save``: the file is stored under a per-company
key derived from the suggestion, and ``Suggestion.audio_url`` is the authenticated API route that
streams it (``suggestion_audio_open``), never a public media URL.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from integrations.speech import elevenlabs, openai_compat
from meetpilot.metrics import PROVIDER_FALLBACKS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechAudio:
    data: bytes
    extension: str  # "mp3" or "wav"
    provider: str

    @property
    def content_type(self) -> str:
        return "audio/mpeg" if self.extension == "mp3" else "audio/wav"


def _clean(text: str) -> str:
    text = " ".join((text or "").split())
    limit = settings.TTS_MAX_CHARS
    if len(text) > limit:
        cut = text.rfind(". ", 0, limit)
        text = text[: cut + 1] if cut > limit // 2 else text[:limit]
    return text


def local_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _local(text: str) -> SpeechAudio:
    wav = subprocess.run(["espeak-ng", "-v", settings.TTS_LOCAL_VOICE, "-s", "165", "--stdout", text],
                         capture_output=True, check=True, timeout=60).stdout
    if shutil.which("ffmpeg"):
        mp3 = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", "pipe:0", "-ac", "1", "-b:a", "64k",
                              "-f", "mp3", "pipe:1"], input=wav, capture_output=True, timeout=60)
        if mp3.returncode == 0 and mp3.stdout:
            return SpeechAudio(mp3.stdout, "mp3", "local")
    return SpeechAudio(wav, "wav", "local")


def synthesize_audio(text: str, *, provider: str | None = None) -> SpeechAudio | None:
    text = _clean(text)
    provider = (provider or settings.TTS_PROVIDER or "local").lower()
    if not text or provider == "off":
        return None
    if provider in ("openai", "elevenlabs"):
        try:
            if provider == "openai":
                data = openai_compat.speech(text, base_url=settings.TTS_BASE_URL, api_key=settings.TTS_API_KEY,
                                            model=settings.TTS_MODEL, voice=settings.TTS_VOICE)
            else:
                data = elevenlabs.speech(text, api_key=settings.ELEVENLABS_API_KEY,
                                         base_url=settings.ELEVENLABS_BASE_URL,
                                         voice_id=settings.ELEVENLABS_VOICE_ID, model=settings.ELEVENLABS_MODEL)
            return SpeechAudio(data, "mp3", provider)
        except Exception:
            logger.warning("text-to-speech provider %s failed; trying the local voice", provider, exc_info=True)
            PROVIDER_FALLBACKS.labels(feature="text_to_speech", provider=provider).inc()
    if local_available():
        try:
            return _local(text)
        except (subprocess.SubprocessError, OSError):
            logger.warning("local text-to-speech failed", exc_info=True)
    return None


def synthesize(text: str) -> bytes | None:
    """Audio bytes for ``text``, or None when speech is off or unavailable."""
    audio = synthesize_audio(text)
    return audio.data if audio else None


def answer_audio_save(*, company_id: int, text: str) -> str | None:
    """Speak ``text``, store it under ``tts/<company>/`` and return its URL (None when unavailable)."""
    audio = synthesize_audio(text)
    if audio is None:
        return None
    key = default_storage.save(f"tts/{company_id}/{uuid.uuid4().hex}.{audio.extension}", ContentFile(audio.data))
    return default_storage.url(key)


# --- spoken live answers ------------------------------------------------------------------------

AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


def suggestion_audio_key(*, company_id: int, suggestion_id: int, extension: str) -> str:
    return f"tts/{company_id}/suggestions/{suggestion_id}.{extension}"


def suggestion_audio_url(*, meeting_id: int, suggestion_id: int) -> str:
    return f"/api/v1/meetings/{meeting_id}/suggestions/{suggestion_id}/audio"


def suggestion_audio_save(*, company_id: int, meeting_id: int, suggestion_id: int, text: str) -> str | None:
    """Speak ``text`` for a stored suggestion; returns its API audio URL, or None when there is no audio.

    Never raises: a spoken answer is an extra, the text answer must get through regardless.
    """
    try:
        audio = synthesize_audio(text)
        if audio is None:
            return None
        key = suggestion_audio_key(company_id=company_id, suggestion_id=suggestion_id, extension=audio.extension)
        for extension in AUDIO_TYPES:  # one file per suggestion, whatever the engine made last time
            old = suggestion_audio_key(company_id=company_id, suggestion_id=suggestion_id, extension=extension)
            if default_storage.exists(old):
                default_storage.delete(old)
        default_storage.save(key, ContentFile(audio.data))
    except Exception:
        logger.warning("spoken answer for suggestion %s failed", suggestion_id, exc_info=True)
        return None
    return suggestion_audio_url(meeting_id=meeting_id, suggestion_id=suggestion_id)


def suggestion_audio_open(*, company_id: int, suggestion_id: int) -> tuple[Any, str] | None:
    """(open file, content type) of a suggestion's stored audio, or None when it has none."""
    for extension, content_type in AUDIO_TYPES.items():
        key = suggestion_audio_key(company_id=company_id, suggestion_id=suggestion_id, extension=extension)
        if default_storage.exists(key):
            return default_storage.open(key, "rb"), content_type
    return None
