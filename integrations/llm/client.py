"""The one place the ``openai`` SDK is imported.

Every provider failure (timeout, connection error, HTTP error, malformed or empty
output) is raised as ``LLMError`` so callers can fall back to their local path
with one ``except``. The SDK retries 429/5xx/connection errors itself, with
exponential backoff and jitter, ``LLM_MAX_RETRIES`` times.

Text from meetings and documents is untrusted: callers put it in user/system
messages as quoted material, never as instructions of their own.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from django.conf import settings

OpenAIError = openai.OpenAIError  # what the SDK raises, for the speech endpoints that use the same client


class LLMError(Exception):
    """The provider failed: timeout, HTTP error, unreachable, or output we cannot use."""


@dataclass(frozen=True)
class LLMConfig:
    """Where to send chat requests; a company may later override the global settings with one."""

    base_url: str = ""
    api_key: str = ""
    model: str = ""


def _global_config() -> LLMConfig:
    return LLMConfig(base_url=settings.LLM_BASE_URL, api_key=settings.LLM_API_KEY, model=settings.LLM_MODEL)


def llm_configured(config: LLMConfig | None = None) -> bool:
    """True when a chat provider is set up (a base URL, a key, or both)."""
    config = config or _global_config()
    return bool(config.base_url or config.api_key)


_clients: dict[tuple, openai.OpenAI] = {}
_clients_lock = threading.Lock()


def openai_client(*, base_url: str, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    """The one factory of SDK clients (chat, embeddings, speech), cached per target."""
    # The SDK client holds an httpx connection pool and is thread-safe: keep one per target.
    key = (base_url, api_key, float(timeout), int(max_retries))
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = openai.OpenAI(
                    base_url=base_url or None,
                    # Local OpenAI-compatible servers often need no key, but the SDK insists on one.
                    api_key=api_key or "not-needed",
                    timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                    max_retries=max_retries,
                )
                _clients[key] = client
    return client


def _chat_client(config: LLMConfig | None, timeout: float | None) -> tuple[openai.OpenAI, str]:
    config = config or _global_config()
    if not llm_configured(config):
        raise LLMError("No language model is configured.")
    client = openai_client(base_url=config.base_url, api_key=config.api_key,
                     timeout=timeout if timeout is not None else settings.LLM_TIMEOUT,
                     max_retries=settings.LLM_MAX_RETRIES)
    return client, config.model or settings.LLM_MODEL


# Everything the SDK or the transport raises when the provider misbehaves.
_PROVIDER_ERRORS: tuple[type[BaseException], ...] = (
    openai.OpenAIError,
    httpx.HTTPError,
    json.JSONDecodeError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ValueError,
)


# Servers that refused ``json_schema`` (llama.cpp's Python server, older Ollama): they get ``json_object`` with the
# schema, the form they constrain their output with. Remembered per server so each asks once.
_NO_JSON_SCHEMA: set[tuple[str, str]] = set()


def _response_format(schema: dict, *, plain_json: bool, server: str) -> dict[str, Any]:
    if plain_json:
        # OpenAI itself knows no "schema" key on json_object; the servers that refuse json_schema use it.
        return {"type": "json_object"} if "api.openai.com" in server else {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "response", "schema": schema, "strict": True}}


def _refused_json_schema(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    return status in (400, 422, 500) and "json_schema" in text and "response_format" in text


# OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...) refuse ``max_tokens`` (they take
# ``max_completion_tokens``) and any temperature but their default.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)


def sampling_options(model: str, *, temperature: float, max_tokens: int | None) -> dict[str, Any]:
    """The temperature and output cap in the form ``model`` accepts."""
    if _REASONING_MODEL.match(model.rsplit("/", 1)[-1]):
        return {"max_completion_tokens": max_tokens} if max_tokens else {}
    return {"temperature": temperature, **({"max_tokens": max_tokens} if max_tokens else {})}


def chat_complete(
    *,
    messages: list[dict[str, Any]],
    model: str | None = None,
    temperature: float = 0.2,
    response_format_schema: dict | None = None,
    timeout: float | None = None,
    config: LLMConfig | None = None,
    max_retries: int | None = None,
    max_tokens: int | None = None,
) -> str:
    """One chat completion; returns the reply text (JSON text when a schema is given)."""
    client, default_model = _chat_client(config, timeout)
    server = str(client.base_url)
    target = (server, model or default_model)  # a model, not a whole server, may lack structured outputs
    if max_retries is not None:
        client = client.with_options(max_retries=max_retries)
    kwargs = sampling_options(model or default_model, temperature=temperature, max_tokens=max_tokens)
    if response_format_schema is not None:
        kwargs["response_format"] = _response_format(response_format_schema, plain_json=target in _NO_JSON_SCHEMA,
                                                     server=server)
    try:
        try:
            completion = client.chat.completions.create(model=model or default_model, messages=messages, **kwargs)
        except openai.APIStatusError as exc:
            if response_format_schema is None or target in _NO_JSON_SCHEMA or not _refused_json_schema(exc):
                raise
            _NO_JSON_SCHEMA.add(target)
            kwargs["response_format"] = _response_format(response_format_schema, plain_json=True, server=server)
            completion = client.chat.completions.create(model=model or default_model, messages=messages, **kwargs)
        content = completion.choices[0].message.content
    except _PROVIDER_ERRORS as exc:
        raise LLMError(f"Language model request failed: {exc.__class__.__name__}: {exc}") from exc
    if not isinstance(content, str) or not content.strip():
        raise LLMError("Language model returned an empty reply.")
    if response_format_schema is not None:
        try:
            json.loads(content)
        except ValueError as exc:
            raise LLMError("Language model reply is not the JSON that was asked for.") from exc
    return content


def chat_stream(
    *,
    messages: list[dict[str, Any]],
    model: str | None = None,
    timeout: float | None = None,
    config: LLMConfig | None = None,
    max_tokens: int | None = None,
) -> Iterator[str]:
    """Stream a chat completion as text deltas. Failures, also mid-stream, raise ``LLMError``."""
    client, default_model = _chat_client(config, timeout)
    options = sampling_options(model or default_model, temperature=0.2, max_tokens=max_tokens)
    try:
        stream = client.chat.completions.create(model=model or default_model, messages=messages, stream=True,
                                                **options)
    except _PROVIDER_ERRORS as exc:
        raise LLMError(f"Language model request failed: {exc.__class__.__name__}: {exc}") from exc
    produced = finished = False
    try:
        for chunk in stream:
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            delta = choice.delta.content if choice.delta is not None else None
            if delta:
                produced = True
                yield delta
            if choice.finish_reason:
                finished = True
    except _PROVIDER_ERRORS as exc:
        raise LLMError(f"Language model stream failed: {exc.__class__.__name__}: {exc}") from exc
    finally:
        try:
            stream.close()
        except Exception:  # closing a broken stream must not hide the real error
            pass
    if not produced:
        raise LLMError("Language model returned an empty reply.")
    if not finished:  # the connection dropped before the model said it was done
        raise LLMError("Language model stream ended before the reply was complete.")


def embed(*, texts: list[str], model: str | None = None, dimensions: int | None = None) -> list[list[float]]:
    """Embeddings from the OpenAI-compatible endpoint in EMBEDDINGS_* (falling back to LLM_*)."""
    if not texts:
        return []
    base_url = settings.EMBEDDINGS_BASE_URL or settings.LLM_BASE_URL
    api_key = settings.EMBEDDINGS_API_KEY or settings.LLM_API_KEY
    if not (base_url or api_key):
        raise LLMError("No embeddings endpoint is configured.")
    client = openai_client(base_url=base_url, api_key=api_key, timeout=settings.LLM_TIMEOUT,
                     max_retries=settings.LLM_MAX_RETRIES)
    kwargs: dict[str, Any] = {}
    if dimensions:
        kwargs["dimensions"] = dimensions
    try:
        response = client.embeddings.create(model=model or settings.EMBEDDINGS_MODEL, input=texts, **kwargs)
        rows = sorted(response.data, key=lambda item: item.index)
        vectors = [list(map(float, row.embedding)) for row in rows]
    except _PROVIDER_ERRORS as exc:
        raise LLMError(f"Embeddings request failed: {exc.__class__.__name__}: {exc}") from exc
    if len(vectors) != len(texts):
        raise LLMError(f"Embeddings endpoint returned {len(vectors)} vectors for {len(texts)} texts.")
    if dimensions and any(len(v) != dimensions for v in vectors):
        raise LLMError(f"Embeddings endpoint returned vectors that are not {dimensions}-dimensional.")
    return vectors
