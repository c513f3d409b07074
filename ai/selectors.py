"""Reads for prompts, provider settings and chat threads. The company always comes first."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Company, User
from ai.models import AIProviderSettings, ChatMessage, ChatThread, PromptType, PromptVersion
from ai.prompts import ResolvedPrompt, default_prompt

# --- prompts ---------------------------------------------------------------------------------


def prompt_version_list(*, company: Company, prompt_type: str) -> QuerySet[PromptVersion]:
    return (PromptVersion.objects.for_company(company).filter(prompt_type=prompt_type)
            .select_related("created_by").order_by("-version"))


def prompt_version_get(*, company: Company, prompt_type: str, version: int) -> PromptVersion:
    return get_object_or_404(prompt_version_list(company=company, prompt_type=prompt_type), version=version)


def prompt_for(*, company: Company | None, prompt_type: str) -> ResolvedPrompt:
    """The prompt to use now for ``prompt_type``: the company's newest version, else the built-in one.

    Other parts of the product (knowledge answers, the live pipeline) call this.
    """
    if prompt_type not in PromptType.values:
        raise ValueError(f"Unknown prompt type {prompt_type!r}")
    if company is None:
        return default_prompt(prompt_type)
    newest = prompt_version_list(company=company, prompt_type=prompt_type).first()
    if newest is None:
        return default_prompt(prompt_type)
    return ResolvedPrompt(body=newest.body, provider=newest.provider, model=newest.model, version=newest.version,
                          prompt_type=prompt_type)


def prompt_overview(*, company: Company) -> list[dict]:
    """Every prompt type with its active prompt and how many versions exist."""
    counts: dict[str, int] = {}
    for row in PromptVersion.objects.for_company(company).values("prompt_type"):
        counts[row["prompt_type"]] = counts.get(row["prompt_type"], 0) + 1
    return [
        {"prompt_type": value, "label": label, "active": prompt_for(company=company, prompt_type=value),
         "version_count": counts.get(value, 0)}
        for value, label in PromptType.choices
    ]


# --- provider settings -----------------------------------------------------------------------


def provider_settings_get(*, company: Company) -> AIProviderSettings | None:
    return AIProviderSettings.objects.for_company(company).first()


# --- chat --------------------------------------------------------------------------------------


def chat_thread_list(*, company: Company, user: User) -> QuerySet[ChatThread]:
    return ChatThread.objects.for_company(company).filter(user=user).select_related("meeting")


def chat_thread_get(*, company: Company, user: User, thread_id: int) -> ChatThread:
    """Your own thread only: somebody else's thread is a 404, like another company's."""
    return get_object_or_404(chat_thread_list(company=company, user=user), pk=thread_id)


def chat_message_list(*, thread: ChatThread) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.for_company(thread.company_id).filter(thread=thread).order_by("created_at", "id")
