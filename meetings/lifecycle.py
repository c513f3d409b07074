"""Data lifecycle of meetings: deletion that leaves nothing behind, retention, a person's meeting data.

Services only (company first, keyword-only), called by ``meetings.services.meeting_delete``, the
lifecycle API (``meetings/lifecycle_api.py``), the dashboard and the daily retention task.

**Deleting a meeting** (``meeting_purge``) removes its rows (segments, participants, action items,
decisions, fact checks, suggestions, the report, meeting and analytics events, chat threads about it),
its search chunks and their embeddings (``knowledge.services.chunks_delete``), the stored files (the
uploaded recording, spoken answers' audio, kept live audio), chat citations that quote it, and whatever other apps
registered with ``register_meeting_purger`` (voiceprints and other data derived from the meeting's audio).
Transcript and report exports are rendered on request and never stored, so there is nothing more.

**Retention** (``retention_apply``) applies the company's policy (``accounts.lifecycle``), by the
meeting's date (when it ended, else started, else was scheduled, else was created; live meetings are
never touched), kind by kind:

- ``recordings``: the uploaded audio file is deleted; the transcript made from it stays;
- ``live_audio``: stored audio of live meetings (spoken answers, live audio kept for re-separation) is deleted;
- ``transcripts``: segments, meeting and analytics events, fact checks, suggestions and the
  transcript's search chunks; the report, action items and decisions stay;
- ``reports``: the after-meeting report and its search chunks;
- a meeting whose transcript and report have both expired is deleted outright, as above.

Each run is idempotent (only what is still there is deleted) and recorded in the audit log.

**A person** (registered with ``accounts.lifecycle``): the export holds the meetings they took part
in, the segments they spoke, the action items they own, the questions they asked, their chat threads
and the documents they uploaded; erasure renames them "Former member" wherever they are a speaker or
an owner (segments, participants, action items, events, report details, search chunks, which are then
re-indexed), deletes their chat threads and forgets them as creator, asker and uploader.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.lifecycle import ERASED_NAME, person_part, retention_policy
from accounts.models import Company, User
from accounts.selectors import companies_with_retention
from accounts.services import audit_record
from ai.models import ChatMessage, ChatThread
from knowledge.models import Chunk, Document
from knowledge.services import chunks_delete, chunks_lock, document_uploader_forget
from meetings.intelligence.chat import chat_thread_delete
from meetings.intelligence.indexing import SOURCE_TYPES as MEETING_SOURCE_TYPES
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Decision,
    FactCheck,
    Meeting,
    MeetingEvent,
    MeetingReport,
    Participant,
    ProcessingJob,
    Suggestion,
    TranscriptSegment,
)
from meetings.speech import kept_audio
from meetings.speech.tts import AUDIO_TYPES, suggestion_audio_key
from meetpilot.metrics import RETENTION_DELETED
from meetpilot.tasks import task_send

logger = logging.getLogger(__name__)
INDEX_TASK = "intelligence.meeting_index"
BATCH = 100

# --- data kept about meetings elsewhere ----------------------------------------------------------------

MeetingPurger = Callable[[Company, list[int]], int]
_purgers: dict[str, MeetingPurger] = {}


def register_meeting_purger(name: str, purger: MeetingPurger) -> None:
    """``purger(company, meeting_ids)`` deletes what its app derived from these meetings' audio or transcript
    (voiceprints, embeddings, ...) and returns how many rows it removed.

    Called inside the transaction that deletes the meetings, or their transcripts by retention; it runs
    in the caller's tenant scope and must touch only ``company``'s rows. Register from ``AppConfig.ready()``.
    """
    _purgers[name] = purger


def _run_purgers(company: Company, meeting_ids: list[int]) -> dict[str, int]:
    return {name: int(purger(company, meeting_ids) or 0) for name, purger in sorted(_purgers.items())}


# --- stored files ------------------------------------------------------------------------------------


def _audio_keys(company: Company, suggestion_ids: Iterable[int]) -> list[str]:
    return [suggestion_audio_key(company_id=company.pk, suggestion_id=sid, extension=ext)
            for sid in suggestion_ids for ext in AUDIO_TYPES]


def _storage_delete(key: str) -> bool:
    """Delete one stored file, and its folder when that is left empty (local storage). True if it existed."""
    try:
        existed = default_storage.exists(key)
        if existed:
            default_storage.delete(key)
        try:
            folder = Path(default_storage.path(key)).parent
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        except (NotImplementedError, OSError):
            pass
        return existed
    except Exception:  # a leftover file is logged, never a reason to undo the deletion
        logger.warning("could not delete stored file %s", key, exc_info=True)
        return False


def _storage_delete_on_commit(keys: list[str]) -> None:
    if keys:
        transaction.on_commit(lambda: [_storage_delete(key) for key in keys])


def _citations_forget(company: Company, meeting_ids: list[int]) -> int:
    """Chat answers keep their text but no longer cite (and quote) these meetings."""
    changed = 0
    ids = set(meeting_ids)
    query = Q()
    for meeting_id in ids:
        query |= Q(citations__contains=[{"meeting_id": meeting_id}])
    for message in ChatMessage.objects.for_company(company).filter(query).only("pk", "citations"):
        kept = [c for c in message.citations if not (isinstance(c, dict) and c.get("meeting_id") in ids)]
        ChatMessage.objects.for_company(company).filter(pk=message.pk).update(citations=kept)
        changed += 1
    return changed


# --- deleting a meeting ------------------------------------------------------------------------------


def meeting_footprint(*, company: Company, meeting_id: int) -> dict[str, int]:
    """How many rows and chunks the meeting has, per kind (for the audit log and the API's answer)."""
    counts = {
        "segments": TranscriptSegment.objects.for_company(company).filter(meeting_id=meeting_id).count(),
        "action_items": ActionItem.objects.for_company(company).filter(meeting_id=meeting_id).count(),
        "decisions": Decision.objects.for_company(company).filter(meeting_id=meeting_id).count(),
        "meeting_events": MeetingEvent.objects.for_company(company).filter(meeting_id=meeting_id).count(),
        "analytics_events": AnalyticsEvent.objects.for_company(company).filter(meeting_id=meeting_id).count(),
        "chunks": Chunk.objects.for_company(company).filter(source_type__in=MEETING_SOURCE_TYPES,
                                                            source_id=meeting_id).count(),
    }
    return counts


@transaction.atomic
def meeting_purge(*, company: Company, meeting: Meeting, actor: User | None = None,
                  reason: str = "request") -> dict[str, Any]:
    """Delete ``meeting`` and everything derived from it (see the module docstring); audited."""
    assert meeting.company_id == company.pk
    counts: dict[str, Any] = meeting_footprint(company=company, meeting_id=meeting.pk)
    suggestion_ids = list(Suggestion.objects.for_company(company).filter(meeting=meeting).values_list("pk", flat=True))
    files = _audio_keys(company, suggestion_ids) + kept_audio.part_keys(company.pk, meeting.pk)
    counts["registered"] = _run_purgers(company, [meeting.pk])
    counts["chat_citations"] = _citations_forget(company, [meeting.pk])
    meeting_id, title_length = meeting.pk, len(meeting.title)
    # Cascades to every row of the meeting; receivers remove its chunks and its uploaded recording.
    meeting.delete()
    for source_type in MEETING_SOURCE_TYPES:  # already gone through the receiver; a no-op that makes sure
        chunks_delete(company=company, source_type=source_type, source_id=meeting_id)
    _storage_delete_on_commit(files)
    audit_record(company=company, actor=actor, action="meeting.deleted", target_type="meeting",
                 target_id=meeting_id, detail={"reason": reason, "counts": counts, "title_length": title_length})
    return counts


# --- retention -----------------------------------------------------------------------------------------


def meetings_expired(*, company: Company, days: int, now: datetime | None = None) -> QuerySet[Meeting]:
    """The company's meetings held more than ``days`` ago (never one that is live now)."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return (Meeting.objects.for_company(company).exclude(status=Meeting.Status.ACTIVE)
            .annotate(held_at=Coalesce("ended_at", "started_at", "scheduled_start", "created_at"))
            .filter(held_at__lt=cutoff).order_by("pk"))


def _batches(queryset: QuerySet[Meeting]) -> Iterable[list[Meeting]]:
    """Batches of at most BATCH meetings; the queryset is asked again each time (what was done drops out)."""
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        last = batch[-1].pk  # before the caller deletes them (a deleted instance has no pk)
        yield batch


def _recordings_expire(company: Company, expired: QuerySet[Meeting]) -> dict[str, int]:
    jobs = ProcessingJob.objects.for_company(company).filter(
        kind="recording", meeting__in=expired.values("pk")).exclude(storage_key="")
    meetings = files = 0
    for job in list(jobs):
        # The job row stays (the transcript was made from it); it no longer points at a file.
        ProcessingJob.objects.for_company(company).filter(pk=job.pk).update(storage_key="", updated_at=timezone.now())
        meetings += 1
        files += int(_storage_delete(job.storage_key))
    return {"meetings": meetings, "files": files}


def _live_audio_expire(company: Company, expired: QuerySet[Meeting]) -> dict[str, int]:
    suggestions = Suggestion.objects.for_company(company).filter(meeting__in=expired.values("pk")).exclude(
        audio_url="")
    ids = list(suggestions.values_list("pk", flat=True))
    meetings = len(set(suggestions.values_list("meeting_id", flat=True)))
    with transaction.atomic():
        Suggestion.objects.for_company(company).filter(pk__in=ids).update(audio_url="")
        files = _audio_keys(company, ids)
    with_kept = kept_audio.meeting_ids(company.pk)
    kept = {mid: kept_audio.part_keys(company.pk, mid)
            for mid in expired.filter(pk__in=with_kept).values_list("pk", flat=True)} if with_kept else {}
    files += [key for keys in kept.values() for key in keys]
    meetings += len({mid for mid, keys in kept.items() if keys} - set(suggestions.values_list("meeting_id", flat=True)))
    deleted = sum(_storage_delete(key) for key in files)
    return {"meetings": meetings, "files": deleted}


def _has_transcript(company: Company) -> Q:
    meeting = OuterRef("pk")
    return (Q(Exists(TranscriptSegment.objects.for_company(company).filter(meeting=meeting)))
            | Q(Exists(MeetingEvent.objects.for_company(company).filter(meeting=meeting)))
            | Q(Exists(AnalyticsEvent.objects.for_company(company).filter(meeting=meeting)))
            | Q(Exists(FactCheck.objects.for_company(company).filter(meeting=meeting)))
            | Q(Exists(Suggestion.objects.for_company(company).filter(meeting=meeting)))
            | Q(Exists(Chunk.objects.for_company(company).filter(source_type="transcript", source_id=meeting))))


def _transcripts_expire(company: Company, expired: QuerySet[Meeting]) -> dict[str, int]:
    counts = {"meetings": 0, "segments": 0, "meeting_events": 0, "analytics_events": 0, "chunks": 0, "files": 0}
    for batch in _batches(expired.filter(_has_transcript(company))):
        ids = [m.pk for m in batch]
        with transaction.atomic():
            suggestions = Suggestion.objects.for_company(company).filter(meeting_id__in=ids)
            files = _audio_keys(company, suggestions.values_list("pk", flat=True))
            _run_purgers(company, ids)
            _citations_forget(company, ids)
            suggestions.delete()
            FactCheck.objects.for_company(company).filter(meeting_id__in=ids).delete()
            counts["segments"] += TranscriptSegment.objects.for_company(company).filter(
                meeting_id__in=ids).delete()[1].get(TranscriptSegment._meta.label, 0)
            counts["meeting_events"] += MeetingEvent.objects.for_company(company).filter(
                meeting_id__in=ids).delete()[0]
            counts["analytics_events"] += AnalyticsEvent.objects.for_company(company).filter(
                meeting_id__in=ids).delete()[0]
            for meeting_id in ids:
                counts["chunks"] += chunks_delete(company=company, source_type="transcript", source_id=meeting_id)
        counts["files"] += sum(_storage_delete(key) for key in files)
        counts["meetings"] += len(ids)
    return counts


def _reports_expire(company: Company, expired: QuerySet[Meeting]) -> dict[str, int]:
    counts = {"meetings": 0, "chunks": 0}
    has_report = Q(Exists(MeetingReport.objects.for_company(company).filter(meeting=OuterRef("pk")))) | Q(
        Exists(Chunk.objects.for_company(company).filter(source_type="summary", source_id=OuterRef("pk"))))
    for batch in _batches(expired.filter(has_report)):
        ids = [m.pk for m in batch]
        with transaction.atomic():
            MeetingReport.objects.for_company(company).filter(meeting_id__in=ids).delete()
            for meeting_id in ids:
                counts["chunks"] += chunks_delete(company=company, source_type="summary", source_id=meeting_id)
        counts["meetings"] += len(ids)
    return counts


def retention_apply(*, company: Company, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Delete what the company's retention policy says has expired; returns counts per kind (audited)."""
    policy = retention_policy(company)
    now = now or timezone.now()
    done: dict[str, dict[str, int]] = {}
    if policy["transcripts"] and policy["reports"]:
        deleted = 0
        days = max(policy["transcripts"], policy["reports"])
        for batch in _batches(meetings_expired(company=company, days=days, now=now)):
            for meeting in batch:
                meeting_purge(company=company, meeting=meeting, reason="retention")
                deleted += 1
        done["meetings"] = {"deleted": deleted}
    steps: dict[str, Callable[[Company, QuerySet[Meeting]], dict[str, int]]] = {
        "recordings": _recordings_expire, "live_audio": _live_audio_expire,
        "transcripts": _transcripts_expire, "reports": _reports_expire,
    }
    for kind, step in steps.items():
        days = policy[kind]
        if days:
            done[kind] = step(company, meetings_expired(company=company, days=days, now=now))
    for kind, counts in done.items():
        affected = counts.get("deleted", counts.get("meetings", 0))
        if affected:
            RETENTION_DELETED.labels(kind=kind).inc(affected)
    if any(value for counts in done.values() for value in counts.values()):
        audit_record(company=company, action="retention.applied", target_type="company", target_id=company.pk,
                     detail={"policy": policy, "counts": done})
    return done


# --- a person's meeting data -----------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _person_segments(company: Company, user: User) -> QuerySet[TranscriptSegment]:
    return (TranscriptSegment.objects.for_company(company).filter(participant__user=user)
            .select_related("meeting").order_by("meeting_id", "sequence"))


def meetings_person_export(company: Company, user: User) -> dict[str, list[dict]]:
    participants = Participant.objects.for_company(company).filter(user=user).select_related("meeting")
    items = ActionItem.objects.for_company(company).filter(assignee_user=user).order_by("created_at", "pk")
    asked = Suggestion.objects.for_company(company).filter(asked_by=user).order_by("created_at", "pk")
    created = Meeting.objects.for_company(company).filter(created_by=user).order_by("created_at", "pk")
    return {
        "participations": [{"meeting_id": p.meeting_id, "meeting_title": p.meeting.title, "name": p.name,
                            "email": p.email, "speaking_seconds": p.speaking_seconds} for p in participants],
        "segments": [{"meeting_id": s.meeting_id, "meeting_title": s.meeting.title, "sequence": s.sequence,
                      "speaker": s.speaker_label, "text": s.text, "start_time": s.start_time,
                      "end_time": s.end_time, "source": s.source} for s in _person_segments(company, user)],
        "action_items": [{"id": a.pk, "meeting_id": a.meeting_id, "description": a.description,
                          "status": a.status, "priority": a.priority, "due_date": _iso(a.due_date),
                          "created_at": _iso(a.created_at)} for a in items],
        "questions_asked": [{"meeting_id": s.meeting_id, "question": s.question, "answer": s.answer,
                             "at": _iso(s.created_at)} for s in asked],
        "meetings_created": [{"id": m.pk, "title": m.title, "created_at": _iso(m.created_at)} for m in created],
    }


def chat_person_export(company: Company, user: User) -> list[dict]:
    threads = ChatThread.objects.for_company(company).filter(user=user).order_by("created_at", "pk")
    out = []
    for thread in threads:
        messages = ChatMessage.objects.for_company(company).filter(thread=thread).order_by("created_at", "pk")
        out.append({"id": thread.pk, "title": thread.title, "meeting_id": thread.meeting_id,
                    "created_at": _iso(thread.created_at),
                    "messages": [{"role": m.role, "content": m.content, "at": _iso(m.created_at)} for m in messages]})
    return out


def documents_person_export(company: Company, user: User) -> list[dict]:
    documents = Document.objects.for_company(company).filter(uploaded_by=user).order_by("created_at", "pk")
    return [{"id": d.pk, "title": d.title, "original_filename": d.original_filename,
             "uploaded_at": _iso(d.created_at)} for d in documents]


def _replace_values(value: Any, names: set[str]) -> Any:
    """``value`` with every string equal to one of ``names`` (speaker and owner fields) made ERASED_NAME."""
    if isinstance(value, str):
        return ERASED_NAME if value in names else value
    if isinstance(value, list):
        return [_replace_values(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _replace_values(v, names) for k, v in value.items()}
    return value


def _chunk_scrub(company: Company, meeting_ids: set[int], names: set[str]) -> int:
    """Transcript and other meeting chunks lose the names now (speaker prefixes, metadata); a re-index follows."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    speaker = re.compile(rf"^(?:{alternatives}): ", re.MULTILINE)  # "Name: what they said" in transcripts
    owner = re.compile(rf"\(owner: (?:{alternatives})([,)])")  # "Action item: ... (owner: Name, due ...)"
    chunks_lock(company.pk)  # before the first chunk row is locked (knowledge.services.chunks_lock)
    changed = 0
    for chunk in Chunk.objects.for_company(company).filter(source_type__in=MEETING_SOURCE_TYPES,
                                                           source_id__in=meeting_ids):
        text = owner.sub(rf"(owner: {ERASED_NAME}\1", speaker.sub(f"{ERASED_NAME}: ", chunk.text))
        metadata = _replace_values(chunk.metadata, names)
        if text != chunk.text or metadata != chunk.metadata:
            Chunk.objects.for_company(company).filter(pk=chunk.pk).update(text=text, metadata=metadata)
            changed += 1
    return changed


def _speaker_names(company: Company, user: User) -> tuple[set[str], list[Participant]]:
    participants = list(Participant.objects.for_company(company).filter(user=user))
    names = {p.name for p in participants} | {n for n in (user.full_name.strip(), user.email) if n}
    names.discard(ERASED_NAME)
    return names, participants


def _participant_erase(company: Company, participant: Participant) -> None:
    """The participant (and every segment and action item that is theirs) is called ERASED_NAME from now on."""
    name, n = ERASED_NAME, 1
    others = Participant.objects.for_company(company).filter(meeting_id=participant.meeting_id).exclude(
        pk=participant.pk)
    while others.filter(name=name).exists():  # two former members of one meeting stay two people
        n += 1
        name = f"{ERASED_NAME} {n}"
    labels = {participant.name} | ({participant.speaker_label} if participant.speaker_label else set())
    theirs = Q(participant=participant) | Q(participant__isnull=True, speaker_label__in=labels)
    now = timezone.now()
    TranscriptSegment.objects.for_company(company).filter(meeting_id=participant.meeting_id).filter(theirs).update(
        speaker_label=name, participant=participant, updated_at=now)
    ActionItem.objects.for_company(company).filter(assignee_participant=participant).update(
        assignee_name=name, updated_at=now)
    Participant.objects.for_company(company).filter(pk=participant.pk).update(name=name, email="", user=None)


def meetings_person_erase(company: Company, user: User) -> dict[str, int]:
    """Rename the person "Former member" wherever they speak or own something; forget them as creator/asker."""
    names, participants = _speaker_names(company, user)
    meeting_ids = {p.meeting_id for p in participants}
    counts = {"participants": len(participants), "segments": _person_segments(company, user).count()}
    for participant in participants:
        _participant_erase(company, participant)
    owned = ActionItem.objects.for_company(company).filter(Q(assignee_user=user) | Q(
        meeting_id__in=meeting_ids, assignee_name__in=names))
    meeting_ids |= set(owned.values_list("meeting_id", flat=True))
    counts["action_items"] = owned.update(assignee_user=None, assignee_name=ERASED_NAME, updated_at=timezone.now())
    Suggestion.objects.for_company(company).filter(asked_by=user).update(asked_by=None)
    Meeting.objects.for_company(company).filter(created_by=user).update(created_by=None)
    if names:
        for event in MeetingEvent.objects.for_company(company).filter(meeting_id__in=meeting_ids):
            payload = _replace_values(event.payload, names)
            if payload != event.payload:
                MeetingEvent.objects.for_company(company).filter(pk=event.pk).update(payload=payload)
        for analytics in AnalyticsEvent.objects.for_company(company).filter(meeting_id__in=meeting_ids):
            data = _replace_values(analytics.data, names)
            if data != analytics.data:
                AnalyticsEvent.objects.for_company(company).filter(pk=analytics.pk).update(data=data)
        for report in MeetingReport.objects.for_company(company).filter(meeting_id__in=meeting_ids):
            fields = {f: _replace_values(getattr(report, f), names)
                      for f in ("topics", "questions", "sentiment", "talk_time", "key_points")}
            MeetingReport.objects.for_company(company).filter(pk=report.pk).update(**fields)
        counts["chunks"] = _chunk_scrub(company, meeting_ids, names)
    for meeting_id in sorted(meeting_ids):  # embeddings made from the old text are rebuilt
        transaction.on_commit(lambda mid=meeting_id: _reindex(company.pk, mid))
    # Kept live audio carries their voice: it goes (its speakers were separated after the meeting).
    kept = [key for mid in sorted({p.meeting_id for p in participants})
            for key in kept_audio.part_keys(company.pk, mid)]
    _storage_delete_on_commit(kept)
    counts["live_audio_files"] = len(kept)
    return counts


def _reindex(company_id: int, meeting_id: int) -> None:
    try:
        task_send(INDEX_TASK, company_id=company_id, meeting_id=meeting_id)
    except Exception:  # the chunks already carry no name; only their vectors wait for the next index
        logger.exception("could not queue the re-index of meeting %s", meeting_id)


def chat_person_erase(company: Company, user: User) -> dict[str, int]:
    threads = list(ChatThread.objects.for_company(company).filter(user=user))
    for thread in threads:
        chat_thread_delete(company=company, thread=thread)
    return {"threads": len(threads)}


def documents_person_erase(company: Company, user: User) -> dict[str, int]:
    return {"documents": document_uploader_forget(company=company, user=user)}


@person_part("meetings", order=10)
class _MeetingsPart:
    export = staticmethod(meetings_person_export)
    erase = staticmethod(meetings_person_erase)


@person_part("chat", order=20)
class _ChatPart:
    export = staticmethod(chat_person_export)
    erase = staticmethod(chat_person_erase)


@person_part("documents", order=30)
class _DocumentsPart:
    export = staticmethod(documents_person_export)
    erase = staticmethod(documents_person_erase)


RETENTION_TASK = "lifecycle.retention_apply"


def retention_sweep() -> int:
    """Queue the retention run of every company with a policy (the daily beat task); returns how many."""
    company_ids = companies_with_retention()
    for company_id in company_ids:
        task_send(RETENTION_TASK, company_id=company_id)
    return len(company_ids)
