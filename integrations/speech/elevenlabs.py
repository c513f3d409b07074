"""ElevenLabs text-to-speech over plain httpx."""

from __future__ import annotations

import httpx

from integrations.speech import SpeechProviderError
from integrations.speech._retry import with_retries


def speech(text: str, *, api_key: str, base_url: str, voice_id: str, model: str, timeout: float = 60.0,
           max_retries: int = 2) -> bytes:
    """``POST /v1/text-to-speech/{voice_id}``; returns MP3 bytes."""

    def call() -> bytes:
        response = httpx.post(
            f"{base_url.rstrip('/')}/v1/text-to-speech/{voice_id}",
            params={"output_format": "mp3_44100_128"},
            json={"text": text, "model_id": model},
            headers={"xi-api-key": api_key, "Accept": "audio/mpeg"},
            timeout=timeout,
        )
        response.raise_for_status()
        return response.content

    data = with_retries(call, what="elevenlabs speech", max_retries=max_retries)
    if not data:
        raise SpeechProviderError("elevenlabs speech: empty audio")
    return data
