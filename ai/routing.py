"""Which AI provider answers which prompt, for one company.

Order of precedence for a prompt type:
1. the provider and model chosen on the company's active prompt version;
2. the company's default provider (AI provider settings);
3. automatic: the company's OpenAI-compatible endpoint, else the global ``LLM_*`` settings,
   else the local analysis (no keys, no network).

A provider that is chosen but not configured (no key, no URL) routes to local, and the route
says why, so the result can be recorded as "local (fallback: anthropic not configured)".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Company
from ai import selectors
from ai.models import AIProviderSettings, ProviderKind
from ai.prompts import ResolvedPrompt, default_prompt
from ai.secrets import secret_decrypt
from integrations.llm.anthropic import DEFAULT_BASE_URL as ANTHROPIC_DEFAULT_URL
from integrations.llm.anthropic import DEFAULT_MODEL as ANTHROPIC_DEFAULT_MODEL
from integrations.llm.client import llm_configured
from integrations.llm.providers import ANTHROPIC, OPENAI, ProviderSpec

LOCAL = "local"


@dataclass(frozen=True)
class Route:
    prompt: ResolvedPrompt
    spec: ProviderSpec | None  # None: the local analysis
    unavailable: str = ""  # why a chosen provider could not be used ("anthropic not configured")

    @property
    def label(self) -> str:
        if self.spec is not None:
            return self.spec.label
        return f"{LOCAL} (fallback: {self.unavailable})" if self.unavailable else LOCAL

    @property
    def provider_name(self) -> str:
        return self.spec.kind if self.spec is not None else LOCAL


def _openai_spec(row: AIProviderSettings | None, model: str, timeout: float) -> ProviderSpec | None:
    if row is not None and row.openai_base_url:
        return ProviderSpec(kind=OPENAI, model=model or row.openai_model or settings.LLM_MODEL,
                            base_url=row.openai_base_url, api_key=secret_decrypt(row.openai_api_key_encrypted),
                            timeout=timeout)
    if row is not None and row.openai_api_key_encrypted:
        # A key without a URL: the official OpenAI endpoint.
        return ProviderSpec(kind=OPENAI, model=model or row.openai_model or settings.LLM_MODEL,
                            base_url="https://api.openai.com/v1",
                            api_key=secret_decrypt(row.openai_api_key_encrypted), timeout=timeout)
    if llm_configured():
        return ProviderSpec(kind=OPENAI, model=model or (row.openai_model if row else "") or settings.LLM_MODEL,
                            timeout=timeout)
    return None


def _anthropic_spec(row: AIProviderSettings | None, model: str, timeout: float) -> ProviderSpec | None:
    key = secret_decrypt(row.anthropic_api_key_encrypted) if row is not None else ""
    key = key or getattr(settings, "ANTHROPIC_API_KEY", "")
    if not key:
        return None
    return ProviderSpec(kind=ANTHROPIC, model=model or (row.anthropic_model if row else "") or ANTHROPIC_DEFAULT_MODEL,
                        base_url=(row.anthropic_base_url if row else "") or ANTHROPIC_DEFAULT_URL,
                        api_key=key, timeout=timeout)


def _capped(spec: ProviderSpec | None) -> ProviderSpec | None:
    # LLM_MAX_OUTPUT_TOKENS caps every reply (cost, and a small local model that runs on until its timeout).
    if spec is None or not settings.LLM_MAX_OUTPUT_TOKENS:
        return spec
    return dataclasses.replace(spec, max_tokens=settings.LLM_MAX_OUTPUT_TOKENS)


def route_resolve(*, prompt: ResolvedPrompt, row: AIProviderSettings | None, provider: str = "",
                  model: str = "") -> Route:
    """The route for an already-resolved prompt; ``provider``/``model`` override the prompt's choice."""
    timeout = float(row.timeout_seconds) if row is not None else float(settings.LLM_TIMEOUT)
    chosen = provider or prompt.provider or (row.default_provider if row is not None else "")
    # The prompt's model belongs to the prompt's provider; a forced other provider uses its own default.
    model = model or (prompt.model if not provider or provider == prompt.provider else "")
    if chosen == ProviderKind.LOCAL:
        return Route(prompt=prompt, spec=None)
    if chosen == ProviderKind.ANTHROPIC:
        spec = _capped(_anthropic_spec(row, model, timeout))
        return Route(prompt=prompt, spec=spec, unavailable="" if spec else "anthropic not configured")
    spec = _capped(_openai_spec(row, model, timeout))
    if chosen == ProviderKind.OPENAI and spec is None:
        return Route(prompt=prompt, spec=None, unavailable="openai not configured")
    return Route(prompt=prompt, spec=spec)  # automatic: OpenAI-compatible when configured, else local


def route_for(*, company: Company | None, prompt_type: str, provider: str = "", model: str = "") -> Route:
    """The provider, model and prompt to use for ``prompt_type`` (``company=None``: global settings)."""
    if company is None:
        return route_resolve(prompt=default_prompt(prompt_type), row=None, provider=provider, model=model)
    return route_resolve(prompt=selectors.prompt_for(company=company, prompt_type=prompt_type),
                         row=selectors.provider_settings_get(company=company), provider=provider, model=model)
