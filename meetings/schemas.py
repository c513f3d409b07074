"""API shapes for meetings, participants, transcripts and what the analysis found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from meetings.exports import ExportFormat
from meetings.models import ActionItem, CaptureGap, FactCheck, Meeting, Participant, Suggestion
from meetings.selectors import action_item_assignee_label, action_item_is_overdue

# --- meetings ------------------------------------------------------------------------------


class MeetingIn(Schema):
    title: str = Field(min_length=1, max_length=300)
    platform: Meeting.Platform = Meeting.Platform.OTHER
    kind: Meeting.Kind = Meeting.Kind.INTERNAL
    meeting_url: str = Field(default="", max_length=1000)
    calendar_event_id: str = Field(default="", max_length=300)
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    language: str = Field(default="", max_length=16, description="BCP-47 code; empty means detect")


class MeetingJoinIn(Schema):
    meeting_url: str = Field(min_length=1, max_length=1000, description="The call's link, e.g. https://meet.google.com/abc-defg-hij")
    title: str = Field(min_length=1, max_length=300, description="Used when a new meeting is created")
    platform: Meeting.Platform = Meeting.Platform.OTHER


class CaptureGapIn(Schema):
    client_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:~-]{1,64}$")
    reason: CaptureGap.Reason
    started_at: datetime
    ended_at: datetime | None = None


class CoverageGapOut(Schema):
    start: float = Field(description="seconds from the meeting's start")
    end: float
    reason: str = Field(description="captions_off | page_changed | no_captions (reported); silence (server)")
    label: str
    source: str = Field(description="client | server")


class MeetingPatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    platform: Meeting.Platform | None = None
    kind: Meeting.Kind | None = None
    meeting_url: str | None = Field(default=None, max_length=1000)
    calendar_event_id: str | None = Field(default=None, max_length=300)
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    language: str | None = Field(default=None, max_length=16)


class MeetingOut(Schema):
    id: int
    title: str
    platform: str
    kind: str
    status: str
    meeting_url: str
    calendar_event_id: str
    language: str
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None = None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_duration_seconds(obj: Meeting) -> float | None:
        if obj.started_at and obj.ended_at:
            return round((obj.ended_at - obj.started_at).total_seconds(), 3)
        return None


class MeetingFilters(Schema):
    status: Meeting.Status | None = None
    platform: Meeting.Platform | None = None
    kind: Meeting.Kind | None = None
    q: str | None = Field(default=None, max_length=200, description="Words in the title")
    started_from: date | None = Field(default=None, description="Started on or after this day")
    started_to: date | None = Field(default=None, description="Started on or before this day")
    created_from: date | None = None
    created_to: date | None = None


# --- participants --------------------------------------------------------------------------


class ParticipantIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    # Checked by the model's EmailField (pydantic's EmailStr refuses reserved domains such as .test).
    email: str | None = Field(default=None, max_length=254)
    role: Participant.Role = Participant.Role.UNKNOWN
    user_id: int | None = Field(default=None, description="Link to a member of your company")
    speaker_label: str = Field(default="", max_length=100)


class ParticipantPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200,
                             description="Renames the speaker on every segment of the meeting")
    email: str | None = Field(default=None, max_length=254)
    role: Participant.Role | None = None
    user_id: int | None = None


class ParticipantOut(Schema):
    id: int
    meeting_id: int
    name: str
    email: str
    role: str
    user_id: int | None
    speaker_label: str
    joined_at: datetime | None
    left_at: datetime | None
    speaking_seconds: float
    participation_score: float


class SpeakerRenameIn(Schema):
    old_label: str = Field(min_length=1, max_length=200)
    new_name: str = Field(min_length=1, max_length=200)


class SpeakerRenameOut(Schema):
    renamed_segments: int


# --- transcript ----------------------------------------------------------------------------


class SegmentOut(Schema):
    id: int
    sequence: int
    speaker_label: str
    participant_id: int | None
    text: str
    start_time: float
    end_time: float
    is_final: bool
    confidence: float | None
    source: str
    created_at: datetime


class TranscriptQuery(Schema):
    include_interim: bool = False


class ExportQuery(Schema):
    format: ExportFormat = ExportFormat.TXT


# --- action items --------------------------------------------------------------------------


class ActionItemIn(Schema):
    description: str = Field(min_length=1, max_length=5000)
    assignee_user_id: int | None = None
    assignee_participant_id: int | None = None
    assignee_name: str = Field(default="", max_length=200, description="Free text when no member or participant fits")
    due_date: date | None = None
    priority: ActionItem.Priority = ActionItem.Priority.MEDIUM
    status: ActionItem.Status = ActionItem.Status.PENDING


class ActionItemPatch(Schema):
    """Only the fields sent change. Sending any assignee field replaces the whole assignment."""

    description: str | None = Field(default=None, min_length=1, max_length=5000)
    assignee_user_id: int | None = None
    assignee_participant_id: int | None = None
    assignee_name: str | None = Field(default=None, max_length=200)
    due_date: date | None = None
    priority: ActionItem.Priority | None = None
    status: ActionItem.Status | None = None


class ActionItemOut(Schema):
    id: int
    meeting_id: int
    meeting_title: str
    description: str
    assignee_user_id: int | None
    assignee_participant_id: int | None
    assignee_name: str
    assignee_label: str
    due_date: date | None
    is_overdue: bool
    priority: str
    status: str
    confidence: float
    review: str = Field(description="confirmed, or suggested (under the company's confidence threshold: "
                                    "confirm or dismiss it), or dismissed")
    origin: str
    provider: str
    source_segment_id: int | None
    edited_fields: list[str]
    sync_state: dict[str, Any]
    external_ids: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_meeting_title(obj: ActionItem) -> str:
        return obj.meeting.title

    @staticmethod
    def resolve_assignee_label(obj: ActionItem) -> str:
        return action_item_assignee_label(obj)

    @staticmethod
    def resolve_is_overdue(obj: ActionItem) -> bool:
        return action_item_is_overdue(obj)


class ActionItemFilters(Schema):
    mine: bool = Field(default=False, description="Assigned to me (directly or through a linked participant)")
    overdue: bool = Field(default=False, description="Due before today and not done or cancelled")
    status: ActionItem.Status | None = None
    meeting: int | None = Field(default=None, description="Meeting id")
    assignee: int | None = Field(default=None, description="Assigned member's user id")
    assignee_participant: int | None = None
    priority: ActionItem.Priority | None = None
    due_from: date | None = None
    due_to: date | None = None
    q: str | None = Field(default=None, max_length=200)
    review: ActionItem.Review | None = Field(default=None, description="Only confirmed, suggested or dismissed "
                                             "items (default: all but dismissed; mine/overdue: confirmed)")


class ReviewIn(Schema):
    review: Literal["confirmed", "dismissed"]


class DecisionFilters(Schema):
    review: ActionItem.Review | None = Field(default=None, description="default: all but dismissed")


# --- what the analysis found ---------------------------------------------------------------


class DecisionOut(Schema):
    id: int
    meeting_id: int
    text: str
    confidence: float
    review: str
    origin: str
    provider: str
    source_segment_ids: list[int]
    created_at: datetime

    @staticmethod
    def resolve_source_segment_ids(obj: Any) -> list[int]:
        return [s.pk for s in obj.source_segments.all()]


class FactCheckOut(Schema):
    id: int
    meeting_id: int
    segment_id: int | None
    claim: str
    claimed_value: str
    verdict: str
    corrected_value: str
    confidence: float
    source: dict[str, Any]
    provider: str
    created_at: datetime


class FactCheckFilters(Schema):
    verdict: FactCheck.Verdict | None = None


class SuggestionOut(Schema):
    id: int
    meeting_id: int
    segment_id: int | None
    kind: str
    question: str
    answer: str
    sources: list[Any]
    confidence: str
    latency_ms: float | None
    provider: str
    asked_by_id: int | None
    audio_url: str
    created_at: datetime


class SuggestionFilters(Schema):
    kind: Suggestion.Kind | None = None
