"""Prompts, AI provider settings and chat threads.

The after-meeting output itself lives in ``meetings.MeetingReport`` (and the action items and
decisions it merges into); this app adds what is needed to produce it and to ask about it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.tenancy import TenantModel


class PromptType(models.TextChoices):
    SUMMARY = "summary", "Meeting summary"
    ACTION_ITEMS = "action_items", "Action items"
    DECISIONS = "decisions", "Decisions"
    FACT_CHECK = "fact_check", "Fact check"
    ANSWER = "answer", "Answer a question"
    SUGGESTION = "suggestion", "Suggested answer to a customer"
    FOLLOW_UP_EMAIL = "follow_up_email", "Follow-up email"


class ProviderKind(models.TextChoices):
    # "" on a prompt means "the company's default provider".
    DEFAULT = "", "Company default"
    LOCAL = "local", "Local (no external AI)"
    OPENAI = "openai", "OpenAI-compatible (OpenAI, Ollama, vLLM, ...)"
    ANTHROPIC = "anthropic", "Anthropic"


class PromptVersion(TenantModel):
    """One saved edit of a company's prompt. The newest version of a type is the active one."""

    prompt_type = models.CharField(max_length=30, choices=PromptType.choices)
    version = models.PositiveIntegerField()
    body = models.TextField()
    provider = models.CharField(max_length=20, choices=ProviderKind.choices, blank=True)
    model = models.CharField(max_length=200, blank=True)
    # Why this version exists ("Edited", "Reverted to the default", "Reverted to version 3").
    note = models.CharField(max_length=200, blank=True)
    is_default = models.BooleanField(default=False, help_text="the body is the built-in default")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt_type", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["company", "prompt_type", "version"], name="prompt_version_unique"),
        ]


class AIProviderSettings(TenantModel):
    """A company's AI providers. API keys are stored encrypted and never shown again."""

    default_provider = models.CharField(max_length=20, choices=ProviderKind.choices, blank=True,
                                        help_text="empty: OpenAI-compatible when configured, else local")
    openai_base_url = models.URLField(max_length=500, blank=True)
    openai_model = models.CharField(max_length=200, blank=True)
    openai_api_key_encrypted = models.TextField(blank=True)
    anthropic_base_url = models.URLField(max_length=500, blank=True)
    anthropic_model = models.CharField(max_length=200, blank=True)
    anthropic_api_key_encrypted = models.TextField(blank=True)
    timeout_seconds = models.FloatField(default=60)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "AI provider settings"
        constraints = [models.UniqueConstraint(fields=["company"], name="ai_provider_settings_one_per_company")]


class ChatThread(TenantModel):
    """A conversation one person has with their meetings (one meeting, or all of them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey("meetings.Meeting", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["company", "user", "-updated_at"])]


class ChatMessage(TenantModel):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        STREAMING = "streaming", "Streaming"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    thread = models.ForeignKey(ChatThread, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=20, choices=Role.choices)
    content = models.TextField(blank=True)
    # [{n, source_type, meeting_id, meeting_title, segment_id, start_time, url, document_id, title, page, snippet}]
    citations = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DONE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
