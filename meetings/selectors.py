"""Reads for meetings. The company always comes first; a foreign id is a 404 like a missing one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Company, Membership, User
from meetings.models import (
    ActionItem,
    Decision,
    FactCheck,
    Meeting,
    MeetingReport,
    Participant,
    Suggestion,
    TranscriptSegment,
)

# Action items still waiting for someone; only these can be overdue.
OPEN_ACTION_ITEM_STATUSES = (ActionItem.Status.PENDING, ActionItem.Status.IN_PROGRESS)


def _count_of(model: type, **filters: object) -> Coalesce:
    """A correlated COUNT per meeting (cheaper and safer than joining several child tables)."""
    counted = (
        model.objects.filter(meeting=OuterRef("pk"), **filters)
        .order_by()
        .values("meeting")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- meetings ------------------------------------------------------------------------------


def meeting_get(*, company: Company, meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.for_company(company), pk=meeting_id)


def meeting_for_link(*, company: Company, meeting_url: str, around: datetime,
                     window: timedelta = timedelta(hours=12)) -> Meeting | None:
    """The meeting a client at ``meeting_url`` belongs to: the one in progress there, else the one scheduled
    there closest to ``around`` (within ``window``, or with no time), else None. Ended meetings never match:
    a recurring link gets a new meeting each time."""
    at_link = Meeting.objects.for_company(company).filter(meeting_url=meeting_url)
    active = at_link.filter(status=Meeting.Status.ACTIVE).order_by("-started_at", "-pk").first()
    if active is not None:
        return active
    scheduled = at_link.filter(status=Meeting.Status.SCHEDULED).filter(
        Q(scheduled_start__isnull=True) | Q(scheduled_start__range=(around - window, around + window)))
    return min(scheduled, key=lambda m: (m.scheduled_start is None,
                                         abs((m.scheduled_start - around).total_seconds()) if m.scheduled_start else 0),
               default=None)


def meeting_list(
    *,
    company: Company,
    status: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    started_from: date | None = None,
    started_to: date | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    with_counts: bool = False,
) -> QuerySet[Meeting]:
    """Meetings, newest first. Date bounds are inclusive calendar days in the site's time zone."""
    queryset = Meeting.objects.for_company(company).select_related("created_by")
    if status:
        queryset = queryset.filter(status=status)
    if platform:
        queryset = queryset.filter(platform=platform)
    if kind:
        queryset = queryset.filter(kind=kind)
    if q and q.strip():
        queryset = queryset.filter(title__icontains=q.strip())
    if started_from:
        queryset = queryset.filter(started_at__date__gte=started_from)
    if started_to:
        queryset = queryset.filter(started_at__date__lte=started_to)
    if created_from:
        queryset = queryset.filter(created_at__date__gte=created_from)
    if created_to:
        queryset = queryset.filter(created_at__date__lte=created_to)
    if with_counts:
        queryset = queryset.annotate(
            participant_count=_count_of(Participant),
            segment_count=_count_of(TranscriptSegment, is_final=True),
            open_action_item_count=_count_of(ActionItem, status__in=OPEN_ACTION_ITEM_STATUSES,
                                             review=ActionItem.Review.CONFIRMED),
        )
    return queryset.order_by("-created_at", "-pk")


def meeting_report_get(*, company: Company, meeting: Meeting) -> MeetingReport | None:
    assert meeting.company_id == company.pk
    return MeetingReport.objects.for_company(company).filter(meeting=meeting).first()


# --- participants and people ---------------------------------------------------------------


def participant_list(*, company: Company, meeting: Meeting) -> QuerySet[Participant]:
    assert meeting.company_id == company.pk
    return Participant.objects.for_company(company).filter(meeting=meeting).select_related("user").order_by("name")


def participant_get(*, company: Company, meeting: Meeting, participant_id: int) -> Participant:
    """A participant of this meeting; one of another meeting or company is a 404."""
    return get_object_or_404(participant_list(company=company, meeting=meeting), pk=participant_id)


def company_member_list(*, company: Company) -> list[User]:
    """The people who can be assigned work or linked to a participant."""
    memberships = Membership.objects.for_company(company).select_related("user").order_by("user__full_name",
                                                                                            "user__email")
    return [m.user for m in memberships]


def company_member_get(*, company: Company, user_id: int) -> User | None:
    membership = Membership.objects.for_company(company).select_related("user").filter(user_id=user_id).first()
    return membership.user if membership else None


# --- transcript ----------------------------------------------------------------------------


def segment_list(*, company: Company, meeting: Meeting, include_interim: bool = False) -> QuerySet[TranscriptSegment]:
    """The meeting's transcript in spoken order; interim (still changing) captions only when asked."""
    assert meeting.company_id == company.pk
    queryset = TranscriptSegment.objects.for_company(company).filter(meeting=meeting)
    if not include_interim:
        queryset = queryset.filter(is_final=True)
    return queryset.order_by("sequence")


def speaker_labels(*, company: Company, meeting: Meeting) -> list[str]:
    """Distinct speaker labels in the transcript, in order of first appearance."""
    rows = (
        segment_list(company=company, meeting=meeting, include_interim=True)
        .exclude(speaker_label="")
        .order_by()
        .values("speaker_label")
        .annotate(first_sequence=Min("sequence"))
        .order_by("first_sequence")
    )
    return [r["speaker_label"] for r in rows]


# --- action items --------------------------------------------------------------------------


def action_item_list(
    *,
    company: Company,
    meeting: Meeting | None = None,
    assigned_to: User | None = None,
    overdue: bool = False,
    status: str | None = None,
    assignee_user_id: int | None = None,
    assignee_participant_id: int | None = None,
    priority: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    q: str | None = None,
    review: str | None = None,
) -> QuerySet[ActionItem]:
    """Action items across meetings (or of one). ``assigned_to`` is "mine": directly, or through a
    participant linked to that user. Dismissed suggestions are left out unless ``review`` asks for them;
    "mine" and "overdue" are tasks, so only confirmed items."""
    queryset = ActionItem.objects.for_company(company).select_related(
        "meeting", "assignee_user", "assignee_participant"
    )
    if review:
        queryset = queryset.filter(review=review)
    elif assigned_to is not None or overdue:
        queryset = queryset.filter(review=ActionItem.Review.CONFIRMED)
    else:
        queryset = queryset.exclude(review=ActionItem.Review.DISMISSED)
    if meeting is not None:
        assert meeting.company_id == company.pk
        queryset = queryset.filter(meeting=meeting)
    if assigned_to is not None:
        queryset = queryset.filter(Q(assignee_user=assigned_to) | Q(assignee_participant__user=assigned_to))
    if overdue:
        queryset = queryset.filter(due_date__lt=timezone.localdate(), status__in=OPEN_ACTION_ITEM_STATUSES)
    if status:
        queryset = queryset.filter(status=status)
    if assignee_user_id is not None:
        queryset = queryset.filter(assignee_user_id=assignee_user_id)
    if assignee_participant_id is not None:
        queryset = queryset.filter(assignee_participant_id=assignee_participant_id)
    if priority:
        queryset = queryset.filter(priority=priority)
    if due_from:
        queryset = queryset.filter(due_date__gte=due_from)
    if due_to:
        queryset = queryset.filter(due_date__lte=due_to)
    if q and q.strip():
        queryset = queryset.filter(description__icontains=q.strip())
    return queryset.order_by("-created_at", "-pk")


def action_item_assignee_label(item: ActionItem) -> str:
    """Who an item is assigned to, for display: the member, else the free text, else the participant."""
    if item.assignee_user_id is not None and item.assignee_user is not None:
        return item.assignee_user.display_name
    if item.assignee_name:
        return item.assignee_name
    if item.assignee_participant_id is not None and item.assignee_participant is not None:
        return item.assignee_participant.name
    return ""


def speaker_name(segment: TranscriptSegment) -> str:
    """Who said a segment, for display: the linked participant's name, else the speaker label."""
    if segment.participant_id and segment.participant is not None:
        return segment.participant.name
    return segment.speaker_label or "Unknown"


def action_item_is_overdue(item: ActionItem) -> bool:
    return bool(item.due_date and item.status in OPEN_ACTION_ITEM_STATUSES and item.due_date < timezone.localdate())


def action_item_get(*, company: Company, action_item_id: int) -> ActionItem:
    return get_object_or_404(
        ActionItem.objects.for_company(company).select_related("meeting", "assignee_user", "assignee_participant"),
        pk=action_item_id,
    )


def action_item_status_counts(*, company: Company, queryset: QuerySet[ActionItem] | None = None) -> dict[str, int]:
    queryset = queryset if queryset is not None else ActionItem.objects.for_company(company).filter(
        review=ActionItem.Review.CONFIRMED)  # tasks: suggestions are not work yet
    counts = {s.value: 0 for s in ActionItem.Status}
    for row in queryset.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


# --- what the analysis found ---------------------------------------------------------------


def decision_list(*, company: Company, meeting: Meeting, review: str | None = None) -> QuerySet[Decision]:
    """The meeting's decisions; dismissed suggestions only when ``review`` asks for them."""
    assert meeting.company_id == company.pk
    queryset = Decision.objects.for_company(company).filter(meeting=meeting).prefetch_related("source_segments")
    queryset = queryset.filter(review=review) if review else queryset.exclude(review=ActionItem.Review.DISMISSED)
    return queryset.order_by("created_at", "pk")


def decision_get(*, company: Company, decision_id: int) -> Decision:
    return get_object_or_404(Decision.objects.for_company(company).prefetch_related("source_segments"),
                             pk=decision_id)


def fact_check_list(*, company: Company, meeting: Meeting, verdict: str | None = None) -> QuerySet[FactCheck]:
    assert meeting.company_id == company.pk
    queryset = FactCheck.objects.for_company(company).filter(meeting=meeting)
    if verdict:
        queryset = queryset.filter(verdict=verdict)
    return queryset.order_by("created_at", "pk")


def suggestion_list(*, company: Company, meeting: Meeting, kind: str | None = None) -> QuerySet[Suggestion]:
    assert meeting.company_id == company.pk
    queryset = Suggestion.objects.for_company(company).filter(meeting=meeting)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("created_at", "pk")


# --- page-sized reads for the dashboard ----------------------------------------------------


@dataclass
class MeetingOverview:
    """Everything the meeting page shows, read in one place."""

    meeting: Meeting
    participants: list[Participant]
    segments: list[TranscriptSegment]  # the newest ``transcript_limit`` final segments, in order
    segment_count: int
    action_items: list[ActionItem]
    decisions: list[Decision]
    fact_checks: list[FactCheck]
    suggestions: list[Suggestion]
    report: MeetingReport | None
    members: list[User]
    # Voices in the transcript that no participant goes by yet ("Speaker 2"): candidates to name.
    unnamed_speakers: list[str] = field(default_factory=list)

    @property
    def transcript_truncated(self) -> bool:
        return self.segment_count > len(self.segments)


def meeting_overview(*, company: Company, meeting: Meeting, transcript_limit: int = 1500) -> MeetingOverview:
    segments = segment_list(company=company, meeting=meeting)
    newest = list(segments.select_related(None).order_by("-sequence")[:transcript_limit])
    newest.reverse()
    participants = list(participant_list(company=company, meeting=meeting))
    return MeetingOverview(
        meeting=meeting,
        participants=participants,
        segments=newest,
        segment_count=len(newest) if len(newest) < transcript_limit else segments.count(),
        action_items=list(action_item_list(company=company, meeting=meeting).order_by("created_at", "pk")),
        decisions=list(decision_list(company=company, meeting=meeting)),
        fact_checks=list(fact_check_list(company=company, meeting=meeting)),
        suggestions=list(suggestion_list(company=company, meeting=meeting)),
        report=meeting_report_get(company=company, meeting=meeting),
        members=company_member_list(company=company),
        unnamed_speakers=[label for label in speaker_labels(company=company, meeting=meeting)
                          if label not in {p.name for p in participants}],
    )


@dataclass
class BoardColumn:
    status: str
    label: str
    items: list[ActionItem]
    count: int

    @property
    def truncated(self) -> bool:
        return self.count > len(self.items)


def action_item_board(*, company: Company, per_column: int = 100, **filters: Any) -> list[BoardColumn]:
    """Action items grouped by status (one column each), open work first, soonest due first.

    ``filters`` are those of ``action_item_list``; a ``status`` filter keeps only that column.
    """
    wanted = filters.pop("status", None)
    queryset = action_item_list(company=company, **filters)
    counts = action_item_status_counts(company=company, queryset=queryset)
    columns = []
    for status in ActionItem.Status:
        if wanted and status != wanted:
            continue
        items = list(
            queryset.filter(status=status).order_by(F("due_date").asc(nulls_last=True), "-created_at", "-pk")[
                :per_column
            ]
        )
        columns.append(BoardColumn(status=status.value, label=status.label, items=items, count=counts[status.value]))
    return columns
