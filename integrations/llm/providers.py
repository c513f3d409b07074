"""Chat providers behind one interface: OpenAI-compatible (``client``) and Anthropic (``anthropic``).

A ``ProviderSpec`` says where to send a request; which spec a company uses for which prompt is
decided by ``ai.routing``. Everything that goes wrong is raised as
``ProviderError`` with a short ``reason`` ("timeout", "http 503", "unreachable",
"invalid output", "not configured", "error") that callers write into the record of the
result ("local (fallback: openai timeout)").

Structured output: the reply is validated against a pydantic model; a reply that is not
valid JSON for the model is asked for once more (with the validation error) before giving up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from integrations.llm import anthropic as anthropic_api
from integrations.llm.client import LLMConfig, LLMError, chat_complete, chat_stream, llm_configured
from meetpilot.metrics import PROVIDER_FALLBACKS

T = TypeVar("T", bound=BaseModel)

OPENAI = "openai"
ANTHROPIC = "anthropic"


@dataclass(frozen=True)
class ProviderSpec:
    kind: str  # OPENAI or ANTHROPIC
    model: str
    base_url: str = ""  # "" with kind OPENAI: the global LLM_* settings
    api_key: str = ""
    timeout: float | None = None
    max_retries: int | None = None  # None: LLM_MAX_RETRIES; the live path asks once (no time for a retry)
    max_tokens: int | None = None  # a cap on the reply (a small model can run on until the timeout)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.model}" if self.model else self.kind

    def __repr__(self) -> str:  # never print the key
        return f"ProviderSpec(kind={self.kind!r}, model={self.model!r}, base_url={self.base_url!r})"


class ProviderError(Exception):
    def __init__(self, message: str, *, reason: str, provider: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.provider = provider


def _fallback(spec: ProviderSpec, message: str, *, reason: str) -> ProviderError:
    """The error callers answer with their local result: every one is a fallback, counted here."""
    PROVIDER_FALLBACKS.labels(feature="llm", provider=spec.kind).inc()
    return ProviderError(message, reason=reason, provider=spec.kind)


def failure_reason(exc: BaseException) -> str:
    """A short, key-free description of why a provider call failed."""
    if isinstance(exc, ProviderError | anthropic_api.AnthropicError):
        return exc.reason
    cause = exc.__cause__ or exc
    # A reply that is not JSON, or JSON of the wrong shape, as seen by the SDK or by us.
    if isinstance(exc, ValidationError | ValueError) or isinstance(
            cause, ValidationError | ValueError | KeyError | IndexError | TypeError | AttributeError):
        return "invalid output"
    if isinstance(cause, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(cause, openai.APIStatusError):
        return f"http {cause.status_code}"
    if isinstance(cause, openai.APIConnectionError):
        return "unreachable"
    text = str(exc).lower()
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "not the json" in text or "empty reply" in text or "not json" in text:
        return "invalid output"
    if "no language model is configured" in text:
        return "not configured"
    return "error"


def _openai_config(spec: ProviderSpec) -> LLMConfig | None:
    # Without a base URL of its own the spec uses the global settings (model may still differ).
    return LLMConfig(base_url=spec.base_url, api_key=spec.api_key, model=spec.model) if spec.base_url else None


def _anthropic_config(spec: ProviderSpec) -> anthropic_api.AnthropicConfig:
    return anthropic_api.AnthropicConfig(
        api_key=spec.api_key, model=spec.model or anthropic_api.DEFAULT_MODEL,
        base_url=spec.base_url or anthropic_api.DEFAULT_BASE_URL,
        timeout=spec.timeout if spec.timeout is not None else 60.0,
        **({"max_retries": spec.max_retries} if spec.max_retries is not None else {}),
        **({"max_tokens": spec.max_tokens} if spec.max_tokens else {}),
    )


def spec_available(spec: ProviderSpec) -> bool:
    if spec.kind == ANTHROPIC:
        return bool(spec.api_key)
    return bool(spec.base_url or spec.api_key) or llm_configured()


def _wrap(spec: ProviderSpec, exc: BaseException) -> ProviderError:
    return _fallback(spec, f"{spec.label} failed: {exc}", reason=failure_reason(exc))


def complete_text(spec: ProviderSpec, *, messages: list[dict[str, Any]], temperature: float = 0.2,
                  json_schema: dict | None = None) -> str:
    if not spec_available(spec):
        raise _fallback(spec, f"{spec.kind} is not configured", reason="not configured")
    try:
        if spec.kind == ANTHROPIC:
            return anthropic_api.messages_create(config=_anthropic_config(spec), messages=messages,
                                                 temperature=temperature, json_schema=json_schema)
        return chat_complete(messages=messages, model=spec.model or None, temperature=temperature,
                             response_format_schema=json_schema, timeout=spec.timeout,
                             config=_openai_config(spec), max_retries=spec.max_retries,
                             max_tokens=spec.max_tokens)
    except (LLMError, anthropic_api.AnthropicError) as exc:
        raise _wrap(spec, exc) from exc


def strict_schema(model: type[BaseModel]) -> dict:
    """The model's JSON schema in the form strict structured outputs accept.

    Every property required and ``additionalProperties: false`` at every object level.
    """
    schema = model.model_json_schema()

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for key in ("default", "title"):
                if key in node and not isinstance(node[key], dict):
                    node.pop(key)
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(schema)
    return schema


def complete_structured(spec: ProviderSpec, *, messages: list[dict[str, Any]], output: type[T],
                        attempts: int = 2, temperature: float = 0.1) -> T:
    """A reply validated as ``output``; one more try with the error when the JSON does not fit."""
    schema = strict_schema(output)
    conversation = list(messages)
    last_error: BaseException | None = None
    for _ in range(max(1, attempts)):
        text = complete_text(spec, messages=conversation, temperature=temperature, json_schema=schema)
        try:
            return output.model_validate_json(anthropic_api.extract_json_text(text))
        except ValidationError as exc:
            last_error = exc
            conversation = [*messages, {"role": "assistant", "content": text[:4000]},
                            {"role": "user", "content": "That reply did not match the JSON schema "
                             f"({exc.error_count()} errors). Reply again with valid JSON only."}]
    raise _fallback(spec, f"{spec.label} returned JSON that does not fit {output.__name__}: {last_error}",
                    reason="invalid output")


def stream_text(spec: ProviderSpec, *, messages: list[dict[str, Any]], temperature: float = 0.2) -> Iterator[str]:
    if not spec_available(spec):
        raise _fallback(spec, f"{spec.kind} is not configured", reason="not configured")
    try:
        if spec.kind == ANTHROPIC:
            yield from anthropic_api.messages_stream(config=_anthropic_config(spec), messages=messages,
                                                     temperature=temperature)
        else:
            yield from chat_stream(messages=messages, model=spec.model or None, timeout=spec.timeout,
                                   config=_openai_config(spec), max_tokens=spec.max_tokens)
    except (LLMError, anthropic_api.AnthropicError) as exc:
        raise _wrap(spec, exc) from exc
