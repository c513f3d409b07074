"""API shapes for prompts and AI providers."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from ai.models import ProviderKind


class PromptVersionOut(Schema):
    version: int
    body: str
    provider: str
    model: str
    note: str
    is_default: bool
    created_by: str | None
    created_at: datetime | None


class PromptOut(Schema):
    prompt_type: str
    label: str
    version: int = Field(description="0: the built-in default")
    body: str
    provider: str
    model: str
    default_body: str
    versions: list[PromptVersionOut] = []


class PromptIn(Schema):
    body: str = Field(min_length=1, max_length=20_000)
    provider: ProviderKind = ProviderKind.DEFAULT
    model: str = Field(default="", max_length=200)


class PromptRevertIn(Schema):
    version: int | None = Field(default=None, description="omit to go back to the built-in default")


class ProviderSettingsOut(Schema):
    default_provider: str
    openai_base_url: str
    openai_model: str
    openai_api_key_set: bool
    anthropic_base_url: str
    anthropic_model: str
    anthropic_api_key_set: bool
    timeout_seconds: float
    global_llm_configured: bool


class ProviderSettingsIn(Schema):
    default_provider: ProviderKind | None = None
    openai_base_url: str | None = Field(default=None, max_length=500)
    openai_model: str | None = Field(default=None, max_length=200)
    openai_api_key: str | None = Field(default=None, max_length=500,
                                       description='write-only; "" removes the stored key')
    anthropic_base_url: str | None = Field(default=None, max_length=500)
    anthropic_model: str | None = Field(default=None, max_length=200)
    anthropic_api_key: str | None = Field(default=None, max_length=500,
                                          description='write-only; "" removes the stored key')
    timeout_seconds: float | None = Field(default=None, ge=1, le=600)


