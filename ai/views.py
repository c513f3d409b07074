"""Dashboard pages for prompts and AI providers (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.decorators import principal_required
from accounts.permissions import Perm
from ai import selectors, services
from ai.models import PromptType, ProviderKind
from ai.prompts import DEFAULT_PROMPTS
from integrations.llm.client import llm_configured

PROMPTS = "ai/prompts.html"
PROMPT = "ai/prompt_edit.html"


@principal_required(perm=Perm.SETTINGS_MANAGE)
def prompts_page(request: HttpRequest) -> HttpResponse:
    p = request.principal
    row = selectors.provider_settings_get(company=p.company)
    if request.method == "POST":
        try:
            services.provider_settings_update(
                company=p.company, user=p.user,
                default_provider=request.POST.get("default_provider", ""),
                openai_base_url=request.POST.get("openai_base_url", ""),
                openai_model=request.POST.get("openai_model", ""),
                # Keys are write-only: an empty box keeps the stored key, the checkbox removes it.
                openai_api_key="" if request.POST.get("openai_api_key_clear") else
                (request.POST.get("openai_api_key") or None),
                anthropic_base_url=request.POST.get("anthropic_base_url", ""),
                anthropic_model=request.POST.get("anthropic_model", ""),
                anthropic_api_key="" if request.POST.get("anthropic_api_key_clear") else
                (request.POST.get("anthropic_api_key") or None),
                timeout_seconds=float(request.POST.get("timeout_seconds") or 60),
            )
        except (ValidationError, ValueError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else "Enter a number of seconds."
            messages.error(request, f"Not saved: {text}")
        else:
            messages.success(request, "AI provider settings saved.")
            return redirect("ai:prompts")
    context = {"prompts": selectors.prompt_overview(company=p.company), "settings_row": row,
               "provider_choices": ProviderKind.choices, "global_llm": llm_configured()}
    return render(request, PROMPTS, context)


@principal_required(perm=Perm.SETTINGS_MANAGE)
def prompt_edit(request: HttpRequest, prompt_type: str) -> HttpResponse:
    p = request.principal
    if prompt_type not in PromptType.values:
        raise Http404
    if request.method == "POST":
        try:
            if "revert" in request.POST:
                raw = request.POST.get("revert")
                version = int(raw) if raw and raw != "default" else None
                services.prompt_revert(company=p.company, prompt_type=prompt_type, to_version=version, user=p.user)
                messages.success(request, "Reverted." if version else "Back to the built-in prompt.")
            else:
                services.prompt_save(company=p.company, prompt_type=prompt_type, body=request.POST.get("body", ""),
                                     provider=request.POST.get("provider", ""),
                                     model=request.POST.get("model", ""), user=p.user)
                messages.success(request, "Saved as a new version. It is used from now on.")
            return redirect("ai:prompt_edit", prompt_type=prompt_type)
        except (ValidationError, ValueError) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    context = {
        "prompt_type": prompt_type,
        "label": PromptType(prompt_type).label,
        "active": selectors.prompt_for(company=p.company, prompt_type=prompt_type),
        "versions": list(selectors.prompt_version_list(company=p.company, prompt_type=prompt_type)[:50]),
        "default_body": DEFAULT_PROMPTS[prompt_type],
        "provider_choices": ProviderKind.choices,
    }
    return render(request, PROMPT, context)
