"""OpenAI-compatible speech endpoints through the openai SDK: ``/audio/transcriptions`` and ``/audio/speech``.

Works with OpenAI itself and with compatible servers (faster-whisper-server, LocalAI, vLLM, Groq, ...).
The SDK retries 408/409/429/5xx and connection errors with exponential backoff and jitter.
"""

from __future__ import annotations

from typing import Any

from integrations.llm.client import OpenAIError, openai_client
from integrations.speech import SpeechProviderError


def transcribe(wav: bytes, *, base_url: str, api_key: str, model: str, language: str | None = None,
               timeout: float = 120.0, max_retries: int = 2, word_timestamps: bool = True) -> dict[str, Any]:
    """POST the WAV to ``/audio/transcriptions`` (verbose_json); returns the reply as a plain dict.

    Keys used by callers: ``text``, ``language``, ``segments`` [{start, end, text, avg_logprob,
    no_speech_prob, compression_ratio}], ``words`` [{start, end, word}] (when the server gives them).
    """
    client = openai_client(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)
    kwargs: dict[str, Any] = {
        "model": model,
        "file": ("audio.wav", wav, "audio/wav"),
        "response_format": "verbose_json",
        "timestamp_granularities": ["segment", "word"] if word_timestamps else ["segment"],
    }
    if language:
        kwargs["language"] = language
    try:
        reply = client.audio.transcriptions.create(**kwargs)
    except OpenAIError as exc:
        raise SpeechProviderError(f"transcription at {base_url}: {type(exc).__name__}: {exc}") from exc
    data = reply.model_dump() if hasattr(reply, "model_dump") else dict(reply)
    if not isinstance(data, dict) or "text" not in data:
        raise SpeechProviderError(f"transcription at {base_url}: unusable reply")
    return data


def speech(text: str, *, base_url: str, api_key: str, model: str, voice: str, response_format: str = "mp3",
           timeout: float = 60.0, max_retries: int = 2) -> bytes:
    """POST to ``/audio/speech``; returns the audio bytes."""
    client = openai_client(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)
    try:
        reply = client.audio.speech.create(model=model, voice=voice, input=text, response_format=response_format)
        data = reply.read() if hasattr(reply, "read") else bytes(reply.content)
    except OpenAIError as exc:
        raise SpeechProviderError(f"speech at {base_url}: {type(exc).__name__}: {exc}") from exc
    if not data:
        raise SpeechProviderError(f"speech at {base_url}: empty audio")
    return data
