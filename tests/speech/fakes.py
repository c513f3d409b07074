"""Fake speech services on 127.0.0.1: OpenAI-compatible audio, Deepgram (HTTP), ElevenLabs.

Deepgram's real-time WebSocket has its own fake: tests/fakes/deepgram_live.py.

Each records the requests it got and answers with what the test programmed, so the code under test
goes through its real client library (openai SDK, httpx, websockets) and a real socket.
"""

from __future__ import annotations

import io
import json
import threading
import wave
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Fields of a multipart/form-data body: text values as str, files as (filename, bytes)."""
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        value: Any = (filename, payload) if filename else payload.decode()
        if name in fields:  # repeated fields (timestamp_granularities[])
            existing = fields[name]
            fields[name] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            fields[name] = value
    return fields


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


@dataclass
class FakeSpeechServer:
    """Routes: /v1/audio/transcriptions, /v1/audio/speech, /v1/listen, /v1/text-to-speech/<voice>."""

    transcription: dict[str, Any] = field(default_factory=lambda: {
        "text": "Hello from the fake server. Second sentence here.",
        "language": "english",
        "duration": 4.0,
        "segments": [
            {"id": 0, "start": 0.0, "end": 2.0, "text": " Hello from the fake server.", "avg_logprob": -0.2,
             "no_speech_prob": 0.01, "compression_ratio": 1.1},
            {"id": 1, "start": 2.0, "end": 4.0, "text": " Second sentence here.", "avg_logprob": -0.3,
             "no_speech_prob": 0.02, "compression_ratio": 1.1},
        ],
        "words": [{"word": "Hello", "start": 0.0, "end": 0.4}, {"word": "from", "start": 0.5, "end": 0.7},
                  {"word": "the", "start": 0.7, "end": 0.8}, {"word": "fake", "start": 0.9, "end": 1.2},
                  {"word": "server.", "start": 1.2, "end": 1.8}, {"word": "Second", "start": 2.1, "end": 2.5},
                  {"word": "sentence", "start": 2.6, "end": 3.1}, {"word": "here.", "start": 3.2, "end": 3.6}],
    })
    deepgram: dict[str, Any] = field(default_factory=lambda: {
        "metadata": {"duration": 3.0},
        "results": {
            "channels": [{"detected_language": "en", "alternatives": [{"transcript": "hi there general kenobi",
                                                                       "words": []}]}],
            "utterances": [
                {"start": 0.1, "end": 1.2, "transcript": "Hi there.", "confidence": 0.97, "speaker": 0,
                 "words": [{"word": "hi", "punctuated_word": "Hi", "start": 0.1, "end": 0.5, "confidence": 0.99},
                           {"word": "there", "punctuated_word": "there.", "start": 0.6, "end": 1.2,
                            "confidence": 0.95}]},
                {"start": 1.5, "end": 2.8, "transcript": "General Kenobi.", "confidence": 0.9, "speaker": 1,
                 "words": [{"word": "general", "punctuated_word": "General", "start": 1.5, "end": 2.0,
                            "confidence": 0.9},
                           {"word": "kenobi", "punctuated_word": "Kenobi.", "start": 2.1, "end": 2.8,
                            "confidence": 0.9}]},
            ],
        },
    })
    speech_audio: bytes = b"ID3fake-mp3-bytes"
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeSpeechServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                record: dict[str, Any] = {"path": self.path, "headers": dict(self.headers), "body": body}
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("multipart/form-data"):
                    record["form"] = parse_multipart(content_type, body)
                elif content_type.startswith("application/json"):
                    record["json"] = json.loads(body or b"{}")
                fake.requests.append(record)
                if fake.status != 200:
                    self._send(fake.status, b'{"error": {"message": "fake failure"}}', "application/json")
                    return
                path = self.path.split("?")[0]
                if path.endswith("/audio/transcriptions"):
                    self._send(200, json.dumps(fake.transcription).encode(), "application/json")
                elif path.endswith("/audio/speech") or "/text-to-speech/" in path:
                    self._send(200, fake.speech_audio, "audio/mpeg")
                elif path.endswith("/v1/listen"):
                    self._send(200, json.dumps(fake.deepgram).encode(), "application/json")
                else:
                    self._send(404, b'{"error": "no route"}', "application/json")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
