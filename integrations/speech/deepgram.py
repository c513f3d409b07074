"""Deepgram over plain HTTP (pre-recorded) and WebSocket (streaming); no SDK needed.

Pre-recorded: ``POST {base}/v1/listen`` with the audio as the body. Streaming: a WebSocket to
``{base}/v1/listen`` carrying raw PCM16 frames; results arrive as ``{"type": "Results", ...}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from integrations.speech import SpeechProviderError
from integrations.speech._retry import with_retries


def transcribe(audio: bytes, *, api_key: str, base_url: str, model: str, language: str | None = None,
               content_type: str = "audio/wav", timeout: float = 120.0, max_retries: int = 2) -> dict[str, Any]:
    """Transcribe a whole file; returns Deepgram's JSON (``results.utterances`` carry speakers and words)."""
    params = {"model": model, "punctuate": "true", "smart_format": "true", "utterances": "true",
              "diarize": "true"}
    if language:
        params["language"] = language
    else:
        params["detect_language"] = "true"

    def call() -> dict[str, Any]:
        response = httpx.post(f"{base_url.rstrip('/')}/v1/listen", params=params, content=audio, timeout=timeout,
                              headers={"Authorization": f"Token {api_key}", "Content-Type": content_type})
        response.raise_for_status()
        return response.json()

    data = with_retries(call, what="deepgram transcription", max_retries=max_retries)
    if not isinstance(data, dict) or "results" not in data:
        raise SpeechProviderError("deepgram transcription: unusable reply")
    return data


@dataclass(frozen=True)
class StreamResult:
    transcript: str
    is_final: bool
    speech_final: bool
    start: float
    duration: float
    confidence: float | None
    words: list[dict[str, Any]]


class DeepgramStream:
    """A live transcription socket: ``send(pcm16)`` audio in, ``on_result(StreamResult)`` out.

    ``on_result`` runs on the receiving thread. ``finish()`` asks Deepgram to flush and waits
    for the socket to close.
    """

    def __init__(self, *, api_key: str, base_url: str, model: str, on_result: Callable[[StreamResult], None],
                 language: str | None = None, sample_rate: int = 16000, endpointing_ms: int = 700,
                 open_timeout: float = 10.0) -> None:
        params = {"model": model, "encoding": "linear16", "sample_rate": sample_rate, "channels": 1,
                  "interim_results": "true", "punctuate": "true", "endpointing": endpointing_ms}
        if language:
            params["language"] = language
        ws_base = base_url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
        self.url = f"{ws_base}/v1/listen?{urlencode(params)}"
        self._api_key = api_key
        self._on_result = on_result
        self._open_timeout = open_timeout
        self._socket = None
        self._reader: threading.Thread | None = None
        self.error: Exception | None = None

    def start(self) -> None:
        from websockets.sync.client import connect

        try:
            self._socket = connect(self.url, additional_headers={"Authorization": f"Token {self._api_key}"},
                                   open_timeout=self._open_timeout)
        except Exception as exc:
            raise SpeechProviderError(f"deepgram streaming: {type(exc).__name__}: {exc}") from exc
        self._reader = threading.Thread(target=self._read, name="deepgram-stream", daemon=True)
        self._reader.start()

    def send(self, pcm16: bytes) -> None:
        if self._socket is None:
            raise SpeechProviderError("deepgram streaming: not started")
        self._socket.send(pcm16)

    def finish(self, timeout: float = 10.0) -> None:
        if self._socket is None:
            return
        try:
            self._socket.send(json.dumps({"type": "CloseStream"}))
        except Exception:
            pass
        if self._reader is not None:
            self._reader.join(timeout)
        self._socket.close()

    def _read(self) -> None:
        assert self._socket is not None
        try:
            for message in self._socket:
                if isinstance(message, bytes):
                    continue
                data = json.loads(message)
                if data.get("type") != "Results":
                    continue
                alternative = (data.get("channel", {}).get("alternatives") or [{}])[0]
                self._on_result(StreamResult(
                    transcript=alternative.get("transcript", ""),
                    is_final=bool(data.get("is_final")),
                    speech_final=bool(data.get("speech_final")),
                    start=float(data.get("start", 0.0)),
                    duration=float(data.get("duration", 0.0)),
                    confidence=alternative.get("confidence"),
                    words=alternative.get("words", []),
                ))
        except Exception as exc:  # connection closed or bad frame: surface it to the caller
            from websockets.exceptions import ConnectionClosedOK

            if not isinstance(exc, ConnectionClosedOK):
                self.error = exc
