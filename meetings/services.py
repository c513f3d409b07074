"""Writes for meetings: the meeting itself, its participants, speaker names and action items.

Every function takes the company first (keyword-only) and checks that the objects it is
given belong to it; ids that come from a caller are resolved inside the company.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from accounts.models import Company, User
from meetings import selectors
from meetings.analysis.text import normalize_key
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Meeting,
    Participant,
    TranscriptSegment,
)
from meetings.signals import transcript_completed


class InvalidReference(ValueError):
    """An id the caller gave exists but cannot be used here: a user who is not a member of the
    company, or a participant of another meeting. (An id of another company is a 404.)"""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- meetings ------------------------------------------------------------------------------

MEETING_EDITABLE_FIELDS = (
    "title", "platform", "meeting_url", "calendar_event_id", "scheduled_start", "scheduled_end", "language", "kind",
)


# created_by is nullable without blank=True (a person may leave the company); not validated here.
_NOT_FORM_FIELDS = ["created_by"]


def _check_schedule(meeting: Meeting) -> None:
    if meeting.scheduled_start and meeting.scheduled_end and meeting.scheduled_end < meeting.scheduled_start:
        raise ValidationError({"scheduled_end": ["The end must not be before the start."]})


def meeting_create(
    *,
    company: Company,
    created_by: User | None,
    title: str,
    platform: str = Meeting.Platform.OTHER,
    meeting_url: str = "",
    calendar_event_id: str = "",
    scheduled_start: datetime | None = None,
    scheduled_end: datetime | None = None,
    language: str = "",
    kind: str = Meeting.Kind.INTERNAL,
) -> Meeting:
    meeting = Meeting(
        company=company, created_by=created_by, title=title.strip(), platform=platform, meeting_url=meeting_url,
        calendar_event_id=calendar_event_id, scheduled_start=scheduled_start, scheduled_end=scheduled_end,
        language=language, kind=kind,
    )
    meeting.full_clean(exclude=_NOT_FORM_FIELDS)
    _check_schedule(meeting)
    meeting.save()
    return meeting


def meeting_update(*, company: Company, meeting: Meeting, data: Mapping[str, Any]) -> Meeting:
    """Change the editable details (``MEETING_EDITABLE_FIELDS``); status only moves by start/end."""
    assert meeting.company_id == company.pk
    unknown = set(data) - set(MEETING_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changed = []
    for field, value in data.items():
        if field == "title" and isinstance(value, str):
            value = value.strip()
        if getattr(meeting, field) != value:
            setattr(meeting, field, value)
            changed.append(field)
    if changed:
        meeting.full_clean(exclude=_NOT_FORM_FIELDS)
        _check_schedule(meeting)
        meeting.save(update_fields=[*changed, "updated_at"])
    return meeting


def meeting_delete(*, company: Company, meeting: Meeting) -> None:
    assert meeting.company_id == company.pk
    meeting.delete()


def meeting_start(*, company: Company, meeting: Meeting) -> Meeting:
    """Mark a meeting active (idempotent)."""
    assert meeting.company_id == company.pk
    if meeting.status != Meeting.Status.ACTIVE:
        meeting.status = Meeting.Status.ACTIVE
        meeting.started_at = meeting.started_at or timezone.now()
        meeting.save(update_fields=["status", "started_at", "updated_at"])
    return meeting


@transaction.atomic
def meeting_end(*, company: Company, meeting: Meeting) -> Meeting:
    """Mark a meeting ended (idempotent)."""
    assert meeting.company_id == company.pk
    if meeting.status != Meeting.Status.ENDED:
        meeting.status = Meeting.Status.ENDED
        meeting.started_at = meeting.started_at or timezone.now()
        meeting.ended_at = timezone.now()
        meeting.save(update_fields=["status", "started_at", "ended_at", "updated_at"])
        transaction.on_commit(
            lambda: transcript_completed.send(sender=Meeting, company_id=company.pk, meeting_id=meeting.pk)
        )
    return meeting


# --- participants and speaker names --------------------------------------------------------


def _member_or_error(*, company: Company, user_id: int, field: str) -> User:
    user = selectors.company_member_get(company=company, user_id=user_id)
    if user is None:
        raise InvalidReference(field, "That user is not a member of this company.")
    return user


def participant_create(
    *,
    company: Company,
    meeting: Meeting,
    name: str,
    email: str = "",
    role: str = Participant.Role.UNKNOWN,
    user_id: int | None = None,
    speaker_label: str = "",
) -> Participant:
    assert meeting.company_id == company.pk
    user = _member_or_error(company=company, user_id=user_id, field="user_id") if user_id is not None else None
    participant = Participant(company=company, meeting=meeting, name=name.strip(), email=email, role=role, user=user,
                              speaker_label=speaker_label)
    participant.full_clean()
    participant.save()
    if speaker_label:
        # Captions that arrived under the raw label before the person was named belong to them.
        _segments(company, meeting.pk).filter(speaker_label=speaker_label, participant__isnull=True).update(
            participant=participant, speaker_label=participant.name, updated_at=timezone.now()
        )
    return participant


def participant_update(*, company: Company, participant: Participant, data: Mapping[str, Any]) -> Participant:
    """Change name, email, role or linked user (``user_id``; None unlinks).

    A new name is a rename for the whole meeting (see ``participant_rename``); when the
    name belongs to another participant the two are merged and that one is returned.
    """
    assert participant.company_id == company.pk
    unknown = set(data) - {"name", "email", "role", "user_id"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        if "name" in data and data["name"] is not None:
            participant = participant_rename(company=company, participant=participant, name=data["name"])
        changed = []
        if "email" in data and data["email"] is not None and data["email"] != participant.email:
            participant.email = data["email"]
            changed.append("email")
        if "role" in data and data["role"] is not None and data["role"] != participant.role:
            participant.role = data["role"]
            changed.append("role")
        if "user_id" in data and data["user_id"] != participant.user_id:
            user_id = data["user_id"]
            participant.user = (
                _member_or_error(company=company, user_id=user_id, field="user_id") if user_id is not None else None
            )
            changed.append("user")
        if changed:
            participant.full_clean()
            participant.save(update_fields=changed)
    return participant


def participant_delete(*, company: Company, participant: Participant) -> None:
    """Remove a participant; their segments keep the spoken name as a plain label."""
    assert participant.company_id == company.pk
    participant.delete()


def _segments(company: Company, meeting_id: int):
    return TranscriptSegment.objects.for_company(company).filter(meeting_id=meeting_id)


@transaction.atomic
def participant_rename(*, company: Company, participant: Participant, name: str) -> Participant:
    """Rename a participant for the whole meeting: every segment they spoke takes the new label.

    Segments count as theirs when linked to them, or unlinked but labelled with their old name
    or with the voice label speaker separation gave them. If another participant of the
    meeting already has ``name``, this one is merged into it (segments, action items and
    analytics move over) and the surviving participant is returned.
    """
    assert participant.company_id == company.pk
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A name is required."]})
    if name == participant.name:
        return participant
    old_name = participant.name
    labels = {old_name} | ({participant.speaker_label} if participant.speaker_label else set())
    theirs = Q(participant=participant) | Q(participant__isnull=True, speaker_label__in=labels)
    now = timezone.now()
    other = (
        Participant.objects.for_company(company)
        .select_for_update()
        .filter(meeting_id=participant.meeting_id, name=name)
        .exclude(pk=participant.pk)
        .first()
    )
    if other is None:
        participant.name = name
        participant.full_clean()
        participant.save(update_fields=["name"])
        _segments(company, participant.meeting_id).filter(theirs).update(
            speaker_label=name, participant=participant, updated_at=now
        )
        ActionItem.objects.for_company(company).filter(assignee_participant=participant, assignee_name=old_name).update(
            assignee_name=name, updated_at=now
        )
        return participant

    _segments(company, participant.meeting_id).filter(theirs).update(
        speaker_label=other.name, participant=other, updated_at=now
    )
    ActionItem.objects.for_company(company).filter(assignee_participant=participant).update(
        assignee_participant=other, assignee_name=other.name, updated_at=now
    )
    AnalyticsEvent.objects.for_company(company).filter(participant=participant).update(participant=other)
    other.speaking_seconds = F("speaking_seconds") + participant.speaking_seconds
    other.email = other.email or participant.email
    other.user_id = other.user_id or participant.user_id
    other.speaker_label = other.speaker_label or participant.speaker_label
    if participant.joined_at and (other.joined_at is None or participant.joined_at < other.joined_at):
        other.joined_at = participant.joined_at
    if participant.left_at and (other.left_at is None or participant.left_at > other.left_at):
        other.left_at = participant.left_at
    other.save(update_fields=["speaking_seconds", "email", "user", "speaker_label", "joined_at", "left_at"])
    other.refresh_from_db()
    participant.delete()
    return other


@transaction.atomic
def speaker_rename(*, company: Company, meeting: Meeting, old_label: str, new_name: str) -> int:
    """Call the voice ``old_label`` by ``new_name`` throughout the meeting; returns segments renamed.

    If a participant goes by ``old_label`` (as name or voice label) this is ``participant_rename``.
    Otherwise the segments are relabelled and linked to the participant called ``new_name``,
    who is created (remembering ``old_label``) when there is none yet.
    Raises Http404 when nothing in the meeting goes by ``old_label``.
    """
    assert meeting.company_id == company.pk
    old_label, new_name = (old_label or "").strip(), (new_name or "").strip()
    if not new_name:
        raise ValidationError({"new_name": ["A name is required."]})
    participants = Participant.objects.for_company(company).filter(meeting=meeting)
    participant = participants.filter(name=old_label).first() or participants.filter(speaker_label=old_label).first()
    segments = _segments(company, meeting.pk)
    if participant is not None:
        labels = {participant.name} | ({participant.speaker_label} if participant.speaker_label else set())
        count = segments.filter(Q(participant=participant) | Q(participant__isnull=True, speaker_label__in=labels))
        renamed = count.count()
        participant_rename(company=company, participant=participant, name=new_name)
        return renamed
    labelled = segments.filter(speaker_label=old_label)
    if not old_label or not labelled.exists():
        raise Http404("No speaker with that label in this meeting.")
    target = participants.filter(name=new_name).first()
    if target is None:
        target = Participant(company=company, meeting=meeting, name=new_name, speaker_label=old_label)
        target.full_clean()
        target.save()
    return labelled.update(speaker_label=target.name, participant=target, updated_at=timezone.now())


# --- action items --------------------------------------------------------------------------

ASSIGNEE_FIELDS = ("assignee_user", "assignee_participant", "assignee_name")
# Fields a person can change; a change is remembered in ``edited_fields`` by model field name.
ACTION_ITEM_EDITABLE = ("description", "due_date", "priority", "status", *ASSIGNEE_FIELDS)
_ASSIGNEE_KEYS = ("assignee_user_id", "assignee_participant_id", "assignee_name")


def action_item_dedupe_key(description: str) -> str:
    """The key the meeting analysis merges by, so a task a person typed and the same task found
    in the transcript ("Send the deck." / "send  the deck") become one item, not two."""
    return normalize_key(description or "")[:64]


def _resolve_assignee(
    *, company: Company, meeting: Meeting, user_id: int | None, participant_id: int | None, name: str | None
) -> tuple[User | None, Participant | None, str]:
    """One assignment: a member, a participant of this meeting, or free text.

    A participant linked to a member also assigns that member (so "mine" finds it).
    """
    participant = None
    if participant_id is not None:
        participant = Participant.objects.for_company(company).select_related("user").filter(pk=participant_id).first()
        if participant is None:
            raise Http404("No such participant.")
        if participant.meeting_id != meeting.pk:
            raise InvalidReference("assignee_participant_id", "That participant is not in this meeting.")
    user = None
    if user_id is not None:
        user = _member_or_error(company=company, user_id=user_id, field="assignee_user_id")
    elif participant is not None and participant.user_id is not None:
        user = selectors.company_member_get(company=company, user_id=participant.user_id)
    label = (name or "").strip()[:200]
    if not label and participant is not None:
        label = participant.name
    return user, participant, label


def action_item_create(
    *,
    company: Company,
    meeting: Meeting,
    description: str,
    assignee_user_id: int | None = None,
    assignee_participant_id: int | None = None,
    assignee_name: str = "",
    due_date: date | None = None,
    priority: str = ActionItem.Priority.MEDIUM,
    status: str = ActionItem.Status.PENDING,
) -> ActionItem:
    """An action item a person adds by hand: every field is theirs, so analysis never rewrites it."""
    assert meeting.company_id == company.pk
    user, participant, label = _resolve_assignee(company=company, meeting=meeting, user_id=assignee_user_id,
                                                 participant_id=assignee_participant_id, name=assignee_name)
    item = ActionItem(
        company=company, meeting=meeting, description=description.strip(), assignee_user=user,
        assignee_participant=participant, assignee_name=label, due_date=due_date, priority=priority, status=status,
        origin=ActionItem.Origin.MANUAL, confidence=1.0, dedupe_key=action_item_dedupe_key(description),
        edited_fields=list(ACTION_ITEM_EDITABLE),
    )
    item.full_clean()
    item.save()
    return item


def action_item_update(
    *, company: Company, action_item: ActionItem, data: Mapping[str, Any], by_person: bool = True
) -> ActionItem:
    """Change an action item. ``data`` keys: description, due_date, priority, status and the
    assignment (assignee_user_id / assignee_participant_id / assignee_name: giving any of them
    replaces the whole assignment).

    With ``by_person`` every field whose value changes is added to ``edited_fields`` (the
    three assignee fields together), which the after-meeting analysis never overwrites.
    """
    assert action_item.company_id == company.pk
    unknown = set(data) - {"description", "due_date", "priority", "status", *_ASSIGNEE_KEYS}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changed: list[str] = []
    for field in ("description", "due_date", "priority", "status"):
        if field not in data:
            continue
        value = data[field]
        if field == "description":
            value = (value or "").strip()
        if getattr(action_item, field) != value:
            setattr(action_item, field, value)
            changed.append(field)
    if any(key in data for key in _ASSIGNEE_KEYS):
        user, participant, label = _resolve_assignee(
            company=company, meeting=action_item.meeting, user_id=data.get("assignee_user_id"),
            participant_id=data.get("assignee_participant_id"), name=data.get("assignee_name"),
        )
        current = (action_item.assignee_user_id, action_item.assignee_participant_id, action_item.assignee_name)
        if current != (user.pk if user else None, participant.pk if participant else None, label):
            action_item.assignee_user, action_item.assignee_participant, action_item.assignee_name = (
                user, participant, label)
            changed.extend(ASSIGNEE_FIELDS)
    if not changed:
        return action_item
    update_fields = [*changed, "updated_at"]
    if by_person:
        action_item.edited_fields = [*action_item.edited_fields,
                                     *(f for f in changed if f not in action_item.edited_fields)]
        update_fields.append("edited_fields")
    action_item.full_clean()
    action_item.save(update_fields=update_fields)
    return action_item


def action_item_delete(*, company: Company, action_item: ActionItem) -> None:
    assert action_item.company_id == company.pk
    action_item.delete()
