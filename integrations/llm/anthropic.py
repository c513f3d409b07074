"""Anthropic's Messages API over plain httpx (optional provider).

The ``anthropic`` SDK is not needed: the Messages API is one POST, and talking to it
with httpx keeps the dependency tree small and lets tests point ``base_url`` at a fake
server on 127.0.0.1. Messages use the OpenAI shape (``{"role", "content"}`` with an
optional leading system message) so callers stay provider-agnostic.

Retries: 429, 5xx, timeouts and connection errors are retried ``max_retries`` times with
exponential backoff and full jitter. Every failure is raised as ``AnthropicError``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

API_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-3-5-haiku-latest"
_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}


class AnthropicError(Exception):
    """The Messages API failed: timeout, HTTP error, unreachable, or an unusable reply."""

    def __init__(self, message: str, *, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason  # "timeout", "http 503", "unreachable", "invalid output", "error"


@dataclass(frozen=True)
class AnthropicConfig:
    api_key: str
    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 60.0
    max_retries: int = 2
    max_tokens: int = 4096


def _split_system(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    system_parts: list[str] = []
    turns: list[dict[str, str]] = []
    for message in messages:
        role, content = message.get("role"), str(message.get("content") or "")
        if role == "system":
            system_parts.append(content)
        elif role in ("user", "assistant"):
            # The API wants alternating turns: merge consecutive messages of one role.
            if turns and turns[-1]["role"] == role:
                turns[-1]["content"] += "\n\n" + content
            else:
                turns.append({"role": role, "content": content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": "(start)"})
    return "\n\n".join(system_parts), turns


def _body(config: AnthropicConfig, messages: list[dict[str, Any]], *, temperature: float, stream: bool,
          json_schema: dict | None) -> dict[str, Any]:
    system, turns = _split_system(messages)
    if json_schema is not None:
        # No response_format in this API: ask for JSON in the system prompt and validate the reply.
        system = (system + "\n\n" if system else "") + (
            "Reply with one JSON object only, no prose and no code fences, matching this JSON schema:\n"
            + json.dumps(json_schema)
        )
    body: dict[str, Any] = {"model": config.model, "max_tokens": config.max_tokens, "messages": turns,
                            "temperature": temperature}
    if system:
        body["system"] = system
    if stream:
        body["stream"] = True
    return body


def _headers(config: AnthropicConfig) -> dict[str, str]:
    return {"x-api-key": config.api_key, "anthropic-version": API_VERSION, "content-type": "application/json"}


def _url(config: AnthropicConfig) -> str:
    return config.base_url.rstrip("/") + "/v1/messages"


def _sleep_before_retry(attempt: int) -> None:
    time.sleep(random.uniform(0, min(8.0, 0.5 * 2**attempt)))  # full jitter


def _with_retries(config: AnthropicConfig, send: Any) -> Any:
    attempt = 0
    while True:
        try:
            return send()
        except AnthropicError as exc:
            retryable = exc.reason in ("timeout", "unreachable") or (
                exc.reason.startswith("http ") and int(exc.reason.split()[1]) in _RETRY_STATUS
            )
            if not retryable or attempt >= config.max_retries:
                raise
            _sleep_before_retry(attempt)
            attempt += 1


def _raise_for(exc: httpx.HTTPError) -> AnthropicError:
    if isinstance(exc, httpx.TimeoutException):
        return AnthropicError(f"Anthropic request timed out: {exc}", reason="timeout")
    if isinstance(exc, httpx.TransportError):
        return AnthropicError(f"Anthropic is unreachable: {exc}", reason="unreachable")
    return AnthropicError(f"Anthropic request failed: {exc}")


def messages_create(*, config: AnthropicConfig, messages: list[dict[str, Any]], temperature: float = 0.2,
                    json_schema: dict | None = None) -> str:
    """One reply's text. With ``json_schema`` the text is checked to be a JSON object."""

    def send() -> str:
        try:
            response = httpx.post(_url(config), headers=_headers(config), timeout=config.timeout,
                                  json=_body(config, messages, temperature=temperature, stream=False,
                                             json_schema=json_schema))
        except httpx.HTTPError as exc:
            raise _raise_for(exc) from exc
        if response.status_code >= 400:
            raise AnthropicError(f"Anthropic answered HTTP {response.status_code}",
                                 reason=f"http {response.status_code}")
        try:
            blocks = response.json()["content"]
            text = "".join(block.get("text", "") for block in blocks if block.get("type") == "text")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AnthropicError("Anthropic reply has no text content", reason="invalid output") from exc
        if not text.strip():
            raise AnthropicError("Anthropic returned an empty reply", reason="invalid output")
        return text

    text = _with_retries(config, send)
    if json_schema is not None:
        text = extract_json_text(text)
        try:
            json.loads(text)
        except ValueError as exc:
            raise AnthropicError("Anthropic reply is not JSON", reason="invalid output") from exc
    return text


def messages_stream(*, config: AnthropicConfig, messages: list[dict[str, Any]],
                    temperature: float = 0.2) -> Iterator[str]:
    """Text deltas of one reply (server-sent events). Failures, also mid-stream, raise AnthropicError."""
    body = _body(config, messages, temperature=temperature, stream=True, json_schema=None)
    produced = False
    try:
        with httpx.stream("POST", _url(config), headers=_headers(config), json=body,
                          timeout=config.timeout) as response:
            if response.status_code >= 400:
                raise AnthropicError(f"Anthropic answered HTTP {response.status_code}",
                                     reason=f"http {response.status_code}")
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                try:
                    event = json.loads(line[5:].strip())
                except ValueError:
                    continue
                if event.get("type") == "error":
                    raise AnthropicError(f"Anthropic stream error: {event.get('error')}", reason="error")
                delta = event.get("delta") or {}
                if event.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
                    text = delta.get("text", "")
                    if text:
                        produced = True
                        yield text
    except httpx.HTTPError as exc:
        raise _raise_for(exc) from exc
    if not produced:
        raise AnthropicError("Anthropic returned an empty reply", reason="invalid output")


def extract_json_text(text: str) -> str:
    """The JSON object in a reply, without code fences or prose around it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        stripped = stripped[4:] if stripped.lower().startswith("json") else stripped
    start, end = stripped.find("{"), stripped.rfind("}")
    return stripped[start : end + 1] if start != -1 and end > start else stripped
