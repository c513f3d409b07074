"""API shapes for reports, search, prompts, AI providers, chat and analytics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from ai.models import ProviderKind

# --- reports ----------------------------------------------------------------------------------


class ReportActionItemOut(Schema):
    id: int
    description: str
    assignee_name: str
    assignee_user_id: int | None
    due_date: date | None
    priority: str
    status: str
    origin: str
    provider: str
    confidence: float
    edited_fields: list[str]
    source_segment_id: int | None


class ReportDecisionOut(Schema):
    id: int
    text: str
    origin: str
    provider: str
    confidence: float
    source_segment_ids: list[int] = Field(description="the transcript segments the decision was taken in")

    @staticmethod
    def resolve_source_segment_ids(obj: Any) -> list[int]:
        return sorted(s.pk for s in obj.source_segments.all())


class ReportOut(Schema):
    meeting_id: int
    meeting_title: str
    meeting_date: str
    status: str = Field(description="none | pending | running | done | failed")
    error: str
    provider: str = Field(description='who produced it: "local", "openai:gpt-4o-mini", "local (fallback: ...)"')
    is_partial: bool
    notes: str
    generated_at: datetime | None
    short_summary: str
    detailed_summary: str
    key_points: list[Any]
    topics: list[Any] = Field(description="[{title, start, end, keyphrases, url}]")
    questions: list[Any] = Field(description="[{text, asked_by, at, answered, answer, url}]")
    sentiment: dict[str, Any] = Field(description="{overall, per_participant, timeline}")
    talk_time: list[Any] = Field(description="[{speaker, speaking_seconds, share, turns, longest_monologue_seconds, "
                                             "words, words_per_minute, questions_asked}]")
    follow_up_email: str
    action_items: list[ReportActionItemOut]
    decisions: list[ReportDecisionOut]


class RegenerateIn(Schema):
    provider: ProviderKind = Field(default=ProviderKind.DEFAULT,
                                   description="force one provider for this run; empty uses the company's routing")


class ReportQueuedOut(Schema):
    meeting_id: int
    status: str


# --- search -----------------------------------------------------------------------------------------


class MeetingSearchHitOut(Schema):
    chunk_id: int
    source_type: str
    title: str
    snippet: str
    score: float
    url: str = Field(description="the exact moment: /meetings/<id>/?t=<seconds>#segment-<id>, or the document")
    meeting_id: int | None
    meeting_title: str
    meeting_date: str
    platform: str
    start_time: float | None
    segment_id: int | None
    speakers: list[str]
    document_id: int | None
    page: int | None


class MeetingSearchOut(Schema):
    query: str
    count: int
    hits: list[MeetingSearchHitOut]


# --- chat ----------------------------------------------------------------------------------------------


class ChatThreadIn(Schema):
    title: str = Field(default="", max_length=200)
    meeting_id: int | None = Field(default=None, description="ask about one meeting; omit for all meetings")


class ChatThreadOut(Schema):
    id: int
    title: str
    meeting_id: int | None
    created_at: datetime
    updated_at: datetime


class ChatMessageOut(Schema):
    id: int
    role: str
    content: str
    citations: list[Any]
    provider: str
    status: str
    created_at: datetime


class ChatThreadDetailOut(ChatThreadOut):
    messages: list[ChatMessageOut]


class ChatMessageIn(Schema):
    content: str = Field(min_length=1, max_length=4000)
    stream: bool = Field(default=True, description="true: text/event-stream; false: the stored reply as JSON")

