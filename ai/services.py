"""Writes for prompts and AI provider settings."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Company, User
from ai import selectors
from ai.models import AIProviderSettings, PromptType, PromptVersion, ProviderKind
from ai.prompts import DEFAULT_PROMPTS
from ai.secrets import secret_encrypt

logger = logging.getLogger(__name__)
MAX_PROMPT_CHARS = 20_000

# --- prompts -------------------------------------------------------------------------------------


def _check_type(prompt_type: str) -> None:
    if prompt_type not in PromptType.values:
        raise ValidationError({"prompt_type": f"Unknown prompt type {prompt_type!r}."})


def _next_version(company: Company, prompt_type: str) -> int:
    newest = selectors.prompt_version_list(company=company, prompt_type=prompt_type).first()
    return (newest.version if newest else 0) + 1


def _version_create(*, company: Company, prompt_type: str, body: str, provider: str, model: str, note: str,
                    user: User | None, is_default: bool = False) -> PromptVersion:
    # Two admins saving at once: the unique (company, type, version) constraint makes one retry.
    for _ in range(3):
        try:
            with transaction.atomic():
                version = PromptVersion(company=company, prompt_type=prompt_type,
                                        version=_next_version(company, prompt_type), body=body, provider=provider,
                                        model=model, note=note[:200], created_by=user, is_default=is_default)
                version.full_clean()
                version.save()
                return version
        except IntegrityError:
            continue
    raise ValidationError("The prompt was changed by somebody else at the same time; try again.")


def prompt_save(*, company: Company, prompt_type: str, body: str, provider: str = "", model: str = "",
                user: User | None = None, note: str = "Edited") -> PromptVersion:
    """Save a new version of a company's prompt; it becomes the active one."""
    _check_type(prompt_type)
    body = body.strip()
    if not body:
        raise ValidationError({"body": "The prompt cannot be empty."})
    if len(body) > MAX_PROMPT_CHARS:
        raise ValidationError({"body": f"Keep the prompt under {MAX_PROMPT_CHARS} characters."})
    if provider not in ProviderKind.values:
        raise ValidationError({"provider": f"Unknown provider {provider!r}."})
    return _version_create(company=company, prompt_type=prompt_type, body=body, provider=provider,
                           model=model.strip()[:200], note=note, user=user,
                           is_default=body == DEFAULT_PROMPTS[prompt_type].strip())


def prompt_revert(*, company: Company, prompt_type: str, to_version: int | None = None,
                  user: User | None = None) -> PromptVersion:
    """Make the built-in default (``to_version`` None) or an earlier version active again.

    Reverting adds a new version (history is never rewritten). Reverting to the default keeps
    the active provider and model choice; reverting to a version restores that version's.
    """
    _check_type(prompt_type)
    if to_version is None:
        active = selectors.prompt_for(company=company, prompt_type=prompt_type)
        return _version_create(company=company, prompt_type=prompt_type, body=DEFAULT_PROMPTS[prompt_type],
                               provider=active.provider, model=active.model, note="Reverted to the default",
                               user=user, is_default=True)
    old = selectors.prompt_version_get(company=company, prompt_type=prompt_type, version=to_version)
    return _version_create(company=company, prompt_type=prompt_type, body=old.body, provider=old.provider,
                           model=old.model, note=f"Reverted to version {old.version}", user=user,
                           is_default=old.is_default)


# --- provider settings -----------------------------------------------------------------------------

def provider_settings_update(
    *,
    company: Company,
    user: User | None = None,
    default_provider: str | None = None,
    openai_base_url: str | None = None,
    openai_model: str | None = None,
    openai_api_key: str | None = None,
    anthropic_base_url: str | None = None,
    anthropic_model: str | None = None,
    anthropic_api_key: str | None = None,
    timeout_seconds: float | None = None,
) -> AIProviderSettings:
    """Change the company's AI providers. ``None`` keeps a field; an API key of "" removes the key.

    Keys are write-only: they are stored encrypted and no read returns them.
    """
    with transaction.atomic():
        row = (AIProviderSettings.objects.for_company(company).select_for_update().first()
               or AIProviderSettings(company=company))
        plain = {"default_provider": default_provider, "openai_base_url": openai_base_url,
                 "openai_model": openai_model, "anthropic_base_url": anthropic_base_url,
                 "anthropic_model": anthropic_model, "timeout_seconds": timeout_seconds}
        for name, value in plain.items():
            if value is not None:
                setattr(row, name, value.strip() if isinstance(value, str) else value)
        if openai_api_key is not None:
            row.openai_api_key_encrypted = secret_encrypt(openai_api_key.strip())
        if anthropic_api_key is not None:
            row.anthropic_api_key_encrypted = secret_encrypt(anthropic_api_key.strip())
        if not 1 <= float(row.timeout_seconds) <= 600:
            raise ValidationError({"timeout_seconds": "Choose a timeout between 1 and 600 seconds."})
        row.updated_by = user
        row.full_clean()
        row.save()
    return row
