"""A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI API for tests.

It serves ``POST /v1/chat/completions`` (plain and ``stream: true`` Server-Sent Events)
and ``POST /v1/embeddings``, so code under test goes through the real ``openai`` SDK,
httpx and a socket. Behaviour is programmable per test:

    from tests.fakes.openai_server import fake_openai  # noqa: F401  (makes the fixture available)

    def test_something(fake_openai, settings):
        fake_openai.configure(settings)          # LLM_* (and EMBEDDINGS_*) point at the fake
        fake_openai.reply("Revenue was $18.7M [1].")  # chunk_size=, chunk_delay= shape the stream
        ...                                       # code under test calls the LLM
        assert fake_openai.requests[-1]["path"] == "/v1/chat/completions"

        fake_openai.fail(500)                    # every request answers HTTP 500
        fake_openai.hang()                       # requests hang past the client's timeout
        fake_openai.malformed()                  # 200 with a body that is not valid JSON / SSE
        fake_openai.break_stream_after(2)        # stream 2 deltas, then drop the connection

``configure`` sets ``LLM_TIMEOUT`` to 1 second and ``LLM_MAX_RETRIES`` to 0 so failure
tests stay fast; pass ``timeout=``/``retries=`` to change that. Embedding vectors are
deterministic (a hash of the text), of the requested ``dimensions`` (default 384).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Behaviour:
    mode: str = "ok"  # ok | error | hang | malformed | break
    reply: str = "This is the fake model's answer."
    status: int = 500
    break_after: int = 1
    chunk_size: int = 8  # characters per streamed delta
    chunk_delay: float = 0.0  # seconds between streamed deltas
    json_object_only: bool = False  # refuse response_format json_schema the way llama.cpp's Python server does


@dataclass
class FakeOpenAI:
    host: str = "127.0.0.1"
    port: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    # --- programming the behaviour ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def reply(self, text: str, *, chunk_size: int = 8, chunk_delay: float = 0.0,
              json_object_only: bool = False) -> None:
        self.behaviour = Behaviour(mode="ok", reply=text, chunk_size=chunk_size, chunk_delay=chunk_delay,
                                   json_object_only=json_object_only)

    def fail(self, status: int = 500) -> None:
        self.behaviour = Behaviour(mode="error", status=status)

    def hang(self) -> None:
        self.behaviour = Behaviour(mode="hang")

    def malformed(self) -> None:
        self.behaviour = Behaviour(mode="malformed")

    def break_stream_after(self, deltas: int, reply: str = "Partial answer that will never finish.") -> None:
        self.behaviour = Behaviour(mode="break", break_after=deltas, reply=reply)

    def configure(self, settings: Any, *, timeout: float = 1.0, retries: int = 0, model: str = "fake-model",
                  embeddings: bool = False) -> None:
        """Point the project's LLM settings (a pytest-django ``settings`` fixture) at this server."""
        settings.LLM_BASE_URL = self.base_url
        settings.LLM_API_KEY = "test-key"
        settings.LLM_MODEL = model
        settings.LLM_TIMEOUT = timeout
        settings.LLM_MAX_RETRIES = retries
        if embeddings:
            settings.EMBEDDINGS_PROVIDER = "openai"
            settings.EMBEDDINGS_BASE_URL = self.base_url
            settings.EMBEDDINGS_API_KEY = "test-key"

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                fake.requests.append({"path": self.path, "body": body,
                                      "authorization": self.headers.get("Authorization")})
                fake._handle(self, body)

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-openai",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # let hanging handlers finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- responses -------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        b = self.behaviour
        if b.mode == "hang":
            self._release.wait(30)
            return self._json(handler, 504, {"error": {"message": "released"}})
        if b.mode == "error":
            error = {"error": {"message": "fake provider failure", "type": "server_error"}}
            return self._json(handler, b.status, error)
        if handler.path.endswith("/embeddings"):
            return self._embeddings(handler, body)
        if handler.path.endswith("/chat/completions"):
            if body.get("stream"):
                return self._stream(handler, body)
            if b.mode == "malformed":
                return self._raw(handler, 200, b'{"id": "x", "choices": [ {"message": ', "application/json")
            if b.json_object_only and (body.get("response_format") or {}).get("type") == "json_schema":
                # What llama-cpp-python's server answers (a 500 around a request validation error).
                return self._json(handler, 500, {"error": {"message": (
                    "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}")}})
            return self._json(handler, 200, self._completion(body, b.reply))
        return self._json(handler, 404, {"error": {"message": "not found"}})

    @staticmethod
    def _completion(body: dict, text: str) -> dict:
        return {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        b = self.behaviour
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        if b.mode == "malformed":
            handler.wfile.write(b"data: {this is not json\n\n")
            handler.wfile.flush()
            handler.close_connection = True
            return
        pieces = [b.reply[i : i + b.chunk_size] for i in range(0, len(b.reply), b.chunk_size)]
        for n, piece in enumerate(pieces):
            if b.mode == "break" and n >= b.break_after:
                handler.wfile.flush()
                handler.close_connection = True
                # An abrupt close in the middle of the stream.
                handler.connection.shutdown(2)
                return
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": body.get("model", "fake-model"),
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()
            if b.chunk_delay:
                self._release.wait(b.chunk_delay)
        end = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
               "model": body.get("model", "fake-model"),
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        handler.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        handler.wfile.flush()
        handler.close_connection = True

    def _embeddings(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        if self.behaviour.mode == "malformed":
            return self._raw(handler, 200, b'{"data": [', "application/json")
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        dims = int(body.get("dimensions") or 384)
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, dims)} for i, t in enumerate(texts)]
        return self._json(handler, 200, {"object": "list", "data": data, "model": body.get("model", "fake"),
                                         "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        FakeOpenAI._raw(handler, status, json.dumps(payload).encode(), "application/json")

    @staticmethod
    def _raw(handler: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()


def fake_vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for ``text`` (same text, same vector)."""
    seed = hashlib.sha256(text.encode()).digest()
    values = []
    while len(values) < dims:
        seed = hashlib.sha256(seed).digest()
        values.extend((byte - 127.5) / 127.5 for byte in seed)
    values = values[:dims]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [v / norm for v in values]


@pytest.fixture
def fake_openai():
    """A running FakeOpenAI; call ``fake_openai.configure(settings)`` to route the LLM settings to it."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
