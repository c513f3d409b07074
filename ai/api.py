"""REST API: prompts and their versions, and the company's AI providers (admins only)."""

from __future__ import annotations

from typing import Any

from ninja import Router, Status

from accounts.permissions import Perm, require
from ai import selectors, services
from ai.models import PromptType
from ai.prompts import DEFAULT_PROMPTS
from ai.schemas import PromptIn, PromptOut, PromptRevertIn, ProviderSettingsIn, ProviderSettingsOut
from integrations.llm.client import llm_configured
from meetpilot.apikit import ApiError, ErrorOut

router = Router(tags=["ai"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# --- prompts and AI providers ------------------------------------------------------------------------


def _prompt_type(prompt_type: str) -> str:
    if prompt_type not in PromptType.values:
        raise ApiError(404, "not_found", "Not found.")
    return prompt_type


def _prompt_payload(company, prompt_type: str, *, with_versions: bool) -> dict[str, Any]:
    active = selectors.prompt_for(company=company, prompt_type=prompt_type)
    out = {"prompt_type": prompt_type, "label": PromptType(prompt_type).label, "version": active.version,
           "body": active.body, "provider": active.provider, "model": active.model,
           "default_body": DEFAULT_PROMPTS[prompt_type], "versions": []}
    if with_versions:
        out["versions"] = [
            {"version": v.version, "body": v.body, "provider": v.provider, "model": v.model, "note": v.note,
             "is_default": v.is_default, "created_at": v.created_at,
             "created_by": (v.created_by.email if v.created_by else None)}
            for v in selectors.prompt_version_list(company=company, prompt_type=prompt_type)
        ]
    return out


@router.get("/prompts", response={200: list[PromptOut], **ERRORS})
def prompt_list(request):
    """Every prompt type with its active prompt (version 0 is the built-in default)."""
    require(request.auth, Perm.SETTINGS_MANAGE)
    return [_prompt_payload(request.auth.company, t, with_versions=False) for t in PromptType.values]


@router.get("/prompts/{prompt_type}", response={200: PromptOut, **ERRORS})
def prompt_get(request, prompt_type: str):
    require(request.auth, Perm.SETTINGS_MANAGE)
    return _prompt_payload(request.auth.company, _prompt_type(prompt_type), with_versions=True)


@router.post("/prompts/{prompt_type}", response={201: PromptOut, **ERRORS})
def prompt_save(request, prompt_type: str, payload: PromptIn):
    """Save a new version; it becomes the active prompt."""
    require(request.auth, Perm.SETTINGS_MANAGE)
    services.prompt_save(company=request.auth.company, prompt_type=_prompt_type(prompt_type), body=payload.body,
                         provider=payload.provider, model=payload.model, user=request.auth.user)
    return Status(201, _prompt_payload(request.auth.company, prompt_type, with_versions=True))


@router.post("/prompts/{prompt_type}/revert", response={201: PromptOut, **ERRORS})
def prompt_revert(request, prompt_type: str, payload: PromptRevertIn):
    """Back to the built-in default (no ``version``) or to an earlier version, as a new version."""
    require(request.auth, Perm.SETTINGS_MANAGE)
    services.prompt_revert(company=request.auth.company, prompt_type=_prompt_type(prompt_type),
                           to_version=payload.version, user=request.auth.user)
    return Status(201, _prompt_payload(request.auth.company, prompt_type, with_versions=True))


def provider_settings_payload(company) -> dict[str, Any]:
    row = selectors.provider_settings_get(company=company)
    return {
        "default_provider": row.default_provider if row else "",
        "openai_base_url": row.openai_base_url if row else "",
        "openai_model": row.openai_model if row else "",
        "openai_api_key_set": bool(row and row.openai_api_key_encrypted),
        "anthropic_base_url": row.anthropic_base_url if row else "",
        "anthropic_model": row.anthropic_model if row else "",
        "anthropic_api_key_set": bool(row and row.anthropic_api_key_encrypted),
        "timeout_seconds": row.timeout_seconds if row else 60.0,
        "global_llm_configured": llm_configured(),
    }


@router.get("/ai/providers", response={200: ProviderSettingsOut, **ERRORS})
def provider_settings_get(request):
    """The company's AI providers. API keys are never returned, only whether one is set."""
    require(request.auth, Perm.SETTINGS_MANAGE)
    return provider_settings_payload(request.auth.company)


@router.patch("/ai/providers", response={200: ProviderSettingsOut, **ERRORS})
def provider_settings_update(request, payload: ProviderSettingsIn):
    require(request.auth, Perm.SETTINGS_MANAGE)
    services.provider_settings_update(company=request.auth.company, user=request.auth.user,
                                      **payload.dict(exclude_unset=True))
    return provider_settings_payload(request.auth.company)
