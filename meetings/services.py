"""Writes for meetings: the meeting itself, its participants, speaker names and action items.

Every function takes the company first (keyword-only) and checks that the objects it is
given belong to it; ids that come from a caller are resolved inside the company.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from accounts.models import Company, User
from integrations.events import company_event_publish
from meetings import selectors
from meetings.analysis.text import normalize_key
from meetings.intelligence.matching import FUZZY_THRESHOLD, similarity
from meetings.lifecycle import meeting_purge
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Decision,
    Meeting,
    Participant,
    TranscriptSegment,
)
from meetings.signals import transcript_completed
from meetpilot.errors import Invalid, NotFound
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)


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


def meeting_link_normalize(url: str) -> str:
    """One spelling per meeting link: no query, fragment or trailing slash, lower-case scheme and host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("meeting_url must be an http(s) link to the meeting.", code="invalid_meeting_url")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def meeting_join(*, company: Company, by_user: User, meeting_url: str, title: str, platform: str,
                 may_create: bool) -> tuple[Meeting, bool]:
    """The meeting a client that joined ``meeting_url`` streams into: the one in progress there or scheduled
    there now (the calendar's), else a new one when ``may_create``. Returns (meeting, created). Two clients
    joining the same link at once get the same meeting (a lock per company and link)."""
    url = meeting_link_normalize(meeting_url)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"meeting-link:{company.pk}:{url}"])
        meeting = selectors.meeting_for_link(company=company, meeting_url=url, around=timezone.now())
        if meeting is not None:
            return meeting, False
        if not may_create:
            raise NotFound("No meeting at that link yet: someone who may start meetings must start it.")
        return meeting_create(company=company, created_by=by_user, title=title, platform=platform,
                              meeting_url=url), True


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


def meeting_delete(*, company: Company, meeting: Meeting, actor: User | None = None,
                   reason: str = "request") -> dict[str, Any]:
    """Delete the meeting and everything derived from it: rows, search chunks and their embeddings, stored
    files, chat citations, data other apps registered (``meetings.lifecycle.meeting_purge``). Audited;
    returns what was removed, per kind."""
    assert meeting.company_id == company.pk
    return meeting_purge(company=company, meeting=meeting, actor=actor, reason=reason)


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
        company_event_publish(company_id=company.pk, type="meeting.ended", data=_meeting_event_data(meeting))
    return meeting


def _meeting_event_data(meeting: Meeting) -> dict[str, Any]:
    return {"meeting_id": meeting.pk, "title": meeting.title, "platform": meeting.platform,
            "started_at": meeting.started_at.isoformat() if meeting.started_at else None,
            "ended_at": meeting.ended_at.isoformat() if meeting.ended_at else None}


def action_item_event_data(item: ActionItem) -> dict[str, Any]:
    """What outbound channels get about an action item (ids and fields, no transcript text)."""
    return {"action_item_id": item.pk, "meeting_id": item.meeting_id, "description": item.description,
            "assignee_user_id": item.assignee_user_id, "assignee_name": item.assignee_name,
            "due_date": item.due_date.isoformat() if item.due_date else None, "priority": item.priority,
            "status": item.status, "review": item.review, "origin": item.origin}


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


# --- action items and decisions -------------------------------------------------------------
#
# The one writer of ActionItem and Decision rows: a person (dashboard, API), the live pipeline
# (each final caption) and the after-meeting analysis (merge) all come through here, with one
# dedupe key and one set of limits.

ASSIGNEE_FIELDS = ("assignee_user", "assignee_participant", "assignee_name")
# Fields a person can change; a change is remembered in ``edited_fields`` by model field name.
ACTION_ITEM_EDITABLE = ("description", "due_date", "priority", "status", *ASSIGNEE_FIELDS)
_ASSIGNEE_KEYS = ("assignee_user_id", "assignee_participant_id", "assignee_name")
# Foreign keys the writers resolve inside the company themselves; full_clean need not look them up again.
_RESOLVED_FKS = ["meeting", "source_segment", "assignee_user", "assignee_participant"]

# Limits, whoever writes (the API schemas allow the same).
TEXT_MAX = 5000  # ActionItem.description, Decision.text
ASSIGNEE_NAME_MAX = 200
PROVIDER_MAX = 100
DEDUPE_KEY_MAX = 64


def dedupe_key(text: str) -> str:
    """The one key action items and decisions merge by, so a task a person typed, the same task
    detected live and found again after the meeting ("Send the deck." / "send  the deck") become
    one row, not three."""
    return normalize_key(text or "")[:DEDUPE_KEY_MAX]


def confirm_threshold(company: Company) -> float:
    """Detections with a calibrated confidence below this are suggestions for a person to confirm.

    A company setting (``Company.settings["confirm_below"]``, 0 turns suggestions off), else
    ``ANALYSIS_CONFIRM_BELOW``."""
    value = (company.settings or {}).get("confirm_below")
    try:
        return min(1.0, max(0.0, float(value if value is not None else settings.ANALYSIS_CONFIRM_BELOW)))
    except (TypeError, ValueError):
        return float(settings.ANALYSIS_CONFIRM_BELOW)


def _review_for(company: Company, *, origin: str, confidence: float) -> str:
    if origin == ActionItem.Origin.MANUAL or float(confidence) >= confirm_threshold(company):
        return ActionItem.Review.CONFIRMED
    return ActionItem.Review.SUGGESTED


def _known_priority(priority: str) -> str:
    return priority if priority in ActionItem.Priority.values else ActionItem.Priority.MEDIUM


@dataclass(frozen=True)
class ActionItemDraft:
    """An action item the analysis found, with its assignee already matched to a participant."""

    description: str
    assignee_name: str = ""
    assignee_participant: Participant | None = None
    due_date: date | None = None
    priority: str = ActionItem.Priority.MEDIUM
    confidence: float = 1.0
    source_segment_id: int | None = None


@dataclass(frozen=True)
class DecisionDraft:
    text: str
    confidence: float = 1.0
    source_segment_id: int | None = None


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
    label = (name or "").strip()[:ASSIGNEE_NAME_MAX]
    if not label and participant is not None:
        label = participant.name
    return user, participant, label


def _action_item_save(*, company: Company, meeting: Meeting, values: dict[str, Any]) -> ActionItem:
    item = ActionItem(company=company, meeting=meeting, **values)
    item.description = item.description.strip()[:TEXT_MAX]
    item.assignee_name = item.assignee_name[:ASSIGNEE_NAME_MAX]
    item.provider = item.provider[:PROVIDER_MAX]
    item.dedupe_key = dedupe_key(item.description)
    item.full_clean(exclude=_RESOLVED_FKS)
    item.save(force_insert=True)
    company_event_publish(company_id=company.pk, type="action_item.created", data=action_item_event_data(item))
    return item


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
    origin: str = ActionItem.Origin.MANUAL,
    confidence: float = 1.0,
    provider: str = "",
    source_segment: TranscriptSegment | None = None,
) -> ActionItem | None:
    """One new action item. A person's (``origin`` manual) is theirs in every field, so analysis never
    rewrites it. A detected one (live) is skipped, returning None, when the meeting already has an
    item with its dedupe key (the caller holds the meeting lock, so two detections cannot both pass),
    unless it is surer than the stored one: then the stored one is lifted and returned."""
    assert meeting.company_id == company.pk
    assert source_segment is None or source_segment.meeting_id == meeting.pk
    manual = origin == ActionItem.Origin.MANUAL
    if not manual:
        existing = ActionItem.objects.for_company(company).filter(
            meeting=meeting, dedupe_key=dedupe_key(description.strip()[:TEXT_MAX])).first()
        if existing is not None:
            return _action_item_reconfirm(company=company, row=existing, confidence=confidence)
    user, participant, label = _resolve_assignee(company=company, meeting=meeting, user_id=assignee_user_id,
                                                 participant_id=assignee_participant_id, name=assignee_name)
    return _action_item_save(company=company, meeting=meeting, values={
        "description": description, "assignee_user": user, "assignee_participant": participant,
        "assignee_name": label, "due_date": due_date, "priority": priority if manual else _known_priority(priority),
        "status": status, "origin": origin, "confidence": float(confidence), "provider": provider,
        "source_segment": source_segment, "edited_fields": list(ACTION_ITEM_EDITABLE) if manual else [],
        "review": _review_for(company, origin=origin, confidence=confidence),
    })


def _action_item_reconfirm(*, company: Company, row: ActionItem, confidence: float) -> ActionItem | None:
    """A detection of an item the meeting has: a surer one lifts its confidence (a suggestion the detector
    later confirms becomes a finding) and is returned so it can be announced again; otherwise None."""
    if float(confidence) <= row.confidence or "review" in (row.edited_fields or []):
        return None
    row.confidence = float(confidence)
    fields = ["confidence", "updated_at"]
    if row.review == ActionItem.Review.SUGGESTED:
        row.review = _review_for(company, origin=row.origin, confidence=row.confidence)
        fields.append("review")
    row.save(update_fields=fields)
    return row


def _match(key: str, text: str, existing: Sequence[Any], taken: set[int], text_of: Callable[[Any], str]) -> Any:
    """The existing row ``text`` is: same dedupe key first, then the most similar wording."""
    for row in existing:
        if row.pk not in taken and key and row.dedupe_key == key:
            return row
    best, best_score = None, FUZZY_THRESHOLD
    for row in existing:
        if row.pk in taken:
            continue
        score = similarity(text, text_of(row))
        if score >= best_score:
            best, best_score = row, score
    return best


def _draft_values(draft: ActionItemDraft) -> dict[str, Any]:
    participant = draft.assignee_participant
    return {
        "description": draft.description.strip()[:TEXT_MAX],
        "assignee_name": (participant.name if participant else draft.assignee_name or "")[:ASSIGNEE_NAME_MAX],
        "assignee_participant": participant,
        "assignee_user": participant.user if participant and participant.user_id else None,
        "due_date": draft.due_date,
        "priority": _known_priority(draft.priority),
    }


def _action_item_refresh(*, row: ActionItem, draft: ActionItemDraft, provider: str, key: str) -> bool:
    """Update a matched row from a new finding, never touching what a person edited. True if it changed."""
    edited = set(row.edited_fields or [])
    if edited & {*ASSIGNEE_FIELDS, "assignee"}:  # the assignment is one choice: any part edited keeps all
        edited |= set(ASSIGNEE_FIELDS)
    ours = row.origin == ActionItem.Origin.SUMMARY
    changed: list[str] = []
    for name, value in _draft_values(draft).items():
        if name in edited:
            continue
        current = getattr(row, name)
        # Our own earlier result: the newest run wins. A live or manual item: only fill in what it lacks.
        if (current != value) if ours else (current in (None, "") and value not in (None, "")):
            setattr(row, name, value)
            changed.append(name)
    confidence = float(draft.confidence)
    if ours:
        for name, value in (("provider", provider[:PROVIDER_MAX]), ("dedupe_key", key), ("confidence", confidence)):
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed.append(name)
    elif confidence > row.confidence:
        row.confidence = confidence
        changed.append("confidence")
    if not edited and row.review != ActionItem.Review.DISMISSED:  # a row somebody touched keeps its review
        review = _review_for(row.company, origin=row.origin, confidence=row.confidence)
        if review != row.review:
            row.review = review
            changed.append("review")
    if row.source_segment_id is None and draft.source_segment_id is not None:
        row.source_segment_id = draft.source_segment_id
        changed.append("source_segment")
    if changed:
        row.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    return bool(changed)


@transaction.atomic
def action_item_merge(
    *, company: Company, meeting: Meeting, drafts: Sequence[ActionItemDraft], provider: str
) -> dict[str, int]:
    """Merge what an after-meeting run found with the meeting's items (live, manual, earlier runs).

    A finding matches an item by dedupe key, then by fuzzy wording; matched items are refreshed
    (``_action_item_refresh``), the rest are created. Items of an earlier run that this run no longer
    finds go, unless somebody touched them (edited, no longer pending, synced). Idempotent.
    """
    assert meeting.company_id == company.pk
    existing = list(ActionItem.objects.for_company(company).filter(meeting=meeting).order_by("pk"))
    taken: set[int] = set()
    counts = {"created": 0, "updated": 0, "removed": 0}
    for draft in drafts:
        key = dedupe_key(draft.description.strip()[:TEXT_MAX])
        row = _match(key, draft.description, existing, taken, lambda r: r.description)
        if row is None:
            row = _action_item_save(company=company, meeting=meeting, values={
                **_draft_values(draft), "origin": ActionItem.Origin.SUMMARY, "provider": provider,
                "confidence": float(draft.confidence), "source_segment_id": draft.source_segment_id,
                "review": _review_for(company, origin=ActionItem.Origin.SUMMARY, confidence=draft.confidence),
            })
            existing.append(row)
            counts["created"] += 1
        elif _action_item_refresh(row=row, draft=draft, provider=provider, key=key):
            counts["updated"] += 1
        taken.add(row.pk)
    stale = [row.pk for row in existing
             if row.pk not in taken and row.origin == ActionItem.Origin.SUMMARY and not row.edited_fields
             and row.status == ActionItem.Status.PENDING and not row.external_ids]
    if stale:
        ActionItem.objects.for_company(company).filter(pk__in=stale).delete()
        counts["removed"] = len(stale)
    return counts


def decision_create(
    *,
    company: Company,
    meeting: Meeting,
    text: str,
    origin: str = ActionItem.Origin.MANUAL,
    confidence: float = 1.0,
    provider: str = "",
    source_segment_ids: Sequence[int] = (),
) -> Decision | None:
    """One new decision; a detected one (not manual) is skipped, returning None, when the meeting
    already has a decision with its dedupe key (the caller holds the meeting lock)."""
    assert meeting.company_id == company.pk
    text = text.strip()[:TEXT_MAX]
    key = dedupe_key(text)
    if origin != ActionItem.Origin.MANUAL:
        existing = Decision.objects.for_company(company).filter(meeting=meeting, dedupe_key=key).first()
        if existing is not None:  # a surer detection lifts a suggestion, like ``_action_item_reconfirm``
            if float(confidence) <= existing.confidence or existing.reviewed:
                return None
            existing.confidence = float(confidence)
            existing.review = _review_for(company, origin=existing.origin, confidence=existing.confidence)
            existing.save(update_fields=["confidence", "review"])
            return existing
    decision = Decision(company=company, meeting=meeting, text=text, origin=origin, confidence=float(confidence),
                        provider=provider[:PROVIDER_MAX], dedupe_key=key,
                        review=_review_for(company, origin=origin, confidence=confidence))
    decision.full_clean(exclude=["meeting"])
    decision.save(force_insert=True)
    ids = [pk for pk in source_segment_ids if pk]
    if ids:
        # Only segments of this meeting (so of this company) are linked.
        decision.source_segments.add(*_segments(company, meeting.pk).filter(pk__in=ids))
    return decision


@transaction.atomic
def decision_merge(
    *, company: Company, meeting: Meeting, drafts: Sequence[DecisionDraft], provider: str
) -> dict[str, int]:
    """Merge an after-meeting run's decisions like ``action_item_merge``: earlier results of the
    analysis are replaced by the newest wording, live and manual ones are kept, stale ones go."""
    assert meeting.company_id == company.pk
    existing = list(Decision.objects.for_company(company).filter(meeting=meeting).order_by("pk"))
    taken: set[int] = set()
    counts = {"created": 0, "updated": 0, "removed": 0}
    for draft in drafts:
        text = draft.text.strip()[:TEXT_MAX]
        key = dedupe_key(text)
        row = _match(key, draft.text, existing, taken, lambda r: r.text)
        if row is None:
            row = Decision(company=company, meeting=meeting, text=text, origin=ActionItem.Origin.SUMMARY,
                           confidence=float(draft.confidence), provider=provider[:PROVIDER_MAX], dedupe_key=key,
                           review=_review_for(company, origin=ActionItem.Origin.SUMMARY,
                                              confidence=draft.confidence))
            row.full_clean(exclude=["meeting"])
            row.save(force_insert=True)
            existing.append(row)
            counts["created"] += 1
        elif row.origin == ActionItem.Origin.SUMMARY and not row.reviewed and (
                (row.text, row.provider, row.confidence) != (text, provider[:PROVIDER_MAX], float(draft.confidence))):
            row.text, row.provider, row.dedupe_key = text, provider[:PROVIDER_MAX], key
            row.confidence = float(draft.confidence)
            row.review = _review_for(company, origin=row.origin, confidence=row.confidence)
            row.save(update_fields=["text", "provider", "dedupe_key", "confidence", "review"])
            counts["updated"] += 1
        elif row.origin != ActionItem.Origin.SUMMARY and not row.reviewed and float(draft.confidence) > row.confidence:
            row.confidence = float(draft.confidence)  # the whole-meeting analysis is surer than the live one
            row.review = _review_for(company, origin=row.origin, confidence=row.confidence)
            row.save(update_fields=["confidence", "review"])
            counts["updated"] += 1
        taken.add(row.pk)
        if draft.source_segment_id:
            row.source_segments.add(*_segments(company, meeting.pk).filter(pk=draft.source_segment_id))
    stale = [r.pk for r in existing if r.pk not in taken and r.origin == ActionItem.Origin.SUMMARY and not r.reviewed]
    if stale:
        Decision.objects.for_company(company).filter(pk__in=stale).delete()
        counts["removed"] = len(stale)
    return counts


def action_item_review(*, company: Company, action_item: ActionItem, review: str) -> ActionItem:
    """A person confirms a suggested item (it becomes a task like any other) or dismisses it (hidden, and
    later analysis runs leave it dismissed)."""
    assert action_item.company_id == company.pk
    if review not in (ActionItem.Review.CONFIRMED, ActionItem.Review.DISMISSED):
        raise Invalid(f"review must be confirmed or dismissed, not {review!r}", code="invalid_review")
    action_item.review = review
    action_item.edited_fields = sorted({*(action_item.edited_fields or []), "review"})
    action_item.save(update_fields=["review", "edited_fields", "updated_at"])
    company_event_publish(company_id=company.pk, type="action_item.updated",
                          data={**action_item_event_data(action_item), "changed": ["review"], "by_person": True})
    if review == ActionItem.Review.DISMISSED:
        _reindex_after_commit(company=company, meeting_id=action_item.meeting_id)
    return action_item


def decision_review(*, company: Company, decision: Decision, review: str) -> Decision:
    assert decision.company_id == company.pk
    if review not in (ActionItem.Review.CONFIRMED, ActionItem.Review.DISMISSED):
        raise Invalid(f"review must be confirmed or dismissed, not {review!r}", code="invalid_review")
    decision.review, decision.reviewed = review, True
    decision.save(update_fields=["review", "reviewed"])
    if review == ActionItem.Review.DISMISSED:
        _reindex_after_commit(company=company, meeting_id=decision.meeting_id)
    return decision


def _reindex_after_commit(*, company: Company, meeting_id: int) -> None:
    """A dismissed finding leaves meeting search (its chunk goes when the meeting is indexed again)."""
    def send() -> None:
        try:
            task_send("intelligence.meeting_index", company_id=company.pk, meeting_id=meeting_id)
        except Exception:  # broker down: the next report run re-indexes the meeting
            logger.exception("could not queue re-indexing of meeting %s", meeting_id)

    transaction.on_commit(send)


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
    company_event_publish(company_id=company.pk, type="action_item.updated",
                          data={**action_item_event_data(action_item), "changed": changed, "by_person": by_person})
    return action_item


def action_item_delete(*, company: Company, action_item: ActionItem) -> None:
    assert action_item.company_id == company.pk
    action_item.delete()


def action_item_sync_state_record(*, company: Company, action_item: ActionItem, provider: str,
                                  state: dict[str, Any], external_id: str = "") -> None:
    """Where the item's ticket in ``provider`` stands, as the item shows it (``sync_state``, ``external_ids``).

    Written by the ticket sync (``workflows``); not a change of the item's content, so no event and no
    ``updated_at`` bump (an event here would start another sync).
    """
    assert action_item.company_id == company.pk
    with transaction.atomic():
        row = ActionItem.objects.for_company(company).select_for_update().filter(pk=action_item.pk).first()
        if row is None:
            return
        sync_state = {**(row.sync_state or {}), provider: state}
        external_ids = {**(row.external_ids or {})}
        if external_id:
            external_ids[provider] = external_id
        ActionItem.objects.for_company(company).filter(pk=row.pk).update(sync_state=sync_state,
                                                                        external_ids=external_ids)
    action_item.sync_state, action_item.external_ids = sync_state, external_ids
